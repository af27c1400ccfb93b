"""Shared fixtures: every test gets its own ``QWEN_DESK_HOME``; corpus paths skip when absent."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def qwen_desk_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Relocate all user data into a fresh folder for each test (as simonw/llm does)."""
    home = tmp_path_factory.mktemp("qwen_desk_home")
    monkeypatch.setenv("QWEN_DESK_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus``; tests that need it skip with a reason on a fresh clone."""
    if not CORPUS.is_dir():
        pytest.skip(f"real-world corpus not present at {CORPUS} (only in the developers' checkout)")
    return CORPUS


@pytest.fixture(autouse=True, scope="module")
def close_leftover_windows() -> Iterator[None]:
    """After each test module, close and delete every top-level widget it left behind.

    A window's close event shuts its services down (ingestion thread, parser child, timers), so
    nothing of one module's GUI keeps running, or receives events, while the next module runs.
    """
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """GUI modules run last, after the headless ones (a leftover Qt object can then only meet
    other GUI tests, and the headless tests never run inside an event loop full of windows)."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_gui_"))


@pytest.fixture(autouse=True)
def collect_garbage_on_the_main_thread() -> Iterator[None]:
    """Free each test's cyclic garbage here, on the main thread.

    A QObject in a reference cycle (a closed qasync loop's timer object, a controller) is
    otherwise destroyed whenever the collector happens to run, possibly on a worker thread: Qt
    then cannot unregister its timers, and the main thread later fires a timer of a dead object
    (seen as a segfault in QTimerInfoList::activateTimers under gdb).
    """
    yield
    import gc

    gc.collect()
