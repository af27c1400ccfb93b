"""Core layer: download speed and time left of a model pull, over a sliding window.

The daemon reports per-layer ``completed``/``total``; ``PullRateMeter`` sums them over the layers
seen so far (the whole model's bytes, as Ollama's own CLI shows them) and measures bytes per
second over the last few seconds, so a resumed pull (which starts with bytes already on disk)
counts those bytes as done without reporting an absurd speed.
"""

from __future__ import annotations

import time
from collections import deque

from qwen_desk.core.types import PullProgress


class PullRateMeter:
    """Feed it each progress report; it fills in ``bytes_per_s`` and ``eta_s``."""

    def __init__(self, window_s: float = 3.0, min_span_s: float = 0.1) -> None:
        self.window_s = window_s
        self.min_span_s = min_span_s
        self._completed: dict[str, int] = {}
        self._totals: dict[str, int] = {}
        self._samples: deque[tuple[float, int]] = deque()

    def update(self, progress: PullProgress, now: float | None = None) -> PullProgress:
        """Record ``progress`` (a layer's bytes); set in place the sums over all layers seen
        (``model_completed``/``model_total``) and the speed and time left of the whole model."""
        if not progress.digest or not progress.total:
            # "verifying", "writing manifest", "success": the bytes stay where they were
            progress.model_completed = sum(self._completed.values())
            progress.model_total = sum(self._totals.values())
            return progress
        now = time.monotonic() if now is None else now
        self._totals[progress.digest] = progress.total
        self._completed[progress.digest] = min(progress.completed, progress.total)
        done = sum(self._completed.values())
        total = sum(self._totals.values())
        progress.model_completed, progress.model_total = done, total
        self._samples.append((now, done))
        # Keep one sample older than the window as the anchor of the measurement.
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        span = now - t0
        if span >= self.min_span_s and done > d0:
            rate = (done - d0) / span
            progress.bytes_per_s = rate
            progress.eta_s = max(0.0, (total - done) / rate)
        return progress
