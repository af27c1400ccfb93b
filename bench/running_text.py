"""Benchmark: do running headers and footers crowd out the answer? (JSON)

Indexes corpus PDFs with the app's parser, chunker, embedder and store, then asks each one's
question through ``RagService.retrieve`` (hybrid search + relevance filter, as the chat does).
Reports the chunks that are only running text (a header, footer or page number repeated on
other pages), the rank of the first chunk of an answering page among the top 20 hybrid hits,
and the pages of the sources the model would be sent.

It also measures what detecting running text costs: the CPU time (``time.process_time``) of
parsing the 619-page corpus PDF with ``parse_pdf(detect_running=False)`` and with detection,
alternated ``--repeat`` times, medians and their ratio (the target: at most ~1.2).

    .venv/bin/python bench/running_text.py              # both parts
    .venv/bin/python bench/running_text.py --parse-only # the parse cost only (no embedder)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qwen_desk.core.chunking import chunk_document
from qwen_desk.core.documents import parse_document
from qwen_desk.core.embedding import Embedder
from qwen_desk.core.rag import RagService
from qwen_desk.core.settings import Settings
from qwen_desk.core.store import KnowledgeStore
from qwen_desk.core.types import DocumentRecord

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "pdf"
CASES = [  # file, question, pages that hold the answer
    ("pdfplumber__issue-67-example-zh.pdf", "东北电气2018年第一季度的营业收入是多少？", {3, 14}),
]
COLLECTION = "default"
LARGE = "unstructured__DA-619p.pdf"  # the file whose parse detection once made 17x slower


def repeated_only(chunks: list[Any]) -> int:
    """Chunks whose text (digits blanked) is the whole text of chunks on 3+ pages."""
    key = [re.sub(r"\d+", "#", "".join(c.text.split())) for c in chunks]
    pages: dict[str, set[int]] = {}
    for k, c in zip(key, chunks, strict=True):
        pages.setdefault(k, set()).add(c.page)
    return sum(1 for k in key if len(pages[k]) >= 3)


def run_case(store: KnowledgeStore, embedder: Embedder, name: str, question: str, gold: set[int]):
    path = CORPUS / name
    t0 = time.perf_counter()
    doc = parse_document(path)
    doc_id = hashlib.sha256(path.read_bytes()).hexdigest()
    chunks = chunk_document(
        doc, doc_id=doc_id, collection=COLLECTION, count_tokens=embedder.count_tokens
    )
    vectors = embedder.embed_documents([c.text for c in chunks])
    record = DocumentRecord(
        doc_id=doc_id, collection=COLLECTION, path=str(path), title=doc.title, kind="pdf",
        size=path.stat().st_size, mtime=0, pages=doc.page_count, n_chunks=len(chunks),
        embed_model=embedder.model_id,
    )  # fmt: skip
    store.ensure_collection(COLLECTION)
    store.replace_document(record, chunks, vectors)
    hits = store.search(
        question, embedder.embed_query(question), collection=COLLECTION, k=20, mode="hybrid"
    )
    rank = next((i for i, h in enumerate(hits, 1) if h.page in gold), None)
    rag = RagService(store, embedder, None, Settings(), None)  # type: ignore[arg-type]
    sources = asyncio.run(rag.retrieve(question, COLLECTION))
    return {
        "chunks": len(chunks),
        "repeated_only_chunks": repeated_only(chunks),
        "header_text_chunks": Counter(c.text for c in chunks).most_common(1)[0][1],
        "running_text": getattr(doc, "running_text", None),
        "answer_page_rank_top20_hybrid": rank,
        "sources_pages": [h.page for h in sources],
        "answer_page_in_sources_top5": any(h.page in gold for h in sources[:5]),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def parse_cost(name: str, repeat: int) -> dict[str, Any]:
    """CPU seconds of parsing ``name`` without and with running-text detection, alternated."""
    from qwen_desk.core.documents.pdf import parse_pdf

    path = CORPUS / name
    parse_pdf(path, detect_running=False)  # warm: imports, the file in the page cache
    seconds: dict[bool, list[float]] = {False: [], True: []}
    found: list[str] = []
    for _ in range(repeat):
        for detect in (False, True):
            t0 = time.process_time()
            doc = parse_pdf(path, detect_running=detect)
            seconds[detect].append(time.process_time() - t0)
            if detect:
                found = doc.running_text
    off, on = statistics.median(seconds[False]), statistics.median(seconds[True])
    return {
        "pages": doc.page_count,
        "repeat": repeat,
        "cpu_s_without_detection": [round(s, 3) for s in seconds[False]],
        "cpu_s_with_detection": [round(s, 3) for s in seconds[True]],
        "median_cpu_s_without": round(off, 3),
        "median_cpu_s_with": round(on, 3),
        "ratio_with_over_without": round(on / off, 3),
        "running_text_found": found[:10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parse-only", action="store_true", help="only the parse-cost part")
    parser.add_argument("--repeat", type=int, default=3, help="parses of each kind (default 3)")
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "running_text"}
    report["parse_cost"] = {LARGE: parse_cost(LARGE, max(1, args.repeat))}
    if args.parse_only:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    embedder = Embedder()
    embedder.load()
    report["embedder"] = embedder.model_id
    with tempfile.TemporaryDirectory(prefix="qd-bench-rt-") as tmp:
        store = KnowledgeStore(Path(tmp), embed_model_id=embedder.model_id, dim=embedder.dim)
        for name, question, gold in CASES:
            report[name] = run_case(store, embedder, name, question, gold)
        store.close()
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
