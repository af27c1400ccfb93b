"""Every citation form core/citations.py reads becomes clickable chips in a real MarkdownView."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QTextCursor

from qwen_desk.ui.markdown_view import CITE_SCHEME, MarkdownView

FORMS = [
    ("See [1].", [1]),
    ("See 【1】.", [1]),
    ("See ［１］.", [1]),
    ("See [1-3].", [1, 2, 3]),
    ("See [1–3].", [1, 2, 3]),
    ("See [1; 2].", [1, 2]),
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


@pytest.mark.parametrize(("text", "numbers"), FORMS)
def test_form_becomes_chips(qtbot, text: str, numbers: list[int]) -> None:
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown(text)
    assert _chips(view) == numbers


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
