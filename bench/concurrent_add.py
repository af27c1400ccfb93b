"""Benchmark: two ``qwen-desk add`` runs on one data folder, at once vs one after the other.

Two sets of 10 generated PDFs (``tests/support/concurrent_add.py``), each set added by its own
CLI process (``python -m qwen_desk add ... --json``) to a fresh ``QWEN_DESK_HOME``:

- ``sequential_s``: the first run, then the second (each process loads the model itself);
- ``concurrent_s``: both started together (nothing else of ours running), until the later one
  exits; ``ratio`` is ``concurrent_s / sequential_s`` (about 1 or below: the pair costs no more
  than one run after the other; far above: the writers wait for each other);
- ``search_during_s``: a third pair, with ``qwen-desk search`` processes started one after
  another while it runs: their wall time (process start and model load included, on cores the
  pair is using) and how many answered;
- every run's exit code and whether any output held a traceback.

    .venv/bin/python bench/concurrent_add.py            # 10 PDFs per run, 2 pages each
    .venv/bin/python bench/concurrent_add.py --files 4  # quicker
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.concurrent_add import CliRun, make_pdf_set

GUARD_S = 3600.0


def _add(home: Path, files: list[Path]) -> CliRun:
    return CliRun(home, "add", *map(str, files), "--json")


def _outcome(run: CliRun) -> dict[str, object]:
    code, out, err = run.finish(GUARD_S)
    statuses = [json.loads(line)["status"] for line in out.splitlines() if line.strip()]
    return {
        "exit": code,
        "seconds": round(run.seconds, 2),
        "indexed": statuses.count("indexed"),
        "traceback": "Traceback" in out + err,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10, help="PDFs per run (default 10)")
    parser.add_argument("--pages", type=int, default=2, help="pages per PDF (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qd-concurrent-") as tmp:
        root = Path(tmp)
        # Four sets: two for the sequential pair, two (other contents) for the concurrent pair;
        # each pair writes a fresh folder, so no file is ever found unchanged.
        sets = [make_pdf_set(root / f"set{n}", n, args.files, args.pages) for n in range(4)]

        seq_home = root / "sequential"
        started = time.monotonic()
        sequential = [_outcome(_add(seq_home, sets[0])), _outcome(_add(seq_home, sets[1]))]
        sequential_s = time.monotonic() - started

        started = time.monotonic()
        pair = [_add(root / "concurrent", sets[2]), _add(root / "concurrent", sets[3])]
        concurrent = [_outcome(run) for run in pair]
        concurrent_s = time.monotonic() - started

        # A third pair (the first two sets again, in a fresh folder) with searches beside it.
        search_home = root / "searched"
        pair = [_add(search_home, sets[0]), _add(search_home, sets[1])]
        while not any(run.first_line.wait(0.2) for run in pair):
            pass  # the first file is in: searches now find something
        searches: list[dict[str, object]] = []
        while any(run.running for run in pair):
            search = CliRun(search_home, "search", "glacier lighthouse report", "-k", "5", "--json")
            code, out, err = search.finish(GUARD_S)
            hits = json.loads(out) if code == 0 and out.strip() else []
            searches.append(
                {
                    "seconds": round(search.seconds, 2),
                    "exit": code,
                    "hits": len(hits),
                    "traceback": "Traceback" in out + err,
                    "during_pair": any(run.running for run in pair),
                }
            )
        searched = [_outcome(run) for run in pair]

    during = [s["seconds"] for s in searches if s["during_pair"]]
    print(
        json.dumps(
            {
                "files_per_run": args.files,
                "pages_per_file": args.pages,
                "sequential_s": round(sequential_s, 2),
                "concurrent_s": round(concurrent_s, 2),
                "ratio": round(concurrent_s / sequential_s, 3),
                "sequential_runs": sequential,
                "concurrent_runs": concurrent,
                "searched_pair_runs": searched,
                "search_during_s": {
                    "n": len(during),
                    "min": min(during, default=None),
                    "max": max(during, default=None),
                    "answered": sum(1 for s in searches if s["exit"] == 0),
                },
                "searches": searches,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
