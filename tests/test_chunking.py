"""Chunking on real parsed documents (generated files and the corpus)."""

from __future__ import annotations

import re
import time
from itertools import pairwise
from pathlib import Path

import pymupdf
import pytest

from qwen_desk.core.chunking import approx_token_count, chunk_document
from qwen_desk.core.documents import parse_document
from qwen_desk.core.documents.builder import TextBuilder
from qwen_desk.core.types import BlockKind, Chunk, ParsedDocument, make_chunk_id

WORD = re.compile(r"[A-Za-z]")


def check_chunks(doc: ParsedDocument, chunks: list[Chunk], max_tokens: int, count=None) -> None:
    """The invariants every chunking must keep."""
    count = count or approx_token_count
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text == doc.text[c.char_start : c.char_end]
        assert c.text == c.text.strip() and c.text
        assert c.n_tokens == count(c.text) and c.n_tokens <= max_tokens
        assert c.chunk_id == make_chunk_id("kb", "doc1", c.ord)
        # never starts or ends inside a latin word
        before = doc.text[c.char_start - 1 : c.char_start]
        after = doc.text[c.char_end : c.char_end + 1]
        assert not (WORD.match(before) and WORD.match(c.text[0])), c.text[:40]
        assert not (WORD.match(after) and WORD.match(c.text[-1])), c.text[-40:]
        # one page only: no block of another page inside the chunk
        pages = {b.page for b in doc.blocks if b.start < c.char_end and b.end > c.char_start}
        assert pages == {c.page}
        # running text (headers, footers) is never in a chunk, not even inside one
        margins = (BlockKind.HEADER, BlockKind.FOOTER)
        inside = [b for b in doc.blocks if b.start < c.char_end and b.end > c.char_start]
        assert not any(b.kind in margins for b in inside), c.text[:40]


def make_doc(blocks: list[tuple[BlockKind, str, int]], level: int = 1) -> ParsedDocument:
    builder = TextBuilder()
    for kind, text, page in blocks:
        builder.add(text, kind, page, level=level if kind is BlockKind.HEADING else 0)
    return ParsedDocument("x.txt", "txt", "x", builder.text, builder.blocks, page_count=3)


def sentences(n: int, prefix: str = "Sentence") -> str:
    return " ".join(f"{prefix} number {k} talks about retrieval quality." for k in range(n))


def test_approx_token_count() -> None:
    assert approx_token_count("") == 0
    assert approx_token_count("你好世界") == 4
    assert approx_token_count("retrieval augmented generation") == 4  # 3 words * 1.3
    assert approx_token_count("a, b.") == 2 + 2 + 1  # 2 words, 2 marks, ceil(0.3 * 2)
    assert approx_token_count("2024") == 2


def test_small_document_is_one_chunk_with_heading() -> None:
    doc = make_doc([(BlockKind.HEADING, "Intro", 1), (BlockKind.PARAGRAPH, "Short text here.", 1)])
    chunks = chunk_document(doc, doc_id="doc1", collection="kb")
    check_chunks(doc, chunks, 220)
    assert len(chunks) == 1
    assert chunks[0].text == "Intro\n\nShort text here." and chunks[0].heading == "Intro"


def test_long_section_splits_on_sentences_with_overlap() -> None:
    doc = make_doc([(BlockKind.HEADING, "Method", 1), (BlockKind.PARAGRAPH, sentences(60), 1)])
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", max_tokens=100, overlap_tokens=20)
    check_chunks(doc, chunks, 100)
    assert len(chunks) > 4
    for a, b in pairwise(chunks):
        assert b.char_start < a.char_end  # overlap
        assert a.char_end - b.char_start < len(a.text) // 2
        assert b.text.startswith("Sentence number")  # whole sentences
        assert b.heading == "Method"
    assert all(c.text.endswith(".") for c in chunks)
    covered = set()
    for c in chunks:
        covered.update(range(c.char_start, c.char_end))
    body = doc.blocks[1]
    assert set(range(body.start, body.end)) <= covered


def test_no_overlap_across_headings_and_pages_and_a_chunk_never_spans_pages() -> None:
    doc = make_doc(
        [
            (BlockKind.HEADING, "One", 1),
            (BlockKind.PARAGRAPH, sentences(30, "Alpha"), 1),
            (BlockKind.PARAGRAPH, sentences(3, "Beta"), 2),
            (BlockKind.HEADING, "Two", 2),
            (BlockKind.PARAGRAPH, sentences(30, "Gamma"), 2),
        ]
    )
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", max_tokens=120)
    check_chunks(doc, chunks, 120)
    beta = [c for c in chunks if "Beta" in c.text]
    assert len(beta) == 1 and "Alpha" not in beta[0].text and beta[0].page == 2
    two = next(c for c in chunks if c.text.startswith("Two"))
    assert two.heading == "Two" and two.char_start == doc.blocks[3].start  # no overlap back


def test_heading_followed_by_subheading_stays_with_its_text() -> None:
    doc = make_doc(
        [
            (BlockKind.HEADING, "Chapter", 1),
            (BlockKind.PARAGRAPH, "Tiny.", 1),
            (BlockKind.HEADING, "Section", 1),
            (BlockKind.PARAGRAPH, sentences(5), 1),
        ]
    )
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", max_tokens=200)
    check_chunks(doc, chunks, 200)
    assert len(chunks) == 1  # the chunk before "Section" was tiny: no break


def test_tables_are_whole_or_split_by_rows() -> None:
    rows = "\n".join(f"Row {k} | value {k} | note about row {k}" for k in range(40))
    small = "Name | Qty\nApple | 3"
    doc = make_doc(
        [
            (BlockKind.PARAGRAPH, "Before the tables.", 1),
            (BlockKind.TABLE, small, 1),
            (BlockKind.TABLE, rows, 1),
            (BlockKind.PARAGRAPH, "After the tables.", 1),
        ]
    )
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", max_tokens=80)
    check_chunks(doc, chunks, 80)
    assert chunks[0].text == "Before the tables.\n\n" + small  # a small table joins its text
    big = [c for c in chunks if "Row " in c.text]
    assert len(big) > 2 and big[0].text.startswith("Row 0 ")  # a big one starts a chunk
    row_lines = [line for c in big for line in c.text.split("\n") if line.startswith("Row ")]
    assert row_lines == rows.split("\n")  # whole rows, each once: no overlap in tables
    assert chunks[-1].text.endswith("After the tables.")


def test_chinese_text_splits_on_chinese_punctuation() -> None:
    text = "".join(f"第{k}句讲的是检索增强生成的质量问题。" for k in range(80))
    doc = make_doc([(BlockKind.PARAGRAPH, text, 1)])
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", max_tokens=60, overlap_tokens=10)
    check_chunks(doc, chunks, 60)
    assert len(chunks) > 5
    assert all(c.text.endswith("。") for c in chunks)


def test_overlong_sentence_is_cut_between_words_and_a_custom_counter_is_used() -> None:
    words = " ".join(f"word{k}" for k in range(500))  # one "sentence" with no end mark

    def count(text: str) -> int:
        return len(text.split())

    doc = make_doc([(BlockKind.PARAGRAPH, words, 1)])
    chunks = chunk_document(
        doc, doc_id="doc1", collection="kb", count_tokens=count, max_tokens=50, overlap_tokens=5
    )
    check_chunks(doc, chunks, 50, count)
    assert all(c.n_tokens <= 50 for c in chunks) and len(chunks) >= 10
    assert all(re.fullmatch(r"word\d+( word\d+)*", c.text) for c in chunks)


def test_tiny_tail_is_merged_into_the_previous_chunk() -> None:
    doc = make_doc([(BlockKind.PARAGRAPH, sentences(9) + " End.", 1)])
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", max_tokens=100, overlap_tokens=0)
    check_chunks(doc, chunks, 100)
    assert chunks[-1].n_tokens > 100 // 8
    assert chunks[-1].text.endswith("End.")


def test_pdf_chunks_carry_rects_of_their_lines(tmp_path: Path) -> None:
    pdf = pymupdf.open()
    for p in range(2):
        page = pdf.new_page()
        for k in range(30):
            page.insert_text((72, 60 + 22 * k), f"Page {p + 1} line {k} has some words.")
    pdf.save(tmp_path / "lines.pdf")
    doc = parse_document(tmp_path / "lines.pdf")
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", max_tokens=60)
    check_chunks(doc, chunks, 60)
    for c in chunks:
        lines = [
            line
            for b in doc.blocks
            for line in b.lines
            if line.start < c.char_end and line.end > c.char_start
        ]
        assert c.rects == [line.rect for line in lines] and c.rects
    assert {c.page for c in chunks} == {1, 2}


@pytest.mark.slow
def test_corpus_documents_chunk_fast_and_correctly(corpus: Path) -> None:
    handbook = parse_document(corpus / "docx" / "unstructured__handbook-872p.docx")
    started = time.perf_counter()
    chunks = chunk_document(handbook, doc_id="doc1", collection="kb")
    elapsed = time.perf_counter() - started
    print(f"handbook: {len(handbook.text)} chars -> {len(chunks)} chunks in {elapsed:.2f} s")
    # No time bound here (~0.3-0.5 s on an idle 2-core machine): bench/ingest.py's ``huge``
    # section times chunking of the 619-page PDF.
    check_chunks(handbook, chunks, 220)
    assert sum(c.n_tokens < 20 for c in chunks) < len(chunks) // 50
    for name in ("pdf/pdfjs__tracemonkey.pdf", "text/chatchat__zh__大模型推理优化策略.md"):
        doc = parse_document(corpus / name)
        check_chunks(doc, chunk_document(doc, doc_id="doc1", collection="kb"), 220)


@pytest.mark.parametrize("max_tokens", [16, 64, 256])
def test_sizes_hold_on_a_mixed_document(max_tokens: int) -> None:
    doc = make_doc(
        [
            (BlockKind.HEADING, "混合 Mixed", 1),
            (BlockKind.PARAGRAPH, sentences(12) + "。".join("中文句子" * 3 for _ in range(9)), 1),
            (BlockKind.TABLE, "A | B\n" + "\n".join(f"{k} | {k * k}" for k in range(30)), 1),
            (BlockKind.FOOTER, "Footer text", 1),
        ]
    )
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", max_tokens=max_tokens)
    check_chunks(doc, chunks, max_tokens)
    assert not any("Footer text" in c.text for c in chunks)  # running text is no passage


def test_an_expensive_counter_is_called_little_and_sizes_stay_exact(corpus: Path) -> None:
    """With a real tokenizer: sizes exact, about one call per sentence, none per search step."""
    from qwen_desk.core.embedding import Embedder

    embedder = Embedder()
    calls = 0

    def count(text: str) -> int:
        nonlocal calls
        calls += 1
        return embedder.count_tokens(text)

    doc = parse_document(corpus / "pdf" / "pdfjs__tracemonkey.pdf")
    chunks = chunk_document(doc, doc_id="doc1", collection="kb", count_tokens=count)
    check_chunks(doc, chunks, 220, embedder.count_tokens)
    sentences_in_doc = sum(len(re.findall(r"[.!?](\s|$)", b.text)) + 1 for b in doc.blocks)
    assert calls < sentences_in_doc + 2 * len(chunks)
