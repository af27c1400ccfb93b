"""TXT/Markdown parsing and encoding detection, on files written here and on corpus texts."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from qwen_desk.core.documents import SUPPORTED_SUFFIXES, kind_for_path, parse_document
from qwen_desk.core.documents.encoding import decode_bytes
from qwen_desk.core.errors import (
    BinaryContent,
    EmptyFile,
    FileNotReadable,
    UnknownEncoding,
    UnsupportedFileType,
)
from qwen_desk.core.types import BlockKind

CHINESE = (
    "大模型推理优化策略：显存优化、批处理与量化。在部署大语言模型时，我们需要考虑吞吐量和延迟，"
    "以及服务器的内存容量。本文介绍常见的优化方法，并说明它们的优缺点。\n"
    "第二段：模型量化可以减少显存占用，但可能影响精度。"
)


def test_suffixes_and_kinds(tmp_path: Path) -> None:
    assert SUPPORTED_SUFFIXES[".markdown"] == "md"
    assert kind_for_path("a/B.PDF") == "pdf" and kind_for_path("x.docx") == "docx"
    assert kind_for_path("notes.txt") == "txt" and kind_for_path("sheet.xlsx") is None
    (tmp_path / "sheet.xlsx").write_bytes(b"PK")
    with pytest.raises(UnsupportedFileType):
        parse_document(tmp_path / "sheet.xlsx")
    with pytest.raises(FileNotReadable):
        parse_document(tmp_path / "missing.txt")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(FileNotReadable):
        parse_document(tmp_path / "folder.txt")
    (tmp_path / "empty.md").write_bytes(b"")
    with pytest.raises(EmptyFile):
        parse_document(tmp_path / "empty.md")


FRENCH = "Café crème brûlée à la carte, déjà vu, naïve façade."


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (codecs.BOM_UTF8 + CHINESE.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + CHINESE.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + CHINESE.encode("utf-16-be"), "utf-16-be"),
        (codecs.BOM_UTF32_LE + CHINESE.encode("utf-32-le"), "utf-32-le"),
        (CHINESE.encode("utf-8"), "utf-8"),
        (CHINESE.encode("gb18030"), "gb18030"),
        (CHINESE.encode("gbk"), "gb18030"),
        ("Hello, plain ASCII notes.\nSecond line.".encode("utf-16-le"), "utf-16-le"),
        (FRENCH.encode("cp1252"), "cp1252"),
    ],
)
def test_decode_bytes_detects_the_encoding(encoded: bytes, expected: str) -> None:
    text, encoding = decode_bytes(encoded)
    assert encoding == expected
    assert text in (CHINESE, "Hello, plain ASCII notes.\nSecond line.", FRENCH)
    assert "\ufeff" not in text


def _big5_text(source: str) -> str:
    """The characters of ``source`` that Big5 can encode (traditional and shared ones)."""
    return "".join(ch for ch in source if _encodable(ch, "big5"))


def _encodable(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def test_big5_and_gb18030_are_told_apart_on_real_chinese(corpus: Path) -> None:
    for name in ("chatchat__zh__大模型推理优化策略.md", "chatchat__zh__prompt-guide-test.txt"):
        source = (corpus / "text" / name).read_text(encoding="utf-8")
        big5 = _big5_text(source)
        assert decode_bytes(big5.encode("big5")) == (big5, "big5")
        assert decode_bytes(source.encode("gb18030")) == (source, "gb18030")
        utf16 = source.encode("utf-16")  # with BOM
        assert decode_bytes(utf16)[0] == source


def test_chinese_txt_file_in_gbk_parses_with_its_encoding(tmp_path: Path) -> None:
    path = tmp_path / "报告.txt"
    path.write_bytes(CHINESE.replace("\n", "\r\n").encode("gbk"))
    doc = parse_document(path)
    assert doc.encoding == "gb18030" and doc.kind == "txt"
    assert doc.text == CHINESE  # CRLF normalised
    assert doc.title == "报告"
    assert [b.text for b in doc.blocks] == [CHINESE]  # no blank line: one paragraph


def test_binary_and_undecodable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BinaryContent):
        decode_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00" * 50)
    with pytest.raises(BinaryContent):
        decode_bytes(bytes(range(1, 32)) * 40)
    with pytest.raises(EmptyFile):
        decode_bytes(b"")
    with pytest.raises(UnknownEncoding):
        decode_bytes(codecs.BOM_UTF8 + b"ok \xff\xfe broken")
    (tmp_path / "image.txt").write_bytes(bytes(range(256)) * 20)
    with pytest.raises((BinaryContent, UnknownEncoding)):
        parse_document(tmp_path / "image.txt")


def test_txt_paragraphs_split_on_blank_lines_and_long_lines(tmp_path: Path) -> None:
    long_line = "新闻正文" * 120
    path = tmp_path / "a.txt"
    path.write_text(f"First para\nstill first.\n\n\n  Second para.  \n{long_line}\n{long_line}\n")
    doc = parse_document(path)
    assert [b.text for b in doc.blocks] == [
        "First para\nstill first.",
        "Second para.",
        long_line,
        long_line,
    ]
    for block in doc.blocks:
        assert doc.text[block.start : block.end] == block.text
        assert block.page == 1 and block.kind is BlockKind.PARAGRAPH


def test_markdown_headings_code_tables_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(
        "# 指南\n\nIntro text.\n\n## Setup\n\n- step one\n- step two\n\n"
        "```python\n# not a heading\nprint(1)\n\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "### Deep\n\nDeep text.\n\n## Usage ##\n\nUse it.\n",
        encoding="utf-8",
    )
    doc = parse_document(path)
    kinds = [(b.kind, b.text.splitlines()[0]) for b in doc.blocks]
    assert kinds == [
        (BlockKind.HEADING, "# 指南"),
        (BlockKind.PARAGRAPH, "Intro text."),
        (BlockKind.HEADING, "## Setup"),
        (BlockKind.LIST_ITEM, "- step one"),
        (BlockKind.LIST_ITEM, "- step two"),
        (BlockKind.CODE, "```python"),
        (BlockKind.TABLE, "| a | b |"),
        (BlockKind.HEADING, "### Deep"),
        (BlockKind.PARAGRAPH, "Deep text."),
        (BlockKind.HEADING, "## Usage ##"),
        (BlockKind.PARAGRAPH, "Use it."),
    ]
    assert doc.title == "指南"
    by_text = {b.text: b for b in doc.blocks}
    assert by_text["Deep text."].heading_path == ("指南", "Setup", "Deep")
    assert by_text["Use it."].heading_path == ("指南", "Usage")
    assert by_text["## Setup"].level == 2
    assert "print(1)\n\n```" in doc.blocks[5].text  # the blank line stays inside the code


def test_corpus_texts_parse_with_valid_offsets(corpus: Path) -> None:
    for path in sorted((corpus / "text").iterdir()):
        if path.suffix not in SUPPORTED_SUFFIXES:
            continue
        doc = parse_document(path)
        assert doc.encoding == "utf-8" and doc.blocks
        for block in doc.blocks:
            assert doc.text[block.start : block.end] == block.text
    news = parse_document(corpus / "text" / "crud_rag__zh_news_part_1_part_1.txt")
    assert len(news.blocks) == 1930  # one article per line
