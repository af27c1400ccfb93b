"""DOCX parsing on files python-docx writes here and on the corpus' difficult Word files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml

from qwen_desk.core.documents import parse_document
from qwen_desk.core.errors import (
    CorruptFile,
    NoTextContent,
    PasswordRequired,
    UnsupportedFileType,
    WrongPassword,
)
from qwen_desk.core.types import BlockKind, ParsedDocument

W_DECL = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def check_offsets(doc: ParsedDocument) -> None:
    for block in doc.blocks:
        assert doc.text[block.start : block.end] == block.text


def build_docx(path: Path) -> Path:
    d = docx.Document()
    d.add_heading("Annual Report", level=0)  # style "Title"
    d.add_heading("Results", level=1)
    d.add_paragraph("Revenue grew in every region.")
    d.add_heading("By Region", level=2)
    d.add_paragraph("First point", style="List Bullet")
    table = d.add_table(rows=3, cols=3)
    for r, row in enumerate([["Region", "Q1", "Q2"], ["North", "10", "12"], ["South", "7", "9"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    merged = table.cell(1, 0).merge(table.cell(2, 0))
    merged.text = "North+South"
    tracked = d.add_paragraph("Kept ")
    tracked._p.append(
        parse_xml(f'<w:ins {W_DECL} w:id="1" w:author="a"><w:r><w:t>inserted</w:t></w:r></w:ins>')
    )
    tracked._p.append(
        parse_xml(
            f'<w:del {W_DECL} w:id="2" w:author="a"><w:r><w:delText>deleted</w:delText></w:r>'
            "</w:del>"
        )
    )
    d.add_page_break()
    d.add_heading("Outlook", level=1)
    d.add_paragraph("Next year looks stable.")
    section = d.sections[0]
    section.header.paragraphs[0].text = "ACME Confidential"
    section.footer.paragraphs[0].text = "Page footer text"
    new = d.add_section()
    new.header.is_linked_to_previous = False
    new.header.paragraphs[0].text = "ACME Confidential"  # identical: listed once
    d.add_paragraph("Second section body.")
    d.save(path)
    return path


def test_generated_docx_structure(tmp_path: Path) -> None:
    doc = parse_document(build_docx(tmp_path / "report.docx"))
    check_offsets(doc)
    kinds = [(b.kind, b.text) for b in doc.blocks]
    assert kinds[:4] == [
        (BlockKind.HEADING, "Annual Report"),
        (BlockKind.HEADING, "Results"),
        (BlockKind.PARAGRAPH, "Revenue grew in every region."),
        (BlockKind.HEADING, "By Region"),
    ]
    assert doc.title == "Annual Report"
    by_text = {b.text: b for b in doc.blocks}
    assert by_text["Results"].level == 1 and by_text["By Region"].level == 2
    assert by_text["First point"].kind is BlockKind.LIST_ITEM
    # "Title" is a level-1 heading like "Heading 1": the next level-1 heading replaces it
    assert by_text["First point"].heading_path == ("Results", "By Region")
    table = next(b for b in doc.blocks if b.kind is BlockKind.TABLE)
    assert table.text == "Region | Q1 | Q2\nNorth+South | 10 | 12\n | 7 | 9"
    assert "Kept inserted" in doc.text and "deleted" not in doc.text
    assert by_text["Outlook"].page == 2 and by_text["Results"].page == 1
    assert by_text["Outlook"].heading_path == ("Outlook",)
    assert by_text["Second section body."].page == 3  # a new section starts a new page
    assert doc.page_count == 3
    headers = [b.text for b in doc.blocks if b.kind is BlockKind.HEADER]
    footers = [b.text for b in doc.blocks if b.kind is BlockKind.FOOTER]
    assert headers == ["ACME Confidential"] and footers == ["Page footer text"]
    assert doc.blocks[-1].kind is BlockKind.FOOTER  # margins come after the body
    assert by_text["ACME Confidential"].heading_path == ()


def test_external_entities_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    base = build_docx(tmp_path / "base.docx")
    evil = tmp_path / "evil.docx"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}">'
        '<!ENTITY net SYSTEM "http://127.0.0.1:9/probe">]>\n'
        f"<w:document {W_DECL}><w:body><w:p><w:r><w:t>before &xxe; middle &net; after</w:t>"
        "</w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                data = body.encode()
            dst.writestr(item, data)
    doc = parse_document(evil)
    assert "TOP-SECRET" not in doc.text
    assert doc.blocks[0].text == "before  middle  after"


def test_encrypted_and_damaged_word_files(tmp_path: Path) -> None:
    cfb = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500
    encrypted = tmp_path / "locked.docx"
    encrypted.write_bytes(cfb + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 100)
    with pytest.raises(PasswordRequired, match="protected by a password"):
        parse_document(encrypted)
    with pytest.raises(CorruptFile, match="encrypted"):  # not a real encrypted package
        parse_document(encrypted, "the right one")
    old_doc = tmp_path / "old.docx"
    old_doc.write_bytes(cfb + b"WordDocument")
    with pytest.raises(UnsupportedFileType, match=r"\.doc"):
        parse_document(old_doc)
    good = build_docx(tmp_path / "good.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(good[: len(good) // 2])
    with pytest.raises(CorruptFile):
        parse_document(tmp_path / "cut.docx")
    (tmp_path / "text.docx").write_text("just text")
    with pytest.raises(CorruptFile):
        parse_document(tmp_path / "text.docx")


def test_docx_without_text(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("   ")
    d.save(tmp_path / "blank.docx")
    with pytest.raises(NoTextContent):
        parse_document(tmp_path / "blank.docx")


# --- the real corpus -------------------------------------------------------------------------


def corpus_docx(corpus: Path, name: str) -> ParsedDocument:
    doc = parse_document(corpus / "docx" / name)
    check_offsets(doc)
    return doc


def test_corpus_text_box_footnotes_endnotes(corpus: Path) -> None:
    box = corpus_docx(corpus, "mammoth__text-box.docx")
    assert [(b.kind, b.text) for b in box.blocks] == [(BlockKind.TEXTBOX, "Datum plane")]
    notes = corpus_docx(corpus, "mammoth__footnotes.docx")
    assert [b.text for b in notes.blocks if b.kind is BlockKind.FOOTNOTE] == [
        "A tachyon walks into a bar.",
        "Fin.",
    ]
    assert notes.blocks[0].text == "Ouch."
    endnotes = corpus_docx(corpus, "mammoth__endnotes.docx")
    assert sum(b.kind is BlockKind.ENDNOTE for b in endnotes.blocks) == 2
    table_notes = corpus_docx(corpus, "poi__table_footnotes.docx")
    assert any(b.kind is BlockKind.FOOTNOTE for b in table_notes.blocks)


def test_corpus_tracked_changes_strict_and_xxe(corpus: Path) -> None:
    delins = corpus_docx(corpus, "poi__delins.docx")
    assert "Tika can be:" in delins.text
    strict = corpus_docx(corpus, "mammoth__strict-format.docx")
    assert strict.text == "Test" and "Strict" in strict.warnings[0]
    probe = corpus_docx(corpus, "poi__ExternalEntityInText.docx")
    assert probe.text.startswith("Here should not be the POI web site")
    assert "<html" not in probe.text.lower()
    bom = corpus_docx(corpus, "mammoth__utf8-bom.docx")
    assert bom.text


def test_corpus_headers_footers_tables(corpus: Path) -> None:
    hf = corpus_docx(corpus, "unstructured__docx-hdrftr.docx")
    assert hf.blocks[0].text == "Main document"
    margins = "\n".join(b.text for b in hf.blocks if b.kind in (BlockKind.HEADER, BlockKind.FOOTER))
    assert "First header para" in margins
    assert "I should not be included" not in hf.text  # a vertically merged continuation cell
    in_run = corpus_docx(corpus, "tika__testWORD_tableInRunInsideParagraph.docx")
    assert any(b.kind is BlockKind.TABLE for b in in_run.blocks)
    zh = corpus_docx(corpus, "chatchat__NB-核电厂定期安全审查指南-第1部分-通用要求.docx")
    assert sum(b.kind is BlockKind.TABLE for b in zh.blocks) >= 3
    assert any(b.kind is BlockKind.HEADING and b.heading_path for b in zh.blocks)


def test_corpus_encrypted_and_truncated(corpus: Path) -> None:
    locked = corpus / "docx" / "tika__testWORD_protected_passtika.docx"
    with pytest.raises(PasswordRequired):
        parse_document(locked)
    with pytest.raises(WrongPassword):
        parse_document(locked, "not-tika")
    opened = parse_document(locked, "tika")  # decrypted in memory (msoffcrypto-tool)
    assert "This is an encrypted Word 2007 File." in opened.text
    for name in ("tika__testWORD_truncated.docx", "poi__truncated62886.docx"):
        with pytest.raises(CorruptFile):
            parse_document(corpus / "docx" / name)


# --- zip bombs -------------------------------------------------------------------------------


def test_a_docx_zip_bomb_is_refused_from_its_directory_before_reading(tmp_path: Path) -> None:
    from qwen_desk.core.documents.ooxml import MAX_RATIO, RATIO_FLOOR_BYTES
    from qwen_desk.core.errors import FileTooLarge
    from tests.support.hostile_inputs import inputs

    bomb = inputs().docx_bomb(tmp_path, 2 * RATIO_FLOOR_BYTES // (1024 * 1024))
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo("word/document.xml")
    assert info.file_size / info.compress_size > MAX_RATIO
    with pytest.raises(FileTooLarge) as caught:
        parse_document(bomb)
    assert "word/document.xml" in caught.value.message and "times" in caught.value.message


def test_large_text_files_are_refused_before_reading(tmp_path: Path) -> None:
    from qwen_desk.core.documents import MAX_TEXT_BYTES
    from qwen_desk.core.errors import FileTooLarge

    huge = tmp_path / "huge.md"
    with open(huge, "wb") as fh:  # sparse: nothing is written, nothing must be read
        fh.write(b"# title\n")
        fh.truncate(MAX_TEXT_BYTES + 1)
    with pytest.raises(FileTooLarge, match=f"over {MAX_TEXT_BYTES // 2**20} MB"):
        parse_document(huge)
