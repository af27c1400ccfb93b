"""Controllers layer: QObjects that run core services and turn their events into model updates."""
