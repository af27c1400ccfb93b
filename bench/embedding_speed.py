"""Benchmark: embedding throughput (chunks/s) per batch size and torch threads (JSON).

Chunks are ~220 model tokens of varied English prose (the chunker's target size), so the figure
is what ingestion gets per chunk. Also times a short query alone and while another thread embeds
documents (the query must not wait behind a batch). Threads are a process-wide torch setting, so
each thread count runs in its own child process.

    .venv/bin/python bench/embedding_speed.py [--threads 1,2] [--batches 16,32,64] [--chunks 96]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qwen_desk.core.embedding import Embedder
from qwen_desk.core.errors import Cancelled

PROSE = (
    "the contract states that either party may terminate the agreement with thirty days written "
    "notice and the supplier shall deliver the equipment inspected and certified by an "
    "independent laboratory while the patient received a daily dosage adjusted to renal "
    "function revenue grew in the third quarter because margins improved across regions"
)
WORDS = PROSE.split()


def chunk_texts(embedder: Embedder, n: int, tokens: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        words: list[str] = []
        while embedder.count_tokens(" ".join(words)) < tokens:
            words += rng.sample(WORDS, 8)
        texts.append(" ".join(words))
    return texts


def run_one(threads: int, batches: list[int], n: int, tokens: int) -> dict[str, Any]:
    embedder = Embedder(threads=threads)
    t0 = time.perf_counter()
    embedder.load()
    result: dict[str, Any] = {"threads": threads, "load_s": round(time.perf_counter() - t0, 1)}
    texts = chunk_texts(embedder, n, tokens)
    embedder.embed_documents(texts[:8], batch_size=8)  # warm-up
    for batch in batches:
        t0 = time.perf_counter()
        embedder.embed_documents(texts, batch_size=batch)
        result[f"batch_{batch}_chunks_per_s"] = round(n / (time.perf_counter() - t0), 1)
    queries = [f"what does section {i} say about termination notice" for i in range(20)]
    alone = []
    for q in queries:
        t0 = time.perf_counter()
        embedder.embed_query(q)
        alone.append(time.perf_counter() - t0)
    busy: list[float] = []
    stop = threading.Event()

    def ingest() -> None:
        try:
            embedder.embed_documents(texts * 4, batch_size=32, should_cancel=stop.is_set)
        except Cancelled:
            pass

    worker = threading.Thread(target=ingest)
    worker.start()
    time.sleep(0.5)
    for q in queries[:10]:
        t0 = time.perf_counter()
        embedder.embed_query(q)
        busy.append(time.perf_counter() - t0)
    stop.set()
    worker.join()
    result["query_ms_p50"] = round(statistics.median(alone) * 1000, 1)
    result["query_ms_while_ingesting_max"] = round(max(busy) * 1000, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="16,32,64")
    parser.add_argument("--chunks", type=int, default=96)
    parser.add_argument("--tokens", type=int, default=220)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    if args.child:
        print(json.dumps(run_one(args.child, batches, args.chunks, args.tokens)))
        return
    runs = []
    for threads in (int(t) for t in args.threads.split(",")):
        cmd = [sys.executable, __file__, "--child", str(threads), "--batches", args.batches,
               "--chunks", str(args.chunks), "--tokens", str(args.tokens)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    report = {"benchmark": "embedding_speed", "chunk_tokens": args.tokens, "runs": runs}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
