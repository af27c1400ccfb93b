"""Models layer: ``DocumentModel``, the documents of one collection with their live state.

A thin list adapter over the core's ``DocumentRecord`` rows (what the store holds) and
``IngestEvent`` updates (what the ingestion worker is doing): one row per file path, so a file
being re-indexed keeps its row while its state moves through queued, parsing, embedding n/m and
ready or failed. Files skipped while walking a folder get a row too, so the user sees them. The
model holds plain data; the delegate (``ui/document_delegate.py``) turns it into text.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt

from qwen_desk.core.naming import DocumentName, document_name
from qwen_desk.core.types import (
    DocumentRecord,
    DocumentStatus,
    ErrorInfo,
    IngestEvent,
    IngestState,
)
from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)
from qwen_desk.models.keyed_list_model import Index, KeyedListModel

# States in which a file is still being worked on (shown with progress, cancellable).
ACTIVE_STATES = frozenset({IngestState.QUEUED, IngestState.PARSING, IngestState.EMBEDDING})


@dataclass
class DocumentItem:
    """One row: a file of the collection and what is known about it now."""

    path: str
    collection: str
    title: str  # the metadata title as stored ("" while indexing); see ``name``
    kind: str
    state: IngestState
    doc_id: str | None = None
    job_id: int = 0
    done: int = 0
    total: int = 0
    pages: int = 0
    chunks: int = 0
    scanned_pages: int = 0
    size: int = 0
    error: ErrorInfo | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def progress(self) -> float | None:
        """Fraction of chunks embedded, while embedding."""
        if self.state is IngestState.EMBEDDING and self.total:
            return min(1.0, self.done / self.total)
        return None

    @property
    def name(self) -> DocumentName:
        """The file name, with the metadata title when it is meaningful (``core.naming``)."""
        return document_name(self.path, self.title)

    @property
    def needs_password(self) -> bool:
        return self.error is not None and self.error.code in ("password_required", "wrong_password")

    @classmethod
    def from_record(cls, record: DocumentRecord) -> DocumentItem:
        failed = _status(record) == DocumentStatus.FAILED.value
        return cls(
            path=record.path,
            collection=record.collection,
            title=record.title,
            kind=record.kind or _kind(record.path),
            state=IngestState.FAILED if failed else IngestState.READY,
            doc_id=record.doc_id,
            pages=record.pages,
            chunks=record.n_chunks,
            scanned_pages=record.scanned_pages,
            size=record.size,
            error=ErrorInfo(record.error_code, record.error_message) if failed else None,
        )

    @classmethod
    def from_event(cls, event: IngestEvent) -> DocumentItem:
        item = cls(
            path=event.path,
            collection=event.collection,
            title="",
            kind=_kind(event.path),
            state=event.state,
        )
        item.update(event)
        return item

    def update(self, event: IngestEvent) -> None:
        """Take the new state (and whatever the event knows) from ``event``."""
        state = IngestState.READY if event.state is IngestState.UNCHANGED else event.state
        if state is IngestState.CANCELLED and self.doc_id is not None and self.error is None:
            # a re-index was cancelled: the stored version is still there
            state = IngestState.READY
        self.state = state
        self.job_id = event.job_id or self.job_id
        self.doc_id = event.doc_id or self.doc_id
        self.done, self.total = event.done, event.total
        if event.state in (IngestState.QUEUED, IngestState.PARSING):
            self.error = None
        if event.pages or event.chunks:
            self.pages, self.chunks = event.pages, event.chunks
            self.scanned_pages = event.scanned_pages
        if event.error is not None:
            self.error = event.error


class DocumentModel(KeyedListModel[DocumentItem]):
    """The documents of the current collection, newest activity first for new files.

    Rows are keyed by path (O(1) lookup); a burst of ingestion events is applied with
    ``apply_events``: rows that changed signal once each, new files go on top in one insertion
    (the last queued on top, as one event at a time would put them) and cancelled rows leave in
    one removal per run, so a folder of N files costs O(N) on the GUI thread, not O(N²).
    """

    ItemRole = Qt.ItemDataRole.UserRole + 1
    StateRole = Qt.ItemDataRole.UserRole + 2
    ProgressRole = Qt.ItemDataRole.UserRole + 3
    DocIdRole = Qt.ItemDataRole.UserRole + 4
    PathRole = Qt.ItemDataRole.UserRole + 5
    ErrorCodeRole = Qt.ItemDataRole.UserRole + 6

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._collection = ""

    def _key(self, row: DocumentItem) -> str:
        return row.path

    # --- reading -------------------------------------------------------------------------------

    @property
    def collection(self) -> str:
        return self._collection

    def items(self) -> list[DocumentItem]:
        """A copy of the rows, in display order."""
        return self.records()

    def item(self, row: int) -> DocumentItem:
        return self.record(row)

    def row_of_path(self, path: str) -> int:
        return self.row_of(path)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self._row_at(index)
        if item is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return item.name.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.path
        if role == self.ItemRole:
            return item
        if role == self.StateRole:
            return item.state.value
        if role == self.ProgressRole:
            return item.progress
        if role == self.DocIdRole:
            return item.doc_id
        if role == self.PathRole:
            return item.path
        if role == self.ErrorCodeRole:
            return item.error.code if item.error else ""
        return None

    def roleNames(self) -> dict[int, bytes]:
        names = dict(super().roleNames())
        names.update(
            {
                self.ItemRole: b"item",
                self.StateRole: b"state",
                self.ProgressRole: b"progress",
                self.DocIdRole: b"docId",
                self.PathRole: b"path",
                self.ErrorCodeRole: b"errorCode",
            }
        )
        return names

    # --- writing -------------------------------------------------------------------------------

    def set_documents(self, collection: str, records: list[DocumentRecord]) -> None:
        """Show ``records`` of ``collection``; files still being indexed there keep their row."""
        keep = (
            [i for i in self.records() if i.active and i.collection == collection]
            if collection == self._collection
            else []
        )
        kept_paths = {i.path for i in keep}
        rows = [DocumentItem.from_record(r) for r in records if r.path not in kept_paths]
        rows.sort(key=lambda i: i.name.name.casefold())
        self._collection = collection
        self.set_records(keep + rows)

    def apply_event(self, event: IngestEvent) -> None:
        """Update (or add) the row of ``event.path``; events of other collections are ignored."""
        self.apply_events([event])

    def apply_events(self, events: list[IngestEvent]) -> None:
        """Apply a burst of events in order, with one model change per row (see the class)."""
        new: dict[str, DocumentItem] = {}  # files first seen in this burst, in order
        changed: set[str] = set()
        for event in events:
            if event.collection != self._collection:
                continue
            item = new.get(event.path)
            if item is None:
                row = self.row_of(event.path)
                if row >= 0:
                    item = self.record(row)
                    changed.add(event.path)
            if item is not None:
                item.update(event)
            elif event.state is not IngestState.CANCELLED:  # else: cancelled before shown
                new[event.path] = DocumentItem.from_event(event)
        cancelled = []
        for path in changed:
            row = self.row_of(path)
            if self.record(row).state is IngestState.CANCELLED:
                cancelled.append(row)
            else:
                self.changed(row)
        self.remove_rows(cancelled)
        shown = [i for i in new.values() if i.state is not IngestState.CANCELLED]
        self.prepend_records(reversed(shown))  # the newest on top

    def remove_row(self, row: int) -> None:
        self.remove_rows([row])

    def remove_path(self, path: str) -> None:
        self.remove_key(path)

    def replace_item(self, row: int, **changes: Any) -> None:
        """Change fields of one row (e.g. mark it queued again before a re-index)."""
        self.replace_record(row, dataclasses.replace(self.record(row), **changes))


def _status(record: DocumentRecord) -> str:
    status = record.status
    return status.value if isinstance(status, DocumentStatus) else str(status)


def _kind(path: str) -> str:
    return os.path.splitext(path)[1].lstrip(".").lower()
