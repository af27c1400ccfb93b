"""PDF parsing on generated files (pymupdf writes them) and on the real corpus PDFs."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import pymupdf
import pytest

from qwen_desk.core.documents import parse_document
from qwen_desk.core.documents.layout import reading_order
from qwen_desk.core.documents.pdf import password_candidates
from qwen_desk.core.errors import (
    CorruptFile,
    EmptyFile,
    NoTextContent,
    PasswordRequired,
    WrongPassword,
)
from qwen_desk.core.types import PAGE_SEPARATOR, BlockKind, ParsedDocument


def check_offsets(doc: ParsedDocument) -> None:
    """Every block and line points at its own text in ``doc.text``."""
    for block in doc.blocks:
        assert doc.text[block.start : block.end] == block.text
        for line in block.lines:
            assert block.start <= line.start < line.end <= block.end
            assert doc.text[line.start : line.end].strip()


def two_column_pdf(path: Path) -> Path:
    """Two columns whose baselines and paragraph gaps line up (the hardest case)."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((50, 60), "A Study Of Columns", fontsize=20)
    y = 100
    for k in range(12):
        if k == 6:
            y += 20
        page.insert_text((50, y), f"Left column sentence number {k} goes here.", fontsize=10)
        page.insert_text((320, y), f"Right column sentence number {k} goes here.", fontsize=10)
        y += 14
    doc.save(path)
    return path


def test_two_columns_are_read_column_by_column(tmp_path: Path) -> None:
    doc = parse_document(two_column_pdf(tmp_path / "two.pdf"))
    check_offsets(doc)
    left = [doc.text.index(f"Left column sentence number {k} ") for k in range(12)]
    right = [doc.text.index(f"Right column sentence number {k} ") for k in range(12)]
    assert left == sorted(left) and right == sorted(right)
    assert max(left) < min(right)
    heading = doc.blocks[0]
    assert heading.kind is BlockKind.HEADING and heading.text == "A Study Of Columns"
    assert doc.title == "A Study Of Columns"
    assert doc.blocks[1].heading_path == ("A Study Of Columns",)


def test_line_rects_cover_their_text(tmp_path: Path) -> None:
    path = two_column_pdf(tmp_path / "two.pdf")
    doc = parse_document(path)
    page = pymupdf.open(path)[0]
    assert doc.page_sizes == [(612.0, 792.0)]
    spans = [line for block in doc.blocks for line in block.lines]
    assert len(spans) == 25
    for line in spans[:5] + spans[-5:]:
        clipped = page.get_textbox(pymupdf.Rect(line.rect) + pymupdf.Rect(-1, -1, 1, 1))
        assert doc.text[line.start : line.end] in " ".join(clipped.split())


def test_pages_are_joined_by_the_separator_and_blocks_know_their_page(tmp_path: Path) -> None:
    pdf = pymupdf.open()
    for n in range(3):
        pdf.new_page().insert_text((72, 72), f"Text of page {n + 1}.")
    pdf.save(tmp_path / "three.pdf")
    doc = parse_document(tmp_path / "three.pdf")
    assert doc.page_count == 3
    assert doc.text == PAGE_SEPARATOR.join(f"Text of page {n}." for n in (1, 2, 3))
    assert [b.page for b in doc.blocks] == [1, 2, 3]


def test_rotated_page_keeps_text_and_rects_on_the_displayed_page(tmp_path: Path) -> None:
    pdf = pymupdf.open()
    page = pdf.new_page(width=612, height=792)
    page.insert_text((72, 100), "Sideways but readable.", fontsize=12)
    page.set_rotation(90)
    pdf.save(tmp_path / "rot.pdf")
    doc = parse_document(tmp_path / "rot.pdf")
    assert doc.text == "Sideways but readable."
    assert doc.page_sizes == [(792.0, 612.0)]
    x0, y0, x1, y1 = doc.blocks[0].lines[0].rect
    assert 0 <= x0 < x1 <= 792 and 0 <= y0 < y1 <= 612


def test_table_with_ruling_lines_becomes_one_table_block(tmp_path: Path) -> None:
    pdf = pymupdf.open()
    page = pdf.new_page()
    page.insert_text((72, 60), "Quarterly figures below.")
    xs, ys = [72, 200, 330, 460], [80, 100, 120, 140]
    for x in xs:
        page.draw_line((x, ys[0]), (x, ys[-1]))
    for y in ys:
        page.draw_line((xs[0], y), (xs[-1], y))
    cells = [["Item", "Q1", "Q2"], ["Revenue", "100", "120"], ["Cost", "80", "90"]]
    for r, row in enumerate(cells):
        for c, text in enumerate(row):
            page.insert_text((xs[c] + 4, ys[r] + 14), text, fontsize=10)
    pdf.save(tmp_path / "table.pdf")
    doc = parse_document(tmp_path / "table.pdf")
    tables = [b for b in doc.blocks if b.kind is BlockKind.TABLE]
    assert len(tables) == 1
    assert tables[0].text == "Item | Q1 | Q2\nRevenue | 100 | 120\nCost | 80 | 90"
    assert len(tables[0].lines) == 3
    assert "Revenue" not in doc.text.replace(tables[0].text, "")  # not repeated as lines


def test_scanned_pages_are_listed_and_an_all_scanned_file_is_refused(tmp_path: Path) -> None:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pix.set_rect(pix.irect, (200, 200, 200))
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "Typed page.")
    pdf.new_page().insert_image(pymupdf.Rect(50, 50, 500, 700), pixmap=pix)
    pdf.save(tmp_path / "mixed.pdf")
    doc = parse_document(tmp_path / "mixed.pdf")
    assert doc.scanned_pages == [2] and doc.text == "Typed page."
    assert any("scanned" in w for w in doc.warnings)

    only = pymupdf.open()
    for _ in range(3):
        only.new_page().insert_image(pymupdf.Rect(50, 50, 500, 700), pixmap=pix)
    only.save(tmp_path / "scan.pdf")
    with pytest.raises(NoTextContent, match="3 of 3 pages are scanned"):
        parse_document(tmp_path / "scan.pdf")


def test_encrypted_pdf_needs_the_right_password(tmp_path: Path) -> None:
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "Confidential numbers.")
    path = tmp_path / "secret.pdf"
    pdf.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="s3cret", owner_pw="owner")
    with pytest.raises(PasswordRequired):
        parse_document(path)
    with pytest.raises(PasswordRequired):
        parse_document(path, "")
    with pytest.raises(WrongPassword):
        parse_document(path, "nope")
    assert parse_document(path, "s3cret").text == "Confidential numbers."


def test_password_candidates_normalise_like_saslprep() -> None:
    assert password_candidates("plain") == ["plain"]
    assert password_candidates("SªSL\u00adprep") == ["SªSL\u00adprep", "SaSLprep"]


def test_damaged_inputs_raise_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "zero.pdf").write_bytes(b"")
    with pytest.raises(EmptyFile):
        parse_document(tmp_path / "zero.pdf")
    (tmp_path / "junk.pdf").write_bytes(b"this is not a pdf at all\n" * 40)
    with pytest.raises(CorruptFile):
        parse_document(tmp_path / "junk.pdf")


def test_reading_order_merges_bands_of_aligned_columns() -> None:
    title = (50, 10, 560, 30)
    left = [(50, 40 + 30 * k, 280, 60 + 30 * k) for k in range(4)]
    right = [(320, 40 + 30 * k, 560, 60 + 30 * k) for k in range(4)]
    footer = (50, 200, 560, 210)
    boxes = [title, *left, *right, footer]
    assert reading_order(boxes) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    shuffled = [footer, *right, title, *left]
    names = ["footer", "r0", "r1", "r2", "r3", "title", "l0", "l1", "l2", "l3"]
    expected = ["title", "l0", "l1", "l2", "l3", "r0", "r1", "r2", "r3", "footer"]
    assert [names[i] for i in reading_order(shuffled)] == expected


# --- the real corpus -------------------------------------------------------------------------


def corpus_pdf(corpus: Path, name: str, password: str | None = None) -> ParsedDocument:
    doc = parse_document(corpus / "pdf" / name, password)
    check_offsets(doc)
    return doc


@pytest.mark.parametrize(
    ("name", "column_lines", "right_phrase"),
    [
        # consecutive lines of one column must stay together (line-by-line interleaving of
        # two columns would put a line of the other column between them), and page 1's left
        # column comes before its right column; hyphenated line ends are joined, ligatures
        # ("ﬁ") expanded
        (
            "pdfjs__tracemonkey.pdf",
            [
                "to compile than statically typed ones. Since no concrete type information",
                "is available",
            ],
            "Compilers for statically typed languages",
        ),
        (
            "unstructured__multi-column.pdf",
            [
                "question answering relies on efficient passage retrieval to select candidate",
                "contexts",
            ],
            "Retrieval in open-domain QA is usually",
        ),
        (
            "pdfplumber__federal-register-2020-17221.pdf",
            ["SUMMARY: The FAA proposes to", "supersede Airworthiness Directive (AD)"],
            "Examining the AD Docket",
        ),
    ],
)
def test_corpus_multi_column_pages_are_not_interleaved(
    corpus: Path, name: str, column_lines: list[str], right_phrase: str
) -> None:
    doc = corpus_pdf(corpus, name)
    assert "\n".join(column_lines) in doc.text
    first_page = "".join(b.text + "\n" for b in doc.blocks if b.page == 1)
    assert first_page.index(column_lines[0]) < first_page.index(right_phrase)


def test_corpus_federal_register_reads_three_columns_in_order(corpus: Path) -> None:
    doc = corpus_pdf(corpus, "pdfplumber__federal-register-2020-17221.pdf")
    page1 = [b for b in doc.blocks if b.page == 1]
    lefts = [b.lines[0].rect[0] for b in page1 if b.lines]
    # columns start near x=45, 222-231 and 399-408: once a column is left, it is not re-entered
    column = [0 if x < 215 else 1 if x < 395 else 2 for x in lefts]
    changes = sum(1 for a, b in pairwise(column) if a != b)
    assert changes <= 6, column


def test_corpus_rotated_pages(corpus: Path) -> None:
    doc = corpus_pdf(corpus, "pdfjs__hello_world_rotated.pdf")
    assert doc.page_count == 5
    assert [b.text for b in doc.blocks] == ["Hello world"] * 5
    zh = corpus_pdf(corpus, "pdfplumber__issue-461-example-zh-rotated.pdf")
    assert "样本类型" in zh.text
    # the sideways lab report is read row by row: 性别 before 年龄 on the same row
    assert zh.text.index("性别") < zh.text.index("年龄")


def test_corpus_needs_pass_trap_and_saslprep(corpus: Path) -> None:
    assert "Secret" in corpus_pdf(corpus, "pdfminer__aes-256.pdf", "baz").text
    assert corpus_pdf(corpus, "pdfjs__saslprep-r6.pdf", "SaSLprep").text
    assert corpus_pdf(corpus, "pdfjs__saslprep-r6.pdf", "SªSL\u00adprep").text
    with pytest.raises(WrongPassword):
        corpus_pdf(corpus, "pdfjs__saslprep-r6.pdf", "saslprep")
    protected = corpus_pdf(corpus, "tika__testPDF_protected.pdf")  # owner password only
    assert protected.page_count == 41 and len(protected.text) > 10_000


def test_corpus_page_tree_cycle_keeps_the_readable_page(corpus: Path) -> None:
    doc = corpus_pdf(corpus, "pdfjs__Pages-tree-refs.pdf")
    assert doc.text and any("cycle" in w for w in doc.warnings)


def test_corpus_form_values_are_extracted(corpus: Path) -> None:
    doc = corpus_pdf(corpus, "pymupdf__cms-etc-filled.pdf")
    form = pymupdf.open(corpus / "pdf" / "pymupdf__cms-etc-filled.pdf")
    values = [
        str(w.field_value).strip()
        for w in form[0].widgets()
        if isinstance(w.field_value, str) and len(w.field_value.strip()) > 3
    ]
    assert values
    assert all(v.split()[0] in doc.text for v in values)


def test_corpus_chinese_pdf_lines_join_without_breaking_words(corpus: Path) -> None:
    doc = corpus_pdf(corpus, "pdfplumber__issue-67-example-zh.pdf")
    assert doc.title == "东北电气发展股份有限公司"
    assert any(b.kind is BlockKind.TABLE and " | " in b.text for b in doc.blocks)


@pytest.mark.slow
def test_corpus_parse_speed(corpus: Path) -> None:
    """Parse-only speed on the big PDFs (the product target is 300 pages/s on 2 cores).

    No time bound (a shared, busy machine): the figure is printed here and measured by
    bench/ingest.py (``parse_only``); the test checks that the big PDFs parse whole.
    """
    for name in ("unstructured__DA-619p.pdf", "pymupdf__test-3820.pdf"):
        started = time.perf_counter()
        doc = parse_document(corpus / "pdf" / name)
        rate = doc.page_count / (time.perf_counter() - started)
        print(f"{name}: {doc.page_count} pages, {rate:.0f} pages/s")
        assert doc.page_count > 0 and doc.text.strip()


def test_running_headers_in_a_large_font_are_not_headings(tmp_path: Path) -> None:
    pdf = pymupdf.open()
    for n in range(6):
        page = pdf.new_page()
        page.insert_text((72, 50), f"Annual Review page {n + 1}", fontsize=16)
        page.insert_text((72, 120), f"Body text of page {n + 1} in the usual size.", fontsize=10)
    page.insert_text((72, 200), "Closing Remarks", fontsize=16)
    pdf.save(tmp_path / "running.pdf")
    doc = parse_document(tmp_path / "running.pdf")
    assert [b.text for b in doc.blocks if b.kind is BlockKind.HEADING] == ["Closing Remarks"]


def test_corpus_garbled_text_layers_are_refused_not_indexed(corpus: Path) -> None:
    for name in ("pdfjs__font_ascent_descent.pdf", "pdfminer__issue-791-non-unicode-cmap.pdf"):
        with pytest.raises(NoTextContent, match="cannot be read"):
            parse_document(corpus / "pdf" / name)
    readable = corpus_pdf(corpus, "pdfjs__vertical-ja.pdf")  # few characters, all real
    assert "日本語" in readable.text and not readable.scanned_pages


def test_table_gate_needs_a_grid_not_underlines_or_frames(tmp_path: Path) -> None:
    from qwen_desk.core.documents.pdf import _may_hold_table

    pdf = pymupdf.open()
    underlined = pdf.new_page()
    for k in range(10):
        underlined.draw_line((72, 100 + 20 * k), (300, 100 + 20 * k))  # underlines only
    framed = pdf.new_page()
    framed.draw_rect(pymupdf.Rect(50, 50, 300, 200))
    framed.draw_rect(pymupdf.Rect(50, 250, 300, 400))  # two framed boxes
    for k in range(3):
        framed.draw_line((60, 60 + 10 * k), (290, 60 + 10 * k))
    grid = pdf.new_page()
    for k in range(3):
        grid.draw_line((100 + 80 * k, 100), (100 + 80 * k, 160))
        grid.draw_line((100, 100 + 30 * k), (260, 100 + 30 * k))
    pdf.save(tmp_path / "gate.pdf")
    pages = pymupdf.open(tmp_path / "gate.pdf")
    assert [_may_hold_table(page) for page in pages] == [False, False, True]
