"""Controllers layer: ``GcGuard``, which collects Python's cyclic garbage on the GUI thread only.

Python's automatic collector runs on whichever thread happens to allocate when a threshold is
crossed: the ingest worker, a thread pool, ``asyncio.to_thread``. A QObject in a reference cycle
freed there is destroyed on the wrong thread: Qt cannot unregister its timers, and the GUI
thread later fires a timer of a dead object (a segfault in ``QTimerInfoList::activateTimers``).

The guard turns automatic collection off (``gc.disable()``) and collects from a QTimer on the GUI
thread instead, by the interpreter's own thresholds (``gc.get_threshold()``, 700/10/10 by
default): every ``TICK_MS`` it reads ``gc.get_count()`` and, when generation 0 is over its
threshold (or has had pending objects for ``YOUNG_MAX_AGE_S``), collects generation 0 or 1
(well under a millisecond); a full collection only when generation 2 is due and
``full_interval_s`` has passed since the last one.

A full collection visits every tracked object: with torch, the model and LanceDB loaded that is
about half a million, close to a second on a busy 2-core machine (``bench/gc_pause.py``). So
once start-up has loaded them, ``freeze_heap()`` moves everything alive into the interpreter's
permanent generation (``gc.freeze()``, no pause): later full collections visit only what came
after. (A cycle among those start-up objects that becomes garbage later is not freed until
``close()``, never on another thread.) ``close()`` stops the timer, unfreezes, collects
everything once (after the event loop has closed) and restores the collector's original state.

Only the desktop app installs it (``app.run``); the CLI and other headless users keep the
automatic collector. An explicit ``gc.collect()`` on a worker thread (by a library) cannot be
prevented: ``collections_elsewhere`` counts those, and the first one is logged.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

log = logging.getLogger(__name__)

TICK_MS = 100  # reading gc.get_count() costs nanoseconds: ticking often keeps generation 0 small
YOUNG_MAX_AGE_S = 1.0  # pending young objects wait at most this long for a collection
FULL_INTERVAL_S = 120.0  # at most one full collection per this many seconds


class GcGuard(QObject):
    """Automatic collection off; collections from a GUI-thread timer instead."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        tick_ms: int = TICK_MS,
        full_interval_s: float = FULL_INTERVAL_S,
    ) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)
        self._full_interval_s = full_interval_s
        self._was_enabled: bool | None = None
        self._gui_thread = 0
        self._last_young = self._last_full = 0.0
        self.collections = [0, 0, 0]
        """How many collections of each generation the guard ran."""
        self.longest_pause_s = 0.0
        """The longest collection the guard ran on the GUI thread."""
        self.frozen = 0
        """Objects left out of collections by ``freeze_heap()``."""
        self.collections_elsewhere = 0
        """Collections that ran on another thread anyway (an explicit ``gc.collect()`` there)."""

    @property
    def active(self) -> bool:
        return self._was_enabled is not None

    def start(self) -> None:
        """Turn automatic collection off and start collecting here (call on the GUI thread)."""
        app = QCoreApplication.instance()
        if app is None or QThread.currentThread() is not app.thread():
            raise RuntimeError("GcGuard.start() must run on the GUI thread")
        if self.active:
            return
        self._gui_thread = threading.get_ident()
        self._was_enabled = gc.isenabled()
        gc.disable()
        gc.callbacks.append(self._on_collection)
        self._last_young = self._last_full = time.monotonic()
        self._timer.start()

    def tick(self) -> int | None:
        """Collect what is due; return the generation collected (``None``: nothing was due)."""
        count, threshold = gc.get_count(), gc.get_threshold()
        if threshold[0] <= 0 or count[0] <= 0:  # set_threshold(0) means "never automatically"
            return None
        now = time.monotonic()
        if count[0] < threshold[0] and now - self._last_young < YOUNG_MAX_AGE_S:
            return None
        generation = 1 if count[1] >= threshold[1] else 0
        if count[2] >= threshold[2] and now - self._last_full >= self._full_interval_s:
            generation = 2
        self.collect(generation)
        return generation

    def freeze_heap(self, *_: object) -> None:
        """Leave everything alive now out of later collections (until ``close()``)."""
        if self.active:
            self.collect(1)  # young garbage first (cheap): it would never be freed once frozen
            gc.freeze()
            self.frozen = gc.get_freeze_count()

    def collect(self, generation: int = 2) -> int:
        """Collect ``generation`` (and the younger ones) now; return the objects freed."""
        started = time.perf_counter()
        freed = gc.collect(generation)
        self.longest_pause_s = max(self.longest_pause_s, time.perf_counter() - started)
        self.collections[generation] += 1
        self._last_young = time.monotonic()
        if generation == 2:
            self._last_full = self._last_young
        return freed

    def stop(self) -> None:
        """Stop the timer only (the process is about to end): automatic collection stays off."""
        self._timer.stop()

    def close(self) -> None:
        """Stop the timer, collect everything once, restore the collector's original state."""
        if not self.active:
            return
        self._timer.stop()
        # Collected while the start-up heap (torch, the model) is still frozen: what the session
        # made is freed here, on this thread, without a pass over the whole heap (~1 s at exit).
        self.collect(2)
        if self.frozen:
            gc.unfreeze()
            self.frozen = 0
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)
        if self._was_enabled:
            gc.enable()
        self._was_enabled = None

    def _on_collection(self, phase: str, _info: dict[str, Any]) -> None:
        if phase != "start" or threading.get_ident() == self._gui_thread:
            return
        self.collections_elsewhere += 1
        if self.collections_elsewhere == 1:
            log.warning(
                "a garbage collection ran on thread %r (an explicit gc.collect())",
                threading.current_thread().name,
            )
