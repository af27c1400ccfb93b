"""Every corpus document through the sandboxed parser: a result or a known error, never worse.

Each file (pdf/, docx/, text/) is parsed by ``ParserProcess`` with a per-file timeout, with the
manifest's password where one is listed. The outcome must be a ParsedDocument or a
DocumentError with a known code: no other exception, no hang, no crash. Specific expectations
from the manifests are asserted on top. Run with ``-s`` to see the outcome table.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qwen_desk.core.documents import SUPPORTED_SUFFIXES
from qwen_desk.core.documents.sandbox import ParserProcess
from qwen_desk.core.errors import QwenDeskError
from qwen_desk.core.types import BlockKind, ParsedDocument

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

PER_FILE_TIMEOUT_S = 60.0
KNOWN_CODES = {
    "empty_file",
    "corrupt_file",
    "password_required",
    "wrong_password",
    "no_text",
    "unsupported_type",
    "binary_content",
    "unknown_encoding",
}
Outcome = ParsedDocument | QwenDeskError


def manifest(corpus: Path, folder: str) -> dict[str, dict[str, str]]:
    with (corpus / folder / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


@pytest.fixture(scope="module")
def parser() -> Iterator[ParserProcess]:
    with ParserProcess(timeout_s=PER_FILE_TIMEOUT_S) as process:
        yield process


def attempt(parser: ParserProcess, path: Path, password: str | None = None) -> Outcome:
    try:
        return parser.parse(path, password)
    except QwenDeskError as exc:  # anything else propagates and fails the test
        return exc


@pytest.fixture(scope="module")
def outcomes(corpus: Path, parser: ParserProcess) -> dict[str, Outcome]:
    """One parse of every supported corpus file, with its manifest password."""
    results: dict[str, Outcome] = {}
    rows: list[str] = []
    for folder in ("pdf", "docx", "text"):
        listed = manifest(corpus, folder)
        for path in sorted((corpus / folder).iterdir()):
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            password = (listed.get(path.name) or {}).get("password") or None
            started = time.perf_counter()
            outcome = attempt(parser, path, password)
            elapsed = time.perf_counter() - started
            results[f"{folder}/{path.name}"] = outcome
            if isinstance(outcome, ParsedDocument):
                status = (
                    f"ok pages={outcome.page_count} blocks={len(outcome.blocks)} "
                    f"chars={len(outcome.text)} scanned={len(outcome.scanned_pages)}"
                )
            else:
                status = f"{outcome.code}: {outcome.message[:70]}"
            rows.append(f"{folder}/{path.name[:52]:55} {elapsed:6.2f}s  {status}")
    print("\n" + "\n".join(rows))
    return results


def test_every_file_ends_in_a_document_or_a_known_error(outcomes: dict[str, Outcome]) -> None:
    assert len(outcomes) >= 75
    for name, outcome in outcomes.items():
        if isinstance(outcome, QwenDeskError):
            assert outcome.code in KNOWN_CODES, (name, outcome.code, outcome.message)
        else:
            assert outcome.text and outcome.blocks, name
            for block in outcome.blocks:
                assert outcome.text[block.start : block.end] == block.text, name


def test_pdf_page_counts_match_the_manifest(corpus: Path, outcomes: dict[str, Outcome]) -> None:
    checked = 0
    for name, row in manifest(corpus, "pdf").items():
        outcome = outcomes[f"pdf/{name}"]
        facts = json.loads(row["pymupdf_check"] or "{}")
        if isinstance(outcome, ParsedDocument) and "pages" in facts:
            assert outcome.page_count == facts["pages"], name
            assert len(outcome.page_sizes) == outcome.page_count
            checked += 1
    assert checked >= 30


def test_encrypted_pdfs(corpus: Path, parser: ParserProcess, outcomes: dict[str, Outcome]) -> None:
    for name, row in manifest(corpus, "pdf").items():
        if not row["password"]:
            continue
        path = corpus / "pdf" / name
        assert isinstance(outcomes[f"pdf/{name}"], ParsedDocument), name
        assert attempt(parser, path).code == "password_required", name  # type: ignore[union-attr]
        wrong = attempt(parser, path, "not-the-password")
        assert wrong.code == "wrong_password", name  # type: ignore[union-attr]
    raw = attempt(parser, corpus / "pdf" / "pdfjs__saslprep-r6.pdf", "SªSL\u00adprep")
    assert isinstance(raw, ParsedDocument)  # the un-normalised password works too
    protected = outcomes["pdf/tika__testPDF_protected.pdf"]  # owner password only
    assert isinstance(protected, ParsedDocument) and protected.page_count == 41


def test_broken_and_scanned_pdfs(outcomes: dict[str, Outcome]) -> None:
    def code(name: str) -> str:
        outcome = outcomes[f"pdf/{name}"]
        assert isinstance(outcome, QwenDeskError), name
        return outcome.code

    assert code("pdfplumber__empty.pdf") == "empty_file"
    assert code("pdfjs__poppler-742-0-fuzzed.pdf") == "corrupt_file"
    assert code("pdfjs__bug1020226.pdf") == "corrupt_file"  # repaired into zero pages
    for name, pages in [
        ("tika__testOCR.pdf", 1),
        ("pdfminer__nonfree-175.pdf", 2),
        ("pdfjs__issue7229.pdf", 2),
        ("pymupdf__test_3863.pdf", 8),
        ("unstructured__loremipsum-flat.pdf", 1),
    ]:
        error = outcomes[f"pdf/{name}"]
        assert isinstance(error, QwenDeskError) and error.code == "no_text", name
        assert f"{pages} of {pages} pages are scanned" in error.message
    for name in ("pdfjs__font_ascent_descent.pdf", "pdfminer__issue-791-non-unicode-cmap.pdf"):
        garbled = outcomes[f"pdf/{name}"]  # fonts without a Unicode mapping: gibberish
        assert isinstance(garbled, QwenDeskError) and garbled.code == "no_text", name
    cycle = outcomes["pdf/pdfjs__Pages-tree-refs.pdf"]
    assert isinstance(cycle, ParsedDocument) and cycle.warnings
    # scans that carry an OCR text layer are text, not scanned pages
    zh_scan = outcomes["pdf/pdfplumber__pr-136-example-zh-scan.pdf"]
    assert isinstance(zh_scan, ParsedDocument) and not zh_scan.scanned_pages
    assert "财务" in zh_scan.text


def test_docx_expectations(
    corpus: Path, parser: ParserProcess, outcomes: dict[str, Outcome]
) -> None:
    def doc(name: str) -> ParsedDocument:
        outcome = outcomes[f"docx/{name}"]
        assert isinstance(outcome, ParsedDocument), (name, outcome)
        return outcome

    for name in ("tika__testWORD_truncated.docx", "poi__truncated62886.docx"):
        assert getattr(outcomes[f"docx/{name}"], "code", None) == "corrupt_file"
    locked = corpus / "docx" / "tika__testWORD_protected_passtika.docx"
    assert attempt(parser, locked).code == "password_required"  # type: ignore[union-attr]
    assert attempt(parser, locked, "nope").code == "wrong_password"  # type: ignore[union-attr]
    opened = attempt(parser, locked, "tika")
    assert isinstance(opened, ParsedDocument) and "encrypted Word 2007" in opened.text
    assert doc("mammoth__text-box.docx").text == "Datum plane"
    footnotes = doc("mammoth__footnotes.docx")
    assert "A tachyon walks into a bar." in footnotes.text
    assert any(b.kind is BlockKind.FOOTNOTE for b in footnotes.blocks)
    assert any(b.kind is BlockKind.ENDNOTE for b in doc("mammoth__endnotes.docx").blocks)
    assert doc("mammoth__strict-format.docx").text == "Test"
    assert "Here should not be the POI web site" in doc("poi__ExternalEntityInText.docx").text
    handbook = doc("unstructured__handbook-872p.docx")
    assert len(handbook.text) > 800_000
    zh = doc("chatchat__NB-核电厂定期安全审查指南-第1部分-通用要求.docx")
    assert sum(b.kind is BlockKind.TABLE for b in zh.blocks) >= 3
    assert any(b.kind is BlockKind.HEADER for b in zh.blocks)


def test_text_files_decode(outcomes: dict[str, Outcome]) -> None:
    texts = {k: v for k, v in outcomes.items() if k.startswith("text/")}
    assert len(texts) == 10
    for name, outcome in texts.items():
        assert isinstance(outcome, ParsedDocument) and outcome.encoding == "utf-8", name
