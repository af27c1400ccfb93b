"""Test support for the answer side: put small documents straight into a real ``KnowledgeStore``.

RAG tests and benchmarks need a few known passages with exact offsets, not the whole ingestion
pipeline (tested on its own). ``add_document`` cuts each page's paragraphs into passages, embeds
them with the real embedder and stores them with ``replace_document``; ``add_filler`` adds many
rows with clustered random unit vectors (benchmarks at 10k-100k chunks).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qwen_desk.core.types import PAGE_SEPARATOR, Chunk, DocumentRecord, make_chunk_id


@dataclass
class IndexedDocument:
    record: DocumentRecord
    chunks: list[Chunk]
    text: str


def _passages(page_text: str, max_chars: int) -> list[tuple[int, int]]:
    """(start, end) ranges of paragraph groups of at most ``max_chars`` in ``page_text``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in page_text.split("\n\n"):
        start, end = pos, pos + len(para)
        pos = end + 2
        if not para.strip():
            continue
        if spans and end - spans[-1][0] <= max_chars:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def add_document(
    store: Any,
    embedder: Any,
    collection: str,
    path: str,
    pages: Sequence[str],
    *,
    title: str = "",
    max_chars: int = 400,
    vectors: np.ndarray | None = None,
) -> IndexedDocument:
    """Store ``pages`` as one READY document of ``collection``; return it with its chunks."""
    text = PAGE_SEPARATOR.join(pages)
    doc_id = hashlib.sha256(f"{path}\0{text}".encode()).hexdigest()
    chunks: list[Chunk] = []
    offset = 0
    for page_no, page in enumerate(pages, 1):
        for start, end in _passages(page, max_chars):
            chunks.append(
                Chunk(
                    chunk_id=make_chunk_id(collection, doc_id, len(chunks)),
                    doc_id=doc_id,
                    collection=collection,
                    ord=len(chunks),
                    page=page_no,
                    char_start=offset + start,
                    char_end=offset + end,
                    text=page[start:end],
                    rects=[(56.0, 56.0 + 12 * len(chunks), 540.0, 68.0 + 12 * len(chunks))],
                )
            )
        offset += len(page) + len(PAGE_SEPARATOR)
    if vectors is None:
        vectors = embedder.embed_documents([c.text for c in chunks])
    record = DocumentRecord(
        doc_id=doc_id,
        collection=collection,
        path=path,
        title=title or path.rsplit("/", 1)[-1],
        kind=path.rsplit(".", 1)[-1],
        size=len(text.encode()),
        mtime=time.time(),
        pages=len(pages),
        n_chunks=len(chunks),
        embed_model=store.embed_model_id,
    )
    store.ensure_collection(collection)
    store.replace_document(record, chunks, vectors)
    return IndexedDocument(record, chunks, text)


def clustered_unit_vectors(
    n: int,
    dim: int,
    *,
    clusters: int = 256,
    seed: int = 0,
    centres: np.ndarray | None = None,
    spread: float = 0.6,
) -> np.ndarray:
    """``n`` L2-normalised float32 vectors around ``centres`` (default: random ones).

    Give real embeddings as ``centres`` (and a small ``spread``) to keep the filler in the
    region of the space real text occupies: random centres make real vectors outliers, which
    an ANN index then fails to find (not what happens in a real knowledge base).
    """
    rng = np.random.default_rng(seed)
    if centres is None:
        centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    labels = rng.integers(0, len(centres), n)
    noise = rng.standard_normal((n, dim)).astype(np.float32)
    vectors = centres[labels] + spread * noise / np.sqrt(dim)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


FILLER_TEXT = (
    "invoice ledger audit clause tenant statute dosage protocol turbine valve pressure sample "
    "budget forecast revenue margin warranty inspection safety report contract license patient "
    "clinical engine bearing quarter archive river mountain 合同 审计 发票 租户 条款 剂量 协议 "
    "涡轮 阀门 压力 预算 收入 保修 检查 安全 报告"
)


def add_filler(
    store: Any,
    collection: str,
    n_chunks: int,
    *,
    per_document: int = 1000,
    seed: int = 0,
    embedder: Any = None,
) -> int:
    """Add ``n_chunks`` rows of word-salad text with clustered vectors; returns rows.

    With ``embedder``, the clusters are centred on real embeddings of 256 filler texts (a few
    seconds), so the vectors look like real ones to an ANN index; without, on random points.
    """
    rng = np.random.default_rng(seed)
    words = np.array(FILLER_TEXT.split())
    centres = None
    if embedder is not None:
        centres = embedder.embed_documents([" ".join(rng.choice(words, 40)) for _ in range(256)])
    vectors = clustered_unit_vectors(
        n_chunks, store.dim, seed=seed, centres=centres, spread=0.6 if centres is None else 1.0
    )
    written = 0
    doc_no = 0
    while written < n_chunks:
        count = min(per_document, n_chunks - written)
        texts = [" ".join(rng.choice(words, 40)) for _ in range(count)]
        add_document(
            store,
            None,
            collection,
            f"/filler/doc-{seed}-{doc_no:05}.txt",
            ["\n\n".join(texts)],
            max_chars=1,  # one chunk per paragraph
            vectors=vectors[written : written + count],
        )
        written += count
        doc_no += 1
    return written
