"""Benchmark: how late the GUI event loop runs while ingesting ~300 real PDF pages and while
streaming an answer at 300 tokens/s into the real chat pane.

A 10 ms ``QTimer`` (precise) runs on the app's qasync loop; each time it fires we note how much
later than 10 ms after the previous firing it came (``lateness``). Phase "ingest": the real
``AppServices`` ingests ~315 pages of real PDFs from ``../shared/corpus/pdf`` (parsing in the
child process, embedding and LanceDB writes in the worker thread) while the main window's chat
side is shown. Phase "stream": a ``ChatController`` + ``ChatPanel`` ask a question answered by the
Ollama stand-in (its own process) at 300 tokens/s (about 3,000 tokens). Prints JSON:
p50/p99/max lateness per phase
(target p99 <= 16 ms, max <= 50 ms), pages, tokens, flushes.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui_stall.py [--tokens 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus" / "pdf"
PDFS = [  # 315 pages
    "pymupdf__test-3820.pdf",
    "tika__testPDF_protected.pdf",
    "pdfplumber__issue-67-example-zh.pdf",
    "tika__testPDF_bad_page_303226.pdf",
    "pymupdf__cms-etc-filled.pdf",
    "pdfplumber__federal-register-2020-17221.pdf",
    "pdfjs__tracemonkey.pdf",
    "unstructured__multi-column.pdf",
    "tika__testJournalParser.pdf",
    "pymupdf__test_3863.pdf",
]
INTERVAL_MS = 10


class LatenessProbe:
    """A precise 10 ms timer; ``lateness_ms`` are the delays beyond each expected firing."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        self.lateness_ms: list[float] = []
        self.at_s: list[float] = []  # when each firing came, from start()
        self._last = self._t0 = 0.0

    def start(self) -> None:
        self.lateness_ms, self.at_s = [], []
        self._last = self._t0 = time.perf_counter()
        self.timer.start()

    def stop(self) -> dict[str, object]:
        self.timer.stop()
        worst = sorted(zip(self.lateness_ms, self.at_s, strict=True), reverse=True)[:5]
        return {
            **summarize(self.lateness_ms),
            "worst_at_s": [[round(at, 2), round(late, 1)] for late, at in worst],
        }

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness_ms.append(max(0.0, (now - self._last) * 1000 - INTERVAL_MS))
        self.at_s.append(now - self._t0)
        self._last = now


def log(message: str) -> None:
    print(f"[ui_stall] {message}", file=sys.stderr, flush=True)


def summarize(values: list[float]) -> dict[str, object]:
    if not values:
        return {"samples": 0}
    ordered = sorted(values)
    return {
        "samples": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "max_ms": round(ordered[-1], 2),
    }


async def run(tokens: int, phases: tuple[str, ...] = ("ingest", "stream")) -> dict[str, object]:
    from PySide6.QtWidgets import QApplication

    from qwen_desk.controllers.chat_controller import ChatController
    from qwen_desk.controllers.services import AppServices
    from qwen_desk.core.settings import Settings
    from qwen_desk.ui.chat_panel import ChatPanel

    app = QApplication.instance()
    assert app is not None
    result: dict[str, object] = {
        "interval_ms": INTERVAL_MS,
        "cpus": os.cpu_count(),
        "loadavg_at_start": round(os.getloadavg()[0], 2),  # other processes share the cores
    }
    words = [f"word{i % 97}" for i in range(tokens)]
    answer = ""
    for i in range(0, len(words), 40):
        answer += " ".join(words[i : i + 40]) + " [1].\n\n"
    # the daemon runs in its own process, as the real one does (no GIL shared with the GUI)
    with daemon_process(answer) as url:
        settings = Settings().replace(ollama_host=url)
        services = AppServices(settings)
        ready = asyncio.get_running_loop().create_future()
        services.sig_knowledge_ready.connect(lambda: ready.done() or ready.set_result(True))
        services.start_knowledge()
        await ready
        chat = ChatController(services)
        panel = ChatPanel(chat)
        panel.resize(1000, 800)
        panel.show()
        # the embedder loads once at start, off the GUI thread: not part of the measure
        await asyncio.to_thread(services.knowledge.embedder.load)
        log("knowledge base open, embedder loaded")

        probe = LatenessProbe()
        if "ingest" in phases:
            result["ingest"] = await _ingest_phase(services, probe)
        else:  # a small generated PDF, not measured, so that the question has sources
            from tests.support.kb import EN_PAGES, make_pdf

            pdf = make_pdf(Path(tempfile.mkdtemp()) / "penguins.pdf", EN_PAGES)
            services.ingest.add_paths([str(pdf)], "default")
            await asyncio.sleep(0.5)
            while services.ingest.busy:
                await asyncio.sleep(0.1)
        await services.backend.version()  # the app's Ollama watcher has made the client by now
        flushes_before = chat.throttler.flushes
        probe.start()
        t0 = time.perf_counter()
        question = (
            "What does the WHO guideline recommend for hepatitis C treatment?"
            if "ingest" in phases
            else "How long does the male emperor penguin keep the egg warm?"
        )
        chat.ask(question)
        while chat.task is None or not chat.task.done():
            await asyncio.sleep(0.05)
        stream_s = time.perf_counter() - t0
        record = chat.model.record(chat.model.rowCount() - 1)
        result["stream"] = {
            **probe.stop(),
            "tokens": tokens,
            "seconds": round(stream_s, 1),
            "flushes": chat.throttler.flushes - flushes_before,
            "state": record.state.value,
            "answer_chars": len(record.text),
        }
        result["loadavg_at_end"] = round(os.getloadavg()[0], 2)
        panel.close()
        services.close()
    return result


@contextlib.contextmanager
def daemon_process(answer: str, tokens_per_second: float = 300.0) -> Iterator[str]:
    """The Ollama stand-in as a separate process answering every chat with ``answer``."""
    from tests.support.ollama_standin import free_port

    port = free_port()
    command = [
        sys.executable, "-m", "tests.support.ollama_standin", "--port", str(port),
        "--tokens-per-second", str(tokens_per_second), "--answer", answer,
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


async def _ingest_phase(services: Any, probe: LatenessProbe) -> dict[str, object]:
    files = [str(CORPUS / name) for name in PDFS if (CORPUS / name).exists()]
    pages = {"n": 0}
    unsubscribe = services.ingest.subscribe(
        lambda e: pages.__setitem__("n", pages["n"] + (e.pages if e.finished else 0))
    )
    probe.start()
    t0 = time.perf_counter()
    services.ingest.add_paths(files, "default")
    await asyncio.sleep(0.5)
    while services.ingest.busy:
        await asyncio.sleep(0.5)
        log(f"ingesting: {pages['n']} pages done")
    ingest_s = time.perf_counter() - t0
    unsubscribe()
    return {**probe.stop(), "files": len(files), "pages": pages["n"], "seconds": round(ingest_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=3000)
    parser.add_argument(
        "--phases", default="ingest,stream", help="comma-separated: ingest, stream (default both)"
    )
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="qwen-desk-ui-stall-")
    os.environ["QWEN_DESK_HOME"] = home

    import qasync
    from PySide6.QtWidgets import QApplication

    from qwen_desk.models import pyside_none_fix  # noqa: F401

    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    with loop:
        result = loop.run_until_complete(run(args.tokens, tuple(args.phases.split(","))))
    result["targets"] = {"p99_ms": 16, "max_ms": 50}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
