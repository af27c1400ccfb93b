"""The conversation side end to end on real parts: the stand-in daemon, the real knowledge base
(generated PDF and DOCX, real parsing and embeddings), the real conversation store, real widgets.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from qwen_desk.controllers.chat_controller import ChatController
from qwen_desk.core.types import MessageState
from qwen_desk.ui.chat_panel import ChatPanel
from qwen_desk.ui.conversation_list import ConversationList
from qwen_desk.ui.source_viewer import SourceViewer
from tests.support.chat_side import click_chip, index_files, open_services
from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS, make_docx, make_pdf
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)

pytestmark = [pytest.mark.gui]

LONG_ANSWER = " ".join(f"Sentence {i} of a long answer about penguins [1]." for i in range(400))


@pytest.fixture
def standin():
    with OllamaStandIn(tokens_per_second=300) as server:
        yield server


@pytest.fixture
def documents(tmp_path: Path) -> list[Path]:
    pdf = make_pdf(tmp_path / "nature.pdf", EN_PAGES)
    docx = make_docx(tmp_path / "中国地理.docx", "中国地理", ZH_PARAGRAPHS)
    return [pdf, docx]


def _build(qtbot, services) -> tuple[ChatController, ChatPanel, SourceViewer]:
    chat = ChatController(services)
    panel = ChatPanel(chat)
    viewer = SourceViewer(chat)
    for widget in (panel, viewer):
        qtbot.addWidget(widget)
        widget.resize(800, 700)
        widget.show()
    return chat, panel, viewer


def _wait_answer(qtbot, chat: ChatController, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: chat.task is not None and chat.task.done(), timeout=timeout)


def _yellow_share(viewer: SourceViewer, rect: tuple[float, float, float, float]) -> float:
    """Share of the pixels inside ``rect`` (PDF points) tinted yellow on the shown page."""
    rendered, image = viewer._rendered, viewer._image
    assert rendered is not None and image is not None
    z = rendered.zoom
    x0, y0, x1, y1 = (int(v * z) for v in rect)
    pixels = [
        image.pixelColor(x, y) for x in range(x0 + 2, x1 - 2, 3) for y in range(y0 + 2, y1 - 2, 3)
    ]
    yellow = [c for c in pixels if c.red() > 200 and c.blue() < c.red() - 60]
    return len(yellow) / max(1, len(pixels))


@pytest.mark.slow
@pytest.mark.usefixtures("async_loop")
def test_ask_chip_viewer_stop_and_restart(qtbot, standin, documents) -> None:
    services = open_services(qtbot, standin.url)
    index_files(services, documents)
    chat, panel, viewer = _build(qtbot, services)

    # ask: streamed answer with citation chips and a sources list
    chat.ask("How long does the male emperor penguin keep the egg warm?")
    _wait_answer(qtbot, chat)
    row = chat.model.last_row("assistant")
    record = chat.model.record(row)
    assert record.state is MessageState.DONE and record.citations, record
    assert chat.throttler.flushes >= 1
    widget = panel.message_widget(row)
    pdf_citation = next(c for c in record.citations if c.path.endswith(".pdf"))
    assert "nature.pdf" in widget.sources.text()
    assert "tokens/s" in widget.footer.text()

    # click the chip: the viewer renders that page (in the child process) and highlights it
    click_chip(qtbot, widget.body, pdf_citation.n)
    qtbot.waitUntil(
        lambda: viewer._rendered is not None and viewer._rendered.page == pdf_citation.page,
        timeout=30_000,
    )
    assert viewer.highlighted_rects() == pdf_citation.rects and pdf_citation.rects
    assert _yellow_share(viewer, pdf_citation.rects[0]) > 0.5
    assert _yellow_share(viewer, (300, 800, 580, 830)) == 0  # the bottom margin: not highlighted
    assert viewer.stack.currentWidget() is viewer.page_scroll

    # a DOCX citation: the extracted text with the passage highlighted
    chat.ask("大熊猫每天吃多少竹子？")
    _wait_answer(qtbot, chat)
    record = chat.model.record(chat.model.last_row("assistant"))
    docx_citation = next(c for c in record.citations if c.path.endswith(".docx"))
    chat.open_citation(chat.model.last_row("assistant"), docx_citation.n)
    qtbot.waitUntil(lambda: viewer.stack.currentWidget() is viewer.text_view, timeout=30_000)
    highlighted = viewer.highlighted_text().replace("\u2029", "\n")
    assert highlighted and highlighted.strip() in docx_citation.text.replace("\u2029", "\n")

    # stop mid-answer: the partial text stays, the daemon saw the connection close
    standin.set_answer(LONG_ANSWER)
    standin.tokens_per_second = 60
    chat.ask("Tell me everything about penguins.")
    qtbot.waitUntil(lambda: len(chat.model.record(chat.model.rowCount() - 1).text) > 40)
    chat.stop()
    _wait_answer(qtbot, chat)
    assert standin.wait_for_disconnect(timeout=30)
    stopped = chat.model.record(chat.model.rowCount() - 1)
    assert stopped.state is MessageState.STOPPED and 40 < len(stopped.text) < len(LONG_ANSWER)
    assert panel.message_widget(chat.model.rowCount() - 1).retry_button.isVisible()
    conversation_id = chat.conversation_id
    assert conversation_id

    # restart: new controllers and widgets on the same QWEN_DESK_HOME find it all again
    services.close()
    panel.close()
    services2 = open_services(qtbot, standin.url, knowledge=False)
    chat2 = ChatController(services2)
    conversations = ConversationList(chat2)
    panel2 = ChatPanel(chat2)
    qtbot.addWidget(conversations)
    qtbot.addWidget(panel2)
    qtbot.waitUntil(lambda: chat2.conversation_id == conversation_id)
    texts = [r.text for r in chat2.model.records()]
    assert "Tell me everything about penguins." in texts
    last = chat2.model.record(chat2.model.rowCount() - 1)
    assert last.state is MessageState.STOPPED and last.text == stopped.text
    assert chat2.conversations.row_of(conversation_id) == 0
    services2.close()


@pytest.mark.slow
@pytest.mark.usefixtures("async_loop")
def test_daemon_dying_mid_answer_keeps_partial_then_retry(qtbot, standin, documents) -> None:
    services = open_services(qtbot, standin.url)
    index_files(services, documents[:1])
    chat, panel, _viewer = _build(qtbot, services)
    errors: list[str] = []
    chat.sig_error.connect(lambda code, _detail: errors.append(code))
    standin.set_answer(LONG_ANSWER)
    standin.drop_connection_after(30)
    chat.ask("What do emperor penguins do in winter?")
    _wait_answer(qtbot, chat)
    row = chat.model.rowCount() - 1
    failed = chat.model.record(row)
    assert failed.state is MessageState.FAILED and failed.text, failed
    assert errors == ["stream_interrupted"]
    widget = panel.message_widget(row)
    assert widget.retry_button.isVisible() and widget.status.isVisible()
    stored = services.conversations.message(failed.id)
    assert stored.state is MessageState.FAILED and stored.text == failed.text

    # Retry: the same question again; the failed pair is replaced in view and in history
    standin.set_answer("Emperor penguins breed in winter [1].")
    widget.retry_button.click()
    _wait_answer(qtbot, chat)
    records = chat.model.records()
    assert [r.role for r in records] == ["user", "assistant"]
    assert records[1].state is MessageState.DONE and records[1].citations
    reopened = services.conversations.messages(chat.conversation_id or 0)
    assert any(m.error_code == "superseded" for m in reopened)

    # Edit the last question (Edit button -> input box -> Enter): the pair is replaced
    standin.set_answer("In winter the males huddle together [1].")
    panel.message_widget(0).edit_button.click()
    assert panel.edit_banner.isVisible()
    assert panel.input.toPlainText() == "What do emperor penguins do in winter?"
    panel.input.setPlainText("What do male emperor penguins do in winter?")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    _wait_answer(qtbot, chat)
    records = chat.model.records()
    assert [r.text for r in records] == [
        "What do male emperor penguins do in winter?",
        "In winter the males huddle together [1].",
    ]
    # the store hides superseded pairs when the conversation is opened again
    chat.new_conversation()
    with qtbot.waitSignal(chat.sig_conversation_changed):  # the messages load off-thread
        chat.open_conversation(records[1].conversation_id)
    assert [r.text for r in chat.model.records()] == [r.text for r in records]
    services.close()
