"""Every citation form core/citations.py reads becomes clickable chips in a real MarkdownView;
only the numbers of the answer's sources do (``set_source_count``, passed by MessageWidget)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from qwen_desk.core.types import Citation, MessageRecord, MessageState
from qwen_desk.ui.markdown_view import CITE_SCHEME, MarkdownView
from qwen_desk.ui.message_widget import MessageWidget
from tests.support.chat_side import click_chip

FORMS = [
    ("See [1].", [1]),
    ("See [1, 2].", [1, 2]),
    ("See 【1】.", [1]),
    ("See ［１］.", [1]),
    ("See [1-3].", [1, 2, 3]),
    ("See [1–3].", [1, 2, 3]),
    ("See [1; 2].", [1, 2]),
    ("See [1；2].", [1, 2]),
    ("See [1，2].", [1, 2]),
    ("See [1、2].", [1, 2]),
    ("See [1,2,3].", [1, 2, 3]),
]


def _chips(view: MarkdownView) -> list[int]:
    doc = view.document()
    out: list[int] = []
    last = None
    for pos in range(doc.characterCount()):
        cursor = QTextCursor(doc)
        cursor.setPosition(pos)
        cursor.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor)
        href = cursor.charFormat().anchorHref()
        if href.startswith(f"{CITE_SCHEME}:") and href != last:
            out.append(int(href.split(":", 1)[1]))
        last = href if href.startswith(f"{CITE_SCHEME}:") else None
    return out


def _shown_view(qtbot) -> MarkdownView:
    view = MarkdownView()
    qtbot.addWidget(view)
    view.resize(500, 200)
    view.show()
    return view


@pytest.mark.parametrize(("text", "numbers"), FORMS)
def test_form_becomes_chips_that_click(qtbot, text: str, numbers: list[int]) -> None:
    view = _shown_view(qtbot)
    view.set_markdown(text)
    assert _chips(view) == numbers
    for n in numbers:  # each chip, clicked where it is drawn, names its own source
        with qtbot.waitSignal(view.sig_citation_clicked) as blocker:
            click_chip(qtbot, view, n)
        assert blocker.args == [n]


def test_numbers_beyond_the_source_count_are_no_chips(qtbot) -> None:
    view = _shown_view(qtbot)
    view.set_source_count(2)
    view.set_markdown("Two sources 【2】, a made-up [7], a range [1-3], a year [2018].")
    assert _chips(view) == [2, 1, 2]
    text = view.toPlainText()
    assert "[7]" in text and "[2018]" in text  # plain text, as written
    # the number left of a mixed marker stays readable, greyed, and says why
    cursor = view.document().find("[3]")
    assert not cursor.isNull() and not cursor.charFormat().isAnchor()
    assert "3" in cursor.charFormat().toolTip()
    clicked: list[int] = []
    view.sig_citation_clicked.connect(clicked.append)
    plain = view.document().find("7")
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(plain).center()
    )
    assert clicked == []
    # more sources (they arrived): the same text is rendered again with chips for them
    view.set_source_count(7)
    assert _chips(view) == [2, 7, 1, 2, 3]
    view.set_source_count(None)
    assert _chips(view) == [2, 7, 1, 2, 3]


def _citation(n: int) -> Citation:
    return Citation(n, f"c{n}", "d1", "/docs/lease.pdf", "lease", n, 0, 10, f"passage {n}")


def test_message_widget_gives_chips_only_to_its_sources(qtbot) -> None:
    answer = MessageRecord(2, 1, "assistant", "Notice 【2】 and [1-2]; also [5] and [9].")
    answer.citations = [_citation(1), _citation(2), _citation(5)]
    widget = MessageWidget(answer)
    qtbot.addWidget(widget)
    assert widget.body.source_count() == 5
    assert _chips(widget.body) == [2, 1, 2, 5]
    assert "[9]" in widget.body.toPlainText()
    # the sources list names the cited sources, found by the same rule
    listed = widget.sources.text()
    assert all(f"src:{n}" in listed for n in (1, 2, 5)) and "src:9" not in listed
    # an answer given without sources: no chips at all; a question never has any
    answer.citations = []
    widget.refresh(answer)
    assert widget.body.source_count() == 0 and _chips(widget.body) == []
    question = MessageWidget(MessageRecord(1, 1, "user", "What does [1] say?"))
    qtbot.addWidget(question)
    assert _chips(question.body) == []


def test_sources_list_while_streaming_then_cited_only(qtbot) -> None:
    answer = MessageRecord(2, 1, "assistant", "", state=MessageState.STREAMING)
    answer.citations = [_citation(1), _citation(2), _citation(3)]  # retrieved, provisional
    widget = MessageWidget(answer)
    qtbot.addWidget(widget)
    widget.append_text(
        MessageRecord(2, 1, "assistant", "Sixty days ［３］", MessageState.STREAMING)
    )
    assert _chips(widget.body) == [3]
    assert all(f"src:{n}" in widget.sources.text() for n in (1, 2, 3))
    stopped = MessageRecord(2, 1, "assistant", "Sixty days ［３］", MessageState.STOPPED)
    stopped.citations = answer.citations
    widget.refresh(stopped)
    assert "src:3" in widget.sources.text() and "src:1" not in widget.sources.text()


def test_code_is_not_cited(qtbot) -> None:
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown("Code: `【1】` and `[3]`\n\n```\n[2]\n```\n")
    assert _chips(view) == []


def test_streamed_partial_marker_is_no_chip_until_closed(qtbot) -> None:
    view = MarkdownView()
    qtbot.addWidget(view)
    view.append_markdown("Notice is sixty days 【")
    view.append_markdown("1")
    assert _chips(view) == []
    view.append_markdown("-2")
    assert _chips(view) == []
    view.append_markdown("】.")
    assert _chips(view) == [1, 2]


def test_click_on_full_width_chip_emits_its_number(qtbot) -> None:
    from PySide6.QtCore import Qt

    view = MarkdownView()
    qtbot.addWidget(view)
    view.resize(500, 200)
    view.show()
    view.set_markdown("通知期为六十天［２］。")
    cursor = view.document().find("2")
    assert cursor.charFormat().anchorHref() == "cite:2"
    rect = view.cursorRect(cursor)
    with qtbot.waitSignal(view.sig_citation_clicked) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [2]
