"""Core layer: the passwords that opened encrypted documents, kept for this session only.

A password the user types (when adding a file, or in the source viewer) is needed again later:
a citation chip of an encrypted PDF renders its page in the parser child, which must open the
file again. ``PasswordMemory`` keeps ``path -> password`` in this process's memory and nowhere
else (never in the settings, the ingest queue or the knowledge base), so the next session asks
again. One instance is shared by the process (``session_passwords()``): the ingestion worker
remembers the passwords that worked, the viewer reads them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.normcase(os.path.abspath(Path(path)))


class PasswordMemory:
    """Thread-safe ``path -> password`` in memory (the ingestion worker writes, the GUI reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passwords: dict[str, str] = {}

    def remember(self, path: str | os.PathLike[str], password: str) -> None:
        """Keep ``password`` as the one that opens ``path`` (an empty one is not kept)."""
        if password:
            with self._lock:
                self._passwords[_key(path)] = password

    def get(self, path: str | os.PathLike[str]) -> str | None:
        with self._lock:
            return self._passwords.get(_key(path))

    def forget(self, path: str | os.PathLike[str]) -> None:
        with self._lock:
            self._passwords.pop(_key(path), None)

    def clear(self) -> None:
        with self._lock:
            self._passwords.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._passwords)

    def __repr__(self) -> str:  # never the passwords themselves, not even in a log line
        return f"PasswordMemory({len(self)} files)"


_SESSION = PasswordMemory()


def session_passwords() -> PasswordMemory:
    """The process-wide memory (what "this session" means: until the app exits)."""
    return _SESSION
