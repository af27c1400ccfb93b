"""Benchmark: ingestion throughput end to end, parsing alone, and time to the first search hit.

Real PDFs of the shared corpus, English and Chinese reported separately, each run in a fresh
``QWEN_DESK_HOME`` (a temporary folder) through ``KnowledgeBase`` and its ingestion worker:

- ``parse_only``: pages/s of the sandboxed ``ParserProcess`` (child warm) and of in-process
  ``parse_document``;
- ``end_to_end``: pages/s and chunks/s from ``add_paths`` to the queue drained (hash, parse in
  the child, chunk, embed, store, index upkeep), with the share of each stage taken from the
  ingestion events (parse+chunk = PARSING -> first EMBEDDING; embed+write = first EMBEDDING ->
  READY) and the embedder's own chunks/s;
- ``first_hit``: seconds from dropping a ~20-page PDF to a search hit in it, cold (a new process:
  imports and model load included) and warm (model loaded, parser child running);
- ``huge``: the 619-page PDF parsed in the child and chunked, and the parent's RSS growth;
- peak RSS of this process (and of the parser child, sampled, when psutil is installed).

    .venv/bin/python bench/ingest.py            # everything (minutes on 2 busy cores)
    .venv/bin/python bench/ingest.py --quick    # small English set, no 155-page file
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
ENGLISH = [
    "pdf/pymupdf__test-3820.pdf",
    "pdf/pdfjs__tracemonkey.pdf",
    "pdf/pdfplumber__federal-register-2020-17221.pdf",
    "pdf/unstructured__multi-column.pdf",
]
ENGLISH_QUICK = ENGLISH[1:]
CHINESE = [
    "pdf/pdfplumber__issue-67-example-zh.pdf",
    "pdf/pdfplumber__issue-336-example-zh.pdf",
    "pdf/pymupdf__test_4182-zh.pdf",
]
FIRST_HIT_PDF = "pdf/tika__testPDF_bad_page_303226.pdf"  # 19 pages of dense CFR text
HUGE_PDF = "pdf/unstructured__DA-619p.pdf"


def rss_mb() -> float:
    """Peak RSS of this process in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def current_rss_mb() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return round(psutil.Process().memory_info().rss / 2**20, 1)


class ChildPeak:
    """Samples the parser child's RSS (psutil) while running."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while not self._stop.wait(0.1):
            try:
                for child in me.children(recursive=True):
                    self.peak_mb = max(self.peak_mb, child.memory_info().rss / 2**20)
            except psutil.Error:
                pass

    def __enter__(self) -> ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cpu_s() -> float:
    """CPU seconds used by this process so far (all threads)."""
    t = os.times()
    return t.user + t.system


def page_count(paths: list[Path]) -> int:
    import pymupdf

    total = 0
    for path in paths:
        with pymupdf.open(path) as doc:
            total += doc.page_count
    return total


def parse_only(paths: list[Path], parser: Any) -> dict[str, Any]:
    from qwen_desk.core.documents import parse_document

    pages = page_count(paths)
    parser.parse(paths[-1])  # warm the child (spawn + imports are not parsing)
    started = time.perf_counter()
    for path in paths:
        parser.parse(path)
    child_s = time.perf_counter() - started
    started = time.perf_counter()
    for path in paths:
        parse_document(path)
    inproc_s = time.perf_counter() - started
    return {
        "files": len(paths),
        "pages": pages,
        "child_s": round(child_s, 3),
        "child_pages_per_s": round(pages / child_s, 1),
        "inproc_s": round(inproc_s, 3),
        "inproc_pages_per_s": round(pages / inproc_s, 1),
    }


def end_to_end(kb: Any, paths: list[Path], collection: str) -> dict[str, Any]:
    from qwen_desk.core.types import IngestState

    stamps: dict[int, dict[str, float]] = {}
    finals: dict[int, Any] = {}

    def on_event(event: Any) -> None:
        mark = stamps.setdefault(event.job_id, {})
        now = time.perf_counter()
        if event.state is IngestState.PARSING:
            mark.setdefault("parsing", now)
        elif event.state is IngestState.EMBEDDING:
            mark.setdefault("embedding", now)
        elif event.finished:
            mark["done"] = now
            finals[event.job_id] = event

    unsubscribe = kb.ingest.subscribe(on_event)
    started, cpu_started = time.perf_counter(), cpu_s()
    ids = kb.ingest.add_paths(paths, collection)
    kb.ingest.wait_idle()
    seconds, cpu = time.perf_counter() - started, cpu_s() - cpu_started
    unsubscribe()
    files, pages, chunks, parse_s, embed_s = [], 0, 0, 0.0, 0.0
    for job_id in ids:
        event, mark = finals[job_id], stamps[job_id]
        file_parse = mark.get("embedding", mark["done"]) - mark.get("parsing", mark["done"])
        file_embed = mark["done"] - mark.get("embedding", mark["done"])
        parse_s, embed_s = parse_s + file_parse, embed_s + file_embed
        pages, chunks = pages + event.pages, chunks + event.chunks
        files.append(
            {
                "file": Path(event.path).name,
                "state": event.state.value,
                "pages": event.pages,
                "chunks": event.chunks,
                "parse_chunk_s": round(file_parse, 2),
                "embed_write_s": round(file_embed, 2),
            }
        )
    return {
        "pages": pages,
        "chunks": chunks,
        "seconds": round(seconds, 2),
        "pages_per_s": round(pages / seconds, 2),
        "chunks_per_s": round(chunks / seconds, 1),
        "parse_chunk_s": round(parse_s, 2),
        "embed_write_s": round(embed_s, 2),
        "embed_write_chunks_per_s": round(chunks / embed_s, 1) if embed_s else None,
        "other_s": round(seconds - parse_s - embed_s, 2),  # hashing, queue, maintain()
        # On a shared machine wall time lies; CPU seconds of this process (the parser child's
        # are not included) say what 2 free cores would do: pages / (cpu_s / 2).
        "cpu_s": round(cpu, 1),
        "pages_per_s_if_2_free_cores": round(pages / (cpu / 2), 2) if cpu else None,
        "files": files,
    }


def embedder_only(kb: Any, paths: list[Path]) -> dict[str, Any]:
    """The embedder alone on the chunks of ``paths`` (what end to end is bound by)."""
    from qwen_desk.core.chunking import chunk_document
    from qwen_desk.core.documents import parse_document

    texts = []
    for path in paths:
        doc = parse_document(path)
        chunks = chunk_document(
            doc, doc_id="bench", collection="bench", count_tokens=kb.embedder.count_tokens
        )
        texts += [c.text for c in chunks]
    texts = texts[:256]
    started, cpu_started = time.perf_counter(), cpu_s()
    kb.embedder.embed_documents(texts)
    seconds, cpu = time.perf_counter() - started, cpu_s() - cpu_started
    return {
        "chunks": len(texts),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(texts) / seconds, 1),
        "cpu_s": round(cpu, 1),
        "chunks_per_s_if_2_free_cores": round(len(texts) / (cpu / 2), 1),
        "threads": kb.embedder.threads,
    }


def first_hit(kb: Any, pdf: Path, collection: str) -> dict[str, Any]:
    """Seconds from ``add_paths`` to a search hit in ``pdf`` (the queue being empty)."""
    from qwen_desk.core.documents import parse_document

    query = _query_for(parse_document(pdf).text)
    started = time.perf_counter()
    kb.ingest.add_paths([pdf], collection)
    while True:
        try:
            hits = kb.search(query, collection, k=3)
        except Exception:  # the collection appears with the first write
            hits = []
        if any(h.path == str(pdf.resolve()) for h in hits):
            break
        time.sleep(0.05)
    return {"seconds": round(time.perf_counter() - started, 2), "query": query}


def _query_for(text: str) -> str:
    """A sentence from the middle of the document."""
    middle = text[len(text) // 2 :]
    words = middle.split()[5:17]
    return " ".join(words)


def first_hit_cold(pdf: Path) -> dict[str, Any]:
    """``first_hit`` in a new process: imports, model load and parser spawn included."""
    with tempfile.TemporaryDirectory(prefix="qd-bench-cold-") as home:
        env = {**os.environ, "QWEN_DESK_HOME": home}
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--first-hit-child", str(pdf)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(wall, 2)
    return result


def _first_hit_child(pdf: Path) -> None:
    started = time.perf_counter()
    from qwen_desk.core.knowledge import KnowledgeBase

    kb = KnowledgeBase()
    imported = time.perf_counter() - started
    result = first_hit(kb, pdf, "default")
    result["from_process_start_s"] = round(time.perf_counter() - started, 2)
    result["light_imports_s"] = round(imported, 2)
    kb.close()
    print(json.dumps(result))


def huge(kb: Any, path: Path) -> dict[str, Any]:
    from qwen_desk.core.chunking import chunk_document

    before = current_rss_mb()
    started = time.perf_counter()
    doc = kb.parser.parse(path)
    parse_s = time.perf_counter() - started
    chunks = chunk_document(
        doc, doc_id="huge", collection="bench", count_tokens=kb.embedder.count_tokens
    )
    chunk_s = time.perf_counter() - started - parse_s
    after = current_rss_mb()
    return {
        "file": path.name,
        "pages": doc.page_count,
        "text_chars": len(doc.text),
        "chunks": len(chunks),
        "parse_child_s": round(parse_s, 2),
        "parse_pages_per_s": round(doc.page_count / parse_s, 1),
        "chunk_s": round(chunk_s, 2),
        "rss_growth_mb": round(after - before, 1) if before and after else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small English set, no huge PDF")
    ap.add_argument("--first-hit-child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.first_hit_child:
        _first_hit_child(args.first_hit_child)
        return
    if not CORPUS.is_dir():
        print(json.dumps({"skipped": f"corpus not found at {CORPUS}"}))
        return
    english = [CORPUS / p for p in (ENGLISH_QUICK if args.quick else ENGLISH)]
    chinese = [CORPUS / p for p in CHINESE]
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0],
        }
    }
    report["first_hit_cold"] = first_hit_cold(CORPUS / FIRST_HIT_PDF)
    with tempfile.TemporaryDirectory(prefix="qd-bench-") as home:
        os.environ["QWEN_DESK_HOME"] = home
        from qwen_desk.core.knowledge import KnowledgeBase

        kb = KnowledgeBase()
        with ChildPeak() as child:
            report["parse_only"] = {
                "english": parse_only(english, kb.parser),
                "chinese": parse_only(chinese, kb.parser),
            }
            started = time.perf_counter()
            kb.embedder.load()
            report["model_load_s"] = round(time.perf_counter() - started, 2)
            report["embedder_only"] = embedder_only(kb, english[:2])
            report["end_to_end"] = {
                "english": end_to_end(kb, english, "english"),
                "chinese": end_to_end(kb, chinese, "chinese"),
            }
            report["first_hit_warm"] = first_hit(kb, CORPUS / FIRST_HIT_PDF, "warm")
            if not args.quick:
                report["huge"] = huge(kb, CORPUS / HUGE_PDF)
        report["peak_rss_mb"] = {
            "main": rss_mb(),
            "parser_child": round(child.peak_mb, 1) or None,
        }
        kb.close()
    report["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
