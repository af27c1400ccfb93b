"""Cyclic garbage is collected on the GUI thread only while the app runs (``GcGuard``).

A QObject in a reference cycle, dropped on a worker thread that then allocates plenty (as the
ingest worker does), is not collected there: it is collected later on the GUI thread, by the
guard's timer. Without the guard the worker's own allocations collect it on the worker (the
test fails). The real app (``qwen_desk.app.run``) installs the guard and gives automatic
collection back when it ends.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, QThread, QTimer
from PySide6.QtWidgets import QApplication

from qwen_desk.controllers.gc_guard import GcGuard

pytestmark = pytest.mark.gui


class Cyclic(QObject):
    """A QObject that refers to itself, with a timer child: only the collector frees it."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self
        self.timer = QTimer(self)


def garbage_from_a_worker(gui_thread: QThread) -> dict[str, object]:
    """On a worker: make a ``Cyclic`` (living on the GUI thread, as the app's QObjects do),
    drop it, then allocate far past the collector's thresholds. Returns what was seen."""
    seen: dict[str, object] = {}

    def work() -> None:
        obj = Cyclic()
        obj.moveToThread(gui_thread)
        weakref.finalize(obj, lambda: seen.setdefault("collected_on", threading.get_ident()))
        del obj
        survivors = [[i] for i in range(100_000)]  # ~140 times gen 0's threshold (700)
        seen["collected_on_the_worker"] = "collected_on" in seen
        del survivors

    worker = threading.Thread(target=work, name="allocating-worker")
    worker.start()
    worker.join()
    seen["worker"] = worker.ident
    return seen


@pytest.fixture
def guard(qapp: QApplication) -> Iterator[GcGuard]:
    was_enabled = gc.isenabled()
    guard = GcGuard()
    guard.start()
    yield guard
    guard.close()
    assert gc.isenabled() == was_enabled


def test_a_cycle_dropped_on_a_worker_is_collected_on_the_gui_thread(qtbot, guard) -> None:
    assert not gc.isenabled()
    seen = garbage_from_a_worker(QApplication.instance().thread())
    assert seen["collected_on_the_worker"] is False
    assert "collected_on" not in seen
    qtbot.waitUntil(lambda: "collected_on" in seen, timeout=60_000)  # the guard's timer
    assert seen["collected_on"] == threading.get_ident()  # the GUI thread
    assert seen["collected_on"] != seen["worker"]
    assert sum(guard.collections) >= 1
    assert guard.collections_elsewhere == 0


def test_without_the_guard_the_worker_collects_it(qtbot) -> None:
    """What the guard prevents (and what the test above would see without it)."""
    assert gc.isenabled()
    seen = garbage_from_a_worker(QApplication.instance().thread())
    assert seen["collected_on_the_worker"] is True
    assert seen["collected_on"] == seen["worker"]


def test_close_collects_once_and_restores_automatic_collection(qapp) -> None:
    guard = GcGuard()
    guard.start()
    freed: list[int] = []
    obj = Cyclic()
    weakref.finalize(obj, lambda: freed.append(threading.get_ident()))
    del obj
    guard.freeze_heap()  # frees young garbage first: nothing pending is frozen for good
    assert freed == [threading.get_ident()]
    later = Cyclic()
    weakref.finalize(later, lambda: freed.append(threading.get_ident()))
    del later
    guard.close()  # the final collection, on this thread
    assert len(freed) == 2 and gc.get_freeze_count() == 0
    assert gc.isenabled()
    gc.disable()  # a collector that was off before start stays off after close
    try:
        other = GcGuard()
        other.start()
        other.close()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_start_refuses_a_worker_thread(qapp) -> None:
    errors: list[BaseException] = []

    def start_here() -> None:
        try:
            GcGuard().start()
        except RuntimeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=start_here)
    worker.start()
    worker.join()
    assert len(errors) == 1 and gc.isenabled()


CHILD = r"""
import gc, json
from PySide6.QtCore import QTimer
from qwen_desk import app
desk = app.build([], single_instance=False)
out = {"after_build": gc.isenabled()}
def running():
    out["while_running"] = gc.isenabled()
    out["guard_active"] = desk.gc_guard.active
    desk.window.close()
QTimer.singleShot(0, running)
app.run(desk)
out["after_run"] = gc.isenabled()
print(json.dumps(out))
"""


def test_the_app_collects_on_the_gui_thread_only_while_it_runs(qwen_desk_home) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QWEN_DESK_HOME=str(qwen_desk_home))
    # the child's stderr goes to pytest's capture: a failure shows its traceback
    out = subprocess.check_output([sys.executable, "-c", CHILD], env=env, text=True, timeout=240)
    assert json.loads(out.splitlines()[-1]) == {
        "after_build": True,  # building the window (and the CLI, which never builds it) keeps it
        "while_running": False,
        "guard_active": True,
        "after_run": True,
    }
