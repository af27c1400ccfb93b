"""Controllers layer: run slow work off the GUI thread and get the result back on it.

The thread rule, in one place (as Anki's ``aqt.operations`` does): a function handed to
``BackgroundRunner.submit`` runs on a worker thread and must not touch any QObject; its result
(or exception) is delivered to ``on_done`` (or ``on_error``) on the GUI thread, through a Qt
signal of a relay object that lives on the GUI thread (a queued connection). No asyncio is
needed, so the same code works under qasync and under pytest-qt's plain Qt event loop.

One runner owns one thread pool; a runner with ``max_workers=1`` serialises its jobs, which the
knowledge controller uses to keep its store operations in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

DoneCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class _Relay(QObject):
    """Lives on the GUI thread; its signal, emitted from a worker, is queued to the GUI thread."""

    sig_finished = Signal(object, object, object, object)
    """(on_done, on_error, result, exception): emitted by a worker thread when a job ends."""


class BackgroundRunner(QObject):
    """A thread pool whose job results come back to the GUI thread."""

    def __init__(self, name: str, max_workers: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._relay = _Relay(self)
        self._relay.sig_finished.connect(self._deliver)
        self._closed = False
        self._last: Future[Any] | None = None  # with one worker: done means all are done

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> Future[Any]:
        """Run ``fn(*args)`` on a worker thread; call ``on_done``/``on_error`` on the GUI thread.

        After ``shutdown`` nothing runs: the returned future is already cancelled (late events,
        e.g. an ingestion event queued before the window closed, may still ask for work).
        """
        if self._closed:
            future: Future[Any] = Future()
            future.cancel()
            return future
        relay = self._relay

        def job() -> Any:
            try:
                result = fn(*args)
            except BaseException as exc:
                if not self._closed:
                    relay.sig_finished.emit(on_done, on_error, None, exc)
                raise
            if not self._closed:
                relay.sig_finished.emit(on_done, on_error, result, None)
            return result

        future = self._last = self._pool.submit(job)
        return future

    def _deliver(
        self,
        on_done: DoneCallback | None,
        on_error: ErrorCallback | None,
        result: Any,
        exc: BaseException | None,
    ) -> None:
        if exc is None:
            if on_done is not None:
                on_done(result)
            return
        if on_error is not None:
            on_error(exc)
        else:
            log.error("background job failed", exc_info=exc)

    def shutdown(self, wait: bool = True, cancel_pending: bool = True) -> None:
        """Stop delivering results and let the running job finish (``wait``) or not; jobs not
        started yet are dropped unless ``cancel_pending`` is False (then they still run)."""
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=cancel_pending)

    def join(self, timeout: float) -> bool:
        """Wait at most ``timeout`` s for the submitted jobs (one worker); True when all ended."""
        last = self._last
        if last is None:
            return True
        done, _ = wait([last], timeout=timeout)
        return bool(done)
