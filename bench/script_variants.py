"""Benchmark: Simplified and Traditional Chinese finding each other (recall@5, cost; JSON).

The CMRC2018 subset of the shared corpus (137 Simplified passages, all indexed) is written in
Traditional characters with OpenCC (``s2t``: OpenCC's standard Traditional; ``s2tw`` and
``s2hk``: Taiwan and Hong Kong variants), a synthetic but honest 繁體 corpus. The first
``--questions`` questions are asked in the other script through a real ``KnowledgeStore`` and the
packaged embedder: Simplified questions over Traditional passages, and Traditional questions
(``s2t``) over the original Simplified passages. A question is found when a top-k hit is a chunk
of its passage holding its answer (the answer in the passage's script). Each pairing is measured
"before" (tokens without script folding, as schema 1 indexed them) and "after" (as shipped:
``text_tokens.fold_script``, OpenCC ``t2s``; ``--configs`` tries others). Also timed: the
``search_text`` of 1,000 chunks with and without folding, and the in-place rebuild of an old
store's ``search_text`` (``schema.rebuild_search_text``, migration 2).

    .venv/bin/python bench/script_variants.py [--questions 100] [--k 5] [--configs t2s,tw2s]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval_quality as rq

from qwen_desk.core import text_tokens
from qwen_desk.core.embedding import Embedder
from qwen_desk.core.store import schema

# (label, passages' OpenCC config, questions' OpenCC config); "" keeps the original Simplified.
PAIRINGS = [
    ("simplified_q_over_traditional_s2t", "s2t", ""),
    ("simplified_q_over_taiwan_s2tw", "s2tw", ""),
    ("simplified_q_over_hongkong_s2hk", "s2hk", ""),
    ("traditional_q_s2t_over_simplified", "", "s2t"),
    ("simplified_q_over_simplified (reference)", "", ""),
]


def converter(config: str) -> Any:
    import opencc

    if not config:
        return None
    return opencc.OpenCC(config)


def written(config: str, passages: list[rq.Passage], questions: list[rq.Question]) -> Any:
    """The passages in another script, with their questions' gold ids and answers mapped."""
    cc = converter(config)
    if cc is None:
        return passages, questions, 0
    new_ids: dict[str, str] = {}
    out_passages = []
    for p in passages:
        title, text = cc.convert(p.title), cc.convert(p.text)
        doc_id = rq.doc_id_of(title, text)
        new_ids[p.doc_id] = doc_id
        out_passages.append(rq.Passage(doc_id, title, text))
    texts = {p.doc_id: p.text for p in out_passages}
    out_questions, unmatched = [], 0
    for q in questions:
        gold = new_ids[q.gold_doc]
        answer = cc.convert(q.answer)
        if answer not in texts[gold]:  # converted differently in context: the passage counts
            answer, unmatched = "", unmatched + 1
        out_questions.append(rq.Question(q.text, gold, answer, (gold,)))
    return out_passages, out_questions, unmatched


def ask_in(config: str, questions: list[rq.Question]) -> list[rq.Question]:
    cc = converter(config)
    if cc is None:
        return questions
    return [rq.Question(cc.convert(q.text), q.gold_doc, q.answer, q.gold_docs) for q in questions]


def use_fold(config: str | None) -> None:
    """Tokens as shipped with OpenCC ``config`` folding, or (None) without folding."""
    text_tokens.SCRIPT_CONFIG = config or "t2s"
    text_tokens._converter = None
    fold = config is not None
    rq.use_tokens(lambda text: text_tokens.tokens(text, fold=fold))


def per_1000(texts: list[str], fold: bool, repeat: int = 3) -> float:
    """Milliseconds for the search_text of 1,000 of ``texts`` (best of ``repeat``)."""
    use_fold("t2s")
    text_tokens.fold_script("漢")  # converter loaded outside the timing
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for text in texts:
            " ".join(text_tokens.tokens(text, fold=fold))
        best = min(best, time.perf_counter() - t0)
    return round(best / len(texts) * 1e6, 1)


def costs(traditional_chunks: list[str]) -> dict[str, Any]:
    zh = (traditional_chunks * (1000 // len(traditional_chunks) + 1))[:1000]
    en = [rq.load_hotpot()[0][i % 100].text for i in range(1000)] if rq.HOTPOT.is_file() else []
    t0 = time.perf_counter()
    import opencc

    opencc.OpenCC("t2s").convert("漢")
    load_ms = (time.perf_counter() - t0) * 1e3
    out = {
        "chinese_chunk_mean_chars": round(sum(map(len, zh)) / len(zh)),
        "search_text_ms_per_1000_chinese_chunks_no_fold": per_1000(zh, fold=False),
        "search_text_ms_per_1000_chinese_chunks_t2s": per_1000(zh, fold=True),
        "converter_load_ms": round(load_ms, 1),
    }
    if en:
        out["english_chunk_mean_chars"] = round(sum(map(len, en)) / len(en))
        out["search_text_ms_per_1000_english_chunks_no_fold"] = per_1000(en, fold=False)
        out["search_text_ms_per_1000_english_chunks_t2s"] = per_1000(en, fold=True)
    return out


def rebuild_cost(store: Any) -> dict[str, Any]:
    """Time migration 2 on ``store``: its search_text is first put back as schema 1 wrote it."""
    import pyarrow as pa

    use_fold("t2s")
    table = store._chunks
    rows = table.search().select(["chunk_id", "heading", "text"]).limit(None).to_list()
    old = pa.table(
        {
            "chunk_id": [r["chunk_id"] for r in rows],
            "search_text": [
                " ".join(text_tokens.tokens(f"{r['heading']}\n{r['text']}", fold=False))
                for r in rows
            ],
        }
    )
    table.merge_insert("chunk_id").when_matched_update_all().execute(old)
    store.maintain(force=True)
    t0 = time.perf_counter()
    rewritten = schema.rebuild_search_text(table, text_tokens.folding_changes)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = schema.rebuild_search_text(table, text_tokens.folding_changes)
    second = time.perf_counter() - t0
    return {
        "chunks": len(rows),
        "rewritten": rewritten,
        "rebuild_s": round(seconds, 3),
        "rebuild_ms_per_1000_chunks": round(seconds / len(rows) * 1e6, 1),
        "second_pass_rewritten": again,
        "second_pass_s": round(second, 3),
    }


def mixed_store_rebuild(root: Path, chinese: list[str], n: int, dim: int) -> dict[str, Any]:
    """Migration 2 on a store of ``n`` chunks, half Traditional Chinese, half English."""
    from qwen_desk.core.store import KnowledgeStore
    from qwen_desk.core.types import Chunk, DocumentRecord, make_chunk_id

    english = [p.text for p in rq.load_hotpot()[0]] if rq.HOTPOT.is_file() else ["plain text"]
    rng = np.random.default_rng(0)
    store = KnowledgeStore(root, embed_model_id="bench-random", dim=dim)
    per_doc = 100
    for d in range(n // per_doc):
        texts = [
            chinese[(d * per_doc + i) % len(chinese)] if i % 2 else english[(d + i) % len(english)]
            for i in range(per_doc)
        ]
        doc_id = f"doc{d:05d}"
        record = DocumentRecord(
            doc_id=doc_id, collection=rq.COLLECTION, path=f"/{doc_id}.txt", title=doc_id,
            kind="txt", size=1, mtime=0, pages=1, n_chunks=per_doc, embed_model="bench-random",
        )  # fmt: skip
        chunks = [
            Chunk(make_chunk_id(rq.COLLECTION, doc_id, i), doc_id, rq.COLLECTION, i, 1, 0, 1, t)
            for i, t in enumerate(texts)
        ]
        vectors = rng.standard_normal((per_doc, dim)).astype(np.float32)
        store.replace_document(record, chunks, vectors)
    result = rebuild_cost(store)
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--configs", default="t2s", help="OpenCC folds to compare: t2s,tw2s")
    parser.add_argument("--rebuild-chunks", type=int, default=10_000, help="mixed store size")
    parser.add_argument("--cache", type=Path, help="folder to keep vectors between runs")
    parser.add_argument("--model", type=Path, help="embedding model folder (default: packaged)")
    args = parser.parse_args()
    if not rq.CMRC.is_file():
        print(json.dumps({"benchmark": "script_variants", "skipped": f"no corpus at {rq.QA}"}))
        return
    embedder = Embedder(args.model)
    embedder.load()
    passages0, questions0 = rq.load_cmrc()
    questions0 = questions0[: args.questions]
    report: dict[str, Any] = {
        "benchmark": "script_variants",
        "embedder": embedder.model_id,
        "k": args.k,
        "questions": len(questions0),
        "passages": len(passages0),
        "load_average": round(os.getloadavg()[0], 2),
    }
    folds: list[tuple[str, str | None]] = [("before (no folding)", None)]
    folds += [(f"after ({c})", c) for c in args.configs.split(",")]
    embedded: dict[str, Any] = {}
    for label, passage_config, question_config in PAIRINGS:
        if passage_config not in embedded:
            passages, questions, unmatched = written(passage_config, passages0, questions0)
            use_fold("t2s")
            rq.chunk_passages(passages, embedder)
            texts = [f"{c.heading}\n{c.text}" for p in passages for c in p.chunks]
            flat = rq.cached(
                args.cache, embedder, texts, lambda t=texts: embedder.embed_documents(t)
            )
            vectors, i = {}, 0
            for p in passages:
                vectors[p.doc_id] = flat[i : i + len(p.chunks)]
                i += len(p.chunks)
            embedded[passage_config] = (passages, questions, unmatched, vectors, texts)
        passages, questions, unmatched, vectors, texts = embedded[passage_config]
        asked = ask_in(question_config, questions)
        qtexts = [q.text for q in asked]
        qvecs = rq.cached(
            args.cache,
            embedder,
            qtexts,
            lambda q=qtexts: np.stack([embedder.embed_query(t) for t in q]),
        )
        out: dict[str, Any] = {"chunks": len(texts), "answers_checked_by_passage_only": unmatched}
        for fold_label, config in folds:
            use_fold(config)
            with tempfile.TemporaryDirectory(prefix="qd-bench-sv-") as tmp:
                store = rq.build_store(
                    Path(tmp), passages, vectors, embedder.model_id, embedder.dim
                )
                result = rq.evaluate(store, asked, qvecs, args.k)
                out[fold_label] = result
                if label.startswith("simplified_q_over_traditional") and config == "t2s":
                    report["migration_2_rebuild"] = rebuild_cost(store)
                store.close()
            print(label, fold_label, out[fold_label], file=sys.stderr)
        report[label] = out
    use_fold("t2s")
    report["cost"] = costs(embedded["s2t"][4])
    with tempfile.TemporaryDirectory(prefix="qd-bench-sv-") as tmp:
        report["migration_2_rebuild_mixed_store"] = mixed_store_rebuild(
            Path(tmp), embedded["s2t"][4], args.rebuild_chunks, 32
        )
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
