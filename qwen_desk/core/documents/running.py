"""Core layer: running text of a paged document (headers, footers, page numbers, watermarks).

A line is running text when text like it sits at the same place on many pages. Text is compared
with digits blanked ("第 3 页 共 20 页", "Page 3 of 20", "- 3 -" and "2018" all compare equal to
their neighbours) and whitespace removed. Place: lines wholly in the top or bottom band of the
page (``BAND``) are compared within their band, whatever their exact height or left/right
position (odd and even pages differ); other lines (watermarks, side stamps) only when short,
alone in their text block (not the last line of a paragraph that happens to end at the same
height on several pages) and centred within ``SAME_PLACE`` of each other.

Lines are counted into groups in one pass, in time linear in the number of lines: a line joins
the group of the same normalised text at its place (a dictionary look-up: its band, or for body
lines the grid cells of ``SAME_PLACE`` around its centre), else a group of similar text
(``SIMILAR``, so a header that names a chapter next to the page number still groups) found
through the same look-up by the first or last ``ANCHOR`` characters of its text, trying at most
``MAX_TRIES`` groups per line and ``MAX_TRIES_PER_PAGE`` per page. Nothing is compared across
all pages or all groups, and a page never offers more than ``MAX_PER_PAGE`` lines per place
(those nearest its edge), so a 600-page report costs a few milliseconds more than reading it.

A group is running text when it covers at least ``MIN_PAGES`` pages and ``MIN_SHARE`` of the
pages with text (``MIN_BODY_SHARE`` outside the bands): a 2-page document never loses
anything, and neither does a paragraph that happens to repeat somewhere in the body. Pure
geometry and strings, no pymupdf.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from qwen_desk.core.types import Rect

BAND = 0.12  # share of the page height at the top and at the bottom that margins live in
SAME_PLACE = 0.03  # share of the page size two watermark centres may differ by
MIN_PAGES = 3
MIN_SHARE = 0.4
MIN_BODY_SHARE = 0.6
SIMILAR = 0.85  # SequenceMatcher ratio of two normalised texts of one group
MAX_CHARS = 200  # longer lines are body text, wherever they are
MAX_BODY_CHARS = 60  # a watermark or stamp outside the bands is short
MAX_PER_PAGE = 24  # candidate lines of one page per place (top, bottom, body)
ANCHOR = 6  # similar texts are looked for among groups sharing their first or last characters
MIN_FUZZY = 7  # shorter texts group only when equal (one changed character is below SIMILAR)
MAX_TRIES = 4  # similarity computations per line
MAX_TRIES_PER_PAGE = 24  # and per page
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")

Place = tuple[str, float, float]  # ("top" | "bottom" | "body", centre x, centre y as shares)
Cell = tuple[str, int, int]


@dataclass
class _Group:
    key: str
    place: Place
    pages: set[int] = field(default_factory=set)
    members: list[tuple[int, int]] = field(default_factory=list)
    text: str = ""
    matcher: SequenceMatcher[str] | None = None  # its key as seq2, prepared once

    def similar(self, key: str) -> bool:
        if self.matcher is None:
            self.matcher = SequenceMatcher(None, "", self.key, autojunk=False)
        self.matcher.set_seq1(key)
        m = self.matcher
        return (
            m.real_quick_ratio() >= SIMILAR and m.quick_ratio() >= SIMILAR and m.ratio() >= SIMILAR
        )


def normalise(text: str) -> str:
    """Digits blanked, whitespace dropped, case folded: how running text is compared."""
    return _DIGITS.sub("#", _SPACE.sub("", text)).casefold()


def _place(rect: Rect, size: tuple[float, float]) -> Place | None:
    width, height = size
    if width <= 0 or height <= 0:
        return None
    x0, y0, x1, y1 = rect
    if y1 <= height * BAND:
        return ("top", 0.0, 0.0)
    if y0 >= height * (1 - BAND):
        return ("bottom", 0.0, 0.0)
    return ("body", (x0 + x1) / 2 / width, (y0 + y1) / 2 / height)


def _near(a: Place, b: Place) -> bool:
    if a[0] != b[0]:
        return False
    return a[0] != "body" or (abs(a[1] - b[1]) <= SAME_PLACE and abs(a[2] - b[2]) <= SAME_PLACE)


def _cell(place: Place) -> Cell:
    """The grid cell a group is filed under: its band, or a ``SAME_PLACE`` square of the body."""
    if place[0] != "body":
        return (place[0], 0, 0)
    return ("body", math.floor(place[1] / SAME_PLACE), math.floor(place[2] / SAME_PLACE))


def _cells(place: Place) -> Iterator[Cell]:
    """The cells that may hold a group ``_near`` this place (centres within one cell)."""
    kind, cx, cy = _cell(place)
    if kind != "body":
        yield (kind, cx, cy)
        return
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            yield (kind, cx + dx, cy + dy)


def _candidates(
    page: Sequence[tuple[str, Rect, bool]], size: tuple[float, float] | None
) -> list[tuple[int, str, Place, str]]:
    """(line index, key, place, text) of the lines of one page that may be running text."""
    if size is None:
        return []
    by_kind: dict[str, list[tuple[float, tuple[int, str, Place, str]]]] = {}
    for i, (text, rect, alone) in enumerate(page):
        place = _place(rect, size)
        if place is None or (place[0] == "body" and not alone):
            continue
        key = normalise(text)
        if not key or len(key) > (MAX_BODY_CHARS if place[0] == "body" else MAX_CHARS):
            continue
        # nearest the edge first: top lines by their top, bottom lines by their bottom
        rank = rect[1] if place[0] == "top" else -rect[3] if place[0] == "bottom" else float(i)
        by_kind.setdefault(place[0], []).append((rank, (i, key, place, text)))
    kept = []
    for lines in by_kind.values():
        if len(lines) > MAX_PER_PAGE:
            lines = sorted(lines, key=lambda item: item[0])[:MAX_PER_PAGE]
        kept.extend(line for _, line in lines)
    kept.sort(key=lambda line: line[0])
    return kept


class _Index:
    """Groups filed by (cell, text) and by (cell, first / last ``ANCHOR`` characters)."""

    def __init__(self) -> None:
        self.groups: list[_Group] = []
        self.exact: dict[tuple[Cell, str], list[_Group]] = {}
        self.anchored: dict[tuple[Cell, str, str], list[_Group]] = {}
        self.tries_left = MAX_TRIES_PER_PAGE

    def add(self, key: str, place: Place, text: str) -> _Group:
        group = _Group(key, place, text=text.strip())
        self.groups.append(group)
        cell = _cell(place)
        self.exact.setdefault((cell, key), []).append(group)
        if len(key) >= MIN_FUZZY:
            self.anchored.setdefault((cell, "head", key[:ANCHOR]), []).append(group)
            self.anchored.setdefault((cell, "tail", key[-ANCHOR:]), []).append(group)
        return group

    def find(self, key: str, place: Place) -> _Group | None:
        """The group this line joins: same text at a near place first, else a similar text."""
        cells = list(_cells(place))
        for cell in cells:
            for group in self.exact.get((cell, key), ()):
                if _near(group.place, place):
                    return group
        if len(key) < MIN_FUZZY:
            return None
        tried: set[int] = set()
        for cell in cells:
            for end, anchor in (("head", key[:ANCHOR]), ("tail", key[-ANCHOR:])):
                for group in reversed(self.anchored.get((cell, end, anchor), ())[-MAX_TRIES:]):
                    if len(tried) >= MAX_TRIES or self.tries_left <= 0:
                        return None
                    if id(group) in tried or not _near(group.place, place):
                        continue
                    tried.add(id(group))
                    self.tries_left -= 1
                    if group.similar(key):
                        return group
        return None


def find_running(
    pages: Sequence[Sequence[tuple[str, Rect, bool]]], sizes: Sequence[tuple[float, float]]
) -> tuple[set[tuple[int, int]], list[str]]:
    """Which lines are running text: ({(page index, line index)}, one text per group found).

    ``pages[i]`` lists the lines of page ``i`` as (text, rect, alone in its block) in the
    page's coordinates, ``sizes[i]`` its (width, height).
    """
    with_text = sum(1 for lines in pages if lines)
    needed = max(MIN_PAGES, math.ceil(MIN_SHARE * with_text))
    needed_body = max(MIN_PAGES, math.ceil(MIN_BODY_SHARE * with_text))
    if with_text < needed:
        return set(), []
    index = _Index()
    for p, lines in enumerate(pages):
        index.tries_left = MAX_TRIES_PER_PAGE
        for i, key, place, text in _candidates(lines, sizes[p] if p < len(sizes) else None):
            group = index.find(key, place) or index.add(key, place, text)
            group.pages.add(p)
            group.members.append((p, i))
    running: set[tuple[int, int]] = set()
    texts: list[str] = []
    for group in index.groups:
        if len(group.pages) >= (needed_body if group.place[0] == "body" else needed):
            running.update(group.members)
            texts.append(group.text)
    return running, texts
