"""End to end in the real main window: drop a real PDF and DOCX, wait until they are ready, ask
(typed, Enter), read the streamed cited answer, click a chip, see the page highlighted in the
source viewer, stop an answer mid-way (Esc), then restart the window on the same data folder and
find the conversation and the documents again. The daemon is the Ollama stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from qwen_desk.controllers.services import AppServices
from qwen_desk.core.types import IngestState, MessageState
from qwen_desk.ui.main_window import MainWindow
from tests.support.chat_side import click_chip, make_settings
from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS, make_docx, make_pdf, shared_embedder
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)
from tests.test_gui_knowledge import drop, wait_state

pytestmark = [
    pytest.mark.gui,
    pytest.mark.slow,
    pytest.mark.usefixtures("async_loop"),
    pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning"),
]

LONG_ANSWER = " ".join(f"Penguin fact number {i} [1]." for i in range(500))


def _open_window(qtbot, url: str) -> MainWindow:
    services = AppServices(make_settings(url), embedder=shared_embedder())
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    services.start_knowledge()
    qtbot.waitUntil(lambda: win.knowledge.ready, timeout=60_000)
    return win


def test_drop_ask_cite_view_stop_restart(qtbot, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "penguins.pdf", EN_PAGES)
    docx = make_docx(tmp_path / "地理.docx", "中国地理", ZH_PARAGRAPHS)
    with OllamaStandIn(tokens_per_second=250) as server:
        win = _open_window(qtbot, server.url)
        chat, panel, viewer = win.chat, win.chat_panel, win.source_viewer
        assert chat is not None and viewer is not None
        qtbot.waitUntil(lambda: win.ollama.state == "connected", timeout=60_000)

        drop(win, [pdf, docx])
        wait_state(qtbot, win, pdf, IngestState.READY)
        wait_state(qtbot, win, docx, IngestState.READY)

        # ask by typing and Enter; the answer streams in and cites the PDF
        panel.input.setFocus()
        qtbot.keyClicks(panel.input, "How long does the male penguin keep the egg warm?")
        qtbot.keyClick(panel.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: chat.task is not None and chat.task.done(), timeout=60_000)
        row = chat.model.last_row("assistant")
        answer = chat.model.record(row)
        assert answer.state is MessageState.DONE and answer.citations
        citation = next(c for c in answer.citations if c.path.endswith("penguins.pdf"))
        widget = panel.message_widget(row)
        assert "penguins.pdf" in widget.sources.text()

        click_chip(qtbot, widget.body, citation.n)
        qtbot.waitUntil(
            lambda: (
                viewer.isVisible()
                and viewer._rendered is not None
                and viewer._rendered.page == citation.page
            ),
            timeout=30_000,
        )
        assert viewer.highlighted_rects() and viewer.page_label.text().endswith(str(citation.page))

        # a long answer, stopped with Esc: the partial text stays, the daemon saw the disconnect
        server.set_answer(LONG_ANSWER)
        server.tokens_per_second = 80
        qtbot.keyClicks(panel.input, "What do emperor penguins do in the Antarctic winter?")
        qtbot.keyClick(panel.input, Qt.Key.Key_Return)
        last = lambda: chat.model.record(chat.model.rowCount() - 1)  # noqa: E731
        qtbot.waitUntil(lambda: len(last().text) > 60, timeout=30_000)
        assert panel.stop_button.isVisible()
        qtbot.keyClick(win, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: chat.task.done(), timeout=60_000)
        partial = last()
        assert server.wait_for_disconnect(timeout=30)
        assert partial.state is MessageState.STOPPED and 60 < len(partial.text) < len(LONG_ANSWER)
        conversation_id = chat.conversation_id
        win.close()
        win.services.close()

        # restart on the same QWEN_DESK_HOME: the conversation reopens, the documents are there
        win2 = _open_window(qtbot, server.url)
        qtbot.waitUntil(lambda: win2.chat.conversation_id == conversation_id, timeout=60_000)
        texts = [r.text for r in win2.chat.model.records()]
        assert (
            "What do emperor penguins do in the Antarctic winter?" in texts
            and partial.text in texts
        )
        assert win2.chat.conversations.row_of(conversation_id) >= 0
        qtbot.waitUntil(lambda: win2.knowledge.document_model.rowCount() == 2, timeout=30_000)
        win2.close()
        win2.services.close()
