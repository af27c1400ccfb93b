"""Benchmark: calibrate the RAG service's relevance rule on real QA data (prints JSON).

Indexes (the default embedder, LanceDB through ``KnowledgeStore.replace_document``, passages of
at most 400 characters cut at paragraph ends by ``tests.support.rag_kb``) a part of CMRC2018
(Chinese articles) and of the HotpotQA sample (English paragraphs and distractors), plus a few
corpus documents, into a temporary data folder. Then asks:
- answerable questions (their article or paragraphs are indexed): they should keep sources;
- held-out questions (their article is not indexed) and unrelated questions ("what is the capital
  of Peru"): they should keep none.
For a grid of (max cosine distance, min BM25) it reports how many answerable questions keep a
gold passage and how many unanswerable ones keep nothing, and the statistics of both legs.

    .venv/bin/python bench/relevance.py [--articles 40] [--hotpot 40]

Needs ../shared/corpus. Takes a few minutes on 2 cores (embedding the passages).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.rag_kb import add_document  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"

UNRELATED = [
    "What is the capital of Peru?",
    "秘鲁的首都是哪里？",
    "How do I bake sourdough bread at home?",
    "Who won the 2018 FIFA World Cup?",
    "红烧肉怎么做？",
    "What is the boiling point of water at sea level?",
    "今天北京的天气怎么样？",
    "How many moons does Jupiter have?",
    "推荐几部好看的科幻电影",
    "What is the best way to learn the guitar?",
]
CORPUS_FILES = [
    ("text", "chatchat__zh__大模型推理优化策略.md"),
    ("text", "chatchat__zh__分布式训练技术原理.md"),
    ("pdf", "pdfjs__tracemonkey.pdf"),
    ("docx", "chatchat__NB-核电厂定期安全审查指南-第1部分-通用要求.docx"),
]
CORPUS_QUESTIONS = [
    "What is trace-based JIT compilation in TraceMonkey?",
    "大模型推理有哪些优化策略？",
    "什么是数据并行？",
    "核电厂定期安全审查的目的是什么？",
]


def corpus_pages(path: Path) -> list[str]:
    """Text of a corpus file, page by page (pymupdf / python-docx / plain text)."""
    if path.suffix == ".pdf":
        import pymupdf

        with pymupdf.open(path) as doc:
            return [page.get_text() for page in doc]
    if path.suffix == ".docx":
        import docx

        return ["\n\n".join(p.text for p in docx.Document(str(path)).paragraphs if p.text)]
    return [path.read_text(encoding="utf-8")]


def build(store: Any, embedder: Any, collection: str, n_articles: int, n_hotpot: int) -> dict:
    """Index QA passages and corpus files; return the questions with their gold paths."""
    cmrc = json.loads((CORPUS / "qa/cmrc2018_dev_subset/cmrc2018_dev_subset.json").read_text())
    hotpot = json.loads((CORPUS / "qa/hotpotqa_sample100/hotpotqa_dev_sample100.json").read_text())
    answerable: list[tuple[str, str | None]] = []
    held_out: list[str] = []
    for i, article in enumerate(cmrc["data"]):
        questions = [q["question"] for p in article["paragraphs"] for q in p["qas"]][:2]
        if i < n_articles:
            path = f"/qa/cmrc_{i:03}.txt"
            text = "\n\n".join([article["title"]] + [p["context"] for p in article["paragraphs"]])
            add_document(store, embedder, collection, path, [text])
            answerable += [(q, path) for q in questions]
        elif i < n_articles + n_articles // 2:
            held_out += questions[:1]
    for i, item in enumerate(hotpot):
        if i < n_hotpot:
            path = f"/qa/hotpot_{i:03}.txt"
            paras = [(item["title_a"], item["para_a"]), (item["title_b"], item["para_b"])]
            paras += [(d[0], d[1]) for d in item["distractors"][:3]]
            text = "\n\n".join(f"{t}: {''.join(sents)}" for t, sents in paras)
            add_document(store, embedder, collection, path, [text])
            answerable.append((item["question"], path))
        elif i < n_hotpot + n_hotpot // 2:
            held_out.append(item["question"])
    for sub, name in CORPUS_FILES:
        file = CORPUS / sub / name
        if file.exists():
            add_document(store, embedder, collection, str(file), corpus_pages(file))
    answerable += [(q, None) for q in CORPUS_QUESTIONS]
    return {"answerable": answerable, "held_out": held_out}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--hotpot", type=int, default=40)
    parser.add_argument("-k", type=int, default=6)
    parser.add_argument("--dump", type=Path, help="write every question's hits here (JSON)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    home = Path(tempfile.mkdtemp(prefix="qd-relevance-"))
    os.environ["QWEN_DESK_HOME"] = str(home)
    from qwen_desk.core.knowledge import KnowledgeBase
    from qwen_desk.core.settings import Settings
    from qwen_desk.core.text_tokens import tokens

    kb = KnowledgeBase(Settings())
    started = time.perf_counter()
    data = build(kb.store, kb.embedder, "bench", args.articles, args.hotpot)
    seconds = time.perf_counter() - started
    kb.store.maintain()

    def legs(question: str) -> list[dict[str, Any]]:
        vector = kb.embedder.embed_query(question)
        hits = kb.store.search(question, vector, collection="bench", k=args.k)
        wanted = set(tokens(question))
        return [
            {
                "file": h.path,
                "d": h.vector_distance,
                "bm25": h.fts_score,
                "n_tokens": len(wanted),
                "coverage": len(wanted & set(tokens(h.text))) / max(1, len(wanted)),
            }
            for h in hits
        ]

    positives = [(q, gold, legs(q)) for q, gold in data["answerable"]]
    negatives = [(q, legs(q)) for q in data["held_out"] + UNRELATED]
    if args.dump:
        args.dump.write_text(
            json.dumps({"positives": positives, "negatives": negatives}, ensure_ascii=False),
            encoding="utf-8",
        )

    def keeps(hit: dict[str, Any], max_d: float, min_bm25: float) -> bool:
        return (hit["d"] is not None and hit["d"] <= max_d) or (
            hit["bm25"] is not None and hit["bm25"] >= min_bm25
        )

    grid = []
    for max_d in (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75):
        for min_bm25 in (4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 1e9):
            pos_ok = sum(
                any(keeps(h, max_d, min_bm25) and (gold is None or h["file"] == gold) for h in hs)
                for _, gold, hs in positives
            )
            neg_ok = sum(not any(keeps(h, max_d, min_bm25) for h in hs) for _, hs in negatives)
            unrelated_ok = sum(
                not any(keeps(h, max_d, min_bm25) for h in hs)
                for q, hs in negatives
                if q in UNRELATED
            )
            grid.append(
                {
                    "max_distance": max_d,
                    "min_bm25": min_bm25,
                    "answerable_keep_gold": round(pos_ok / len(positives), 3),
                    "unanswerable_keep_none": round(neg_ok / len(negatives), 3),
                    "unrelated_keep_none": f"{unrelated_ok}/{len(UNRELATED)}",
                }
            )

    def best(hs: list[dict[str, Any]], key: str, low: bool) -> float | None:
        values = [h[key] for h in hs if h[key] is not None]
        return (min(values) if low else max(values)) if values else None

    detail = {
        "unrelated": {
            q: {"min_d": best(hs, "d", True), "max_bm25": best(hs, "bm25", False)}
            for q, hs in negatives
            if q in UNRELATED
        },
        "corpus_questions": {
            q: {"min_d": best(hs, "d", True), "max_bm25": best(hs, "bm25", False)}
            for q, _, hs in positives
            if q in CORPUS_QUESTIONS
        },
    }
    print(
        json.dumps(
            {
                "chunks": kb.store.stats()["chunks"],
                "ingest_s": round(seconds, 1),
                "answerable": len(positives),
                "unanswerable": len(negatives),
                "grid": grid,
                "detail": detail,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    kb.close()


if __name__ == "__main__":
    main()
