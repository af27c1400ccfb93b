"""Controllers layer: ``KnowledgeController``, the knowledge side of the window.

It runs the ingestion service of ``AppServices.knowledge`` (its own worker thread, the single
writer) and the collection and document operations, and keeps two Qt models up to date: the
collections (``CollectionModel``) and the documents of the current collection
(``DocumentModel``). Ingestion events arrive on the worker thread; they are handed over through
a signal of a relay object that lives on the GUI thread, with a queued connection (coalesced:
one wake-up per burst), so the worker never touches a QObject's state. Store reads and writes
(listing documents, removing, collection changes) run on a one-thread ``BackgroundRunner``, in
order, never on the GUI thread. A drain pass is time-sliced: it takes ``DRAIN_CHUNK`` events at a
time (one document-model change per chunk, O(1) per event) until ``DRAIN_BUDGET_S`` has passed,
then signals the progress once and yields to the event loop (paints, input, timers) before the
next pass, so a burst of thousands of events never holds the GUI thread for long, however loaded
the machine; the collection counts are reloaded once per burst (a single-shot timer restarted by
each finished file), not once per file.

Paths added before the knowledge base is open (files given on the command line at start-up) are
kept and queued as soon as it opens.

Another process may write to the same knowledge base (``qwen-desk add`` while the window is
open). Every ``EXTERNAL_POLL_MS`` the controller reads the store's change token (the versions of
its documents and collections tables, ~1 ms whatever the size) on its worker thread and reloads
the lists when the token moved since the last load: nothing runs on the GUI thread while nothing
changed, and the check is skipped while this window's own batch is running (its events keep the
list current; the check after the batch catches up).

What needs the user is counted apart from what failed: ``sig_problems_changed(needs_password,
failed)`` carries, for the current collection, how many documents wait for a password and how
many failed otherwise. The counts come from the stored document rows (computed with the list, off
the GUI thread) and are kept up to date by each event in O(1): they survive batches and restarts,
and a document leaves them when it is removed or indexed successfully.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from qwen_desk.controllers.background import BackgroundRunner
from qwen_desk.controllers.services import store_exists
from qwen_desk.controllers.ui_state import ui_state
from qwen_desk.core.errors import QwenDeskError
from qwen_desk.core.types import CollectionInfo, DocumentRecord, Hit, IngestEvent, IngestState
from qwen_desk.models.collection_model import CollectionModel
from qwen_desk.models.document_model import DocumentModel

if TYPE_CHECKING:
    from qwen_desk.controllers.services import AppServices
    from qwen_desk.core.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "default"  # same value as core.knowledge.DEFAULT_COLLECTION (kept light)
SETTINGS_KEY = "knowledge/collection"
EXTERNAL_POLL_MS = 3000  # how often to look for writes by other processes
DRAIN_CHUNK = 50  # ingestion events applied to the models at a time
DRAIN_BUDGET_S = 0.004  # a drain pass stops taking chunks after this long (then yields)
PASSWORD_CODES = frozenset({"password_required", "wrong_password"})
NEEDS_PASSWORD, FAILED = "password", "failed"  # the two kinds of problem a document can have
COUNTS_DEBOUNCE_MS = 300  # collection counts reload this long after the last finished file
_OUTCOMES = {
    IngestState.READY: "indexed",
    IngestState.UNCHANGED: "indexed",
    IngestState.FAILED: "failed",
    IngestState.SKIPPED: "skipped",
}
# the store's change token (``KnowledgeStore.change_token``); None before the store exists
_Token = tuple[int, int] | None
# path -> NEEDS_PASSWORD or FAILED, for the documents of one collection that have a problem
_Problems = dict[str, str]
# (collections, collection asked for, collection shown, its documents, change token before,
#  the documents' problems)
_Loaded = tuple[list[CollectionInfo], str, str, list[DocumentRecord], _Token, _Problems]


def problem_kind(error_code: str | None) -> str:
    """NEEDS_PASSWORD for an encrypted file without (the right) password, else FAILED."""
    return NEEDS_PASSWORD if error_code in PASSWORD_CODES else FAILED


class _ProblemSet:
    """Paths with a problem and how many of each kind, updated in O(1) per change."""

    def __init__(self) -> None:
        self._kinds: _Problems = {}
        self._counts = dict.fromkeys((NEEDS_PASSWORD, FAILED), 0)

    def counts(self) -> tuple[int, int]:
        return self._counts[NEEDS_PASSWORD], self._counts[FAILED]

    def paths(self, kind: str) -> list[str]:
        return [path for path, k in self._kinds.items() if k == kind]

    def set(self, path: str, kind: str | None) -> bool:
        """Give ``path`` problem ``kind`` (``None``: no problem); True when that changed it."""
        old = self._kinds.pop(path, None)
        if old is not None:
            self._counts[old] -= 1
        if kind is not None:
            self._kinds[path] = kind
            self._counts[kind] += 1
        return old != kind

    def replace(self, kinds: _Problems) -> bool:
        old = self.counts()
        self._kinds = dict(kinds)
        self._counts = dict.fromkeys((NEEDS_PASSWORD, FAILED), 0)
        for kind in kinds.values():
            self._counts[kind] += 1
        return self.counts() != old


def _problems_of(records: Iterable[DocumentRecord]) -> _Problems:
    return {
        r.path: problem_kind(r.error_code)
        for r in records
        if getattr(r.status, "value", r.status) == "failed"
    }


class _EventRelay(QObject):
    """Carries ingestion events from the worker thread to the GUI thread, coalesced.

    ``push`` (worker thread) appends to a locked queue and emits ``sig_wake`` only when the
    queue was empty, so a burst of events (thousands of QUEUED events for a big folder) costs
    one queued signal; the GUI side drains ``DRAIN_CHUNK`` events at a time for at most
    ``DRAIN_BUDGET_S`` per pass and yields to the event loop between passes.
    """

    sig_wake = Signal()
    """Events are waiting (emitted on the worker thread, delivered queued)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._events: deque[IngestEvent] = deque()

    def push(self, event: IngestEvent) -> None:
        """Worker thread: queue ``event`` for the GUI thread."""
        with self._lock:
            wake = not self._events
            self._events.append(event)
        if wake:
            self.sig_wake.emit()

    def take(self, limit: int) -> tuple[list[IngestEvent], bool]:
        """GUI thread: up to ``limit`` events, and whether more are waiting."""
        with self._lock:
            batch = [self._events.popleft() for _ in range(min(limit, len(self._events)))]
            return batch, bool(self._events)


class KnowledgeController(QObject):
    """Collections, documents and ingestion, for the sidebar and the status bar."""

    sig_ready = Signal()
    """The knowledge base is open: documents are listed, files can be added."""
    sig_unavailable = Signal()
    """The knowledge base is being reopened (e.g. a new embedding model): wait for sig_ready."""
    sig_event = Signal(object)
    """An ``IngestEvent`` of any collection, on the GUI thread."""
    sig_progress = Signal(int, int)
    """(finished, total) files of the running batch; (0, 0) when ingestion is idle."""
    sig_batch_finished = Signal(int, int, int)
    """(indexed, failed, skipped) files of a batch that just ended (cancelled ones not counted)."""
    sig_current_collection_changed = Signal(str)
    """The collection shown in the sidebar (and searched by the chat) changed."""
    sig_collections_changed = Signal()
    """The list of collections (or their document counts) was reloaded."""
    sig_documents_loaded = Signal(str)
    """The documents of this collection were (re)loaded into ``document_model``."""
    sig_error = Signal(str, str)
    """(error code, English detail) of a failed operation; the UI translates the code."""
    sig_problems_changed = Signal(int, int)
    """(documents needing a password, documents that failed otherwise) of the current collection."""

    def __init__(self, services: AppServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.document_model = DocumentModel(self)
        self.collection_model = CollectionModel(self)
        self._runner = BackgroundRunner("qwen-desk-knowledge", parent=self)
        self._relay = _EventRelay(self)
        self._relay.sig_wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = None
        self._pending: list[tuple[list[str], str, str | None]] = []
        self._batch: dict[int, bool] = {}  # job id -> finished, for "Indexing 3 of 10"
        self._finished = 0  # files of the batch that are finished
        self._outcomes: dict[str, int] = {"indexed": 0, "failed": 0, "skipped": 0}
        self._counts_timer = QTimer(self)  # bound to this object: never fires after it died
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(COUNTS_DEBOUNCE_MS)
        self._counts_timer.timeout.connect(self._refresh_counts)
        self._listed = False
        self._token: _Token = None  # the change token of the last load
        self._problems = _ProblemSet()
        self._polling = False
        self._watch = QTimer(self)
        self._watch.setInterval(EXTERNAL_POLL_MS)
        self._watch.timeout.connect(self.check_external_changes)
        self._current = str(ui_state().value(SETTINGS_KEY, DEFAULT_COLLECTION) or "")
        self._current = self._current or DEFAULT_COLLECTION
        services.sig_knowledge_ready.connect(self._on_knowledge_ready)
        services.sig_knowledge_closed.connect(self._on_knowledge_closed)
        services.sig_knowledge_failed.connect(self._on_knowledge_failed)
        self.open_error: tuple[str, str] | None = None  # (code, detail) when opening failed
        if services.knowledge_ready:
            self._on_knowledge_ready()

    # --- state ---------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """The knowledge base is open and the collections have been listed once."""
        return self._kb is not None and self._listed

    @property
    def _kb(self) -> KnowledgeBase | None:
        return self._services.knowledge

    @property
    def current_collection(self) -> str:
        return self._current

    @property
    def busy(self) -> bool:
        """Some file of the running batch is not finished yet."""
        return self._finished < len(self._batch)

    def _on_knowledge_failed(self, code: str, detail: str) -> None:
        self.open_error = (code, detail)
        self.sig_unavailable.emit()

    def _on_knowledge_closed(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._listed = False
        self._watch.stop()
        self._batch.clear()
        self._finished = 0
        self._outcomes = dict.fromkeys(self._outcomes, 0)
        self._emit_progress()
        self.sig_unavailable.emit()

    def _on_knowledge_ready(self) -> None:
        kb = self._kb
        if kb is None:
            return
        self.open_error = None
        if self._unsubscribe is not None:
            self._unsubscribe()
        # Called on the worker thread: only queue (the relay wakes the GUI thread).
        self._unsubscribe = kb.ingest.subscribe(self._relay.push)
        self.refresh()
        self._watch.start()
        pending, self._pending = self._pending, []
        for paths, collection, password in pending:
            self._submit_add(paths, collection, password)

    # --- loading -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the collections and the current collection's documents (off the GUI thread)."""
        kb = self._kb
        if kb is None:
            return
        collection = self._current

        def load() -> _Loaded:
            if not store_exists(kb):  # first run: do not import LanceDB just to list nothing
                default = [CollectionInfo(DEFAULT_COLLECTION, 0.0)]
                return default, collection, DEFAULT_COLLECTION, [], None, {}
            token = kb.store.change_token()  # before reading: a later write moves it again
            infos = list(kb.store.list_collections())
            names = {c.name for c in infos}
            target = collection if collection in names else _fallback(infos)
            records = list(kb.store.list_documents(target)) if target else []
            return infos, collection, target, records, token, _problems_of(records)

        self._runner.submit(load, on_done=self._on_loaded, on_error=self._on_error)

    def _on_loaded(self, result: _Loaded) -> None:
        infos, requested, collection, records, token, problems = result
        self._token = token
        self.collection_model.set_collections(infos)
        self.sig_collections_changed.emit()
        if requested != self._current:
            return  # the user switched meanwhile: a newer load is on its way
        changed = collection != self._current
        self._set_current(collection)
        self.document_model.set_documents(collection, records)
        if self._problems.replace(problems):
            self.sig_problems_changed.emit(*self.problems)
        first = not self._listed
        self._listed = True
        if changed:
            self.sig_current_collection_changed.emit(collection)
        self.sig_documents_loaded.emit(collection)
        if first:
            self.sig_ready.emit()

    def _set_current(self, name: str) -> None:
        if name == self._current:
            return  # opening the settings file reads (and rewrites) it: not on every reload
        self._current = name
        ui_state().setValue(SETTINGS_KEY, name)

    def set_current_collection(self, name: str) -> None:
        """Show (and search) collection ``name``."""
        if name == self._current and self.document_model.collection == name:
            return
        self._set_current(name)
        self.sig_current_collection_changed.emit(name)
        self.document_model.set_documents(name, [])
        if self._problems.replace({}):
            self.sig_problems_changed.emit(*self.problems)
        self.refresh()

    def check_external_changes(self) -> None:
        """Reload the lists if another process changed the knowledge base (off the GUI thread).

        Called by a timer; cheap when nothing changed (one version read on the worker thread).
        """
        kb = self._kb
        if kb is None or self._polling or self.busy or not self._listed:
            return
        self._polling = True

        def token() -> _Token:
            return kb.store.change_token() if store_exists(kb) else None

        self._runner.submit(token, on_done=self._on_token, on_error=self._on_poll_error)

    def _on_token(self, token: _Token) -> None:
        self._polling = False
        if token is not None and token != self._token and not self.busy:
            self._token = token  # one reload per change, even if the reload is slow
            self.refresh()

    def _on_poll_error(self, exc: BaseException) -> None:
        self._polling = False
        log.debug("checking the knowledge base for outside changes failed: %s", exc)

    # --- ingestion -----------------------------------------------------------------------------

    def prepare_for_files(self) -> None:
        """Files are about to come (a drag entered, a file dialog opened): load the model now."""
        self._services.warm_embedder()

    def add_paths(
        self, paths: Iterable[str | os.PathLike[str]], password: str | None = None
    ) -> None:
        """Queue files and folders for the current collection (walking folders off-thread)."""
        items = [os.fspath(p) for p in paths]
        if not items:
            return
        if self._kb is None:
            self._pending.append((items, self._current, password))
            return
        self._submit_add(items, self._current, password)

    def _submit_add(self, items: list[str], collection: str, password: str | None) -> None:
        kb = self._kb
        assert kb is not None

        def add() -> list[int]:
            from qwen_desk.core.doctor import space_shortage

            shortage = space_shortage(items, kb.data_dir)  # clearly too big: say so, add nothing
            if shortage is not None:
                raise shortage
            with kb.write_lock:
                kb.store.ensure_collection(collection)
            return kb.ingest.add_paths(items, collection, password)

        self._runner.submit(add, on_done=self._on_queued, on_error=self._on_error)

    def _on_queued(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self._batch.setdefault(job_id, False)
        self._emit_progress()

    def retry_with_password(self, path: str, password: str) -> None:
        """Index ``path`` again into the current collection, opening it with ``password``."""
        self.add_paths([path], password=password)

    def cancel_all(self) -> None:
        """Cancel the running file and every queued one."""
        kb = self._kb
        if kb is not None:
            self._runner.submit(kb.ingest.cancel_all, on_error=self._on_error)

    def cancel(self, job_id: int) -> None:
        """Cancel one queued or running file."""
        kb = self._kb
        if kb is not None and job_id:
            self._runner.submit(kb.ingest.cancel, job_id, on_error=self._on_error)

    def _drain(self) -> None:
        """One time-sliced pass over waiting events (see the module); the progress once."""
        deadline = time.perf_counter() + DRAIN_BUDGET_S
        counts_changed = False
        more = True
        while more:
            events, more = self._relay.take(DRAIN_CHUNK)
            for event in events:
                self._count(event)
                self._track_problem(event)
                self.sig_event.emit(event)
                counts_changed |= event.finished and event.state is not IngestState.SKIPPED
            self.document_model.apply_events(events)
            if time.perf_counter() >= deadline:
                break
        if counts_changed:
            self._schedule_counts_refresh()
        self._emit_progress()
        if more:
            QTimer.singleShot(0, self, self._drain)  # let paints and input in between passes

    def _count(self, event: IngestEvent) -> None:
        """Keep the batch's finished count and outcomes up to date (O(1) per event)."""
        finished = event.finished
        if not event.job_id or (finished and event.job_id not in self._batch):
            return
        was_finished = self._batch.get(event.job_id, False)
        if finished and not was_finished:
            outcome = _OUTCOMES.get(event.state)
            if outcome == "failed" and event.error and event.error.code in PASSWORD_CODES:
                outcome = None  # not a failure: it waits for the user (counted apart)
            if outcome is not None:
                self._outcomes[outcome] += 1
        self._finished += int(finished) - int(was_finished)
        self._batch[event.job_id] = finished

    def _emit_progress(self) -> None:
        if self._batch and self._finished == len(self._batch):
            self._batch.clear()
            self._finished = 0
            done = self._outcomes
            self._outcomes = dict.fromkeys(done, 0)
            if any(done.values()):
                self.sig_batch_finished.emit(done["indexed"], done["failed"], done["skipped"])
        self.sig_progress.emit(self._finished, len(self._batch))

    # --- problems (what needs the user, what failed) ---------------------------------------------

    @property
    def problems(self) -> tuple[int, int]:
        """(documents needing a password, documents that failed) in the current collection."""
        return self._problems.counts()

    def problem_paths(self, kind: str) -> list[str]:
        """The paths of the current collection's documents with problem ``kind``."""
        return self._problems.paths(kind)

    def _track_problem(self, event: IngestEvent) -> None:
        if event.collection != self._current or not event.finished:
            return
        if event.state is IngestState.FAILED:
            kind: str | None = problem_kind(event.error.code if event.error else None)
        elif event.state in (IngestState.READY, IngestState.UNCHANGED):
            kind = None
        else:
            return  # cancelled or skipped: whatever was known stays
        if self._problems.set(event.path, kind):
            self.sig_problems_changed.emit(*self.problems)

    def _schedule_counts_refresh(self) -> None:
        """Reload the collection counts once per burst of finished files (debounced)."""
        self._counts_timer.start()  # restarted by every call: fires after a quiet spell

    def _refresh_counts(self) -> None:
        kb = self._kb
        if kb is None or not store_exists(kb):
            return
        self._runner.submit(
            lambda: list(kb.store.list_collections()),
            on_done=self._on_counts,
            on_error=self._on_error,
        )

    def _on_counts(self, infos: list[CollectionInfo]) -> None:
        self.collection_model.set_collections(infos)
        self.sig_collections_changed.emit()

    # --- documents -----------------------------------------------------------------------------

    def remove_document(self, path: str) -> None:
        """Remove the document at ``path`` of the current collection (cancelling its indexing)."""
        row = self.document_model.row_of_path(path)
        if row < 0:
            return
        item = self.document_model.item(row)
        kb = self._kb
        self.document_model.remove_row(row)
        if self._problems.set(path, None):
            self.sig_problems_changed.emit(*self.problems)
        if item.active:
            self.cancel(item.job_id)
        if kb is None or item.doc_id is None:
            return
        collection, doc_id = item.collection, item.doc_id

        def remove() -> None:
            if kb.store.get_document(collection, doc_id) is not None:
                kb.remove(collection, doc_id)

        self._runner.submit(
            remove, on_done=lambda _: self._schedule_counts_refresh(), on_error=self._on_error
        )

    def reindex_document(self, path: str) -> None:
        """Parse and embed the document at ``path`` again (even when the file is unchanged)."""
        row = self.document_model.row_of_path(path)
        kb = self._kb
        if row < 0 or kb is None:
            return
        item = self.document_model.item(row)
        if item.doc_id is None:  # never stored (e.g. it failed before it could be read)
            self.add_paths([item.path])
            return
        collection, doc_id = item.collection, item.doc_id
        self._runner.submit(
            lambda: [kb.reindex(collection, doc_id)],
            on_done=self._on_queued,
            on_error=self._on_error,
        )

    # --- collections ---------------------------------------------------------------------------

    def create_collection(self, name: str) -> None:
        """Create an empty collection and switch to it."""
        self._collection_op(lambda kb: kb.store.create_collection(name), switch_to=name)

    def rename_collection(self, old: str, new: str) -> None:
        self._collection_op(
            lambda kb: kb.store.rename_collection(old, new),
            switch_to=new if old == self._current else None,
        )

    def delete_collection(self, name: str) -> None:
        """Delete a collection with its documents (the UI has asked for confirmation)."""
        switch = None
        if name == self._current and name != DEFAULT_COLLECTION:  # "default" is only emptied
            others = [n for n in self.collection_model.names() if n != name]
            switch = others[0] if others else DEFAULT_COLLECTION

        def delete(kb: KnowledgeBase) -> None:
            kb.store.delete_collection(name)
            if switch is not None:
                kb.store.ensure_collection(switch)

        self._collection_op(delete, switch_to=switch)

    def _collection_op(self, op: Callable[[KnowledgeBase], Any], switch_to: str | None) -> None:
        kb = self._kb
        if kb is None:
            return

        def run() -> None:
            with kb.write_lock:
                op(kb)

        def done(_: Any) -> None:
            if switch_to is not None:
                self._set_current(switch_to)
                self.document_model.set_documents(switch_to, [])
                self.sig_current_collection_changed.emit(switch_to)
            self.refresh()

        self._runner.submit(run, on_done=done, on_error=self._on_error)

    # --- search (for other controllers) --------------------------------------------------------

    def search(
        self,
        query: str,
        on_done: Callable[[list[Hit]], None],
        k: int = 10,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Search the current collection off the GUI thread; ``on_done(hits)`` on the GUI thread.

        Runs on its own thread so that it never waits behind store writes of this controller.
        """
        kb = self._kb
        if kb is None:
            on_done([])
            return
        collection = self._current
        runner = self._search_runner()
        runner.submit(
            kb.search, query, collection, k, on_done=on_done, on_error=on_error or self._on_error
        )

    def _search_runner(self) -> BackgroundRunner:
        runner = getattr(self, "_searcher", None)
        if runner is None:
            runner = self._searcher = BackgroundRunner("qwen-desk-search", parent=self)
        return runner

    # --- errors and shutdown -------------------------------------------------------------------

    def _on_error(self, exc: BaseException) -> None:
        if isinstance(exc, QwenDeskError):
            self.sig_error.emit(exc.code, exc.message)
        else:
            log.error("knowledge operation failed", exc_info=exc)
            self.sig_error.emit(QwenDeskError.code, f"{type(exc).__name__}: {exc}")

    def shutdown(self) -> None:
        """Stop listening to the worker and ask ingestion to stop; never waits (the window
        closes at once). A folder walk or a file in progress stops at its next check and stays
        in the persisted queue; the services close the knowledge base after the loop ends."""
        self._watch.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        kb = self._kb
        if kb is not None:
            kb.request_stop()
        # Queued store operations still run (a drop just made is queued, not lost): a walk
        # stops at once and leaves its folder queued for the next start.
        self._runner.shutdown(wait=False, cancel_pending=False)

    def wait_stopped(self, timeout: float) -> bool:
        """After ``shutdown``: wait at most ``timeout`` s for the queued store operations."""
        return self._runner.join(timeout)
        searcher = getattr(self, "_searcher", None)
        if searcher is not None:
            searcher.shutdown(wait=False)


def _fallback(infos: list[CollectionInfo]) -> str:
    names = sorted(c.name for c in infos)
    if DEFAULT_COLLECTION in names:
        return DEFAULT_COLLECTION
    return names[0] if names else ""
