"""Quitting loses nothing: on real parts (the stand-in daemon, the real window and knowledge base,
the real app in a child process), what is under way when the window closes is either saved as it
stands (a streaming answer, marked stopped) or cancelled cleanly (a model download), and indexing
left unfinished resumes at the next start. How fast it closes is measured in
``bench/quit_latency.py`` (no time limits here)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qwen_desk.app import _close_controllers
from qwen_desk.core.types import IngestState, MessageState
from tests.support.chat_side import index_files, open_services
from tests.support.kb import EN_PAGES, long_text, make_pdf
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop, run_coro  # noqa: F401  (fixture)

pytestmark = [pytest.mark.gui]

LONG_ANSWER = " ".join(f"Sentence {i} of a long answer about penguins [1]." for i in range(400))


def _window(qtbot, services):  # type: ignore[no-untyped-def]
    from qwen_desk.ui.main_window import MainWindow

    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.mark.usefixtures("async_loop")
def test_quitting_while_an_answer_streams_saves_it_as_stopped(qtbot, tmp_path: Path) -> None:
    from qwen_desk.controllers.chat_controller import ChatController

    with OllamaStandIn(tokens_per_second=60) as standin:
        standin.set_answer(LONG_ANSWER)
        services = open_services(qtbot, standin.url)
        index_files(services, [make_pdf(tmp_path / "nature.pdf", EN_PAGES)])
        win = _window(qtbot, services)
        chat = win.chat
        chat.ask("Tell me everything about penguins.")
        qtbot.waitUntil(
            lambda: len(chat.model.record(chat.model.rowCount() - 1).text) > 40, timeout=60_000
        )
        win.close()  # Ctrl+Q: the window goes, then the loop ends and the controllers close
        run_coro(qtbot, _close_controllers(win), timeout_s=60)
        assert standin.wait_for_disconnect(timeout=30)  # the daemon stopped generating
        conversation_id = chat.conversation_id
        services.close()

        # the next start finds the partial answer, marked stopped (not lost, not "done")
        services2 = open_services(qtbot, standin.url, knowledge=False)
        chat2 = ChatController(services2)
        chat2.open_conversation(conversation_id)
        qtbot.waitUntil(lambda: chat2.model.rowCount() >= 2, timeout=30_000)
        last = chat2.model.record(chat2.model.rowCount() - 1)
        assert last.state is MessageState.STOPPED
        assert 40 < len(last.text) < len(LONG_ANSWER)
        assert LONG_ANSWER.startswith(last.text.rstrip()[:40])
        services2.close()


@pytest.mark.usefixtures("async_loop")
def test_quitting_during_a_model_download_cancels_it(qtbot) -> None:
    with OllamaStandIn(models=(), pull_bytes_per_s=2e7) as standin:
        services = open_services(qtbot, standin.url, knowledge=False)
        win = _window(qtbot, services)
        progress: list[object] = []
        win.ollama.sig_pull_progress.connect(progress.append)
        win.ollama.pull()  # the configured model, which the daemon does not have
        qtbot.waitUntil(lambda: len(progress) >= 2, timeout=60_000)
        assert win.ollama.pulling
        win.close()
        run_coro(qtbot, _close_controllers(win), timeout_s=60)
        assert not win.ollama.pulling
        assert standin.wait_for_disconnect(timeout=30)  # the download stream was closed
        pulls = [g for g in standin.generations if g.path == "/api/pull"]
        assert pulls and pulls[-1].outcome == "disconnected"
        services.close()


def _jobs(home: Path) -> list[tuple[str, str]]:
    db = home / "data" / "ingest_queue.sqlite3"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("SELECT kind, state FROM jobs").fetchall()
    except sqlite3.OperationalError:  # created but not migrated yet
        return []


@pytest.mark.slow
def test_the_real_app_quit_during_indexing_resumes_at_the_next_start(
    qwen_desk_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for i in range(4):
        (folder / f"report-{i}.md").write_text(
            long_text(80, seed=10 + i, words_each=120), encoding="utf-8"
        )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QWEN_DESK_HOME=str(qwen_desk_home))
    env["OLLAMA_HOST"] = "http://127.0.0.1:9"  # nothing listens there: no daemon needed
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from qwen_desk.app import main; sys.exit(main())",
            str(folder),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240  # a hang guard, not a time limit
        while proc.poll() is None and time.monotonic() < deadline:
            if ("index", "running") in _jobs(qwen_desk_home):
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(1.0)  # well inside the first file's embedding
        proc.send_signal(signal.SIGTERM)  # as a logout does; Ctrl+Q takes the same path
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    jobs = _jobs(qwen_desk_home)
    assert sum(state in ("queued", "running") for _, state in jobs) >= 1, jobs

    # the next start: every file ends indexed, none twice, none failed
    from qwen_desk.core.knowledge import KnowledgeBase
    from qwen_desk.core.settings import Settings
    from tests.support.kb import shared_embedder

    kb = KnowledgeBase(Settings(), embedder=shared_embedder())
    try:
        events = []
        kb.ingest.subscribe(events.append)
        kb.ingest.start()
        assert kb.ingest.wait_idle(600)
        records = kb.store.list_documents()
        assert sorted(Path(r.path).name for r in records) == [f"report-{i}.md" for i in range(4)]
        assert all(r.n_chunks > 10 for r in records)
        assert not [e for e in events if e.state is IngestState.FAILED]
    finally:
        kb.close()
