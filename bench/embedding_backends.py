"""Benchmark: embedding backends torch / ONNX fp32 / ONNX int8 - speed and quality (JSON).

Same texts for every backend: ``--chunks`` chunks of ~``--tokens`` model tokens packed from the
English HotpotQA paragraphs of the shared corpus (real prose). Every backend embeds them through
``Embedder.embed_documents`` (length-sorted batches of ``--batch``), 1 and 2 threads, each thread
count in its own child process with the backends interleaved per round (best round counts).
Quality: max abs difference and lowest cosine against the torch vectors, and recall@5 of the
vector leg on CMRC2018 and HotpotQA (``bench/retrieval_quality.py``'s sets, chunking and store).
The ONNX graphs are exported from the packaged weights into ``--work`` first (needs ``onnx``).

    .venv/bin/python bench/embedding_backends.py [--chunks 2000] [--threads 1,2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from qwen_desk.core import embedding_onnx
from qwen_desk.core.embedding import Embedder

BACKENDS = ("torch", "onnx", "onnx-int8")


def make_embedder(backend: str, threads: int, work: Path) -> Embedder:
    files = {"onnx": work / embedding_onnx.FP32_FILE, "onnx-int8": work / embedding_onnx.INT8_FILE}
    return Embedder(threads=threads, backend=backend, onnx_file=files.get(backend))


def real_chunks(embedder: Embedder, n: int, tokens: int) -> list[str]:
    """Sentences of the HotpotQA paragraphs packed greedily to ~``tokens`` model tokens."""
    import retrieval_quality as rq

    data = json.loads(rq.HOTPOT.read_text(encoding="utf-8"))
    sentences = []
    for item in data:
        sentences += item["para_a"] + item["para_b"]
        for _title, para, *_ in item["distractors"]:
            sentences += para
    chunks: list[str] = []
    current: list[str] = []
    count = 0
    while len(chunks) < n:
        for sentence in sentences:
            size = embedder.count_tokens(sentence)
            if current and count + size > tokens:
                chunks.append(" ".join(current).strip())
                current, count = [], 0
                if len(chunks) == n:
                    break
            current.append(sentence)
            count += size
    return chunks


def speed(threads: int, args: Any) -> dict[str, Any]:
    embedders = {b: make_embedder(b, threads, args.work) for b in BACKENDS}
    texts = real_chunks(embedders["torch"], args.chunks, args.tokens)
    out: dict[str, Any] = {"threads": threads}
    for name, e in embedders.items():
        t0 = time.perf_counter()
        e.load()
        out[f"{name}_load_s"] = round(time.perf_counter() - t0, 2)
        e.embed_documents(texts[:32], batch_size=args.batch)  # warm-up
    best: dict[str, float] = {}
    vectors = {}
    for _ in range(args.rounds):
        for name, e in embedders.items():
            t0 = time.perf_counter()
            vectors[name] = e.embed_documents(texts, batch_size=args.batch)
            rate = len(texts) / (time.perf_counter() - t0)
            best[name] = max(best.get(name, 0.0), rate)
    for name in BACKENDS:
        out[f"{name}_chunks_per_s"] = round(best[name], 1)
        if name != "torch":
            out[f"{name}_speedup"] = round(best[name] / best["torch"], 2)
            diff = vectors[name] - vectors["torch"]
            cos = (vectors[name] * vectors["torch"]).sum(1)
            out[f"{name}_max_abs_diff"] = float(f"{np.abs(diff).max():.3g}")
            out[f"{name}_min_cosine"] = float(f"{cos.min():.6f}")
            out[f"{name}_mean_cosine"] = float(f"{cos.mean():.6f}")
    tokens = [embedders["torch"].count_tokens(t) for t in texts]
    out["chunk_tokens_mean"] = round(float(np.mean(tokens)), 1)
    return out


def quality(threads: int, args: Any) -> dict[str, Any]:
    import retrieval_quality as rq

    out: dict[str, Any] = {}
    loaders = {"cmrc": rq.load_cmrc, "hotpot": rq.load_hotpot}
    for set_name in args.sets.split(","):
        passages, questions = loaders[set_name]()
        torch_embedder = make_embedder("torch", threads, args.work)
        rq.chunk_passages(passages, torch_embedder)
        texts = [
            f"{c.heading}\n{c.text}" if c.heading else c.text for p in passages for c in p.chunks
        ]
        result: dict[str, Any] = {"questions": len(questions), "chunks": len(texts)}
        ref = None
        for name in BACKENDS:
            e = torch_embedder if name == "torch" else make_embedder(name, threads, args.work)
            e.load()
            t0 = time.perf_counter()
            flat = e.embed_documents(texts, batch_size=args.batch)
            rate = len(texts) / (time.perf_counter() - t0)
            qvecs = np.stack([e.embed_query(q.text) for q in questions])
            vectors, i = {}, 0
            for p in passages:
                vectors[p.doc_id] = flat[i : i + len(p.chunks)]
                i += len(p.chunks)
            with tempfile.TemporaryDirectory(prefix="qd-bench-eb-") as tmp:
                store = rq.build_store(Path(tmp), passages, vectors, e.model_id, e.dim)
                found = sum(
                    rq.is_found(
                        q,
                        store.search(q.text, v, collection=rq.COLLECTION, k=args.k, mode="vector"),
                    )
                    for q, v in zip(questions, qvecs, strict=True)
                )
                store.close()
            recall = round(found / len(questions), 4)
            row = {"model_id": e.model_id, f"vector_recall@{args.k}": recall}
            row["chunks_per_s"] = round(rate, 1)
            if ref is None:
                ref = (flat, qvecs)
            else:
                row["max_abs_diff"] = float(f"{np.abs(flat - ref[0]).max():.3g}")
                row["min_cosine"] = float(f"{(flat * ref[0]).sum(1).min():.6f}")
                row["query_min_cosine"] = float(f"{(qvecs * ref[1]).sum(1).min():.6f}")
            result[name] = row
            print(set_name, name, row, file=sys.stderr, flush=True)
        base = result["torch"][f"vector_recall@{args.k}"]
        for name in BACKENDS[1:]:
            result[name]["recall_delta"] = round(result[name][f"vector_recall@{args.k}"] - base, 4)
        out[set_name] = result
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--tokens", type=int, default=230)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sets", default="cmrc,hotpot", help="'' skips the recall part")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qd-bench-onnx")
    parser.add_argument("--child", choices=["speed", "quality"], help=argparse.SUPPRESS)
    parser.add_argument("--child-threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = speed if args.child == "speed" else quality
        print(json.dumps(run(args.child_threads, args)))
        return
    t0 = time.perf_counter()
    fp32 = args.work / embedding_onnx.FP32_FILE
    if not fp32.is_file():
        embedding_onnx.export_onnx(Embedder().path, fp32)
    if not (args.work / embedding_onnx.INT8_FILE).is_file():
        embedding_onnx.quantize_int8(fp32, args.work / embedding_onnx.INT8_FILE)
    report: dict[str, Any] = {
        "benchmark": "embedding_backends",
        "model": Embedder().model_id,
        "batch": args.batch,
        "chunks": args.chunks,
        "onnx_prepare_s": round(time.perf_counter() - t0, 1),
        "onnx_mb": {
            p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(args.work.glob("*.onnx"))
        },
    }

    def child(kind: str, threads: int) -> dict[str, Any]:
        cmd = [sys.executable, __file__, "--child", kind, "--child-threads", str(threads),
               "--chunks", str(args.chunks), "--tokens", str(args.tokens),
               "--batch", str(args.batch),
               "--rounds", str(args.rounds), "--sets", args.sets, "--k", str(args.k),
               "--work", str(args.work)]  # fmt: skip
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    threads = [int(t) for t in args.threads.split(",")]
    report["speed"] = [child("speed", t) for t in threads] if args.chunks else []
    if args.sets:
        report["recall"] = child("quality", max(threads))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
