"""Bench helper: what the GUI thread (and the rest of the process) did during its worst stalls.

``StallTracer`` runs a sampler thread (every ``interval_s``) that notes, with a timestamp, the CPU
clock of every Python thread of the process (``time.pthread_getcpuclockid``), the machine's busy
CPU time (``/proc/stat``) and the GUI thread's Python stack (``sys._current_frames``). Given the
late firings of a ``LatenessProbe``, ``explain`` attributes each stall window: how much of it the
GUI thread ran (its own work), how much CPU the other threads of this process used (the GIL is
held by one of them while the GUI thread waits), how busy the whole machine was (other
processes), and the GUI thread's most frequent stacks in that window. Sampling perturbs what it
measures a little (the sampler takes the GIL every interval): trace runs explain stalls, untraced
runs give the figures.

``GuiProfile`` runs ``cProfile`` on the GUI thread only (``sys.setprofile`` is per thread), timed
by the thread's CPU clock (so time lost to other processes is not charged to a function), for
the top functions by own time during a phase.
"""

from __future__ import annotations

import collections
import cProfile
import io
import os
import pstats
import sys
import threading
import time
from dataclasses import dataclass, field


def _machine_busy_s() -> float:
    """Non-idle CPU seconds of the whole machine so far (all cores, /proc/stat)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return 0.0
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _stack(frame: object, depth: int = 4) -> str:
    """The innermost ``depth`` frames as ``module.function`` (innermost last)."""
    names: list[str] = []
    f = frame
    while f is not None and len(names) < 40:
        code = f.f_code  # type: ignore[attr-defined]
        module = os.path.splitext(os.path.basename(code.co_filename))[0]
        names.append(f"{module}.{code.co_name}")
        f = f.f_back  # type: ignore[attr-defined]
    ours = [n for n in names if not n.startswith(("threading.", "base_events.", "events."))]
    return " < ".join((ours or names)[:depth])


@dataclass
class _Sample:
    t: float
    cpu: dict[str, float]  # thread name -> CPU seconds so far
    machine: float
    process: float  # CPU seconds of this whole process (native threads included)
    stack: str


@dataclass
class StallTracer:
    interval_s: float = 0.002
    samples: list[_Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._gui = threading.get_ident()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clocks: dict[int, tuple[str, int]] = {}

    def start(self) -> None:
        self.samples = []
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stall-tracer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _cpu(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for th in threading.enumerate():
            if th.ident is None or th.ident == threading.get_ident():
                continue
            entry = self._clocks.get(th.ident)
            if entry is None:
                try:
                    entry = (th.name, time.pthread_getcpuclockid(th.ident))
                except OSError:
                    continue
                self._clocks[th.ident] = entry
            name = "GUI" if th.ident == self._gui else entry[0]
            try:
                out[name] = out.get(name, 0.0) + time.clock_gettime(entry[1])
            except OSError:
                pass
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.perf_counter()
            frame = sys._current_frames().get(self._gui)
            stack = _stack(frame) if frame is not None else "?"
            cpu = self._cpu()
            self.samples.append(_Sample(t, cpu, _machine_busy_s(), time.process_time(), stack))
            del frame
            time.sleep(self.interval_s)

    def _at(self, t: float) -> _Sample | None:
        """The last sample at or before ``t`` (bisect)."""
        lo, hi = 0, len(self.samples)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.samples[mid].t <= t:
                lo = mid + 1
            else:
                hi = mid
        return self.samples[lo - 1] if lo else None

    def explain(self, t0: float, worst: list[list[float]], interval_ms: float) -> list[dict]:
        """For each ``[at_s, late_ms]`` (``at_s`` from ``t0``): what happened in the window."""
        out = []
        for at_s, late_ms in worst:
            end = t0 + at_s
            start = end - (late_ms + interval_ms) / 1000
            a, b = self._at(start), self._at(end)
            if a is None or b is None or a is b:
                out.append({"at_s": at_s, "late_ms": late_ms, "note": "no samples"})
                continue
            span = b.t - a.t
            threads = {
                name: round((b.cpu.get(name, 0.0) - a.cpu.get(name, 0.0)) * 1000, 1)
                for name in b.cpu
            }
            gui = threads.pop("GUI", 0.0)
            stacks = collections.Counter(
                s.stack for s in self.samples if a.t <= s.t <= b.t and s.stack
            )
            gaps = [y.t - x.t for x, y in zip(self.samples, self.samples[1:], strict=False)]
            in_window = [
                g for g, s in zip(gaps, self.samples[1:], strict=False) if a.t < s.t <= b.t
            ]
            out.append(
                {
                    "at_s": at_s,
                    "late_ms": late_ms,
                    "window_ms": round(span * 1000, 1),
                    "gui_cpu_ms": gui,
                    "other_threads_cpu_ms": {k: v for k, v in threads.items() if v >= 1.0},
                    "process_cpu_ms": round((b.process - a.process) * 1000, 1),
                    "machine_busy_ms": round((b.machine - a.machine) * 1000, 1),
                    "sampler_max_gap_ms": round(max(in_window, default=0.0) * 1000, 1),
                    "gui_stacks": stacks.most_common(4),
                }
            )
        return out


class GuiProfile:
    """cProfile of the calling (GUI) thread only, between ``start`` and ``stop``."""

    def __init__(self) -> None:
        self._profile = cProfile.Profile(time.thread_time)

    def start(self) -> None:
        self._profile = cProfile.Profile(time.thread_time)  # a fresh one per phase
        self._profile.enable()

    def stop(self, top: int = 15) -> list[str]:
        self._profile.disable()
        buf = io.StringIO()
        stats = pstats.Stats(self._profile, stream=buf)
        stats.sort_stats("tottime").print_stats(top)
        lines = [ln.rstrip() for ln in buf.getvalue().splitlines() if ln.strip()]
        return [ln for ln in lines if "(" in ln or "tottime" in ln or "calls" in ln][: top + 2]
