"""Core layer: the persisted ingestion queue (SQLite, WAL), so that a crash resumes the work.

One row per job: a file to index (or a file skipped while walking a folder, recorded so that its
SKIPPED event comes in order), its collection and its state. Passwords are never written here:
the ingestion service keeps them in memory only, so after a restart an encrypted file is simply
parsed without one and fails with ``password_required``. Jobs left ``running`` by a killed
process go back to ``queued`` when the queue is opened again.

The connection is shared by the worker thread and the callers of ``IngestService`` (adding,
cancelling); a lock serialises it (statements are tiny, nothing long runs under it).
"""

from __future__ import annotations

import enum
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qwen_desk.core import paths

SCHEMA_VERSION = 1


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
)

_COLUMNS = "id, path, collection, kind, state, created_at, error_code, error_message"
_FINISHED = (JobState.DONE.value, JobState.FAILED.value, JobState.CANCELLED.value)


class IngestQueue:
    """The jobs table. Thread-safe; ``close()`` when done."""

    def __init__(self, db_path: Path | None = None, *, keep_finished: int = 1000) -> None:
        self.path = db_path or paths.ingest_queue_db()
        paths.ensure(self.path.parent)
        self._keep_finished = keep_finished
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()
        with self._lock:
            # A killed process left these half-done: nothing of them is visible in the store.
            self._db.execute(
                "UPDATE jobs SET state=?, updated_at=? WHERE state=?",
                (JobState.QUEUED.value, time.time(), JobState.RUNNING.value),
            )

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                self._db.executescript(f"BEGIN; {script} PRAGMA user_version={number}; COMMIT;")

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
                        "INSERT INTO jobs (path, collection, kind, state, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (path, collection, kind.value, state.value, now, now),
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
        """Mark queued jobs (all, or those of ``job_ids``) cancelled; return them."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                query = f"SELECT {_COLUMNS} FROM jobs WHERE state=?"
                args: list[object] = [JobState.QUEUED.value]
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
        """The oldest queued job, marked running."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state=? ORDER BY id LIMIT 1",
                (JobState.QUEUED.value,),
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

    def jobs(self, states: tuple[JobState, ...] | None = None) -> list[Job]:
        query = f"SELECT {_COLUMNS} FROM jobs"
        args: tuple[str, ...] = ()
        if states:
            query += f" WHERE state IN ({','.join('?' * len(states))})"
            args = tuple(s.value for s in states)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [_job(row) for row in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE state IN (?, ?)",
                    (JobState.QUEUED.value, JobState.RUNNING.value),
                ).fetchone()[0]
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


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
