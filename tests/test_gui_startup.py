"""Start-up: the window paints before any heavy back-end library is imported, and an empty
knowledge base (first run) does not load LanceDB or the embedding model at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui

CHILD = r"""
import json, sys
from PySide6.QtCore import QTimer
from qwen_desk.app import build, heavy_modules_loaded
desk = build([])
out = {}
def painted():
    out["heavy_at_first_paint"] = heavy_modules_loaded()
    out["title"] = desk.window.windowTitle()
def idle():
    out["knowledge_ready"] = desk.window.knowledge.ready
    out["heavy_when_idle"] = heavy_modules_loaded()
    out["rag"] = type(desk.services.rag).__name__  # built on the GUI thread: must stay light
    out["heavy_after_rag"] = heavy_modules_loaded()
    desk.app.quit()
desk.window.sig_first_paint.connect(painted)
desk.window.knowledge.sig_ready.connect(lambda: QTimer.singleShot(1500, idle))
QTimer.singleShot(60000, idle)
desk.app.exec()
desk.services.close()
print(json.dumps(out))
"""


def test_first_paint_imports_no_heavy_module(qwen_desk_home) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QWEN_DESK_HOME=str(qwen_desk_home))
    result = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["title"] == "Qwen Desk"
    assert report["heavy_at_first_paint"] == []
    assert report["knowledge_ready"] is True
    assert report["heavy_when_idle"] == []  # first run: nothing to list, nothing loaded
    assert report["rag"] == "RagService"
    assert report["heavy_after_rag"] == []  # the store opens on the RAG's worker thread


def test_the_real_app_starts_and_closes_on_sigterm(qwen_desk_home) -> None:
    """``qwen_desk.app.main`` with its qasync loop; SIGTERM closes it properly (state saved)."""
    import signal
    import time

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QWEN_DESK_HOME=str(qwen_desk_home))
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from qwen_desk.app import main; sys.exit(main([]))"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        queue = qwen_desk_home / "data" / "ingest_queue.sqlite3"
        deadline = time.monotonic() + 60
        while not queue.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)  # the knowledge base opens after the first paint
        assert queue.exists(), "the knowledge side never started"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (qwen_desk_home / "config" / "ui-state.ini").is_file()  # geometry saved on close
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
