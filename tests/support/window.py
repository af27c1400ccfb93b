"""Test support: the real main window on real services (default settings, the shared embedder),
with its knowledge base open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def open_window(qtbot: Any, timeout_ms: int = 60_000) -> Any:
    """A shown ``MainWindow`` whose knowledge controller is ready; close it and its
    ``services`` when done."""
    from qwen_desk.controllers.services import AppServices
    from qwen_desk.core.settings import Settings
    from qwen_desk.ui.main_window import MainWindow
    from tests.support.kb import shared_embedder

    services = AppServices(Settings(), embedder=shared_embedder())
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    services.start_knowledge()
    qtbot.waitUntil(lambda: win.knowledge.ready, timeout=timeout_ms)
    return win


@pytest.fixture
def window(qtbot: Any) -> Iterator[Any]:
    """``open_window`` for one test, closed with its services afterwards (import it into the
    test module as a fixture)."""
    win = open_window(qtbot)
    yield win
    win.close()
    win.services.close()
