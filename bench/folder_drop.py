"""Benchmark: how late the GUI event loop runs while a folder of 5,000 files is dropped (JSON).

The real ``MainWindow`` on the real ``AppServices`` (LanceDB, the packaged embedding model,
the sandboxed parser) is shown; a folder of ``--files`` small text files (Chinese and English
sentences, a few hundred characters each, in 50 subfolders) is handed to it as a drop does
(``MainWindow.open_paths``). A 10 ms precise ``QTimer`` (``bench/ui_stall.py``'s probe) notes
how late each firing comes. Phase ``queue``: from the drop until every file has its row in the
sidebar (the folder walk, 5,000 queued events through the controller and the models). Phase
``ingest``: the next ``--seconds`` of indexing (or until done with ``--all``), with the status
bar, the progress row and the sidebar updating. Target: max lateness <= 50 ms in both. Beside
lateness (which other processes on the cores also move), the GUI thread's own CPU time per file
(``time.thread_time``) shows whether its work grows with the number of files: compare
``--files 50`` with ``--files 5000``. The
store is opened before the drop (a user with documents); ``--cold`` drops into a fresh install,
where the first LanceDB import in the worker holds the GIL once (see docs/benchmarks.md).
``--trace`` explains the five worst stalls of each phase (``bench/stall_trace.py``: the GUI
thread's CPU in the window, the other threads' and the machine's, the GUI thread's stacks);
``--profile`` lists the GUI thread's top functions by CPU time. Both perturb the timing a little:
take the figures from runs without them.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/folder_drop.py [--files 5000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stall_trace import GuiProfile, StallTracer  # noqa: E402
from bench.ui_stall import LatenessProbe, log  # noqa: E402

SENTENCES = [
    "企业应当按照规定的期限报送财务会计报告。",
    "东北地区的冬季气温通常在零下二十度左右。",
    "大熊猫主要以竹子为食，每天要吃十几公斤。",
    "合同双方应当遵循公平原则确定各方的权利和义务。",
    "The lease may be terminated with sixty days' written notice.",
    "Emperor penguins huddle together to survive the Antarctic winter.",
    "The reactor is inspected every ten years by the safety authority.",
    "Quarterly revenue grew by twelve percent compared with last year.",
]


def make_folder(root: Path, n_files: int, seed: int = 3) -> Path:
    rng = random.Random(seed)
    folder = root / "dropped"
    for i in range(n_files):
        sub = folder / f"part{i % 50:02}"
        sub.mkdir(parents=True, exist_ok=True)
        text = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(4, 12)))
        (sub / f"note{i:05}.txt").write_text(f"Note {i}\n\n{text}\n", encoding="utf-8")
    return folder


async def run(
    n_files: int,
    seconds: float,
    wait_all: bool,
    cold: bool,
    trace: bool = False,
    profile: bool = False,
) -> dict[str, object]:
    from qwen_desk.controllers.services import AppServices
    from qwen_desk.core.settings import Settings
    from qwen_desk.core.types import IngestState
    from qwen_desk.ui.main_window import MainWindow

    folder = make_folder(Path(os.environ["QWEN_DESK_HOME"]), n_files)
    services = AppServices(Settings())
    window = MainWindow(services)
    window.resize(1280, 800)
    window.show()
    services.start_knowledge()
    while not window.knowledge.ready:
        await asyncio.sleep(0.1)
    await asyncio.to_thread(services.knowledge.embedder.load)  # once at start: not measured
    if not cold:  # as for a user with documents: the store (LanceDB's import) is already open
        await asyncio.to_thread(services.knowledge.store.ensure_collection, "default")
    log("window up, knowledge base open, embedder loaded")
    model = window.knowledge.document_model
    finished = {"n": 0}

    def on_event(event: object) -> None:
        if getattr(event, "finished", False):
            finished["n"] += 1

    window.knowledge.sig_event.connect(on_event)
    probe = LatenessProbe()
    tracer = StallTracer() if trace else None
    prof = GuiProfile() if profile else None

    def begin() -> None:
        if tracer is not None:
            tracer.start()
        if prof is not None:
            prof.start()
        probe.start()

    def end(**extra: object) -> dict[str, object]:
        t_probe = probe._t0
        stats = {**probe.stop(), **extra}
        if prof is not None:
            stats["gui_profile"] = prof.stop()
        if tracer is not None:
            tracer.stop()
            stats["stalls"] = tracer.explain(t_probe, stats["worst_at_s"], 10)  # type: ignore[arg-type]
        return stats

    result: dict[str, object] = {"files": n_files, "cold": cold, "cpus": os.cpu_count()}
    result["loadavg_at_start"] = round(os.getloadavg()[0], 2)
    begin()
    t0, cpu0 = time.perf_counter(), time.thread_time()  # this coroutine runs on the GUI thread
    window.open_paths([str(folder)])
    while model.rowCount() < n_files:
        await asyncio.sleep(0.05)
    result["queue"] = end(
        seconds=round(time.perf_counter() - t0, 2),
        gui_cpu_ms_per_file=round((time.thread_time() - cpu0) * 1000 / n_files, 3),
    )
    log(f"{model.rowCount()} rows shown in {result['queue']['seconds']} s")  # type: ignore[index]
    begin()
    t1, cpu1, finished0 = time.perf_counter(), time.thread_time(), finished["n"]
    while (wait_all or time.perf_counter() - t1 < seconds) and finished["n"] < n_files:
        await asyncio.sleep(0.5)
    ready = sum(1 for i in model.items() if i.state is IngestState.READY)
    gui_cpu_ms = (time.thread_time() - cpu1) * 1000
    result["ingest"] = end(
        seconds=round(time.perf_counter() - t1, 1),
        files_finished=finished["n"],
        gui_cpu_ms_per_finished_file=round(gui_cpu_ms / max(1, finished["n"] - finished0), 2),
        files_ready=ready,
        status_bar=window.status.ingest_label.text(),
    )
    result["loadavg_at_end"] = round(os.getloadavg()[0], 2)
    services.ingest.cancel_all()
    window.close()
    services.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60.0, help="of indexing measured")
    parser.add_argument("--all", action="store_true", help="measure until every file is done")
    parser.add_argument(
        "--cold", action="store_true", help="first drop of a fresh install (LanceDB not imported)"
    )
    parser.add_argument(
        "--trace", action="store_true", help="explain the worst stalls (sampler thread)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the GUI thread during each phase"
    )
    args = parser.parse_args()
    os.environ["QWEN_DESK_HOME"] = tempfile.mkdtemp(prefix="qwen-desk-drop-")

    import qasync
    from PySide6.QtWidgets import QApplication

    from qwen_desk.models import pyside_none_fix  # noqa: F401

    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(
            run(args.files, args.seconds, args.all, args.cold, args.trace, args.profile)
        )
    result["targets"] = {"max_ms": 50}
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
