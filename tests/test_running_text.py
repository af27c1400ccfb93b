"""Running headers, footers, page numbers and chart residue stay out of chunks and sources.

Real PDFs (generated with pymupdf, and corpus files), the real parser and chunker; the
retrieval test adds the real embedder, LanceDB store and ``RagService.retrieve`` (hybrid search
and the relevance filter, as the chat uses them).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sys
from pathlib import Path

import pytest

from qwen_desk.core.chunking import chunk_document
from qwen_desk.core.documents import parse_document
from qwen_desk.core.documents.language import is_residue
from qwen_desk.core.documents.running import find_running
from qwen_desk.core.documents.sandbox import parse_in_child
from qwen_desk.core.rag import RagService, drop_boilerplate
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import BlockKind, DocumentRecord, Hit, ParsedDocument
from tests.support.kb import long_text, make_docx, shared_embedder

HEADER = "ACME Corporation Quarterly Report Q3 2024"
FOOTERS = ["Page {n} of {total}", "- {n} -", "第 {n} 页 共 {total} 页"]
REPEATED = (
    "This paragraph is repeated in the body of every page on purpose, at a different height each "
    "time, and it must stay in the chunks because it is real content."
)
MARGINS = (BlockKind.HEADER, BlockKind.FOOTER)


def _paged_pdf(path: Path, pages: int, *, repeated_body: bool = False) -> Path:
    """A header, a footer and a page number on every page, distinct body text on each."""
    import pymupdf

    doc = pymupdf.open()
    body = long_text(pages * 2, seed=3, words_each=45).split("\n\n")
    for n in range(1, pages + 1):
        page = doc.new_page()
        page.insert_text((72, 40), HEADER, fontsize=9)
        footer = FOOTERS[0].format(n=n, total=pages)
        page.insert_text((250, 815), footer, fontsize=9)
        page.insert_text((520 if n % 2 else 60, 800), str(n), fontsize=9)  # odd/even sides
        text = "\n\n".join(body[2 * (n - 1) : 2 * n])
        if repeated_body:
            text = "\n\n".join([text[: 150 * n], REPEATED, text[150 * n :]])
        page.insert_textbox(pymupdf.Rect(72, 100, 520, 760), text, fontsize=11)
    doc.save(path)
    doc.close()
    return path


def _check_exact(doc: ParsedDocument, chunks: list) -> None:
    for chunk in chunks:
        assert chunk.text == doc.text[chunk.char_start : chunk.char_end]
        inside = [b for b in doc.blocks if b.start < chunk.char_end and b.end > chunk.char_start]
        assert inside and not any(b.kind in MARGINS for b in inside)


def test_headers_footers_and_page_numbers_never_make_a_chunk(tmp_path: Path) -> None:
    doc = parse_document(_paged_pdf(tmp_path / "report.pdf", 10, repeated_body=True))
    chunks = chunk_document(doc, doc_id="d", collection="kb")
    _check_exact(doc, chunks)
    joined = "\n".join(c.text for c in chunks)
    assert HEADER not in joined and "of 10" not in joined
    assert not any(c.text.strip().isdigit() for c in chunks)  # no page-number chunk
    assert HEADER in doc.running_text and "Page 1 of 10" in doc.running_text
    margins = [b for b in doc.blocks if b.kind in MARGINS]
    assert len(margins) == 30  # header, footer and number of each page: metadata, in the text
    assert {b.kind for b in margins if b.text == HEADER} == {BlockKind.HEADER}
    # the body is all there: every page's words, and the repeated paragraph on every page
    assert joined.count("real content") == 10
    assert {c.page for c in chunks} == set(range(1, 11))
    # highlights: no chunk's rectangles reach into the top or bottom margin lines
    for chunk in chunks:
        assert all(rect[1] > 60 and rect[3] < 790 for rect in chunk.rects), chunk.rects


def test_running_text_comes_back_from_the_parser_process(tmp_path: Path) -> None:
    doc = parse_in_child(_paged_pdf(tmp_path / "report.pdf", 6))
    assert HEADER in doc.running_text and "Page 1 of 6" in doc.running_text
    assert {b.text for b in doc.blocks if b.kind is BlockKind.HEADER} == {HEADER}


A4 = (595.0, 842.0)


def test_a_header_naming_its_chapter_groups_by_similarity() -> None:
    """Each chapter's header is on 3 of 12 pages (too few alone); similar texts make one group."""
    pages = []
    for n in range(12):
        header = f"ACME Corporation Annual Report 2024 · Chapter {'ABCD'[n // 3]} · page {n + 1}"
        body = long_text(1, seed=n, words_each=12)
        pages.append([(header, (72.0, 30.0, 500.0, 42.0), True), (body, (72, 300, 500, 312), True)])
    running, texts = find_running(pages, [A4] * 12)
    assert running == {(n, 0) for n in range(12)}
    assert len(texts) == 1 and texts[0].startswith("ACME Corporation")


def test_similar_lines_in_the_body_stay() -> None:
    """Short body lines at one place that only look alike (different words) are content."""
    words = ["apples", "pears", "plums", "cherries", "grapes", "lemons", "melons", "figs"]
    pages = [
        [(f"Total for {w}: {n}", (250.0, 400.0, 350.0, 412.0), True)] for n, w in enumerate(words)
    ]
    assert find_running(pages, [A4] * len(pages)) == (set(), [])


def _busy_pages(n: int, seed: int) -> list[list[tuple[str, tuple[float, ...], bool]]]:
    """``n`` pages of 30 distinct top-band lines sharing their first and last characters."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        [
            (
                "Report " + "".join(rng.choices(letters, k=40)) + " annex",
                (72, 4 + 3 * i, 500, 6 + 3 * i),
                True,
            )
            for i in range(30)
        ]
        for _ in range(n)
    ]


def _calls(pages: list) -> int:
    """Python and C function calls made by one detection pass: a count of work that the
    machine's load does not change (CPU time on a busy 2-core machine swings by 2x)."""
    count = 0

    def profile(_frame: object, event: str, _arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        find_running(pages, [A4] * len(pages))
    finally:
        sys.setprofile(None)
    return count


def test_detection_work_grows_linearly_with_pages() -> None:
    """4x the pages costs about 4x the work (a pairwise comparison across pages: ~16x)."""
    small, large = _busy_pages(150, seed=1), _busy_pages(600, seed=2)
    ratio = _calls(large) / _calls(small)
    assert ratio < 6, ratio


def test_a_two_page_document_loses_nothing(tmp_path: Path) -> None:
    doc = parse_document(_paged_pdf(tmp_path / "letter.pdf", 2))
    chunks = chunk_document(doc, doc_id="d", collection="kb")
    assert doc.running_text == []
    assert not any(b.kind in MARGINS for b in doc.blocks)
    joined = "\n".join(c.text for c in chunks)
    assert joined.count(HEADER) == 2 and "Page 2 of 2" in joined


def test_docx_headers_and_footers_are_metadata_not_chunks(tmp_path: Path) -> None:
    import docx

    path = make_docx(tmp_path / "memo.docx", "Memo", ["Body paragraph about the budget."])
    document = docx.Document(str(path))
    document.sections[0].header.paragraphs[0].text = "ACME Confidential"
    document.sections[0].footer.paragraphs[0].text = "Internal use only"
    document.save(str(path))
    doc = parse_document(path)
    chunks = chunk_document(doc, doc_id="d", collection="kb")
    assert doc.running_text == ["ACME Confidential", "Internal use only"]
    joined = "\n".join(c.text for c in chunks)
    assert "budget" in joined and "Confidential" not in joined and "Internal" not in joined
    _check_exact(doc, chunks)


@pytest.mark.parametrize(
    "line",
    [
        '%!" $#" $!" #"',
        '!"# $!"# %!"# &!"# \'!"# (!"# )!"# *!"#',
        "&'()*+,\"",
        ".><57=+.><=+>?+.;</#0'1D23#",
    ],
)
def test_chart_residue_is_not_language(line: str) -> None:
    assert is_residue(line)


@pytest.mark.parametrize(
    "line",
    [
        "Revenue | 1,234.5 | -12.3% | (3,200) | $5 | €0.99",
        "营业收入（元） | 475,578,511.00 | 569,922,763.00 | -16.55%",
        "2019 2020 2021 -3.5% +4.1% 12,000",
        "1.2 License . . . . . . . . . . . . . 7",
        "----------以下空白----------",
        "h = combine(w, r); /* Note, NOT: return combine(w,r); */",
        "x = (a + b) / 2",
        "* * *",
        "&",
    ],
)
def test_numbers_tables_leaders_and_code_are_language(line: str) -> None:
    assert not is_residue(line)


def test_chart_residue_leaves_the_pdf_and_a_table_of_numbers_stays(tmp_path: Path) -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Sales grew strongly in every region this year.", fontsize=11)
    page.insert_text((72, 200), '%!" $#" $!" #" &!" \'!"', fontsize=8)  # axis labels of a chart
    page.insert_text((72, 300), "Region   2023   2024   Change", fontsize=11)
    page.insert_text((72, 315), "North   1,204.5   1,390.0   +15.4%", fontsize=11)
    page.insert_text((72, 330), "South   (320)   -45.25   -3.5%", fontsize=11)
    doc.save(tmp_path / "chart.pdf")
    doc.close()
    parsed = parse_document(tmp_path / "chart.pdf")
    assert "%!" not in parsed.text and "$#" not in parsed.text
    for kept in ("Sales grew", "1,204.5", "+15.4%", "(320)", "-45.25"):
        assert kept in parsed.text
    chunks = chunk_document(parsed, doc_id="d", collection="kb")
    _check_exact(parsed, chunks)


def test_chart_residue_of_a_corpus_paper_is_gone(corpus: Path) -> None:
    doc = parse_document(corpus / "pdf" / "pdfjs__tracemonkey.pdf")
    assert '!"# $!"#' not in doc.text and "&'()*+," not in doc.text
    assert "Trace-based Just-in-Time" in doc.text or "trace" in doc.text.lower()


def _hit(doc_id: str, page: int, text: str) -> Hit:
    return Hit("c", doc_id, "kb", "/x.pdf", "x", page, 0, len(text), text, 1.0)


def test_rag_drops_stored_running_text_and_residue() -> None:
    header = "东北电气发展股份有限公司2018 年第一季度报告全文"
    hits = [
        _hit("a", 3, header + "\n3"),
        _hit("a", 4, header + "\n4"),
        _hit("a", 3, "营业收入（元） | 475,578,511.00"),
        _hit("b", 1, header),  # another document: once only, kept
        _hit("a", 9, '%!" $#" $!" #"'),
    ]
    kept = drop_boilerplate(hits)
    assert [(h.doc_id, h.page) for h in kept] == [("a", 3), ("b", 1)]
    assert kept[0].text.startswith("营业收入")


def test_the_revenue_page_is_a_source_of_the_question(corpus: Path, tmp_path: Path) -> None:
    """The issue's case: before, all sources were the cover and header-only chunks."""
    from qwen_desk.core.store import KnowledgeStore

    path = corpus / "pdf" / "pdfplumber__issue-67-example-zh.pdf"
    embedder = shared_embedder()
    doc = parse_document(path)
    doc_id = hashlib.sha256(path.read_bytes()).hexdigest()
    chunks = chunk_document(doc, doc_id=doc_id, collection="kb", count_tokens=embedder.count_tokens)
    header = "东北电气发展股份有限公司2018 年第一季度报告全文"
    assert header in doc.running_text
    assert not any(c.text.replace(header, "").strip(" \n0123456789") == "" for c in chunks)
    revenue_pages = {c.page for c in chunks if "营业收入" in c.text and "475578511" in c.text}
    assert {3, 14} <= revenue_pages
    store = KnowledgeStore(tmp_path / "kb", embed_model_id=embedder.model_id, dim=embedder.dim)
    try:
        store.ensure_collection("kb")
        record = DocumentRecord(
            doc_id=doc_id, collection="kb", path=str(path), title=doc.title, kind="pdf",
            size=path.stat().st_size, mtime=0, pages=doc.page_count, n_chunks=len(chunks),
            embed_model=embedder.model_id,
        )  # fmt: skip
        store.replace_document(record, chunks, embedder.embed_documents([c.text for c in chunks]))
        rag = RagService(store, embedder, None, Settings(), None)  # retrieval only
        question = "东北电气2018年第一季度的营业收入是多少？"
        sources = asyncio.run(rag.retrieve(question, "kb"))[:5]
        assert any(h.page in revenue_pages for h in sources), [h.page for h in sources]
        assert not any(header in h.text and len(h.text) < len(header) + 5 for h in sources)
    finally:
        store.close()
