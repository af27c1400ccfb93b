"""Asking in the real window while the knowledge base is empty (real services, the Ollama
stand-in): the answer says there are no documents yet and how to add them (not "not found in
your documents"), without asking the model; "Add files…" opens the window's file picker;
"Ask without documents" replaces that answer with the model's plain answer, marked as not from
the documents (and Regenerate keeps it so); once a file is in, a question is answered from it.

``QWEN_DESK_SCREENSHOT_DIR=folder`` saves the window at each step as PNG (for review).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QFileDialog

from qwen_desk.controllers.services import AppServices
from qwen_desk.core.types import IngestState, MessageState
from qwen_desk.ui.main_window import MainWindow
from tests.support.chat_side import make_settings
from tests.support.kb import shared_embedder
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)
from tests.test_gui_knowledge import wait_state

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.usefixtures("async_loop")]

QUESTION = "How long does the male emperor penguin keep the egg warm?"
tr = QCoreApplication.translate


def _shot(win: MainWindow, name: str) -> None:
    folder = os.environ.get("QWEN_DESK_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        win.grab().save(str(Path(folder) / f"{name}.png"))


def _open_window(qtbot, url: str) -> MainWindow:
    services = AppServices(make_settings(url), embedder=shared_embedder())
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.resize(1280, 820)
    win.show()
    services.start_knowledge()
    qtbot.waitUntil(lambda: win.knowledge.ready, timeout=60_000)
    return win


def _ask(qtbot, win: MainWindow, question: str) -> None:
    panel = win.chat_panel
    panel.input.setFocus()
    qtbot.keyClicks(panel.input, question)
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    _wait_done(qtbot, win)


def _questions_sent(server: OllamaStandIn) -> list[object]:
    """Chat requests that asked something (not the preload: a chat without messages)."""
    return [r for r in server.requests_for("/api/chat") if r.body.get("messages")]


def _wait_done(qtbot, win: MainWindow) -> None:
    chat = win.chat
    qtbot.waitUntil(lambda: chat.task is not None and chat.task.done(), timeout=60_000)
    row = chat.model.last_row("assistant")
    qtbot.waitUntil(lambda: chat.model.record(row).state is MessageState.DONE)


def test_empty_knowledge_base_says_how_to_add_files_or_asks_without_documents(
    qtbot, tmp_path: Path
) -> None:
    notes = tmp_path / "penguins.md"
    notes.write_text(
        "# Emperor penguins\n\nThe male emperor penguin keeps the egg warm on his feet for "
        "about sixty-five days while the female feeds at sea.\n",
        encoding="utf-8",
    )
    with OllamaStandIn(tokens_per_second=400) as server:
        win = _open_window(qtbot, server.url)
        chat, panel = win.chat, win.chat_panel
        qtbot.waitUntil(lambda: win.ollama.state == "connected", timeout=20_000)

        # (1) asked with no documents: the notice, not "not found", and no model call
        _ask(qtbot, win, QUESTION)
        row = chat.model.last_row("assistant")
        widget = panel.message_widget(row)
        notice = widget.no_documents
        assert notice.isVisible() and not widget.not_found.isVisible()
        assert not widget.body.isVisible()  # the notice says it, in the window's language
        assert notice.heading.text() == tr(
            "NoDocumentsNotice", "There are no documents in this knowledge base yet."
        )
        how = notice.text.text()
        assert "drag them onto this window" in how and "Ctrl+O" in how and "Add folder" in how
        assert notice.add_files_button.isVisible() and notice.ask_button.isVisible()
        assert notice.ask_button.text() == "Ask without documents"
        assert _questions_sent(server) == []
        assert chat.model.record(row).stats["done_reason"] == "no_documents"
        _shot(win, "no_documents_answer")

        # (2) "Add files…" opens the window's file picker (the sidebar's, as Ctrl+O does)
        qtbot.mouseClick(notice.add_files_button, Qt.MouseButton.LeftButton)
        dialog = win.knowledge_sidebar.file_dialog
        assert isinstance(dialog, QFileDialog)
        qtbot.waitUntil(dialog.isVisible)
        assert dialog.fileMode() == QFileDialog.FileMode.ExistingFiles
        dialog.reject()  # closing it adds nothing; the notice stays
        assert notice.isVisible()

        # (3) "Ask without documents": the model answers the same question, marked as such
        qtbot.mouseClick(notice.ask_button, Qt.MouseButton.LeftButton)
        _wait_done(qtbot, win)
        records = chat.model.records()
        assert [r.role for r in records] == ["user", "assistant"]  # the pair was replaced
        assert records[0].text == QUESTION
        plain = panel.message_widget(1)
        assert "stand-in's answer to" in records[1].text
        assert plain.body.isVisible() and not plain.no_documents.isVisible()
        assert plain.without_documents.isVisible()
        assert plain.without_documents.text().endswith(
            tr("MessageWidget", "Not from your documents: the model answered without sources.")
        )
        assert records[1].citations == [] and not plain.sources.isVisible()
        (request,) = _questions_sent(server)
        sent = request.body["messages"]
        assert sent[-1] == {"role": "user", "content": QUESTION}  # no sources, no old reply
        assert len(sent) == 2
        # stored: the no-documents pair superseded, hidden when the conversation reopens
        stored = win.services.conversations.messages(chat.conversation_id)
        assert [m.error_code for m in stored if m.role == "assistant"] == ["superseded", ""]
        _shot(win, "no_documents_asked_without")
        # Regenerate keeps it a question without documents (else: "no documents" again)
        qtbot.mouseClick(plain.regenerate_button, Qt.MouseButton.LeftButton)
        _wait_done(qtbot, win)
        again = chat.model.record(chat.model.last_row("assistant"))
        assert "stand-in's answer to" in again.text and again.stats["without_documents"] is True
        assert len(_questions_sent(server)) == 2
        # a stopped answer without documents is retried without them too (not "no documents")
        server.set_answer(" ".join(f"Plain sentence {i}." for i in range(400)))
        server.tokens_per_second = 40
        chat.regenerate()  # (its button was clicked above)
        row = chat.model.last_row("assistant")
        qtbot.waitUntil(lambda: len(chat.model.record(row).text) > 20, timeout=60_000)
        chat.stop()
        qtbot.waitUntil(lambda: chat.model.record(row).state is MessageState.STOPPED)
        assert chat.model.record(row).stats.get("without_documents") is True
        server.set_answer(None)
        server.tokens_per_second = 400
        qtbot.waitUntil(lambda: panel.message_widget(row).retry_button.isVisible())
        qtbot.mouseClick(panel.message_widget(row).retry_button, Qt.MouseButton.LeftButton)
        _wait_done(qtbot, win)
        retried = chat.model.record(chat.model.last_row("assistant"))
        assert "stand-in's answer to" in retried.text and retried.stats["without_documents"]
        assert len(_questions_sent(server)) == 4
        assert all(len(r.body["messages"]) == 2 for r in _questions_sent(server))  # no sources

        # (4) with a document in, the same question is answered from it, with sources
        win.knowledge.add_paths([notes])
        wait_state(qtbot, win, notes, IngestState.READY)
        chat.new_conversation()
        _ask(qtbot, win, QUESTION)
        row = chat.model.last_row("assistant")
        answer = panel.message_widget(row)
        assert not answer.no_documents.isVisible() and not answer.without_documents.isVisible()
        assert chat.model.record(row).citations
        assert chat.model.record(row).citations[0].path == str(notes.resolve())
        win.close()
        win.services.close()
