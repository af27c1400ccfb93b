"""Core layer: the ingestion service, one background worker thread that is the only writer.

``IngestService.add_paths`` appends jobs to the persisted queue (``ingest_queue``) and returns at
once. The worker takes them one by one: hash the file (the sha256 is the document id); when a
ready document with that id and the current embedding model is already in the collection the
file is UNCHANGED (no parse, no embedding); otherwise parse it in the sandboxed child process,
chunk it, embed the chunks in batches (EMBEDDING done/total events, cancellable between
batches) and store it in one atomic write, then delete older versions of the same path. A
failure becomes a FAILED event and a failed document row, so the reason stays visible.
``store.maintain()`` runs when the queue drains.

Events go to the callbacks given to ``subscribe``; they are always called on the worker thread
(the GUI marshals them to its own). Passwords live in memory only (see ``ingest_queue``); one
that opened a file is kept for the session in ``documents.passwords`` (the viewer needs it).
Searching never waits for the worker: the only lock shared with readers is the knowledge base's
short write lock, held around single store writes, never around embedding.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_desk.core.documents.passwords import PasswordMemory, session_passwords
from qwen_desk.core.errors import (
    Cancelled,
    DiskFull,
    DocumentError,
    FileNotReadable,
    NoTextContent,
    QwenDeskError,
    UnsupportedFileType,
    is_disk_full,
)
from qwen_desk.core.file_scan import FoundFile, expand_paths, file_sha256
from qwen_desk.core.ingest_queue import IngestQueue, Job, JobKind, JobState
from qwen_desk.core.types import (
    DocumentRecord,
    DocumentStatus,
    ErrorInfo,
    IngestEvent,
    IngestState,
)

if TYPE_CHECKING:
    from qwen_desk.core.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

Listener = Callable[[IngestEvent], None]
MAINTAIN_EVERY_DOCS = 200  # also fold new rows into the indexes during a very long queue


class IngestService:
    """The ingestion queue and its worker thread, over a ``KnowledgeBase``."""

    def __init__(
        self,
        kb: KnowledgeBase,
        queue: IngestQueue | None = None,
        known_passwords: PasswordMemory | None = None,
    ) -> None:
        from qwen_desk.core import paths

        self._kb = kb
        self._queue = queue or IngestQueue(paths.ingest_queue_db(kb.data_dir))
        self._passwords: dict[int, str] = {}  # per job, until it finishes
        # per file, for the session: the passwords that opened a file (the viewer needs them)
        self.known_passwords = known_passwords or session_passwords()
        self._listeners: list[Listener] = []
        self._cond = threading.Condition()
        self._notices: deque[IngestEvent] = deque()  # emitted by the worker, in order
        self._current: Job | None = None
        self._cancel_current = threading.Event()
        self._user_cancelled: set[int] = set()  # running jobs the user (not close()) cancelled
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._worker_done = False  # the worker has left its loop (set under ``_cond``)
        self._worker_closes_queue = False  # close() gave up waiting: the worker closes it
        self._idle = True
        self._written_since_maintain = 0

    # --- listeners -----------------------------------------------------------------------------

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` on the worker thread for every event; returns unsubscribe."""
        with self._cond:
            self._listeners = [*self._listeners, callback]

        def unsubscribe() -> None:
            with self._cond:
                self._listeners = [cb for cb in self._listeners if cb is not callback]

        return unsubscribe

    def _emit(self, event: IngestEvent) -> None:
        for callback in self._listeners:  # a copy-on-write list: no lock needed to read it
            try:
                callback(event)
            except Exception:  # a broken listener must not stop ingestion
                log.exception("ingest listener failed on %s", event)

    # --- commands ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker (resuming jobs a dead process left queued). Idempotent.

        Each process runs its own jobs only (``ingest_queue``): another live process's are
        never taken, so every process waits for, and reports, exactly the files it was given.
        """
        with self._cond:
            if self._stopping:
                raise RuntimeError("the ingestion service is closed")
            if self._thread is None or not self._thread.is_alive():
                self._queue.reclaim()  # jobs of processes that died meanwhile
                resumed = [
                    j
                    for j in self._queue.jobs((JobState.QUEUED,))
                    if j.kind not in (JobKind.SKIP, JobKind.FOLDER)
                ]
                announced = {e.job_id for e in self._notices}
                # Jobs left by an earlier run: announce them so a fresh GUI list shows them.
                self._notices.extend(
                    IngestEvent(j.path, j.collection, IngestState.QUEUED, job_id=j.id)
                    for j in resumed
                    if j.id not in announced
                )
                self._idle = self._queue.pending_count() == 0
                self._thread = threading.Thread(
                    target=self._run, name="qwen-desk-ingest", daemon=True
                )
                self._thread.start()

    def add_paths(
        self,
        items: Iterable[str | os.PathLike[str]],
        collection: str,
        password: str | None = None,
    ) -> list[int]:
        """Queue files and folders (recursively) for ``collection``; return the job ids.

        Every returned job ends with exactly one finished event (READY, UNCHANGED, FAILED,
        CANCELLED or SKIPPED). Unsupported files named explicitly fail with
        ``unsupported_type``; those found inside folders are SKIPPED. ``password`` applies to
        every file of this call and is kept in memory only.
        """
        from qwen_desk.core.store.schema import clean_collection_name

        items = [Path(p).expanduser() for p in items]
        collection = clean_collection_name(collection)
        # The folders are persisted before they are walked: quitting during a long walk leaves
        # them queued, and the next start walks them again (``_walk_folder``).
        folders = [(str(p.absolute()), collection, JobKind.FOLDER) for p in items if p.is_dir()]
        folder_ids = self._queue.add(folders, state=JobState.RUNNING) if folders else []
        try:
            found = expand_paths(items, _is_supported, should_stop=self._is_stopping)
        except Cancelled:
            for job_id in folder_ids:
                self._queue.set_state(job_id, JobState.QUEUED)
            return []
        return self._enqueue(_jobs_for(found, collection), password, finish=folder_ids)

    def reindex(self, collection: str, doc_id: str) -> int:
        """Queue a full re-index (parse and embed again) of one stored document."""
        record = self._kb.store.get_document(collection, doc_id)
        if record is None:
            from qwen_desk.core.errors import DocumentNotFound

            raise DocumentNotFound(f"no document {doc_id} in {collection}")
        return self._enqueue([(record.path, collection, JobKind.REINDEX)], None)[0]

    def index_paths(self, items: list[tuple[str, str]]) -> list[int]:
        """Queue ``(path, collection)`` files as they are (no folder walk, no type check)."""
        return self._enqueue([(p, c, JobKind.INDEX) for p, c in items], None)

    def _enqueue(
        self,
        jobs: list[tuple[str, str, JobKind]],
        password: str | None,
        finish: Sequence[int] = (),
    ) -> list[int]:
        from qwen_desk.core.store.schema import clean_collection_name

        if not jobs and not finish:
            return []
        # Chunk ids and rows use the stored form of the name; a bad name fails here, at once.
        names = {c: clean_collection_name(c) for c in {c for _, c, _ in jobs}}
        jobs = [(path, names[c], kind) for path, c, kind in jobs]
        ids = self._queue.add(jobs, finish=finish)
        with self._cond:
            if password is not None:
                self._passwords.update(dict.fromkeys(ids, password))
            for job_id, (path, collection, kind) in zip(ids, jobs, strict=True):
                if kind is not JobKind.SKIP:
                    self._notices.append(
                        IngestEvent(path, collection, IngestState.QUEUED, job_id=job_id)
                    )
            self._idle = False
            self._cond.notify_all()
        self.start()
        return ids

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued or running job; False when it already finished."""
        with self._cond:
            if self._current is not None and self._current.id == job_id:
                self._user_cancelled.add(job_id)
                self._cancel_current.set()
                return True
            dropped = self._queue.cancel_queued([job_id])
            self._drop(dropped)
        return bool(dropped)

    def cancel_all(self) -> int:
        """Cancel the running job and drop every queued one; return how many were cancelled."""
        with self._cond:
            dropped = self._queue.cancel_queued()
            self._drop(dropped)
            running = self._current is not None
            if self._current is not None:
                self._user_cancelled.add(self._current.id)
                self._cancel_current.set()
        return len(dropped) + int(running)

    def _drop(self, jobs: list[Job]) -> None:
        # called with self._cond held
        for job in jobs:
            self._passwords.pop(job.id, None)
            self._notices.append(
                IngestEvent(job.path, job.collection, IngestState.CANCELLED, job_id=job.id)
            )
        if jobs:
            self._idle = False
            self._cond.notify_all()

    def pending(self) -> list[Job]:
        """Jobs queued or running, oldest first."""
        return self._queue.jobs((JobState.QUEUED, JobState.RUNNING))

    def job(self, job_id: int) -> Job | None:
        return self._queue.get(job_id)

    @property
    def busy(self) -> bool:
        return not self._idle

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the queue is empty and the worker rests; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._idle:
                if self._thread is None or not self._thread.is_alive():
                    return self._queue.pending_count() == 0
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is not None else 1.0)
        return True

    def request_stop(self) -> None:
        """Begin stopping without waiting: the running job (a walk, a parse, an embedding batch)
        ends at its next check and goes back to the queue; nothing new starts. For quitting:
        ``close`` then has less to wait for."""
        with self._cond:
            self._stopping = True
            self._cancel_current.set()
            self._cond.notify_all()

    def _is_stopping(self) -> bool:
        return self._stopping

    def close(self, timeout: float | None = 30.0) -> bool:
        """Stop after the current job (cancelled), join the worker, close the queue.

        Returns False when the worker did not stop within ``timeout`` (busy in one embedding
        batch or one store call): the worker then closes the queue itself once it has put its
        job back (so the queue's owner lock is released even if the process lives on)."""
        self.request_stop()
        with self._cond:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            with self._cond:
                if not self._worker_done and thread.is_alive():
                    log.info("the ingestion worker did not stop within %s s", timeout)
                    self._worker_closes_queue = True
                    return False
        self._queue.close()
        return True

    # --- worker --------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._flush_notices()
            maintain = False
            with self._cond:
                if self._stopping:
                    self._worker_done = True
                    if self._worker_closes_queue:
                        self._queue.close()
                    return
                try:
                    job = self._queue.next_queued()
                except Exception as exc:  # the queue cannot be written: a full disk, mostly
                    self._queue_unwritable(exc)
                    self._idle = True
                    self._cond.notify_all()
                    self._cond.wait()  # until more work is added (it may fit again)
                    continue
                if job is None:
                    if self._notices:
                        continue
                    if self._written_since_maintain:
                        maintain = True
                    else:
                        self._idle = True
                        self._cond.notify_all()
                        self._cond.wait()
                        continue
                else:
                    self._current = job
                    self._cancel_current.clear()
            if maintain:
                self._maintain()
                continue
            assert job is not None
            try:
                self._process(job)
            except BaseException:  # never let the worker die silently
                log.exception("ingestion worker failed on job %s", job.id)
                try:
                    self._queue.set_state(
                        job.id, JobState.FAILED, "qwen_desk_error", "worker error"
                    )
                except Exception:  # the queue itself cannot be written (a full disk)
                    log.exception("could not mark job %s failed", job.id)
            finally:
                with self._cond:
                    self._current = None
                    self._passwords.pop(job.id, None)
                    self._user_cancelled.discard(job.id)
            if self._written_since_maintain >= MAINTAIN_EVERY_DOCS:
                self._maintain()

    def _queue_unwritable(self, exc: Exception) -> None:
        """Fail the queued jobs of this run with the queue's error, in events only (called
        with ``self._cond`` held): the queue keeps them queued, so they run again at the next
        start, once the disk has room."""
        log.error("the ingestion queue cannot be written", exc_info=exc)
        error: QwenDeskError = (
            DiskFull(f"The disk is full: the ingestion queue cannot be written ({exc})")
            if is_disk_full(exc, self._kb.data_dir)
            else QwenDeskError(f"The ingestion queue cannot be written: {exc}")
        )
        try:
            jobs = self._queue.jobs((JobState.QUEUED,))
        except Exception:
            log.exception("the ingestion queue cannot be read")
            jobs = []
        for job in jobs:
            if job.kind is JobKind.SKIP:
                continue
            self._notices.append(
                IngestEvent(
                    job.path,
                    job.collection,
                    IngestState.FAILED,
                    job_id=job.id,
                    error=ErrorInfo(error.code, error.message),
                )
            )
        self._cond.release()  # listeners run without the lock, as everywhere else
        try:
            self._flush_notices()
        finally:
            self._cond.acquire()

    def _flush_notices(self) -> None:
        while True:
            with self._cond:
                if not self._notices:
                    return
                event = self._notices.popleft()
            self._emit(event)

    def _maintain(self) -> None:
        self._written_since_maintain = 0
        self._queue.prune()
        try:
            with self._kb.write_lock:
                self._kb.store.maintain()
        except Exception:
            log.exception("knowledge base upkeep failed")

    def _should_cancel(self) -> bool:
        return self._cancel_current.is_set()

    def _process(self, job: Job) -> None:
        if job.kind is JobKind.FOLDER:
            self._walk_folder(job)
            return
        event = IngestEvent(job.path, job.collection, IngestState.PARSING, job_id=job.id)
        if job.kind is JobKind.SKIP:
            event.state = IngestState.SKIPPED
            event.error = ErrorInfo(UnsupportedFileType.code, UnsupportedFileType().message)
            self._queue.set_state(job.id, JobState.DONE)
            self._emit(event)
            return
        record: DocumentRecord | None = None
        try:
            record = self._index(job, event)
        except Cancelled:
            with self._cond:
                interrupted = self._stopping and job.id not in self._user_cancelled
                self._user_cancelled.discard(job.id)
            if interrupted:  # closing, not cancelling: the job resumes at the next start
                self._queue.set_state(job.id, JobState.QUEUED)
                return
            event.state = IngestState.CANCELLED
            self._queue.set_state(job.id, JobState.CANCELLED)
            self._emit(event)
            return
        except Exception as exc:
            if self._stopping:  # quitting may be why it failed (parser stopped): try again later
                log.info("job %s interrupted by closing: %s", job.id, exc)
                self._queue.set_state(job.id, JobState.QUEUED)
                return
            error = exc if isinstance(exc, QwenDeskError) else None
            if error is None:
                log.exception("unexpected error while indexing %s", job.path)
            code = error.code if error else QwenDeskError.code
            message = error.message if error else f"{type(exc).__name__}: {exc}"
            event.state = IngestState.FAILED
            event.error = ErrorInfo(code, message)
            try:
                self._queue.set_state(job.id, JobState.FAILED, code, message)
            except Exception:  # a full disk may refuse the queue too: still say it failed
                log.exception("could not mark job %s failed", job.id)
            if isinstance(exc, DocumentError | DiskFull):  # keep the failure visible
                self._record_failure(job, event)
            self._emit(event)
            return
        self._queue.set_state(job.id, JobState.DONE)
        event.pages, event.chunks = record.pages, record.n_chunks
        event.scanned_pages = record.scanned_pages
        self._emit(event)

    def _walk_folder(self, job: Job) -> None:
        """A folder left queued by a walk that did not finish (the app quit): walk it now."""
        try:
            found = expand_paths([job.path], _is_supported, should_stop=self._is_stopping)
        except Cancelled:
            self._queue.set_state(job.id, JobState.QUEUED)
            return
        self._enqueue(_jobs_for(found, job.collection), None, finish=[job.id])

    def _index(self, job: Job, event: IngestEvent) -> DocumentRecord:
        """Index one file; fills ``event`` (doc_id, final state); returns the stored record."""
        from qwen_desk.core.chunking import chunk_document
        from qwen_desk.core.documents import kind_for_path

        path = Path(job.path)
        try:
            stat = path.stat()
            if not path.is_file():
                raise FileNotReadable(f"not a file: {path}")
            event.doc_id = file_sha256(path, self._should_cancel)
        except OSError as exc:
            raise FileNotReadable(f"cannot read {path}: {exc.strerror or exc}") from exc
        kind = kind_for_path(path)
        if kind is None:
            raise UnsupportedFileType(f"{path.suffix or path.name} files are not supported yet")
        kb = self._kb
        store, embedder = kb.store, kb.embedder
        collection, doc_id = job.collection, event.doc_id
        existing = store.get_document(collection, doc_id)
        older = [  # other versions of this path (edited since, or failed attempts)
            d.doc_id
            for d in store.find_documents(str(path), collection)
            if d.doc_id != doc_id and d.path == str(path)
        ]
        if (
            job.kind is JobKind.INDEX
            and existing is not None
            and _status(existing) == DocumentStatus.READY.value
            and existing.embed_model == embedder.model_id
        ):
            if older:  # e.g. the file was reverted to an earlier content
                self._delete_versions(collection, older)
            event.state = IngestState.UNCHANGED
            return existing
        with self._cond:
            password = self._passwords.get(job.id)
        self._emit(_copy(event))  # PARSING
        doc = kb.parser.parse(path, password, should_cancel=self._should_cancel)
        if password:
            self.known_passwords.remember(path, password)
        if self._should_cancel():
            raise Cancelled()
        chunks = chunk_document(
            doc, doc_id=doc_id, collection=collection, count_tokens=embedder.count_tokens
        )
        if not chunks:
            raise NoTextContent(
                f"no text could be extracted ({len(doc.scanned_pages)} scanned pages)"
                if doc.scanned_pages
                else "no text could be extracted"
            )
        event.state, event.done, event.total = IngestState.EMBEDDING, 0, len(chunks)
        event.pages, event.scanned_pages = doc.page_count, len(doc.scanned_pages)
        self._emit(_copy(event))

        def progress(done: int, total: int) -> None:
            event.done, event.total = done, total
            self._emit(_copy(event))

        vectors = embedder.embed_documents(
            [c.text for c in chunks], on_progress=progress, should_cancel=self._should_cancel
        )
        if self._should_cancel():
            raise Cancelled()
        record = DocumentRecord(
            doc_id=doc_id,
            collection=collection,
            path=str(path),
            title=doc.title or path.stem,
            kind=doc.kind or kind,
            size=stat.st_size,
            mtime=stat.st_mtime,
            pages=doc.page_count,
            n_chunks=len(chunks),
            embed_model=embedder.model_id,
            scanned_pages=len(doc.scanned_pages),
            added_at=time.time(),
        )
        del doc  # the text can be large; the chunks carry what is stored
        try:
            with kb.write_lock:
                store.ensure_collection(collection)  # queued before the collection existed
                store.replace_document(record, chunks, vectors)
        except Exception as exc:
            if not is_disk_full(exc, kb.data_dir):
                raise
            # LanceDB commits a new version only after its files are written: the failed
            # write is invisible (its partial files are orphans that upkeep removes).
            log.warning("disk full while storing %s: %s", path, exc)
            raise DiskFull.needing(
                path.name, _bytes_to_store(chunks, vectors), _free_bytes(kb.data_dir)
            ) from exc
        self._delete_versions(collection, older)  # the new version is visible: old ones go
        self._written_since_maintain += 1
        event.state = IngestState.READY
        return record

    def _delete_versions(self, collection: str, doc_ids: list[str]) -> None:
        from qwen_desk.core.errors import DocumentNotFound

        for doc_id in doc_ids:
            with self._kb.write_lock:
                try:
                    self._kb.store.delete_document(collection, doc_id)
                except DocumentNotFound:  # removed meanwhile
                    pass
        self._written_since_maintain += bool(doc_ids)

    def _record_failure(self, job: Job, event: IngestEvent) -> None:
        """Keep the failure visible as a failed document row (when the file could be hashed)."""
        if event.doc_id is None or event.error is None:
            return
        path = Path(job.path)
        try:
            stat = path.stat()
            record = DocumentRecord(
                doc_id=event.doc_id,
                collection=job.collection,
                path=str(path),
                title=path.stem,
                kind=path.suffix.lstrip(".").lower(),
                size=stat.st_size,
                mtime=stat.st_mtime,
                pages=0,
                n_chunks=0,
                embed_model=self._kb.embedder.model_id,
                status=DocumentStatus.FAILED,
                error_code=event.error.code,
                error_message=event.error.message,
                added_at=time.time(),
            )
            with self._kb.write_lock:
                self._kb.store.ensure_collection(job.collection)
                self._kb.store.record_failure(record)
        except Exception:
            log.exception("could not record the failure of %s", job.path)


def _is_supported(path: Path) -> bool:
    from qwen_desk.core.documents import kind_for_path

    return kind_for_path(path) is not None


def _jobs_for(found: list[FoundFile], collection: str) -> list[tuple[str, str, JobKind]]:
    """Index jobs for the files of a walk; unsupported files found in folders are only skipped."""
    return [
        (str(f.path), collection, JobKind.INDEX if f.supported or f.explicit else JobKind.SKIP)
        for f in found
    ]


def _bytes_to_store(chunks: list[Any], vectors: Any) -> int:
    """About what one document takes on disk: vectors, text twice (rows and full-text index),
    and a little per row."""
    text = sum(len(c.text.encode()) for c in chunks)
    return int(getattr(vectors, "nbytes", 0)) + 2 * text + 256 * len(chunks) + (1 << 20)


def _free_bytes(folder: Path) -> int | None:
    import shutil

    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _status(record: DocumentRecord) -> Any:
    status = record.status
    return status.value if isinstance(status, DocumentStatus) else status


def _copy(event: IngestEvent) -> IngestEvent:
    return dataclasses.replace(event)
