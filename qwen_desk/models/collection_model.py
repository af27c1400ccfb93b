"""Models layer: ``CollectionModel``, the knowledge bases ("collections") for the switcher.

A thin list adapter over the core's ``CollectionInfo`` rows, sorted by name; the display text is
the name (the built-in "default" collection is shown as "Default" in the UI language), the
document count is available for the delegate or a tooltip.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt

from qwen_desk.core.types import CollectionInfo
from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)
from qwen_desk.models.keyed_list_model import Index, KeyedListModel

DEFAULT_COLLECTION = "default"  # core.knowledge.DEFAULT_COLLECTION, shown in the UI language


def display_name(name: str) -> str:
    """What the user sees for a collection: its name, or "Default" translated for "default"."""
    if name == DEFAULT_COLLECTION:
        return QCoreApplication.translate("CollectionModel", "Default")
    return name


class CollectionModel(KeyedListModel[CollectionInfo]):
    """Collections by name (keyed by name)."""

    NameRole = Qt.ItemDataRole.UserRole + 1
    CountRole = Qt.ItemDataRole.UserRole + 2
    InfoRole = Qt.ItemDataRole.UserRole + 3

    def _key(self, row: CollectionInfo) -> str:
        return row.name

    def set_collections(self, infos: list[CollectionInfo]) -> None:
        self.set_records(sorted(infos, key=lambda c: c.name.casefold()))

    def names(self) -> list[str]:
        return [c.name for c in self.records()]

    def info(self, name: str) -> CollectionInfo | None:
        row = self.row_of(name)
        return self.record(row) if row >= 0 else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        info = self._row_at(index)
        if info is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return display_name(info.name)
        if role == self.NameRole:
            return info.name
        if role == self.CountRole:
            return info.n_documents
        if role == self.InfoRole:
            return info
        return None
