"""Benchmark: how long a garbage collection pauses the GUI thread on the app's real heap.

``GcGuard`` (qwen_desk/controllers/gc_guard.py) runs every collection on the GUI thread, so its
pause is a stall of the window. This builds the heap of a running app: the main window (offscreen)
over real ``AppServices``, with the knowledge base opened (LanceDB, the embedding model loaded,
torch) and one query embedded; then times ``gc.collect(generation)`` for generations 0, 1 and 2,
each several times after allocating a typical burst of young objects (``--burst`` dicts, about
what one ingest batch leaves). Prints JSON: tracked objects, the median and max pause per
generation in ms; then the same full collection after ``gc.freeze()`` (what
``GcGuard.freeze_heap`` does once the model is loaded) with ``--after-freeze`` newer objects.
Targets: generations 0 and 1 well under one 16 ms frame; generation 2 after the freeze (the
guard runs it at most every ``FULL_INTERVAL_S``) under 50 ms.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gc_pause.py [--repeat 5] [--burst 5000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def build_heap() -> object:
    """The window and its services with the knowledge base open (as after start-up)."""
    from PySide6.QtWidgets import QApplication

    from qwen_desk.controllers.services import AppServices
    from qwen_desk.core.settings import Settings
    from qwen_desk.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    services = AppServices(Settings())
    window = MainWindow(services)
    window.show()
    services.start_knowledge()
    deadline = time.monotonic() + 180
    while services.knowledge is None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if services.knowledge is None:
        raise SystemExit("the knowledge base did not open within 180 s")
    services.knowledge.embedder.embed_query("warm up the model")
    services.knowledge.search("warm up the store")
    return (app, services, window)


def time_collect(generation: int, repeat: int, burst: int) -> list[float]:
    pauses = []
    for _ in range(repeat):
        young = [[i] for i in range(burst)]  # tracked survivors: the collector visits each
        started = time.perf_counter()
        gc.collect(generation)
        pauses.append((time.perf_counter() - started) * 1000)
        del young
    return pauses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--after-freeze", type=int, default=50_000)
    args = parser.parse_args()
    os.environ.setdefault("QWEN_DESK_HOME", tempfile.mkdtemp(prefix="qwen-desk-gc-"))
    gc.disable()  # as under GcGuard: only the collections timed here run
    keep = build_heap()
    gc.collect()
    result: dict[str, object] = {
        "tracked_objects": len(gc.get_objects()),
        "burst": args.burst,
        "heavy_modules": [m for m in ("torch", "lancedb") if m in sys.modules],
    }
    for generation in (0, 1, 2):
        pauses = time_collect(generation, args.repeat, args.burst)
        result[f"gen{generation}_median_ms"] = round(statistics.median(pauses), 2)
        result[f"gen{generation}_max_ms"] = round(max(pauses), 2)
    # GcGuard.freeze_heap() once start-up has loaded the model: full collections then visit
    # only what was allocated since (here: the burst plus --after-freeze longer-lived objects)
    gc.freeze()
    later = [[i] for i in range(args.after_freeze)]
    pauses = time_collect(2, args.repeat, args.burst)
    result["after_freeze_objects"] = args.after_freeze
    result["gen2_after_freeze_median_ms"] = round(statistics.median(pauses), 2)
    result["gen2_after_freeze_max_ms"] = round(max(pauses), 2)
    del later
    print(json.dumps(result))
    del keep


if __name__ == "__main__":
    main()
