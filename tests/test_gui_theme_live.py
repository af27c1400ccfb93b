"""A theme switch restyles what is already on screen: messages, chips, the sources list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication

from qwen_desk.controllers.chat_controller import ChatController
from qwen_desk.core.types import Citation, MessageState
from qwen_desk.ui.chat_panel import ChatPanel
from qwen_desk.ui.theme import ThemeManager
from tests.support.chat_side import open_services
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)

pytestmark = pytest.mark.gui


@pytest.fixture
def theme() -> Iterator[ThemeManager]:
    manager = ThemeManager(QApplication.instance(), "light")
    yield manager
    manager.apply("light")


def _saved_conversation(services) -> int:
    store = services.conversations
    conversation = store.create()
    store.add_message(conversation.id, "user", "How long is the notice period?")
    answer = store.add_message(conversation.id, "assistant", "", state=MessageState.STREAMING)
    citation = Citation(1, "c1", "d1", "/docs/lease.pdf", "lease", 2, 0, 40, "sixty days notice")
    store.update_message(
        answer.id,
        text="The notice is **sixty days** [1].\n\nPlenty of text to read here.",
        state=MessageState.DONE,
        citations=[citation],
        model="qwen2.5:7b",
    )
    return conversation.id


def _lightness(color: QColor) -> int:
    return color.lightness()


def _text_lightness(image: QImage, background: QColor) -> float:
    """Mean lightness of the pixels clearly unlike the background (the glyphs)."""
    values = []
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if abs(c.lightness() - background.lightness()) > 90:
                values.append(c.lightness())
    assert values, "no text drawn"
    return sum(values) / len(values)


def _colours(qtbot, panel: ChatPanel, row: int) -> dict[str, float]:
    qtbot.wait(50)  # let the restyle and repaint happen
    widget = panel.message_widget(row)
    image = widget.grab().toImage()
    bubble = image.pixelColor(4, 4)
    body = widget.body.grab().toImage()
    link = widget.palette().color(QPalette.ColorRole.Link).name()
    return {
        "bubble": _lightness(bubble),
        "text": _text_lightness(body, bubble),
        "sources_link": link in widget.sources.text(),
        "chip": _lightness(widget.body._chip.foreground().color()),
        "footer": _lightness(widget.footer.palette().color(QPalette.ColorRole.WindowText)),
    }


@pytest.mark.usefixtures("async_loop")
def test_existing_message_restyles_on_theme_switch(qtbot, theme) -> None:
    with OllamaStandIn() as server:
        services = open_services(qtbot, server.url, knowledge=False)
        try:
            chat = ChatController(services)
            panel = ChatPanel(chat)
            qtbot.addWidget(panel)
            panel.resize(700, 500)
            panel.show()
            with qtbot.waitSignal(chat.sig_conversation_changed, timeout=30_000):
                chat.open_conversation(_saved_conversation(services))  # loaded off-thread
            row = chat.model.last_row("assistant")
            qtbot.waitUntil(lambda: panel.message_widget(row) is not None)

            light = _colours(qtbot, panel, row)
            assert light["bubble"] > 200 and light["text"] < 100 and light["sources_link"]
            theme.apply("dark")
            dark = _colours(qtbot, panel, row)
            assert dark["bubble"] < 80, dark  # a dark bubble...
            assert dark["text"] > 150, dark  # ...with light text
            assert dark["sources_link"] and dark["chip"] > light["chip"]
            assert dark["footer"] > light["footer"]
            user = panel.message_widget(chat.model.last_row("user"))
            assert user.grab().toImage().pixelColor(4, 4).lightness() < 80
            theme.apply("light")
            again = _colours(qtbot, panel, row)
            assert again["bubble"] > 200 and again["text"] < 100 and again["sources_link"]
        finally:
            services.close()
