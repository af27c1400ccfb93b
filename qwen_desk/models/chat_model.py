"""Models layer: ``ChatModel``, the messages of the open conversation as a Qt list model.

A thin adapter over a plain ``list[MessageRecord]`` (napari's habit): rows are records, roles
expose their fields. Streaming answers live here too, as records with ``state == STREAMING`` and a
temporary negative id until the core assigns the real one; ``append_text`` adds a flushed batch of
tokens and emits one ``dataChanged`` for the ``TextRole`` only, so views can append instead of
re-rendering.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from PySide6.QtCore import QByteArray, Qt

from qwen_desk.core.types import (
    NO_DOCUMENTS,
    NOT_IN_DOCUMENTS,
    WITHOUT_DOCUMENTS,
    Citation,
    MessageRecord,
    MessageState,
)
from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)
from qwen_desk.models.keyed_list_model import Index as _Index
from qwen_desk.models.keyed_list_model import KeyedListModel


class ChatRole(enum.IntEnum):
    """Item data roles of ``ChatModel`` (beyond ``Qt.DisplayRole``, which is the text)."""

    RECORD = Qt.ItemDataRole.UserRole + 1
    ID = Qt.ItemDataRole.UserRole + 2
    ROLE = Qt.ItemDataRole.UserRole + 3
    TEXT = Qt.ItemDataRole.UserRole + 4
    STATE = Qt.ItemDataRole.UserRole + 5
    CITATIONS = Qt.ItemDataRole.UserRole + 6
    STATS = Qt.ItemDataRole.UserRole + 7
    MODEL = Qt.ItemDataRole.UserRole + 8
    ERROR_CODE = Qt.ItemDataRole.UserRole + 9
    TRIMMED = Qt.ItemDataRole.UserRole + 10
    NOT_IN_DOCUMENTS = Qt.ItemDataRole.UserRole + 11


def is_not_in_documents(record: MessageRecord) -> bool:
    """Whether an answer is the "not in your documents" reply (recorded in its stats)."""
    return record.stats.get("done_reason") == NOT_IN_DOCUMENTS


def is_no_documents(record: MessageRecord) -> bool:
    """Whether an answer is the "no documents in this knowledge base yet" reply."""
    return record.stats.get("done_reason") == NO_DOCUMENTS


def is_without_documents(record: MessageRecord) -> bool:
    """Whether the model answered without any documents (the user asked it to)."""
    return bool(record.stats.get(WITHOUT_DOCUMENTS))


class ChatModel(KeyedListModel[MessageRecord]):
    """The messages of one conversation, oldest first, keyed by message id."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._next_temp_id = -1

    def _key(self, row: MessageRecord) -> int:
        return row.id

    # --- Qt interface ---------------------------------------------------------------------

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        record = self._row_at(index)
        if record is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, ChatRole.TEXT):
            return record.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return record.model or None
        getters = {
            ChatRole.RECORD: lambda: record,
            ChatRole.ID: lambda: record.id,
            ChatRole.ROLE: lambda: record.role,
            ChatRole.STATE: lambda: record.state.value,
            ChatRole.CITATIONS: lambda: list(record.citations),
            ChatRole.STATS: lambda: dict(record.stats),
            ChatRole.MODEL: lambda: record.model,
            ChatRole.ERROR_CODE: lambda: record.error_code,
            ChatRole.TRIMMED: lambda: dict(record.trimmed),
            ChatRole.NOT_IN_DOCUMENTS: lambda: is_not_in_documents(record),
        }
        getter = getters.get(role)  # type: ignore[call-overload]
        return getter() if getter else None

    def roleNames(self) -> dict[int, QByteArray]:
        names = {int(r): QByteArray(r.name.lower().encode()) for r in ChatRole}
        names[int(Qt.ItemDataRole.DisplayRole)] = QByteArray(b"display")
        return names

    # --- adapter API ----------------------------------------------------------------------

    def set_messages(self, records: list[MessageRecord]) -> None:
        """Replace every row (opening a conversation)."""
        self.set_records(records)

    def append(self, record: MessageRecord) -> int:
        """Add a row at the end and return it."""
        self.append_records([record])
        return self.rowCount() - 1

    def new_temp_id(self) -> int:
        """A negative id for a row the store has not saved yet (unique in this model)."""
        self._next_temp_id -= 1
        return self._next_temp_id + 1

    def append_streaming(self, conversation_id: int, model: str = "") -> int:
        """Add an empty assistant answer in state ``streaming`` (temporary negative id)."""
        record = MessageRecord(
            id=self.new_temp_id(),
            conversation_id=conversation_id,
            role="assistant",
            text="",
            state=MessageState.STREAMING,
            model=model,
        )
        return self.append(record)

    def remove_rows_from(self, row: int) -> None:
        """Drop ``row`` and every row after it (edit-and-resend, regenerate)."""
        self.remove_rows(range(row, self.rowCount()))

    def append_text(self, row: int, delta: str) -> None:
        """Append streamed text to a row: one ``dataChanged`` (TEXT role) per call."""
        if not delta or not 0 <= row < self.rowCount():
            return
        self.record(row).text += delta
        self.changed(row, [Qt.ItemDataRole.DisplayRole, ChatRole.TEXT])

    def update_record(self, row: int, **changes: Any) -> MessageRecord:
        """Replace fields of a row's record (``dataclasses.replace``) and signal every role."""
        record = dataclasses.replace(self.record(row), **changes)
        self.replace_record(row, record)
        return record

    def citation(self, row: int, n: int) -> Citation | None:
        """Citation ``[n]`` of the answer at ``row``."""
        if not 0 <= row < self.rowCount():
            return None
        return next((c for c in self.record(row).citations if c.n == n), None)

    def last_row(self, role: str) -> int:
        """Row of the last message with this role, or -1."""
        for row in range(self.rowCount() - 1, -1, -1):
            if self.record(row).role == role:
                return row
        return -1
