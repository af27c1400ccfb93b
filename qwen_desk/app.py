"""Composition root: the QApplication, translators, theme, qasync loop, services and window.

The only module that knows qasync. Start-up order matters for the first paint (target: 1 s):
only PySide6, qasync and our light modules are imported before the window is shown; the
knowledge base (LanceDB, sentence-transformers, torch, pymupdf) opens on a background thread
once the window has painted (``MainWindow.sig_first_paint`` -> ``AppServices.start_knowledge``).

``main(argv)`` runs the app; ``--self-test [--report FILE]`` delegates to
``qwen_desk.selftest.run(argv)`` (written for packaged builds); other arguments that are not
flags are files to add to the current collection ("Open with Qwen Desk").
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from qwen_desk.controllers.services import AppServices
    from qwen_desk.ui.main_window import MainWindow

log = logging.getLogger(__name__)

ORGANIZATION = "QwenDesk"
APPLICATION = "Qwen Desk"
DESKTOP_FILE = "io.github.qwendesk.QwenDesk"
HEAVY_MODULES = ("torch", "sentence_transformers", "lancedb", "fitz", "pymupdf")
# flags of the app that take a value (so that the value is not mistaken for a file)
_FLAGS_WITH_VALUE = ("--report",)


@dataclass
class Desk:
    """What ``build`` made: keep it alive while the app runs."""

    app: QApplication
    window: MainWindow
    services: AppServices
    translators: list[Any]
    theme: Any
    instance: Any = None
    gc_guard: Any = None  # the GcGuard while ``run`` runs


def files_in(argv: Sequence[str]) -> list[str]:
    """The arguments that are files to open (not flags, nor the values of flags)."""
    files: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _FLAGS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            files.append(arg)
    return files


def heavy_modules_loaded() -> list[str]:
    """Which of the slow back-end libraries are imported already."""
    return [name for name in HEAVY_MODULES if name in sys.modules]


def build(argv: Sequence[str] = (), single_instance: bool = True) -> Desk | None:
    """Create the application and show the main window (no event loop yet).

    Returns ``None`` when another Qwen Desk already runs on the same data folder: the files of
    ``argv`` were handed to it (it raises its window) and this process has nothing to do.
    """
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from qwen_desk.controllers.services import AppServices
    from qwen_desk.controllers.single_instance import SingleInstance, server_name
    from qwen_desk.core.settings import Settings
    from qwen_desk.models import pyside_none_fix  # noqa: F401  (before any Qt call)
    from qwen_desk.ui.assets import app_icon
    from qwen_desk.ui.i18n import install_translators, resolve_language
    from qwen_desk.ui.main_window import MainWindow
    from qwen_desk.ui.theme import ThemeManager

    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    QGuiApplication.setDesktopFileName(DESKTOP_FILE)
    app.setWindowIcon(app_icon())
    settings = Settings.load()
    files = files_in(argv)
    instance = None
    if single_instance:
        instance = SingleInstance(server_name(settings.resolved_data_dir), app)
        if instance.forward(files):
            return None
        instance.listen()
    translators = install_translators(app, resolve_language(settings.ui_language))
    theme = ThemeManager(app, settings.theme)
    services = AppServices(settings)
    services.sig_settings_changed.connect(lambda new, _changed: theme.apply(new.theme))
    window = MainWindow(services)
    window.sig_first_paint.connect(services.start_knowledge)
    if instance is not None:
        instance.sig_files_received.connect(window.receive_files)
    if files:
        window.open_paths(files)
    window.show()
    return Desk(app, window, services, translators, theme, instance)


def _process_events_until(desk: Desk, done: Any, timeout_s: float) -> None:
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        desk.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if not done():
            time.sleep(0.002)


def wait_first_paint(desk: Desk, timeout_s: float = 3.0) -> None:
    """Process Qt events until the window has painted, before asyncio tasks may start.

    Controllers schedule their first asyncio work (e.g. the Ollama health check, which needs
    the HTTP client) for when the loop runs. Starting the loop after the first paint keeps all
    of that off the path to a visible window; the back-end (the ollama client's imports: a few
    hundred ms) is then created on a worker thread while Qt events keep flowing, so the first
    health check does not import it on the GUI thread.
    """
    _process_events_until(desk, lambda: desk.window.painted, timeout_s)
    desk.services.prepare_backend()
    _process_events_until(desk, lambda: desk.services.backend_ready, 10.0)


def run(desk: Desk, exiting: bool = False) -> int:
    """Run the qasync event loop until the last window closes; then close the services.

    While it runs, Python's cyclic garbage is collected on the GUI thread only (``GcGuard``:
    a QObject in a cycle freed on a worker thread crashes Qt); the CLI keeps automatic collection.
    ``exiting``: the process ends right after (``main``): the closing collection is skipped,
    and automatic collection stays off until then, so no other thread can collect either.
    """
    import qasync

    desk.gc_guard = _guard_garbage_collection(desk)
    _close_on_signals(desk)  # before anything waits: a SIGTERM during start-up closes properly
    wait_first_paint(desk)
    loop = qasync.QEventLoop(desk.app)
    asyncio.set_event_loop(loop)
    # qasync does not install these: without them an abandoned ``async for`` over an HTTP
    # stream is never closed, and Ollama keeps generating after Stop (see FACTS.md).
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    closed = asyncio.Event()
    desk.app.aboutToQuit.connect(closed.set)
    desk.app.lastWindowClosed.connect(closed.set)
    if not desk.window.isVisible():  # closed (e.g. by a signal) while start-up was waiting
        closed.set()
    try:
        with loop:
            loop.run_until_complete(closed.wait())
            loop.run_until_complete(_close_controllers(desk.window))
        if not desk.window.knowledge.wait_stopped(CLOSE_BOUND_S):
            log.warning("store operations still running at exit")
    finally:
        if desk.instance is not None:
            desk.instance.close()
        desk.services.close(quick=exiting)
        if exiting:
            desk.gc_guard.stop()
        else:
            desk.gc_guard.close()  # one full collection here, then automatic collection as before
    return 0


CLOSE_BOUND_S = 1.0  # the longest the controllers may take to stop their tasks at exit


async def _close_controllers(window: MainWindow) -> None:
    """Stop a streaming answer (it saves itself as stopped) and any pull or poll, within a
    bound: a task that does not finish in time is left behind rather than hanging the exit."""
    closing = [asyncio.ensure_future(c.aclose()) for c in (window.chat, window.ollama)]
    done, pending = await asyncio.wait(closing, timeout=CLOSE_BOUND_S)
    for task in pending:
        task.cancel()
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("closing a controller failed", exc_info=task.exception())


def _guard_garbage_collection(desk: Desk) -> Any:
    """Collect on the GUI thread only; leave the start-up heap (torch, the model, LanceDB) out
    of later full collections once it is loaded (they would pause the window for ~1 s)."""
    from qwen_desk.controllers.gc_guard import GcGuard

    guard = GcGuard(desk.app)
    guard.start()
    desk.services.sig_embedder_loaded.connect(guard.freeze_heap)
    desk.services.sig_knowledge_failed.connect(guard.freeze_heap)
    return guard


def _close_on_signals(desk: Desk) -> None:
    """Ctrl+C in a terminal, or a session logout (SIGTERM), closes the window properly: the
    geometry is saved and ingestion stops between batches (it resumes at the next start)."""
    import signal

    from PySide6.QtCore import QTimer

    def request_close(*_: object) -> None:
        QTimer.singleShot(0, desk.window.close)

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), request_close)
    # Python runs signal handlers only between bytecodes: wake it up now and then.
    tick = QTimer(desk.app)
    tick.timeout.connect(lambda: None)
    tick.start(500)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--self-test" in args:
        try:
            from qwen_desk import selftest  # type: ignore[attr-defined]
        except ImportError:
            print("qwen-desk: this build has no self-test", file=sys.stderr)
            return 2
        return int(selftest.run(args) or 0)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    desk = build(args)
    if desk is None:
        print("qwen-desk: already running; the files were handed to it", file=sys.stderr)
        return 0
    code = run(desk, exiting=True)
    exit_now(code)
    return code  # not reached


def exit_now(code: int) -> None:
    """End the process now that every store is closed (``run``): interpreter teardown would
    join an ingestion worker still inside one embedding batch, and unload torch and Qt, for
    nothing but time (about a second). Output is flushed first."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
