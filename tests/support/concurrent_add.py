"""Several ``qwen-desk add`` processes on one data folder: generated PDFs and a subprocess runner.

Shared by ``tests/test_concurrent_writers.py`` and ``bench/concurrent_add.py``. Every PDF is a
real pymupdf file with its own text (a topic word per set, so a search finds them), a few pages
long, so both runs really parse, embed and write at the same time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.kb import long_text, make_pdf

REPO = Path(__file__).resolve().parent.parent.parent
TOPICS = ("glacier", "lighthouse", "orchard", "volcano")


def make_pdf_set(folder: Path, set_no: int, n: int = 10, pages: int = 2) -> list[Path]:
    """``n`` different PDFs in ``folder`` (made once), the topic word ``TOPICS[set_no]`` in each."""
    folder.mkdir(parents=True, exist_ok=True)
    topic = TOPICS[set_no % len(TOPICS)]
    files = []
    for i in range(n):
        path = folder / f"{topic}-{i:02d}.pdf"
        if not path.exists():
            texts = [
                f"{topic} report {set_no}-{i} page {p}. "
                + long_text(3, seed=1000 * set_no + 10 * i + p, words_each=70)
                for p in range(pages)
            ]
            make_pdf(path, texts)
        files.append(path)
    return files


class CliRun:
    """``python -m qwen_desk ARGS`` on the data folder ``home``, its output read as it comes."""

    def __init__(self, home: Path, *args: str) -> None:
        env = {
            **os.environ,
            "QWEN_DESK_HOME": str(home),
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(REPO),
        }
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qwen_desk", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=REPO,
        )
        self.lines: list[tuple[float, str]] = []  # (monotonic time, stdout line)
        self.first_line = threading.Event()
        self.ended: float | None = None  # when it exited
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line))
            self.first_line.set()
        self.first_line.set()  # also when it printed nothing: nobody waits forever
        self.proc.wait()
        self.ended = time.monotonic()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self._err.extend(self.proc.stderr)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def finish(self, timeout: float) -> tuple[int, str, str]:
        """Wait (killed past ``timeout``: a hang guard); (exit code, stdout, stderr)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = -9
            self._err.append("\n[killed: no end within the hang guard]")
        self.ended = self.ended or time.monotonic()
        for reader in self._readers:
            reader.join()
        return code, "".join(line for _, line in self.lines), "".join(self._err)

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started
