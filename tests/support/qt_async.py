"""Test support: a qasync event loop that runs inside pytest-qt, plus helpers to await in tests.

pytest-qt owns the ``QApplication`` and spins Qt's event loop only inside ``qtbot.wait*``. A
``qasync.QEventLoop(app, already_running=True)`` marks itself as the thread's *running* asyncio
loop at once, and its callbacks, timers and socket notifiers are plain Qt events, so every
``qtbot.waitUntil``/``waitSignal`` also advances asyncio: tasks created by controllers
(``asyncio.get_running_loop().create_task``) run exactly as in the app. The fixture installs the
loop's asyncgen hooks (qasync does not; see FACTS.md): without them ``task.cancel()`` of a
streaming request would leave the HTTP connection open.

Use::

    from tests.support.qt_async import async_loop, run_coro  # noqa: F401  (fixture import)

    def test_x(qtbot, async_loop):
        result = run_coro(qtbot, some_coroutine())
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from qwen_desk.models import pyside_none_fix  # noqa: F401  (PySide6 6.12 leaks None refs)

T = TypeVar("T")


def _spin(app: QApplication, done: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)


@pytest.fixture
def async_loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A running qasync loop for one test; leftover tasks are cancelled and awaited after it."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    old_hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
        finalizer=loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
    )
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        _spin(qapp, lambda: all(t.done() for t in pending), 5.0)
        closing = loop.create_task(loop.shutdown_asyncgens())
        _spin(qapp, closing.done, 5.0)
        sys.set_asyncgen_hooks(*old_hooks)
        asyncio.events._set_running_loop(None)
        loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        loop.close()
        asyncio.set_event_loop(None)


def run_coro(qtbot: Any, coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
    """Run ``coro`` as a task on the running qasync loop, spinning Qt until it is done."""
    task = asyncio.get_running_loop().create_task(coro)
    qtbot.waitUntil(task.done, timeout=int(timeout_s * 1000))
    return task.result()
