"""CLI layer: the one progress line of ``add`` and ``reindex`` on a terminal.

``[2/5] embedding 12/40 passages · report.pdf (12 pages)`` is rewritten in place (carriage
return, clear to the end of the line) and kept shorter than the terminal, so it never wraps.
Failures are printed on a line of their own above it and stay; the line is wiped before the
summary. Without a terminal, ``add`` prints one plain line per step instead (logs stay readable)
and with ``--json`` nothing at all: this class is then not used.
"""

from __future__ import annotations

import shutil
import threading
import unicodedata
from pathlib import Path
from typing import TextIO

from qwen_desk.core.types import IngestEvent, IngestState, is_paginated

CLEAR = "\r\x1b[K"


class ProgressLine:
    """Feed it the ingestion events (any thread); it redraws one line on ``stream``."""

    def __init__(self, stream: TextIO, files: int = 0) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.files = files
        self.finished = 0
        self._shown = False

    def set_files(self, files: int) -> None:
        """How many files this command indexes (known once the jobs are submitted)."""
        with self._lock:
            self.files = files

    def update(self, event: IngestEvent) -> None:
        with self._lock:
            if event.state is IngestState.FAILED and event.error:
                self._write(
                    f"{CLEAR}failed ({event.error.code}: {event.error.message}): {event.path}\n"
                )
                self._shown = False
            if event.finished:
                self.finished += 1
                return
            text = self.text(event)
            if text:
                self._write(CLEAR + self._fit(text))
                self._shown = True

    def text(self, event: IngestEvent) -> str:
        """The line for ``event`` (empty for a queued file: nothing to show yet)."""
        name = Path(event.path).name
        if event.state is IngestState.PARSING:
            what = "reading"
        elif event.state is IngestState.EMBEDDING:
            what = f"embedding {event.done}/{event.total} passages"
        else:
            return ""
        if event.pages and is_paginated(event.path):
            name += f" ({event.pages} pages)"
        counter = f"[{min(self.finished + 1, self.files)}/{self.files}] " if self.files else ""
        return f"{counter}{what} · {name}"

    def close(self) -> None:
        """Wipe the line (before the summary is printed)."""
        with self._lock:
            if self._shown:
                self._write(CLEAR)
                self._shown = False

    def _fit(self, text: str) -> str:
        """``text`` cut to fit the terminal's width (Chinese characters take two columns)."""
        width = (shutil.get_terminal_size((80, 24)).columns or 80) - 1
        used = 0
        for i, ch in enumerate(text):
            used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            if used > width:
                return text[: max(0, i - 1)] + "…"
        return text

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
