"""Models layer: ``CollectionModel``, the knowledge bases ("collections") for the switcher.

A thin list adapter over the core's ``CollectionInfo`` rows, sorted by name; the display text is
the name (the built-in "default" collection is shown as "Default" in the UI language), the
document count is available for the delegate or a tooltip.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from qwen_desk.core.types import CollectionInfo
from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)

Index = QModelIndex | QPersistentModelIndex
DEFAULT_COLLECTION = "default"  # core.knowledge.DEFAULT_COLLECTION, shown in the UI language


def display_name(name: str) -> str:
    """What the user sees for a collection: its name, or "Default" translated for "default"."""
    if name == DEFAULT_COLLECTION:
        return QCoreApplication.translate("CollectionModel", "Default")
    return name


class CollectionModel(QAbstractListModel):
    """Collections by name."""

    NameRole = Qt.ItemDataRole.UserRole + 1
    CountRole = Qt.ItemDataRole.UserRole + 2
    InfoRole = Qt.ItemDataRole.UserRole + 3

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._infos: list[CollectionInfo] = []

    def set_collections(self, infos: list[CollectionInfo]) -> None:
        self.beginResetModel()
        self._infos = sorted(infos, key=lambda c: c.name.casefold())
        self.endResetModel()

    def names(self) -> list[str]:
        return [c.name for c in self._infos]

    def row_of(self, name: str) -> int:
        for row, info in enumerate(self._infos):
            if info.name == name:
                return row
        return -1

    def info(self, name: str) -> CollectionInfo | None:
        row = self.row_of(name)
        return self._infos[row] if row >= 0 else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._infos)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._infos):
            return None
        info = self._infos[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display_name(info.name)
        if role == self.NameRole:
            return info.name
        if role == self.CountRole:
            return info.n_documents
        if role == self.InfoRole:
            return info
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
