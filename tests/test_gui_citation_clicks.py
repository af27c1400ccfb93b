"""Chinese citation forms end to end: the stand-in model answers with ``【2】`` and ``[1-2]``;
in the real chat panel every chip of them, clicked with the mouse, opens the source viewer on
the cited document and page (real PDF, real ingestion and embeddings, the real viewer)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from qwen_desk.controllers.chat_controller import ChatController
from qwen_desk.core.types import Citation, MessageState
from qwen_desk.ui.chat_panel import ChatPanel
from qwen_desk.ui.markdown_view import MarkdownView
from qwen_desk.ui.source_viewer import SourceViewer
from tests.support.chat_side import index_files, open_services
from tests.support.kb import PENGUIN_PAGES, make_pdf
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.usefixtures("async_loop")]

ANSWER = "雄企鹅用脚孵蛋约两个月【2】，雌企鹅回来喂养幼鸟[1-2]。"


def _chips(view: MarkdownView) -> list[tuple[int, QTextCursor]]:
    """``(n, cursor inside it)`` for every chip of ``view``, in reading order."""
    out: list[tuple[int, QTextCursor]] = []
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            href = fragment.charFormat().anchorHref() if fragment.isValid() else ""
            if href.startswith("cite:"):
                cursor = QTextCursor(view.document())
                cursor.setPosition(fragment.position() + 1)
                out.append((int(href[5:]), cursor))
            it += 1
        block = block.next()
    return out


def test_full_width_and_range_chips_open_the_cited_pages(qtbot, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "penguins.pdf", PENGUIN_PAGES)
    with OllamaStandIn(tokens_per_second=400) as standin:
        services = open_services(qtbot, standin.url)
        index_files(services, [pdf])
        chat = ChatController(services)
        panel, viewer = ChatPanel(chat), SourceViewer(chat)
        for widget in (panel, viewer):
            qtbot.addWidget(widget)
            widget.resize(800, 700)
            widget.show()
        standin.set_answer(ANSWER)
        chat.ask("How do emperor penguins raise their chicks?")
        qtbot.waitUntil(lambda: chat.task is not None and chat.task.done(), timeout=60_000)

        row = chat.model.last_row("assistant")
        record = chat.model.record(row)
        assert record.state is MessageState.DONE and record.text == ANSWER, record
        cited: dict[int, Citation] = {c.n: c for c in record.citations}
        assert sorted(cited) == [1, 2], record.citations
        assert cited[1].page != cited[2].page  # two pages: each click must move the viewer
        widget = panel.message_widget(row)
        body = widget.body
        qtbot.waitUntil(lambda: [n for n, _ in _chips(body)] == [2, 1, 2])
        listed = widget.sources.text()
        assert "src:1" in listed and "src:2" in listed and "src:3" not in listed

        for n, cursor in _chips(body):  # 【2】, then the 1 and the 2 of [1-2]
            target = cited[n]
            qtbot.mouseClick(
                body.viewport(), Qt.MouseButton.LeftButton, pos=body.cursorRect(cursor).center()
            )
            qtbot.waitUntil(
                lambda t=target: (
                    viewer._rendered is not None
                    and viewer._rendered.path == t.path == str(pdf)
                    and viewer._rendered.page == t.page
                ),
                timeout=30_000,
            )
            assert viewer.page_label.text().endswith(str(target.page))
            assert viewer.highlighted_rects() == target.rects and target.rects
        services.close()
