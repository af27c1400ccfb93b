"""Benchmark: hybrid search latency and vector-index recall at 10k, 100k and 1M chunks (JSON).

Rows are synthetic but shaped like the real thing: clustered, L2-normalised 384-d vectors and
chunk texts stitched from real Chinese news and English Wikipedia sentences of the shared corpus
(a seeded generator when the corpus is absent). The store grows from one size to the next in
batches (bounded memory); at each size the vector index is (re)trained when the store would
have one (>= 50k rows), ``maintain()`` folds in the full-text index, then queries run through
``KnowledgeStore.search``. Recall@10 compares the indexed vector leg with exact (flat) search.

    .venv/bin/python bench/search.py --sizes 10000,100000 --queries 200
    .venv/bin/python bench/search.py --sizes 1000000 --root /tmp/kb1m   # keeps the built store
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qwen_desk.core.store import KnowledgeStore
from qwen_desk.core.store import knowledge as knowledge_mod
from qwen_desk.core.store import search as search_mod
from qwen_desk.core.store.schema import chunks_schema
from qwen_desk.core.text_tokens import search_text
from qwen_desk.core.types import DocumentRecord, make_chunk_id

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
DIM = 384
MODEL_ID = "synthetic-384"
ROWS_PER_DOC = 1000
BATCH_ROWS = 50_000
N_CENTRES = 2000
NOISE_MIN, NOISE_MAX = 0.4, 1.2  # per-dimension noise around a unit-variance topic centre


def sentences(seed: int) -> list[str]:
    """Real sentences (Chinese news, English Wikipedia) or, without the corpus, generated ones."""
    found: list[str] = []
    news = CORPUS / "text" / "crud_rag__zh_news_part_1_part_1.txt"
    if news.is_file():
        text = news.read_text(encoding="utf-8", errors="ignore")
        found += [s.strip() + "。" for s in re.split(r"[。！？\n]", text) if len(s.strip()) > 8]
    hotpot = CORPUS / "qa" / "hotpotqa_sample100" / "hotpotqa_dev_sample100.json"
    if hotpot.is_file():
        for item in json.loads(hotpot.read_text(encoding="utf-8")):
            for _title, sents, *_ in item["distractors"]:
                found += [s.strip() for s in sents if len(s.strip()) > 20]
    if not found:
        rng = random.Random(seed)
        words = ["valve", "audit", "lease", "clause", "patient", "合同", "审计", "患者"]
        found = [" ".join(rng.choice(words) for _ in range(15)) for _ in range(5000)]
    return found


def text_pool(size: int, seed: int) -> tuple[list[str], list[str]]:
    """``size`` chunk texts of 5-9 sentences (about 200 tokens) and their search_text."""
    rng = random.Random(seed)
    pool = sentences(seed)
    texts = [" ".join(rng.choice(pool) for _ in range(rng.randint(5, 9))) for _ in range(size)]
    return texts, [search_text(t) for t in texts]


class Generator:
    """Deterministic clustered vectors and rows, produced batch by batch.

    Each vector is a topic centre plus noise of a per-row strength, so a query has a graded
    neighbourhood (a few close rows, more at growing distance) as real embeddings do; uniform
    random vectors would make recall meaningless.
    """

    def __init__(self, seed: int, pool_size: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.centres = self.rng.standard_normal((N_CENTRES, DIM)).astype(np.float32)
        self.texts, self.search_texts = text_pool(pool_size, seed)

    def vectors(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        rng = rng or self.rng
        centres = self.centres[rng.integers(0, N_CENTRES, n)]
        strength = rng.uniform(NOISE_MIN, NOISE_MAX, (n, 1)).astype(np.float32)
        v = centres + strength * rng.standard_normal((n, DIM)).astype(np.float32)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    def rows(self, start: int, n: int, doc_versions: dict[str, str]) -> Any:
        import pyarrow as pa

        ids = np.arange(start, start + n)
        pick = ids % len(self.texts)
        docs = [f"doc{i // ROWS_PER_DOC:07d}" for i in ids]
        vectors = self.vectors(n)
        columns = {
            "chunk_id": [
                make_chunk_id("default", d, int(i)) for d, i in zip(docs, ids, strict=True)
            ],
            "doc_id": docs,
            "collection": ["default"] * n,
            "ord": (ids % ROWS_PER_DOC).astype(np.int32),
            "page": (ids % ROWS_PER_DOC // 3 + 1).astype(np.int32),
            "char_start": np.zeros(n, dtype=np.int64),
            "char_end": np.full(n, 800, dtype=np.int64),
            "rects": [[]] * n,
            "heading": [""] * n,
            "text": [self.texts[p] for p in pick],
            "search_text": [self.search_texts[p] for p in pick],
            "n_tokens": np.full(n, 200, dtype=np.int32),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIM),
            "embed_model": [MODEL_ID] * n,
            "doc_version": [doc_versions.setdefault(d, f"v-{d}") for d in docs],
        }
        return pa.Table.from_pydict(columns, schema=chunks_schema(DIM))


def grow(store: KnowledgeStore, gen: Generator, target: int) -> float:
    """Append rows up to ``target`` (chunks first, then their READY document rows)."""
    t0 = time.perf_counter()
    have = store.stats()["chunks"]
    while have < target:
        n = min(BATCH_ROWS, target - have)
        versions: dict[str, str] = {}
        store._chunks.add(gen.rows(have, n, versions))
        for doc_id, version in versions.items():
            record = DocumentRecord(
                doc_id=doc_id, collection="default", path=f"/bench/{doc_id}.pdf", title=doc_id,
                kind="pdf", size=1, mtime=0, pages=ROWS_PER_DOC // 3, n_chunks=ROWS_PER_DOC,
                embed_model=MODEL_ID,
            )  # fmt: skip
            store._upsert_document(record, version)
        store._refresh_visible(force=True)
        have += n
        print(f"  {have} rows, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return time.perf_counter() - t0


def percentiles(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 2),
        "max_ms": round(ms[-1], 2),
    }


def make_queries(gen: Generator, n: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """Queries near the stored topics (same centres, their own noise) with a few real words."""
    rng = random.Random(seed)
    vectors = gen.vectors(n, np.random.default_rng(seed + 1000))
    queries = []
    for i in range(n):
        words = gen.search_texts[rng.randrange(len(gen.search_texts))].split()
        start = rng.randrange(max(1, len(words) - 6))
        queries.append((" ".join(words[start : start + rng.randint(2, 6)]), vectors[i]))
    return queries


def measure(
    store: KnowledgeStore,
    queries: list[tuple[str, np.ndarray]],
    modes: tuple[str, ...] = ("hybrid", "vector", "fts"),
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for mode in modes:
        for text, vector in queries[:5]:  # warm caches
            store.search(text, vector, collection="default", mode=mode)
        times = []
        for text, vector in queries:
            t0 = time.perf_counter()
            store.search(text, vector, collection="default", k=10, mode=mode)
            times.append(time.perf_counter() - t0)
        result[mode] = percentiles(times)
    return result


def recall_at_10(store: KnowledgeStore, queries: list[tuple[str, np.ndarray]]) -> float:
    """Overlap of the indexed vector leg's top 10 with exact flat search."""
    where = search_mod.collection_filter("default")
    total = 0.0
    for _text, vector in queries:
        approx = search_mod.vector_leg(store._chunks, vector, where, 10, indexed=True)
        exact = (
            store._chunks.search(vector, vector_column_name="vector")
            .distance_type("cosine")
            .where(where, prefilter=True)
            .bypass_vector_index()
            .select(["chunk_id", "_distance"])
            .limit(10)
            .to_list()
        )
        total += len({r["chunk_id"] for r in approx} & {r["chunk_id"] for r in exact}) / 10
    return round(total / len(queries), 4)


def write_costs(store: KnowledgeStore, gen: Generator) -> dict[str, float]:
    """What one more 50-chunk document costs at this size: the atomic write, then maintain()."""
    from qwen_desk.core.types import Chunk

    n = 50
    record = DocumentRecord(
        doc_id="probe", collection="default", path="/bench/probe.pdf", title="probe", kind="pdf",
        size=1, mtime=0, pages=20, n_chunks=n, embed_model=MODEL_ID,
    )  # fmt: skip
    chunks = [
        Chunk(make_chunk_id("default", "probe", i), "probe", "default", i, 1, 0, 9, gen.texts[i])
        for i in range(n)
    ]
    t0 = time.perf_counter()
    store.replace_document(record, chunks, gen.vectors(n))
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.maintain()
    maintain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.maintain(force=True)
    forced_s = time.perf_counter() - t0
    store.delete_document("default", "probe")
    return {
        "replace_document_50_chunks_ms": round(write_s * 1000, 1),
        "maintain_after_it_s": round(maintain_s, 2),
        "maintain_force_fold_s": round(forced_s, 2),
    }


def query_embedding_latency(n: int) -> dict[str, float]:
    from qwen_desk.core.embedding import Embedder

    embedder = Embedder()
    embedder.load()
    texts = [f"what does clause {i} of the lease say about repairs" for i in range(n)]
    for t in texts[:3]:
        embedder.embed_query(t)
    times = []
    for t in texts:
        t0 = time.perf_counter()
        embedder.embed_query(t)
        times.append(time.perf_counter() - t0)
    return percentiles(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--root", type=Path, help="store folder to keep and reuse")
    parser.add_argument("--nprobes", type=int, default=search_mod.HNSW_NPROBES)
    parser.add_argument("--ef", type=int, default=search_mod.HNSW_EF)
    parser.add_argument("--pool", type=int, default=50_000, help="distinct chunk texts")
    parser.add_argument("--no-embed", action="store_true", help="skip query-embedding timing")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    search_mod.HNSW_NPROBES, search_mod.HNSW_EF = args.nprobes, args.ef

    root = args.root or Path(tempfile.mkdtemp(prefix="qd-bench-search-"))
    store = KnowledgeStore(root, embed_model_id=MODEL_ID, dim=DIM)
    gen = Generator(args.seed, args.pool)
    queries = make_queries(gen, args.queries, args.seed)
    report: dict[str, Any] = {
        "benchmark": "search",
        "dim": DIM,
        "queries": args.queries,
        "nprobes": args.nprobes,
        "ef": args.ef,
        "root": str(root),
        "sizes": {},
    }
    for size in sorted(int(s) for s in args.sizes.split(",")):
        entry: dict[str, Any] = {"load_s": round(grow(store, gen, size), 1)}
        t0 = time.perf_counter()
        has_index = "vector" in store.stats()["indices"]
        if size >= knowledge_mod.VECTOR_INDEX_MIN_ROWS and (
            not has_index or store.stats()["indices"]["vector"]["indexed_rows"] < size
        ):
            store.build_vector_index()
            entry["vector_index_build_s"] = round(time.perf_counter() - t0, 1)
            # Before the (slow) full-text index build, so a cut-short run still reports these.
            entry["vector_only_before_fts"] = {
                "latency": measure(store, queries, ("vector",)),
                "recall_at_10": recall_at_10(store, queries),
            }
            print(json.dumps({str(size): entry}), file=sys.stderr)
        t0 = time.perf_counter()
        store.maintain()
        entry["maintain_s"] = round(time.perf_counter() - t0, 1)
        entry["indices"] = {k: v["type"] for k, v in store.stats()["indices"].items()}
        entry["latency"] = measure(store, queries)
        if "vector" in entry["indices"]:
            entry["recall_at_10"] = recall_at_10(store, queries)
        entry.update(write_costs(store, gen))
        t0 = time.perf_counter()
        store._clean_orphans()
        entry["open_cleanup_scan_s"] = round(time.perf_counter() - t0, 2)
        report["sizes"][str(size)] = entry
        print(json.dumps({str(size): entry}), file=sys.stderr)
    if not args.no_embed:
        report["query_embedding"] = query_embedding_latency(50)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
