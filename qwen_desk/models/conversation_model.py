"""Models layer: ``ConversationListModel``, the conversation list with a search filter.

A thin adapter over ``list[ConversationRecord]`` (most recent first). The filter is applied in
the model itself: a row is shown when its title contains the filter text (case-folded) or its id
is among the ids the conversation store matched by message content. Views keep one model and
never a proxy, so rows map to records directly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QPersistentModelIndex, Qt

from qwen_desk.core.types import ConversationRecord
from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)

_Index = QModelIndex | QPersistentModelIndex


class ConversationRole(enum.IntEnum):
    RECORD = Qt.ItemDataRole.UserRole + 1
    ID = Qt.ItemDataRole.UserRole + 2
    TITLE = Qt.ItemDataRole.UserRole + 3
    UPDATED_AT = Qt.ItemDataRole.UserRole + 4
    N_MESSAGES = Qt.ItemDataRole.UserRole + 5


class ConversationListModel(QAbstractListModel):
    """Conversations, filtered by ``set_filter``; the display text is the title."""

    def __init__(self, parent: Any = None, untitled: str = "New conversation") -> None:
        super().__init__(parent)
        self._all: list[ConversationRecord] = []
        self._shown: list[ConversationRecord] = []
        self._filter = ""
        self._matched_ids: set[int] | None = None
        self.untitled = untitled

    # --- Qt interface ---------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        record = self._shown[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return record.title or self.untitled
        if role == Qt.ItemDataRole.ToolTipRole:
            return record.title or self.untitled
        if role == ConversationRole.RECORD:
            return record
        if role == ConversationRole.ID:
            return record.id
        if role == ConversationRole.TITLE:
            return record.title
        if role == ConversationRole.UPDATED_AT:
            return record.updated_at
        if role == ConversationRole.N_MESSAGES:
            return record.n_messages
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = {int(r): QByteArray(r.name.lower().encode()) for r in ConversationRole}
        names[int(Qt.ItemDataRole.DisplayRole)] = QByteArray(b"display")
        return names

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # --- adapter API ----------------------------------------------------------------------

    def set_conversations(self, records: Iterable[ConversationRecord]) -> None:
        """Replace the whole list (most recent first, as the store returns it)."""
        self.beginResetModel()
        self._all = list(records)
        self._shown = self._apply_filter()
        self.endResetModel()

    def set_filter(self, text: str, matched_ids: Iterable[int] | None = None) -> None:
        """Show titles containing ``text`` plus conversations whose ids are in ``matched_ids``."""
        self.beginResetModel()
        self._filter = text.strip().casefold()
        self._matched_ids = set(matched_ids) if matched_ids is not None else None
        self._shown = self._apply_filter()
        self.endResetModel()

    @property
    def filter_text(self) -> str:
        return self._filter

    def upsert(self, record: ConversationRecord) -> None:
        """Insert a new conversation at the top, or update it in place (title, counts)."""
        for i, existing in enumerate(self._all):
            if existing.id == record.id:
                self._all[i] = record
                row = self.row_of(record.id)
                if row >= 0:
                    self._shown[row] = record
                    index = self.index(row, 0)
                    self.dataChanged.emit(index, index, [])
                return
        self._all.insert(0, record)
        if self._accepts(record):
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._shown.insert(0, record)
            self.endInsertRows()

    def remove(self, conversation_id: int) -> None:
        self._all = [r for r in self._all if r.id != conversation_id]
        row = self.row_of(conversation_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._shown[row]
            self.endRemoveRows()

    def row_of(self, conversation_id: int) -> int:
        for row, record in enumerate(self._shown):
            if record.id == conversation_id:
                return row
        return -1

    def record(self, row: int) -> ConversationRecord:
        return self._shown[row]

    def all_records(self) -> list[ConversationRecord]:
        return list(self._all)

    def _accepts(self, record: ConversationRecord) -> bool:
        if not self._filter:
            return True
        if self._filter in (record.title or "").casefold():
            return True
        return self._matched_ids is not None and record.id in self._matched_ids

    def _apply_filter(self) -> list[ConversationRecord]:
        return [r for r in self._all if self._accepts(r)]
