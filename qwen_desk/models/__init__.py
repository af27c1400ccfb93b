"""Models layer: Qt item models, thin adapters over the core dataclasses."""
