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

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QPersistentModelIndex, Qt

from qwen_desk.core.types import Citation, MessageRecord, MessageState
from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)

_Index = QModelIndex | QPersistentModelIndex


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


#: ``stats["done_reason"]`` of an answer the RAG service gave because nothing relevant was found
NOT_IN_DOCUMENTS = "not_in_documents"


def is_not_in_documents(record: MessageRecord) -> bool:
    """Whether an answer is the "not in your documents" reply (recorded in its stats)."""
    return record.stats.get("done_reason") == NOT_IN_DOCUMENTS


class ChatModel(QAbstractListModel):
    """The messages of one conversation, oldest first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._records: list[MessageRecord] = []
        self._next_temp_id = -1

    # --- Qt interface ---------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
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

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # --- adapter API ----------------------------------------------------------------------

    def records(self) -> list[MessageRecord]:
        """A shallow copy of the rows."""
        return list(self._records)

    def record(self, row: int) -> MessageRecord:
        return self._records[row]

    def row_of(self, message_id: int) -> int:
        """Row of the message with this id, or -1."""
        for row, record in enumerate(self._records):
            if record.id == message_id:
                return row
        return -1

    def set_messages(self, records: list[MessageRecord]) -> None:
        """Replace every row (opening a conversation)."""
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def clear(self) -> None:
        self.set_messages([])

    def append(self, record: MessageRecord) -> int:
        """Add a row at the end and return it."""
        row = len(self._records)
        self.beginInsertRows(QModelIndex(), row, row)
        self._records.append(record)
        self.endInsertRows()
        return row

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
        if not 0 <= row < len(self._records):
            return
        self.beginRemoveRows(QModelIndex(), row, len(self._records) - 1)
        del self._records[row:]
        self.endRemoveRows()

    def append_text(self, row: int, delta: str) -> None:
        """Append streamed text to a row: one ``dataChanged`` (TEXT role) per call."""
        if not delta or not 0 <= row < len(self._records):
            return
        record = self._records[row]
        record.text += delta
        self._changed(row, [Qt.ItemDataRole.DisplayRole, ChatRole.TEXT])

    def update_record(self, row: int, **changes: Any) -> MessageRecord:
        """Replace fields of a row's record (``dataclasses.replace``) and signal every role."""
        record = dataclasses.replace(self._records[row], **changes)
        self._records[row] = record
        self._changed(row, [])
        return record

    def citation(self, row: int, n: int) -> Citation | None:
        """Citation ``[n]`` of the answer at ``row``."""
        if not 0 <= row < len(self._records):
            return None
        return next((c for c in self._records[row].citations if c.n == n), None)

    def last_row(self, role: str) -> int:
        """Row of the last message with this role, or -1."""
        for row in range(len(self._records) - 1, -1, -1):
            if self._records[row].role == role:
                return row
        return -1

    def _changed(self, row: int, roles: list[int]) -> None:
        index = self.index(row, 0)
        self.dataChanged.emit(index, index, [int(r) for r in roles])
