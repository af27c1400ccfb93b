"""Core layer: assembles a parsed document's text and blocks with consistent offsets.

Every parser appends its blocks here in reading order. Blocks are separated by a blank line
(the same string as ``PAGE_SEPARATOR``), so ``ParsedDocument.text`` is the pages joined by
``PAGE_SEPARATOR`` and ``text[block.start:block.end] == block.text`` always holds.

Heading paths: a heading block's own ``heading_path`` ends with its own title; other body blocks
carry the titles of the headings above them. Headers, footers and notes carry no path.
"""

from __future__ import annotations

from collections.abc import Iterable

from qwen_desk.core.types import PAGE_SEPARATOR, Block, BlockKind, LineSpan, Rect

BLOCK_SEPARATOR = PAGE_SEPARATOR
OUTSIDE_BODY = frozenset(
    {BlockKind.HEADER, BlockKind.FOOTER, BlockKind.FOOTNOTE, BlockKind.ENDNOTE}
)
MAX_TITLE_CHARS = 200


class HeadingTrail:
    """The stack of enclosing headings while walking a document top to bottom."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> tuple[str, ...]:
        """A heading of ``level`` starts: it replaces every heading at its level or below."""
        title = " ".join(title.split())[:MAX_TITLE_CHARS]
        self._stack = [(lv, t) for lv, t in self._stack if lv < level]
        self._stack.append((level, title))
        return self.path

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self._stack)

    def path_for(self, kind: BlockKind, level: int, text: str) -> tuple[str, ...]:
        """The heading path of a block of ``kind`` (and move the trail on for headings)."""
        if kind in OUTSIDE_BODY:
            return ()
        if kind is BlockKind.HEADING:
            return self.enter(max(level, 1), text)
        return self.path


class TextBuilder:
    """Appends blocks to one growing text; each block records its absolute offsets."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pos = 0
        self.blocks: list[Block] = []
        self.trail = HeadingTrail()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(
        self,
        text: str,
        kind: BlockKind,
        page: int,
        *,
        level: int = 0,
        lines: Iterable[tuple[int, int, Rect]] = (),
    ) -> Block | None:
        """Append a block; ``lines`` are (start, end, rect) relative to ``text``. Blank: skipped."""
        if not text or text.isspace():
            return None
        if self._parts:
            self._parts.append(BLOCK_SEPARATOR)
            self._pos += len(BLOCK_SEPARATOR)
        start = self._pos
        self._parts.append(text)
        self._pos += len(text)
        block = Block(
            text=text,
            kind=kind,
            page=page,
            start=start,
            end=self._pos,
            level=level if kind is BlockKind.HEADING else 0,
            heading_path=self.trail.path_for(kind, level, text),
            lines=[LineSpan(start + s, start + e, r) for s, e, r in lines],
        )
        self.blocks.append(block)
        return block
