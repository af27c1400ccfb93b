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

from PySide6.QtCore import QByteArray, Qt

from qwen_desk.core.types import ConversationRecord
from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)
from qwen_desk.models.keyed_list_model import Index as _Index
from qwen_desk.models.keyed_list_model import KeyedListModel


class ConversationRole(enum.IntEnum):
    RECORD = Qt.ItemDataRole.UserRole + 1
    ID = Qt.ItemDataRole.UserRole + 2
    TITLE = Qt.ItemDataRole.UserRole + 3
    UPDATED_AT = Qt.ItemDataRole.UserRole + 4
    N_MESSAGES = Qt.ItemDataRole.UserRole + 5


class ConversationListModel(KeyedListModel[ConversationRecord]):
    """Conversations, filtered by ``set_filter``; the display text is the title.

    The shown rows are the base model's (keyed by id); every conversation, shown or not, is in
    ``_all`` with its rank in the list (new ones get ranks above the top), so an update finds
    its conversation in O(1) and only a filter change walks them all.
    """

    def __init__(self, parent: Any = None, untitled: str = "New conversation") -> None:
        super().__init__(parent)
        self._all: dict[int, ConversationRecord] = {}
        self._rank: dict[int, int] = {}
        self._top_rank = 0
        self._filter = ""
        self._matched_ids: set[int] | None = None
        self.untitled = untitled

    def _key(self, row: ConversationRecord) -> int:
        return row.id

    # --- Qt interface ---------------------------------------------------------------------

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        record = self._row_at(index)
        if record is None:
            return None
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

    # --- adapter API ----------------------------------------------------------------------

    def set_conversations(self, records: Iterable[ConversationRecord]) -> None:
        """Replace the whole list (most recent first, as the store returns it)."""
        self._all = {r.id: r for r in records}
        self._rank = {cid: i for i, cid in enumerate(self._all)}
        self._top_rank = 0
        self.set_records(self._apply_filter())

    def set_filter(self, text: str, matched_ids: Iterable[int] | None = None) -> None:
        """Show titles containing ``text`` plus conversations whose ids are in ``matched_ids``."""
        self._filter = text.strip().casefold()
        self._matched_ids = set(matched_ids) if matched_ids is not None else None
        self.set_records(self._apply_filter())

    @property
    def filter_text(self) -> str:
        return self._filter

    def upsert(self, record: ConversationRecord) -> None:
        """Insert a new conversation at the top, or update it in place (title, counts)."""
        known = record.id in self._all
        self._all[record.id] = record
        if known:
            row = self.row_of(record.id)
            if row >= 0:
                self.replace_record(row, record)
            return
        self._top_rank -= 1
        self._rank[record.id] = self._top_rank
        if self._accepts(record):
            self.prepend_records([record])

    def remove(self, conversation_id: int) -> None:
        self._all.pop(conversation_id, None)
        self._rank.pop(conversation_id, None)
        self.remove_key(conversation_id)

    def all_records(self) -> list[ConversationRecord]:
        return sorted(self._all.values(), key=lambda r: self._rank[r.id])

    def _accepts(self, record: ConversationRecord) -> bool:
        if not self._filter:
            return True
        if self._filter in (record.title or "").casefold():
            return True
        return self._matched_ids is not None and record.id in self._matched_ids

    def _apply_filter(self) -> list[ConversationRecord]:
        return [r for r in self.all_records() if self._accepts(r)]
