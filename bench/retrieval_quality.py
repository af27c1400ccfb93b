"""Benchmark: recall@5 of the passage holding the answer, vector vs full-text vs hybrid (JSON).

Two QA sets of the shared corpus: CMRC2018 (502 Chinese questions; every article paragraph is a
document) and a HotpotQA sample (100 English questions; gold and distractor paragraphs of all
questions pooled, one document each). Documents go through the app's chunking
(``qwen_desk.core.chunking.chunk_document``) when it exists, else one chunk per paragraph; the
real ``Embedder`` and ``KnowledgeStore`` do the rest. A question counts as found when one of the
top 5 hits is a chunk of the gold paragraph that contains the answer (CMRC) or a chunk of either
gold paragraph (HotpotQA). ``--variants`` also measures other full-text tokenisations.

    .venv/bin/python bench/retrieval_quality.py [--sets cmrc,hotpot] [--variants] [--k 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qwen_desk.core import text_tokens
from qwen_desk.core.embedding import Embedder
from qwen_desk.core.store import KnowledgeStore
from qwen_desk.core.store import knowledge as knowledge_mod
from qwen_desk.core.store import search as search_mod
from qwen_desk.core.types import Chunk, DocumentRecord, make_chunk_id

QA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "qa"
CMRC = QA / "cmrc2018_dev_subset" / "cmrc2018_dev_subset.json"
HOTPOT = QA / "hotpotqa_sample100" / "hotpotqa_dev_sample100.json"
COLLECTION = "default"


@dataclass
class Passage:
    doc_id: str
    title: str
    text: str
    chunks: list[Chunk] = field(default_factory=list)


@dataclass
class Question:
    text: str
    gold_doc: str
    answer: str = ""  # when set, the hit must also contain it
    gold_docs: tuple[str, ...] = ()


def doc_id_of(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def load_cmrc() -> tuple[list[Passage], list[Question]]:
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    passages: dict[str, Passage] = {}
    questions = []
    for article in data:
        for paragraph in article["paragraphs"]:
            doc_id = doc_id_of(article["title"], paragraph["context"])
            passages.setdefault(doc_id, Passage(doc_id, article["title"], paragraph["context"]))
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]["text"]
                questions.append(Question(qa["question"], doc_id, answer, (doc_id,)))
    return list(passages.values()), questions


def load_hotpot() -> tuple[list[Passage], list[Question]]:
    data = json.loads(HOTPOT.read_text(encoding="utf-8"))
    passages: dict[str, Passage] = {}

    def add(title: str, sentences: list[str]) -> str:
        text = "".join(sentences).strip()
        doc_id = doc_id_of(title, text)
        passages.setdefault(doc_id, Passage(doc_id, title, text))
        return doc_id

    questions = []
    for item in data:
        gold = (add(item["title_a"], item["para_a"]), add(item["title_b"], item["para_b"]))
        for title, sentences, *_ in item["distractors"]:
            add(title, sentences)
        questions.append(Question(item["question"], gold[0], "", gold))
    return list(passages.values()), questions


def chunk_passages(passages: list[Passage], embedder: Embedder) -> str:
    """Fill ``Passage.chunks`` with the app's chunking, or one chunk per paragraph."""
    try:
        from qwen_desk.core.chunking import chunk_document
    except ImportError:
        chunk_document = None
    from qwen_desk.core.types import Block, BlockKind, ParsedDocument

    for p in passages:
        if chunk_document is None:
            p.chunks = simple_chunks(p, embedder)
            continue
        heading = f"{p.title}\n\n"
        text = heading + p.text
        blocks = [
            Block(p.title, BlockKind.HEADING, 1, 0, len(p.title), level=1),
            Block(p.text, BlockKind.PARAGRAPH, 1, len(heading), len(text), heading_path=(p.title,)),
        ]
        doc = ParsedDocument(f"/{p.doc_id}.txt", "txt", p.title, text, blocks, page_count=1)
        p.chunks = list(
            chunk_document(
                doc, doc_id=p.doc_id, collection=COLLECTION, count_tokens=embedder.count_tokens
            )
        )
    if chunk_document is None:
        return f"sentences packed to <= {FALLBACK_CHUNK_TOKENS} tokens (no core.chunking yet)"
    return "qwen_desk.core.chunking.chunk_document"


FALLBACK_CHUNK_TOKENS = 220


def simple_chunks(p: Passage, embedder: Embedder) -> list[Chunk]:
    """Sentences packed greedily into chunks of at most ~220 model tokens."""
    pieces = [m.group(0) for m in re.finditer(r".+?(?:[。！？!?]|\.\s|$)", p.text, re.S)]
    chunks: list[Chunk] = []
    start = end = tokens = 0
    for piece in pieces:
        n = embedder.count_tokens(piece)
        if tokens and tokens + n > FALLBACK_CHUNK_TOKENS:
            chunks.append(_chunk(p, len(chunks), start, end))
            start, tokens = end, 0
        end += len(piece)
        tokens += n
    if end > start:
        chunks.append(_chunk(p, len(chunks), start, end))
    return chunks


def _chunk(p: Passage, ordinal: int, start: int, end: int) -> Chunk:
    return Chunk(
        make_chunk_id(COLLECTION, p.doc_id, ordinal), p.doc_id, COLLECTION, ordinal, 1, start, end,
        p.text[start:end], heading=p.title,
    )  # fmt: skip


def build_store(
    root: Path, passages: list[Passage], vectors: dict[str, np.ndarray], model_id: str, dim: int
) -> KnowledgeStore:
    store = KnowledgeStore(root, embed_model_id=model_id, dim=dim)
    for p in passages:
        record = DocumentRecord(
            doc_id=p.doc_id, collection=COLLECTION, path=f"/{p.doc_id}.txt", title=p.title,
            kind="txt", size=len(p.text), mtime=0, pages=1, n_chunks=len(p.chunks),
            embed_model=model_id,
        )  # fmt: skip
        store.replace_document(record, p.chunks, vectors[p.doc_id])
    store.maintain()
    return store


def is_found(q: Question, hits: list[Any]) -> bool:
    return any(h.doc_id in q.gold_docs and (not q.answer or q.answer in h.text) for h in hits)


def evaluate(
    store: KnowledgeStore,
    questions: list[Question],
    qvecs: np.ndarray,
    k: int,
    weights: tuple[float, ...] = (),
) -> dict[str, float]:
    """Recall per mode (hybrid with the store's automatic weighting), then fixed weights."""
    result = {}
    for mode in ("vector", "fts", "hybrid"):
        found = found_all = 0
        t0 = time.perf_counter()
        for q, qvec in zip(questions, qvecs, strict=True):
            hits = store.search(q.text, qvec, collection=COLLECTION, k=k, mode=mode)
            found += is_found(q, hits)
            found_all += all(any(h.doc_id == g for h in hits) for g in q.gold_docs)
        result[f"{mode}_recall@{k}"] = round(found / len(questions), 4)
        if len(questions[0].gold_docs) > 1:
            result[f"{mode}_all_gold@{k}"] = round(found_all / len(questions), 4)
        result[f"{mode}_ms_per_query"] = round((time.perf_counter() - t0) / len(questions) * 1e3, 1)
    for weight in weights:
        found = 0
        for q, qvec in zip(questions, qvecs, strict=True):
            hits = store.search(q.text, qvec, collection=COLLECTION, k=k, vector_weight=weight)
            found += is_found(q, hits)
        result[f"hybrid_recall@{k}_vector_weight_{weight:g}"] = round(found / len(questions), 4)
    return result


# Full-text tokenisations compared by --variants (the default is text_tokens as shipped).
def _variant(stem: bool, unigrams: bool) -> Callable[[str], list[str]]:
    def tokens(text: str) -> list[str]:
        out = text_tokens.tokens(text, stem=stem)
        if unigrams:
            out += [ch for tok in out if not tok.isascii() and len(tok) == 2 for ch in tok]
        return out

    return tokens


VARIANTS: dict[str, Callable[[str], list[str]]] = {
    "bigrams+s_stem (shipped)": _variant(stem=True, unigrams=False),
    "bigrams, no stem": _variant(stem=False, unigrams=False),
    "bigrams+unigrams+s_stem": _variant(stem=True, unigrams=True),
}


def use_tokens(tokens: Callable[[str], list[str]]) -> None:
    knowledge_mod.search_text = lambda text: " ".join(tokens(text))
    search_mod.query_text = lambda query: " ".join(dict.fromkeys(tokens(query)))


def cached(
    folder: Path | None, embedder: Embedder, texts: list[str], compute: Callable[[], np.ndarray]
) -> np.ndarray:
    """Vectors from ``--cache`` when the same model already embedded the same texts."""
    if folder is None:
        return compute()
    key = hashlib.sha256("\0".join([embedder.model_id, *texts]).encode()).hexdigest()[:16]
    file = folder / f"{key}.npy"
    if file.is_file():
        return np.load(file)
    vectors = compute()
    folder.mkdir(parents=True, exist_ok=True)
    np.save(file, vectors)
    return vectors


def run_set(name: str, loader: Callable[[], Any], embedder: Embedder, args: Any) -> dict[str, Any]:
    passages, questions = loader()
    chunking = chunk_passages(passages, embedder)
    texts = [f"{c.heading}\n{c.text}" if c.heading else c.text for p in passages for c in p.chunks]
    t0 = time.perf_counter()
    flat = cached(args.cache, embedder, texts, lambda: embedder.embed_documents(texts))
    embed_s = time.perf_counter() - t0
    vectors, i = {}, 0
    for p in passages:
        vectors[p.doc_id] = flat[i : i + len(p.chunks)]
        i += len(p.chunks)
    qtexts = [q.text for q in questions]
    qvecs = cached(
        args.cache, embedder, qtexts, lambda: np.stack([embedder.embed_query(t) for t in qtexts])
    )
    out: dict[str, Any] = {
        "questions": len(questions),
        "passages": len(passages),
        "chunks": len(texts),
        "chunking": chunking,
        "embed_chunks_per_s": round(len(texts) / embed_s, 1),
    }
    variants = VARIANTS if args.variants else dict(list(VARIANTS.items())[:1])
    for label, tokens in variants.items():
        use_tokens(tokens)
        with tempfile.TemporaryDirectory(prefix="qd-bench-rq-") as tmp:
            store = build_store(Path(tmp), passages, vectors, embedder.model_id, embedder.dim)
            weights = tuple(float(w) for w in args.weights.split(",")) if args.weights else ()
            out[label] = evaluate(store, questions, qvecs, args.k, weights)
            store.close()
        print(name, label, out[label], file=sys.stderr)
    use_tokens(VARIANTS["bigrams+s_stem (shipped)"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="cmrc,hotpot")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--variants", action="store_true", help="compare FTS tokenisations")
    parser.add_argument("--weights", default="", help="also try these vector weights: 0,0.1,1")
    parser.add_argument("--cache", type=Path, help="folder to keep vectors between runs")
    parser.add_argument("--model", type=Path, help="embedding model folder (default: packaged)")
    args = parser.parse_args()
    if not QA.is_dir():
        print(json.dumps({"benchmark": "retrieval_quality", "skipped": f"no corpus at {QA}"}))
        return
    embedder = Embedder(args.model)
    embedder.load()
    report: dict[str, Any] = {
        "benchmark": "retrieval_quality",
        "embedder": embedder.model_id,
        "k": args.k,
    }
    loaders = {"cmrc": load_cmrc, "hotpot": load_hotpot}
    for name in args.sets.split(","):
        report[name] = run_set(name, loaders[name], embedder, args)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
