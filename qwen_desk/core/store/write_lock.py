"""Core layer: the knowledge base's write lock, shared by threads AND processes.

Each store write (one LanceDB commit, index creation or upkeep) takes it for that write only, so
two processes on one data folder (two ``qwen-desk add`` runs, the CLI beside the window)
interleave their writes instead of racing Lance's optimistic commits. Across processes it is an
advisory OS lock on ``<knowledge>/.write.lock`` (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on
Windows), which the OS drops when the holder dies, even on SIGKILL; within a process a
``threading.RLock`` sits on top so threads queue here rather than on the file. It is reentrant
per thread (the store takes it inside its own write methods, callers may hold it around several
of them): the file lock is taken by the outermost ``acquire`` and dropped by its ``release``.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO


class ProcessWriteLock:
    """A blocking lock, reentrant within a thread; use as ``with lock:``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0  # nesting of the owning thread (only that thread touches it)
        self._fh: IO[bytes] | None = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        if self._depth:
            self._depth += 1
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+b")  # noqa: SIM115 - closed in release()
            try:
                _lock_file(fh)
            except BaseException:
                fh.close()
                raise
            self._fh = fh
            self._depth = 1
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        if self._depth > 1:
            self._depth -= 1
            self._thread_lock.release()
            return
        self._depth = 0
        fh, self._fh = self._fh, None
        try:
            if fh is not None:
                try:
                    _unlock_file(fh)
                finally:
                    fh.close()
        finally:
            self._thread_lock.release()

    @property
    def held(self) -> bool:
        """Some thread of this process holds it."""
        return self._fh is not None

    def __enter__(self) -> ProcessWriteLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _lock_file(fh: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        fh.seek(0)
        while True:  # LK_LOCK gives up after 10 s; wait as long as the holder writes
            try:
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                time.sleep(0.05)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)


def _unlock_file(fh: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
