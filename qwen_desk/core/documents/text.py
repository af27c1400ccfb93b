"""Core layer: plain-text and Markdown parsing into blocks over the decoded file text.

``ParsedDocument.text`` is the decoded file itself (line ends normalised to "\\n"), so a text
viewer can show the original and highlight by offsets. TXT: paragraphs split on blank lines, and
a very long line (one article per line, as in news dumps) is a paragraph of its own. Markdown:
ATX headings (``# ...``) become HEADING blocks and set the heading path of what follows, fenced
code stays whole as CODE, pipe tables become TABLE, list items LIST_ITEM, everything else
paragraphs split on blank lines.
"""

from __future__ import annotations

import re
from pathlib import Path

from qwen_desk.core.documents.builder import HeadingTrail
from qwen_desk.core.documents.encoding import decode_bytes
from qwen_desk.core.errors import FileNotReadable, NoTextContent
from qwen_desk.core.types import Block, BlockKind, ParsedDocument

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_TABLE = re.compile(r"^\s*\|")
LONG_LINE = 400  # characters: a line this long is a paragraph by itself


def parse_text(path: str | Path, kind: str = "txt") -> ParsedDocument:
    """Parse a .txt or .md file (kind "txt" or "md")."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FileNotReadable(f"Cannot read {p.name}: {exc.strerror or exc}") from exc
    text, encoding = decode_bytes(data, p.name)
    blocks = parse_markdown_blocks(text) if kind == "md" else parse_plain_blocks(text)
    if not blocks:
        raise NoTextContent(f"{p.name} contains no text")
    heading = next((b.text for b in blocks if b.kind is BlockKind.HEADING), "")
    title = heading.lstrip("#").strip() if heading else p.stem
    return ParsedDocument(
        path=str(p),
        kind=kind,
        title=title or p.stem,
        text=text,
        blocks=blocks,
        page_count=1,
        encoding=encoding,
    )


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the newline."""
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _block(text: str, start: int, end: int, kind: BlockKind, trail: HeadingTrail, level: int = 0):
    """A block over ``text[start:end]`` trimmed of surrounding whitespace (None when blank)."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    start += len(piece) - len(piece.lstrip())
    end = start + len(stripped)
    title = stripped
    if kind is BlockKind.HEADING:
        match = _ATX.match(stripped)
        title = (match.group(2) or "") if match else stripped
    return Block(
        text=stripped,
        kind=kind,
        page=1,
        start=start,
        end=end,
        level=level,
        heading_path=trail.path_for(kind, level, title),
    )


def parse_plain_blocks(text: str) -> list[Block]:
    """Paragraphs separated by blank lines."""
    trail = HeadingTrail()
    blocks: list[Block] = []
    para_start: int | None = None
    last_end = 0
    for start, end in _lines(text):
        long_line = end - start >= LONG_LINE
        if para_start is not None and (long_line or not text[start:end].strip()):
            _append(blocks, _block(text, para_start, last_end, BlockKind.PARAGRAPH, trail))
            para_start = None
        if long_line:
            _append(blocks, _block(text, start, end, BlockKind.PARAGRAPH, trail))
        elif text[start:end].strip():
            if para_start is None:
                para_start = start
            last_end = end
    if para_start is not None:
        _append(blocks, _block(text, para_start, last_end, BlockKind.PARAGRAPH, trail))
    return blocks


def _append(blocks: list[Block], block: Block | None) -> None:
    if block is not None:
        blocks.append(block)


def parse_markdown_blocks(text: str) -> list[Block]:
    """Headings, fenced code, tables, list items and paragraphs of a Markdown text."""
    trail = HeadingTrail()
    blocks: list[Block] = []
    para: list[tuple[int, int]] = []  # lines of the paragraph being collected
    fence: str | None = None
    fence_start = 0

    def flush() -> None:
        if not para:
            return
        first = text[para[0][0] : para[0][1]]
        kind = BlockKind.PARAGRAPH
        if _TABLE.match(first):
            kind = BlockKind.TABLE
        elif _LIST.match(first):
            kind = BlockKind.LIST_ITEM
        _append(blocks, _block(text, para[0][0], para[-1][1], kind, trail))
        para.clear()

    spans = _lines(text)
    for start, end in spans:
        line = text[start:end]
        if fence is not None:
            if line.strip().startswith(fence):
                _append(blocks, _block(text, fence_start, end, BlockKind.CODE, trail))
                fence = None
            continue
        opened = _FENCE.match(line)
        if opened:
            flush()
            fence, fence_start = opened.group(1)[:3], start
            continue
        heading = _ATX.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            _append(blocks, _block(text, start, end, BlockKind.HEADING, trail, level))
            continue
        if not line.strip():
            flush()
            continue
        if para and _LIST.match(line) and not _TABLE.match(text[para[0][0] : para[0][1]]):
            flush()  # each list item is its own block
        para.append((start, end))
    if fence is not None:  # unclosed fence: code to the end
        _append(blocks, _block(text, fence_start, spans[-1][1], BlockKind.CODE, trail))
    flush()
    return blocks
