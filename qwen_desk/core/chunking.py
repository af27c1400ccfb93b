"""Core layer: structure-aware chunking of a parsed document into retrievable passages.

Rules, in order of strength:
- headers and footers (running text: DOCX header/footer parts, PDF lines repeated at the same
  place on many pages) never become chunks, and no chunk spans one
  (``ParsedDocument.running_text`` keeps them as metadata);
- a chunk never spans two pages (it cites one page) and never mixes body text with notes;
  a table stays whole when it fits (with the text around it when there is room), else it
  starts a new chunk and is split between rows, without overlap;
- a heading starts a new chunk, unless the chunk so far is tiny (a heading followed by a
  sub-heading stays with its first paragraph);
- a paragraph that does not fit starts a new chunk when the current one is at least half full;
  otherwise the chunk is filled sentence by sentence (English ``. ! ?`` and Chinese
  ``。！？；…`` ends, and line breaks); a sentence longer than ``max_tokens`` is cut between
  words (between characters for CJK), never inside a word;
- consecutive chunks of the same section overlap by up to ``overlap_tokens`` (whole sentences
  when they fit, else trailing words);
- a tiny last piece of a section is merged into the previous chunk when the result still fits.

``chunk.text == doc.text[chunk.char_start:chunk.char_end]`` always (exact slice, no
normalisation), ``n_tokens == count_tokens(chunk.text)`` and is at most ``max_tokens`` unless a
single word is longer. ``rects`` are the rectangles of the PDF lines the chunk overlaps.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

from qwen_desk.core.types import Block, BlockKind, Chunk, ParsedDocument, Rect, make_chunk_id

_CJK_CHARS = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
_WORD = re.compile(f"[^\\W\\d_{_CJK_CHARS}]+")
# One match per CJK character, per word, per two digits, per other visible mark.
_TOKENISH = re.compile(f"[{_CJK_CHARS}]|[^\\W\\d_{_CJK_CHARS}]+|\\d{{1,2}}|[^\\w\\s]")
_SENTENCE_END = re.compile(r"[。！？；…]+[”’」』）)]*|[.!?]+[\"'”’)\]]*(?=\s)|\n+")
_WORD_START = re.compile(f"(?<!\\S)\\S|[{_CJK_CHARS}]|(?<=[{_CJK_CHARS}])\\S")
MARGINS = frozenset({BlockKind.HEADER, BlockKind.FOOTER})
_GROUP = {
    BlockKind.FOOTNOTE: "note",
    BlockKind.ENDNOTE: "note",
}


def approx_token_count(text: str) -> int:
    """Conservative token estimate: a CJK character is 1, a word ~1.3, two digits 1, a mark 1."""
    # subn counts matches without building a list of them (3-4x faster on CJK text)
    return _TOKENISH.subn("", text)[1] + math.ceil(0.3 * _WORD.subn("", text)[1])


@dataclass
class _Unit:
    """A sentence (or row, or word run) of one block: the smallest piece a chunk is made of."""

    start: int
    end: int
    tokens: int


@dataclass
class _Draft:
    page: int
    group: str
    path: tuple[str, ...]
    stretch: int = 0  # text between two left-out margin blocks: drafts of two never merge
    units: list[_Unit] = field(default_factory=list)
    tokens: int = 0
    fresh: int = 0  # units that are not overlap from the previous chunk

    @property
    def start(self) -> int:
        return self.units[0].start

    @property
    def end(self) -> int:
        return self.units[-1].end

    def add(self, unit: _Unit, fresh: bool = True) -> None:
        self.units.append(unit)
        self.tokens += unit.tokens
        self.fresh += fresh


class _Chunker:
    def __init__(
        self, doc: ParsedDocument, count: Callable[[str], int], max_tokens: int, overlap: int
    ) -> None:
        self.text = doc.text
        self.count = count
        self.max = max(8, max_tokens)
        self.overlap = max(0, min(overlap, self.max // 2))
        self.drafts: list[_Draft] = []
        self.current: _Draft | None = None
        self.stretch = 0

    def run(self, blocks: list[Block]) -> list[_Draft]:
        for block in blocks:
            self.block(block)
        self.close()
        return self.drafts

    def block(self, block: Block) -> None:
        if block.kind in MARGINS:  # left out; the text on either side never joins across it
            self.close()
            self.stretch += 1
            return
        group = _GROUP.get(block.kind, "body")
        cur = self.current
        if cur is not None:
            hard = block.page != cur.page or group != cur.group
            heading = block.kind is BlockKind.HEADING and cur.tokens >= self.max // 4
            if hard or heading:
                self.close()
        units = self.units(block)
        total = sum(u.tokens for u in units)
        table = block.kind is BlockKind.TABLE
        follow = None if table else block  # table rows get no overlap
        cur = self.current
        if (
            cur is not None
            and cur.tokens + total > self.max
            and (table or cur.tokens >= self.max // 2)
        ):
            self.close(continue_with=follow)  # a table that does not fit starts a chunk
        for unit in units:
            cur = self.current
            if cur is not None and cur.tokens + unit.tokens > self.max:
                if cur.fresh:
                    self.close(continue_with=follow)
                    cur = self.current
                if cur is not None and cur.tokens + unit.tokens > self.max:
                    cur = None  # the overlap and this unit do not fit together: no overlap
            if cur is None:
                cur = self.current = _Draft(block.page, group, block.heading_path, self.stretch)
            cur.add(unit)
            cur.path = block.heading_path

    def close(self, continue_with: Block | None = None) -> None:
        """Finish the current chunk; when the section goes on, open the next with overlap."""
        cur = self.current
        self.current = None
        if cur is None or not cur.fresh:
            return
        self.drafts.append(cur)
        if continue_with is None or not self.overlap:
            return
        tail = self.tail(cur)
        if tail:
            nxt = _Draft(continue_with.page, cur.group, continue_with.heading_path, cur.stretch)
            for unit in tail:
                nxt.add(unit, fresh=False)
            self.current = nxt

    def tail(self, draft: _Draft) -> list[_Unit]:
        """The last whole units within the overlap budget, else the last unit's trailing words."""
        picked: list[_Unit] = []
        budget = self.overlap
        for unit in reversed(draft.units[1:]):
            if unit.tokens > budget:
                break
            picked.insert(0, unit)
            budget -= unit.tokens
        if picked:
            return picked
        last = draft.units[-1]
        starts = [m.start() for m in _WORD_START.finditer(self.text, last.start, last.end)]
        # searched with the cheap estimate (the overlap is a soft size), counted once exactly
        lo, hi, best = 1, len(starts) - 1, None  # never the whole unit (no progress)
        while lo <= hi:
            mid = (lo + hi) // 2
            if approx_token_count(self.text[starts[mid] : last.end]) <= self.overlap:
                best, hi = starts[mid], mid - 1
            else:
                lo = mid + 1
        if best is None:
            return []
        tokens = self.count(self.text[best : last.end])
        return [_Unit(best, last.end, tokens)] if tokens <= self.overlap * 2 else []

    def units(self, block: Block) -> list[_Unit]:
        if block.kind is BlockKind.TABLE:
            return self.fit(self.pieces(block.start, block.end, table=True))
        if approx_token_count(block.text) <= 3 * self.max:  # else clearly too long: skip a count
            tokens = self.count(block.text)
            if tokens <= self.max:
                return [_Unit(block.start, block.end, tokens)]
        return self.fit(self.pieces(block.start, block.end, table=False))

    def pieces(self, start: int, end: int, table: bool) -> list[tuple[int, int]]:
        """Rows of a table, or sentences of a text block, trimmed of surrounding whitespace."""
        cuts = [start]
        pattern = re.compile(r"\n") if table else _SENTENCE_END
        for match in pattern.finditer(self.text, start, end):
            cuts.append(match.end())
        cuts.append(end)
        out = []
        for a, b in pairwise(cuts):
            piece = self.text[a:b]
            stripped = piece.strip()
            if stripped:
                a += len(piece) - len(piece.lstrip())
                out.append((a, a + len(stripped)))
        return out

    def fit(self, pieces: list[tuple[int, int]]) -> list[_Unit]:
        """Units no larger than ``max``: pieces as they are, over-long ones cut between words."""
        units = []
        for a, b in pieces:
            tokens = self.count(self.text[a:b])
            if tokens <= self.max:
                units.append(_Unit(a, b, tokens))
            else:
                units.extend(self.cut_words(a, b))
        return units

    def cut_words(self, start: int, end: int) -> list[_Unit]:
        starts = [m.start() for m in _WORD_START.finditer(self.text, start, end)] or [start]
        starts.append(end)
        units = []
        i = 0
        while i < len(starts) - 1:
            lo, hi, best = i + 1, len(starts) - 1, i + 1  # at least one word per unit
            while lo <= hi:
                mid = (lo + hi) // 2
                if self.count(self.text[starts[i] : starts[mid]]) <= self.max:
                    best, lo = mid, mid + 1
                else:
                    hi = mid - 1
            a, b = starts[i], starts[best]
            piece = self.text[a:b].rstrip()
            units.append(_Unit(a, a + len(piece), self.count(piece)))
            i = best
        return units


def _merge_tiny_tails(
    drafts: list[_Draft], max_tokens: int, count: Callable[[str], int], text: str
) -> list[_Draft]:
    """Fold a tiny chunk into the previous one of the same page and group when it fits."""
    out: list[_Draft] = []
    tiny = max(8, max_tokens // 8)
    for draft in drafts:
        prev = out[-1] if out else None
        if (
            prev is not None
            and draft.tokens < tiny
            and prev.page == draft.page
            and prev.group == draft.group
            and prev.stretch == draft.stretch
            and draft.group != "table"
            and draft.end > prev.end
        ):
            merged = count(text[prev.start : draft.end])
            if merged <= max_tokens:
                prev.units = [u for u in prev.units] + [
                    u for u in draft.units if u.start >= prev.end
                ]
                prev.tokens = merged
                continue
        out.append(draft)
    return out


def _line_index(doc: ParsedDocument) -> tuple[list[int], list[int], list[Rect]]:
    starts, ends, rects = [], [], []
    for block in doc.blocks:
        for line in block.lines:
            starts.append(line.start)
            ends.append(line.end)
            rects.append(line.rect)
    return starts, ends, rects


def chunk_document(
    doc: ParsedDocument,
    *,
    doc_id: str,
    collection: str,
    count_tokens: Callable[[str], int] | None = None,
    max_tokens: int = 220,
    overlap_tokens: int = 30,
) -> list[Chunk]:
    """Split ``doc`` into chunks of at most ``max_tokens`` (see the module docstring)."""
    count = count_tokens or approx_token_count
    drafts = _Chunker(doc, count, max_tokens, overlap_tokens).run(doc.blocks)
    drafts = _merge_tiny_tails(drafts, max_tokens, count, doc.text)
    exact = [
        (d, d.tokens if len(d.units) == 1 else count(doc.text[d.start : d.end])) for d in drafts
    ]
    return _to_chunks(doc, exact, doc_id, collection)


def _to_chunks(
    doc: ParsedDocument, drafts: list[tuple[_Draft, int]], doc_id: str, collection: str
) -> list[Chunk]:
    starts, ends, rects = _line_index(doc)
    chunks: list[Chunk] = []
    for ordinal, (draft, tokens) in enumerate(drafts):
        chunk_rects: list[Rect] = []
        i = bisect_right(ends, draft.start)
        while i < len(starts) and starts[i] < draft.end:
            chunk_rects.append(rects[i])
            i += 1
        chunks.append(
            Chunk(
                chunk_id=make_chunk_id(collection, doc_id, ordinal),
                doc_id=doc_id,
                collection=collection,
                ord=ordinal,
                page=draft.page,
                char_start=draft.start,
                char_end=draft.end,
                text=doc.text[draft.start : draft.end],
                heading=" > ".join(draft.path),
                rects=chunk_rects,
                n_tokens=tokens,
            )
        )
    return chunks
