"""Benchmark: two ``qwen-desk add`` runs on one data folder, at once vs one after the other.

Two sets of 10 generated PDFs (``tests/support/concurrent_add.py``), each set added by its own
CLI process (``python -m qwen_desk add ... --json``), every pair into a fresh ``QWEN_DESK_HOME``:

- ``rounds``: ``sequential_s`` (the first run, then the second; each process loads the model
  itself) and ``concurrent_s`` (both started together, until the later one exits), in
  alternating order; ``ratio`` is ``concurrent_s / sequential_s`` (about 1 or below: the pair
  costs no more than one run after the other; far above: the writers wait for each other);
- ``search_during_pair``: a ``qwen-desk search -`` process, warmed up first, asks a query every
  quarter second while a third pair writes: the latency of each answer (median, max);
- the machine's load average at the end: on shared cores the timings move with it.

    .venv/bin/python bench/concurrent_add.py            # 10 PDFs per run, 2 pages each
    .venv/bin/python bench/concurrent_add.py --files 4 --rounds 1  # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.concurrent_add import REPO, CliRun, make_pdf_set

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


class SearchSession:
    """``qwen-desk search -`` kept running: one query per line in, one JSON list per line out."""

    def __init__(self, home: Path) -> None:
        env = {**os.environ, "QWEN_DESK_HOME": str(home), "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qwen_desk", "search", "-", "-k", "5", "--json"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=REPO,
        )

    def ask(self, query: str) -> tuple[float, int]:
        """Seconds until the answer came, and how many hits it had."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        started = time.monotonic()
        self.proc.stdin.write(query + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the search process ended: " + (self.close() or ""))
        return time.monotonic() - started, len(json.loads(line))

    def close(self) -> str:
        _, err = self.proc.communicate(timeout=GUARD_S)
        return err


def _rounds(root: Path, sets: list[list[Path]], rounds: int) -> list[dict[str, float]]:
    """Sequential and concurrent pairs, in alternating order, each in a fresh folder."""
    results = []
    for n in range(rounds):
        timing: dict[str, float] = {}
        for kind in ("sequential", "concurrent")[:: 1 if n % 2 == 0 else -1]:
            home = root / f"{kind}-{n}"
            started = time.monotonic()
            if kind == "sequential":
                for files in sets:
                    _check(_outcome(_add(home, files)))
            else:
                for outcome in [_outcome(run) for run in [_add(home, f) for f in sets]]:
                    _check(outcome)
            timing[f"{kind}_s"] = round(time.monotonic() - started, 2)
        timing["ratio"] = round(timing["concurrent_s"] / timing["sequential_s"], 3)
        results.append(timing)
    return results


def _check(outcome: dict[str, object]) -> None:
    if outcome["exit"] != 0 or outcome["traceback"]:
        raise SystemExit(f"an add run failed: {outcome}")


def _searches_during_pair(root: Path, sets: list[list[Path]]) -> dict[str, object]:
    """Queries from a warm ``search -`` process while a pair of ``add`` runs writes."""
    home = root / "searched"
    _check(_outcome(_add(home, sets[0][:1])))  # one document in, so the first query finds it
    session = SearchSession(home)
    warm_s, _ = session.ask("glacier report")  # model load and store opening
    pair = [_add(home, files) for files in sets]
    latencies: list[float] = []
    hits: list[int] = []
    while any(run.running for run in pair):
        seconds, n = session.ask("glacier lighthouse report")
        latencies.append(seconds)
        hits.append(n)
        time.sleep(0.25)
    for outcome in [_outcome(run) for run in pair]:
        _check(outcome)
    err = session.close()
    latencies.sort()
    return {
        "first_query_s": round(warm_s, 2),
        "n": len(latencies),
        "median_s": round(statistics.median(latencies), 3) if latencies else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
        "all_had_hits": all(hits),
        "traceback": "Traceback" in err,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10, help="PDFs per run (default 10)")
    parser.add_argument("--pages", type=int, default=2, help="pages per PDF (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qd-concurrent-") as tmp:
        root = Path(tmp)
        sets = [make_pdf_set(root / f"set{n}", n, args.files, args.pages) for n in range(2)]
        rounds = _rounds(root, sets, args.rounds)
        searches = _searches_during_pair(root, sets)
    print(
        json.dumps(
            {
                "files_per_run": args.files,
                "pages_per_file": args.pages,
                "cpus": os.cpu_count(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "rounds": rounds,
                "median_ratio": statistics.median(r["ratio"] for r in rounds),
                "search_during_pair": searches,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
