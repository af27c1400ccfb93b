"""Core layer: hybrid retrieval over the chunks table (vector leg, full-text leg, RRF fusion).

Each leg runs as its own LanceDB query with the collection as a prefilter and returns its top N;
fusion is done here (reciprocal rank fusion, k = 60) so every hit keeps the cosine distance of
the vector leg and the BM25 score of the full-text leg. Rows whose document is not READY at the
right version (a write interrupted between the chunks and the document row) are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from qwen_desk.core.store.schema import CHUNK_COLUMNS, sql_str
from qwen_desk.core.text_tokens import cjk_fraction, query_text
from qwen_desk.core.types import Hit

RRF_K = 60
MODES = ("hybrid", "vector", "fts")
# Index search knobs, measured by bench/search.py (recall@10 >= 0.95 against flat search).
HNSW_EF = 64
HNSW_NPROBES = 20


@dataclass(frozen=True)
class Visible:
    """What search needs to know about a READY document."""

    version: str
    path: str
    title: str


# Embedders that only know English: their vectors say little about a Chinese query, so the
# vector leg's RRF weight shrinks with the query's share of CJK characters, down to this floor
# (bench/retrieval_quality.py, CMRC2018 hybrid recall@5: 0.77 with equal weights, 0.99 so).
ENGLISH_ONLY_MODELS = ("all-MiniLM-", "all-mpnet-", "all-distilroberta-", "multi-qa-", "msmarco-")
MIN_VECTOR_WEIGHT = 0.05


def vector_weight(query: str, embed_model_id: str) -> float:
    """RRF weight of the vector leg (the full-text leg weighs 1)."""
    if not embed_model_id.startswith(ENGLISH_ONLY_MODELS):
        return 1.0
    # Mostly-Chinese queries (half their letters or more) get the floor.
    return max(MIN_VECTOR_WEIGHT, 1.0 - 2.0 * cjk_fraction(query))


def leg_size(k: int) -> int:
    return max(k * 4, 40)


def vector_leg(
    table: Any, vector: np.ndarray, where: str, n: int, indexed: bool
) -> list[dict[str, Any]]:
    query_vector = np.asarray(vector, dtype=np.float32)
    columns = [*CHUNK_COLUMNS, "_distance"]
    query = (
        table.search(query_vector, vector_column_name="vector")
        .distance_type("cosine")
        .where(where, prefilter=True)
        .limit(n)
    )
    if not indexed:
        return query.select(columns).to_list()
    # HNSW refuses ef < limit. IVF_HNSW_SQ reports its own (quantised, 2x-scaled) distances, but
    # the relevance threshold downstream is a cosine distance: re-rank the candidates exactly.
    rows = query.nprobes(HNSW_NPROBES).ef(max(HNSW_EF, n)).select([*columns, "vector"]).to_list()
    return exact_cosine_order(rows, query_vector)


def exact_cosine_order(
    rows: list[dict[str, Any]], query_vector: np.ndarray
) -> list[dict[str, Any]]:
    """Set each row's ``_distance`` to its exact cosine distance and sort by it (drops vectors)."""
    if not rows:
        return rows
    vectors = np.asarray([row.pop("vector") for row in rows], dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1) * max(float(np.linalg.norm(query_vector)), 1e-12)
    distances = 1.0 - (vectors @ query_vector) / np.maximum(norms, 1e-12)
    for row, distance in zip(rows, distances, strict=True):
        row["_distance"] = float(distance)
    return sorted(rows, key=lambda row: row["_distance"])


def fts_leg(table: Any, query: str, where: str, n: int) -> list[dict[str, Any]]:
    tokens = query_text(query)
    if not tokens:
        return []
    return (
        table.search(tokens, query_type="fts", fts_columns="search_text")
        .where(where, prefilter=True)
        .select([*CHUNK_COLUMNS, "_score"])
        .limit(n)
        .to_list()
    )


def collection_filter(collection: str) -> str:
    return f"collection = {sql_str(collection)}"


def fuse(
    vector_rows: list[dict[str, Any]],
    fts_rows: list[dict[str, Any]],
    visible: Mapping[tuple[str, str], Visible],
    k: int,
    make_hit: Callable[[dict[str, Any], Visible, float], Hit],
    vector_weight: float = 1.0,
) -> list[Hit]:
    """Weighted reciprocal rank fusion of both legs over visible rows; best first, at most k."""
    scores: dict[str, float] = {}
    rows: dict[str, dict[str, Any]] = {}
    distances: dict[str, float] = {}
    bm25: dict[str, float] = {}
    for leg, extra_key, extra, weight in (
        (vector_rows, "_distance", distances, vector_weight),
        (fts_rows, "_score", bm25, 1.0),
    ):
        rank = 0
        for row in leg:
            doc = visible.get((row["collection"], row["doc_id"]))
            if doc is None or doc.version != row["doc_version"]:
                continue
            rank += 1
            cid = row["chunk_id"]
            scores[cid] = scores.get(cid, 0.0) + weight / (RRF_K + rank)
            rows.setdefault(cid, row)
            extra[cid] = float(row[extra_key])
    best = sorted(scores, key=lambda cid: -scores[cid])[:k]
    hits = []
    for cid in best:
        row = rows[cid]
        hit = make_hit(row, visible[(row["collection"], row["doc_id"])], scores[cid])
        hit.vector_distance = distances.get(cid)
        hit.fts_score = bm25.get(cid)
        hits.append(hit)
    return hits
