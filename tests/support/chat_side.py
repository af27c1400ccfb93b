"""Test support for the conversation side: real services on a stand-in daemon, and UI helpers.

``open_services(url)`` builds the app's real ``AppServices`` (settings pointing at the stand-in,
data under the test's ``QWEN_DESK_HOME``) and waits until the real knowledge base is open;
``index_files`` runs real ingestion to the end. ``click_chip`` clicks a citation chip where it is
drawn, like a user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from qwen_desk.core.settings import Settings
from qwen_desk.ui.markdown_view import MarkdownView

KNOWLEDGE_TIMEOUT_MS = 120_000


def make_settings(url: str, **changes: Any) -> Settings:
    return Settings().replace(ollama_host=url, request_timeout_s=30.0, **changes)


def open_services(qtbot: Any, url: str, *, knowledge: bool = True, **changes: Any) -> Any:
    """The real ``AppServices`` on ``url``; with ``knowledge`` the knowledge base is opened."""
    from qwen_desk.controllers.services import AppServices
    from tests.support.kb import shared_embedder

    embedder = shared_embedder() if knowledge else None  # loaded once per test process
    services = AppServices(make_settings(url, **changes), embedder=embedder)
    if knowledge:
        with qtbot.waitSignal(services.sig_knowledge_ready, timeout=KNOWLEDGE_TIMEOUT_MS):
            services.start_knowledge()
    return services


def index_files(services: Any, files: list[Path], collection: str = "default") -> None:
    """Ingest ``files`` with the real ingestion service and wait until they are stored."""
    ingest = services.ingest
    ingest.start()
    ingest.add_paths([str(f) for f in files], collection)
    assert ingest.wait_idle(timeout=120), "ingestion did not finish"


def chip_position(view: MarkdownView, n: int) -> QTextCursor | None:
    """A cursor inside the first chip ``[n]`` of ``view``."""
    block = view.document().begin()
    href = f"cite:{n}"
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.isValid() and fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(view.document())
                cursor.setPosition(fragment.position() + 1)
                return cursor
            it += 1
        block = block.next()
    return None


def click_chip(qtbot: Any, view: MarkdownView, n: int) -> None:
    """Click chip ``[n]`` with the mouse where it is drawn."""
    cursor = chip_position(view, n)
    assert cursor is not None, f"no chip [{n}] in {view.toPlainText()!r}"
    rect = view.cursorRect(cursor)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
