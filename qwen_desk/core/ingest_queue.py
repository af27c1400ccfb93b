"""Core layer: the persisted ingestion queue (SQLite, WAL), so that a crash resumes the work.

One row per job: a file to index (or a file skipped while walking a folder, recorded so that its
SKIPPED event comes in order), its collection and its state. Passwords are never written here:
the ingestion service keeps them in memory only, so after a restart an encrypted file is simply
parsed without one and fails with ``password_required``.

Several processes share one queue (two ``qwen-desk add`` runs, the CLI beside the window): every
job has an owner, the process that queued it, and each process runs and waits for its own jobs
only. An owner is alive while it holds the OS lock on its file under ``ingest-owners/`` (taken
when its queue opens, dropped by ``close()`` or by the OS when the process dies, even on
SIGKILL). Opening the queue (and ``reclaim()``) adopts the queued and ``running`` jobs of dead
owners, as queued: a killed process's work resumes, a live one's is never taken from it.

The connection is shared by the worker thread and the callers of ``IngestService`` (adding,
cancelling); a lock serialises it (statements are tiny, nothing long runs under it).
"""

from __future__ import annotations

import contextlib
import enum
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qwen_desk.core import paths
from qwen_desk.core.store.lock import WriterLock

SCHEMA_VERSION = 2
OWNERS_DIR = "ingest-owners"


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # READY, UNCHANGED or SKIPPED
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobKind(str, enum.Enum):
    INDEX = "index"  # parse and embed unless unchanged
    REINDEX = "reindex"  # parse and embed even when unchanged
    SKIP = "skip"  # unsupported file found in a folder: only report it
    FOLDER = "folder"  # a dropped folder whose walk has not finished: walked (again) by the worker


@dataclass
class Job:
    id: int
    path: str
    collection: str
    kind: JobKind
    state: JobState
    created_at: float
    error_code: str = ""
    error_message: str = ""


_MIGRATIONS = (
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL,
        collection TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        error_code TEXT NOT NULL DEFAULT '',
        error_message TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX jobs_state ON jobs(state, id);
    """,
    """
    ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    CREATE INDEX jobs_owner ON jobs(owner, state, id);
    """,
)
_PENDING = (JobState.QUEUED.value, JobState.RUNNING.value)

_COLUMNS = "id, path, collection, kind, state, created_at, error_code, error_message"
_FINISHED = (JobState.DONE.value, JobState.FAILED.value, JobState.CANCELLED.value)


class IngestQueue:
    """The jobs table, as seen by one owner (this process). Thread-safe; ``close()`` when done."""

    def __init__(self, db_path: Path | None = None, *, keep_finished: int = 1000) -> None:
        self.path = db_path or paths.ingest_queue_db()
        paths.ensure(self.path.parent)
        self._keep_finished = keep_finished
        self._lock = threading.Lock()
        self._owners = paths.ensure(self.path.parent / OWNERS_DIR)
        self.owner = uuid.uuid4().hex
        self._owner_lock = WriterLock(self._owners / f"{self.owner}.lock")
        if not self._owner_lock.acquire():  # a fresh random name: nobody else can hold it
            raise RuntimeError("could not lock the ingestion queue's owner file")
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=30000")  # other processes' statements are tiny
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()
        self.reclaim()

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # another process may be migrating too
            try:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                    for statement in script.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={number}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # --- owners --------------------------------------------------------------------------------

    def _owner_alive(self, owner: str) -> bool:
        if not owner:  # a job queued before jobs had owners
            return False
        if owner == self.owner:
            return True
        path = self._owners / f"{owner}.lock"
        if not path.exists():
            return False
        probe = WriterLock(path)
        if not probe.acquire():
            return True  # its process still holds it
        probe.release()
        with contextlib.suppress(OSError):
            path.unlink()
        return False

    def reclaim(self) -> int:
        """Adopt the queued and running jobs of dead owners (as queued); return how many.

        A running job of a dead owner was cut off half-way: nothing of it is visible in the
        store (``replace_document`` is atomic), so it simply runs again here.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # two processes never adopt the same jobs
            try:
                owners = [
                    str(row[0])
                    for row in self._db.execute(
                        "SELECT DISTINCT owner FROM jobs WHERE state IN (?, ?) AND owner != ?",
                        (*_PENDING, self.owner),
                    )
                ]
                adopted = 0
                for owner in owners:
                    if self._owner_alive(owner):
                        continue
                    cur = self._db.execute(
                        "UPDATE jobs SET owner=?, state=?, updated_at=?"
                        " WHERE owner=? AND state IN (?, ?)",
                        (self.owner, JobState.QUEUED.value, time.time(), owner, *_PENDING),
                    )
                    adopted += cur.rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return adopted

    # --- writing -------------------------------------------------------------------------------

    def add(
        self,
        items: list[tuple[str, str, JobKind]],
        *,
        state: JobState = JobState.QUEUED,
        finish: Sequence[int] = (),
    ) -> list[int]:
        """Append ``(path, collection, kind)`` jobs in ``state``, in one transaction; return
        their ids. The jobs ``finish`` (folders whose walk found these files) end DONE in the
        same transaction, so a kill leaves either the folder or its files queued, never both."""
        now = time.time()
        ids: list[int] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for path, collection, kind in items:
                    cur = self._db.execute(
                        "INSERT INTO jobs"
                        " (path, collection, kind, state, created_at, updated_at, owner)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (path, collection, kind.value, state.value, now, now, self.owner),
                    )
                    ids.append(int(cur.lastrowid or 0))
                for job_id in finish:
                    self._db.execute(
                        "UPDATE jobs SET state=?, updated_at=? WHERE id=?",
                        (JobState.DONE.value, now, job_id),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ids

    def set_state(
        self, job_id: int, state: JobState, error_code: str = "", error_message: str = ""
    ) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state=?, error_code=?, error_message=?, updated_at=? WHERE id=?",
                (state.value, error_code, error_message, time.time(), job_id),
            )

    def cancel_queued(self, job_ids: list[int] | None = None) -> list[Job]:
        """Mark this owner's queued jobs (all, or those of ``job_ids``) cancelled; return them."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                query = f"SELECT {_COLUMNS} FROM jobs WHERE state=? AND owner=?"
                args: list[object] = [JobState.QUEUED.value, self.owner]
                if job_ids is not None:
                    query += f" AND id IN ({','.join('?' * len(job_ids))})"
                    args += job_ids
                jobs = [_job(row) for row in self._db.execute(query + " ORDER BY id", args)]
                self._db.executemany(
                    "UPDATE jobs SET state=?, updated_at=? WHERE id=?",
                    [(JobState.CANCELLED.value, time.time(), job.id) for job in jobs],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return jobs

    def prune(self) -> None:
        """Forget finished jobs beyond the newest ``keep_finished``."""
        with self._lock:
            self._db.execute(
                f"DELETE FROM jobs WHERE state IN ({','.join('?' * len(_FINISHED))}) AND id NOT IN"
                f" (SELECT id FROM jobs WHERE state IN ({','.join('?' * len(_FINISHED))})"
                " ORDER BY id DESC LIMIT ?)",
                (*_FINISHED, *_FINISHED, self._keep_finished),
            )

    # --- reading -------------------------------------------------------------------------------

    def next_queued(self) -> Job | None:
        """This owner's oldest queued job, marked running."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE owner=? AND state=? ORDER BY id LIMIT 1",
                (self.owner, JobState.QUEUED.value),
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE jobs SET state=?, updated_at=? WHERE id=?",
                (JobState.RUNNING.value, time.time(), row[0]),
            )
        job = _job(row)
        job.state = JobState.RUNNING
        return job

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _job(row) if row else None

    def jobs(
        self, states: tuple[JobState, ...] | None = None, *, every_owner: bool = False
    ) -> list[Job]:
        """This owner's jobs (``every_owner``: all processes'), oldest first."""
        query = f"SELECT {_COLUMNS} FROM jobs WHERE 1"
        args: tuple[str, ...] = ()
        if not every_owner:
            query += " AND owner=?"
            args = (self.owner,)
        if states:
            query += f" AND state IN ({','.join('?' * len(states))})"
            args += tuple(s.value for s in states)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [_job(row) for row in rows]

    def pending_count(self) -> int:
        """This owner's queued and running jobs."""
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE owner=? AND state IN (?, ?)",
                    (self.owner, *_PENDING),
                ).fetchone()[0]
            )

    def close(self) -> None:
        """Close the database; this owner's unfinished jobs go to whoever opens it next."""
        with self._lock:
            self._db.close()
            self._owner_lock.release()
            with contextlib.suppress(OSError):
                (self._owners / f"{self.owner}.lock").unlink()


def _job(row: tuple[object, ...]) -> Job:
    id_, path, collection, kind, state, created_at, code, message = row
    return Job(
        id=int(id_),  # type: ignore[call-overload]
        path=str(path),
        collection=str(collection),
        kind=JobKind(kind),
        state=JobState(state),
        created_at=float(created_at),  # type: ignore[arg-type]
        error_code=str(code),
        error_message=str(message),
    )
