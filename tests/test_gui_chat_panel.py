"""The chat pane on its own: Markdown streaming, citation chips, keys, answer states, cost."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from bench.chat_flush import measure, synthetic_tokens
from qwen_desk.core.types import Citation, MessageRecord, MessageState
from qwen_desk.models.chat_model import ChatModel
from qwen_desk.ui.chat_panel import ChatPanel
from qwen_desk.ui.markdown_view import MarkdownView, split_finished

pytestmark = pytest.mark.gui


def _citation(n: int, page: int = 2) -> Citation:
    return Citation(n, f"c{n}", "d1", "/docs/lease.pdf", "lease", page, 10, 40, "sixty days notice")


@pytest.fixture
def panel(qtbot) -> ChatPanel:
    model = ChatModel()
    widget = ChatPanel(model=model)
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    return widget


def test_split_finished_respects_blank_lines_and_fences() -> None:
    assert split_finished("para one\n\npara two") == len("para one\n\n")
    assert split_finished("```\ncode\n\nmore") == 0  # blank line inside an open fence
    text = "```\ncode\n\n```\nafter"
    assert split_finished(text) == len("```\ncode\n\n```\n")
    assert split_finished("no newline yet") == 0


def test_streamed_markdown_matches_a_full_render_and_makes_chips(qtbot) -> None:
    source = "".join(synthetic_tokens(400))
    streamed, full = MarkdownView(), MarkdownView()
    qtbot.addWidget(streamed)
    qtbot.addWidget(full)
    for i in range(0, len(source), 13):
        streamed.append_markdown(source[i : i + 13])
    full.set_markdown(source)

    def lines(view: MarkdownView) -> list[str]:
        return [ln for ln in view.toPlainText().splitlines() if ln.strip()]

    assert lines(streamed) == lines(full)
    text = streamed.toPlainText()
    assert "[1]" not in text.split("```")[0]  # markers became chips outside code
    assert "def penalty" in text
    # a heading survived as a heading, a code block as a code block
    doc = streamed.document()
    block, heading, code = doc.begin(), False, False
    while block.isValid():
        heading |= block.blockFormat().headingLevel() == 2
        code |= block.blockFormat().nonBreakableLines()
        block = block.next()
    assert heading and code


def test_chip_click_emits_the_citation_number(qtbot) -> None:
    view = MarkdownView()
    qtbot.addWidget(view)
    view.resize(500, 200)
    view.show()
    view.set_markdown("Notice is sixty days [2].")
    cursor = view.document().find("2")
    assert cursor.charFormat().anchorHref() == "cite:2"
    cursor.setPosition(cursor.selectionStart() + 0)
    rect = view.cursorRect(cursor)
    with qtbot.waitSignal(view.sig_citation_clicked) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [2]


def test_enter_sends_and_shift_enter_adds_a_line(panel: ChatPanel, qtbot) -> None:
    sent: list[str] = []
    panel.sig_send.connect(sent.append)
    panel.input.setFocus()
    qtbot.keyClicks(panel.input, "first line")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(panel.input, "second")
    assert panel.input.toPlainText() == "first line\nsecond"
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert sent == ["first line\nsecond"] and panel.input.toPlainText() == ""
    with qtbot.waitSignal(panel.sig_stop):
        qtbot.keyClick(panel.input, Qt.Key.Key_Escape)


def test_answer_states_sources_and_footer(panel: ChatPanel, qtbot) -> None:
    model: ChatModel = panel._model
    model.append(MessageRecord(1, 1, "user", "How long is the notice?"))
    row = model.append_streaming(1, "qwen2.5:7b")
    widget = panel.message_widget(row)
    assert widget.placeholder.isVisible()
    model.append_text(row, "Sixty days [1].")
    assert widget.body.isVisible() and not widget.placeholder.isVisible()
    model.update_record(
        row,
        id=2,
        state=MessageState.DONE,
        citations=[_citation(1)],
        stats={"ttft_s": 0.42, "tokens_per_s": 151.2, "model": "qwen2.5:7b"},
        trimmed={"sources_dropped": 2, "history_turns_dropped": 0},
    )
    assert "lease.pdf" in widget.sources.text() and widget.sources.isVisible()
    assert "0.42" in widget.footer.text() and "151" in widget.footer.text()
    assert widget.notice.isVisible() and "2" in widget.notice.text()
    assert widget.regenerate_button.isVisible()
    assert panel.message_widget(0).edit_button.isVisible()
    clicked: list[tuple[int, int]] = []
    panel.sig_citation_clicked.connect(lambda r, n: clicked.append((r, n)))
    widget.sources.linkActivated.emit("src:1")
    assert clicked == [(row, 1)]
    # stopped: marked, with Retry
    model.update_record(row, state=MessageState.STOPPED)
    assert widget.status.isVisible() and widget.retry_button.isVisible()
    with qtbot.waitSignal(panel.sig_retry):
        widget.retry_button.click()
    # not in the documents: its own banner
    model.update_record(row, state=MessageState.DONE, stats={"done_reason": "not_in_documents"})
    assert widget.not_found.isVisible() and not widget.status.isVisible()


def test_edit_last_question_resends_edited_text(panel: ChatPanel, qtbot) -> None:
    resent: list[str] = []
    panel.sig_edit_and_resend.connect(resent.append)
    panel.begin_edit("old question")
    assert panel.edit_banner.isVisible() and panel.input.toPlainText() == "old question"
    panel.input.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(panel.input, " (edited)")
    qtbot.keyClick(panel.input, Qt.Key.Key_Return)
    assert resent == ["old question (edited)"] and not panel.edit_banner.isVisible()


@pytest.mark.slow
def test_flush_cost_does_not_grow_with_answer_length() -> None:
    """Median CPU time per 10-token flush at ~4,000 tokens vs ~200 tokens.

    Relative only, in the GUI thread's CPU time (other processes do not inflate it); the wall
    figures are bench/chat_flush.py's.
    """
    result = measure(4200, clock=time.thread_time)
    assert result["answer_chars"] > 10_000
    assert (
        result["flush_ms_median_at_4000_tokens"] < 3 * result["flush_ms_median_at_200_tokens"] + 1
    )


def test_view_sticks_to_bottom_while_streaming(panel: ChatPanel, qtbot) -> None:
    model: ChatModel = panel._model
    model.append(MessageRecord(1, 1, "user", "Long answer please"))
    row = model.append_streaming(1)
    tokens = synthetic_tokens(1500)
    for i in range(0, len(tokens), 10):  # flushes of 10 tokens, as the throttler makes them
        model.append_text(row, "".join(tokens[i : i + 10]))
    qtbot.waitUntil(lambda: panel.scroll.verticalScrollBar().maximum() > 0)
    bar = panel.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    assert panel.message_widget(row).body.height() > panel.height()
