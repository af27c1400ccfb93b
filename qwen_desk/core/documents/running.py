"""Core layer: running text of a paged document (headers, footers, page numbers, watermarks).

A line is running text when text like it sits at the same place on many pages. Text is compared
with digits blanked ("第 3 页 共 20 页", "Page 3 of 20", "- 3 -" and "2018" all compare equal to
their neighbours) and whitespace removed, by similarity (``SIMILAR``), so a header that names a
chapter next to the page number still groups. Place: lines wholly in the top or bottom band of
the page (``BAND``) are compared within their band, whatever their exact height or left/right
position (odd and even pages differ); other lines (watermarks, side stamps) only when short,
alone in their text block (not the last line of a paragraph that happens to end at the same
height on several pages) and centred within ``SAME_PLACE`` of each other.

A group is running text when it covers at least ``MIN_PAGES`` pages and ``MIN_SHARE`` of the
pages with text (``MIN_BODY_SHARE`` outside the bands): a 2-page document never loses
anything, and neither does a paragraph that happens to repeat somewhere in the body. Pure
geometry and strings, no pymupdf.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
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
MAX_GROUPS = 400  # similarity is only tried against this many groups per band
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


@dataclass
class _Group:
    key: str
    place: tuple[str, float, float]
    pages: set[int] = field(default_factory=set)
    members: list[tuple[int, int]] = field(default_factory=list)
    text: str = ""


def normalise(text: str) -> str:
    """Digits blanked, whitespace dropped, case folded: how running text is compared."""
    return _DIGITS.sub("#", _SPACE.sub("", text)).casefold()


def _place(rect: Rect, size: tuple[float, float]) -> tuple[str, float, float] | None:
    width, height = size
    if width <= 0 or height <= 0:
        return None
    x0, y0, x1, y1 = rect
    if y1 <= height * BAND:
        return ("top", 0.0, 0.0)
    if y0 >= height * (1 - BAND):
        return ("bottom", 0.0, 0.0)
    return ("body", (x0 + x1) / 2 / width, (y0 + y1) / 2 / height)


def _near(a: tuple[str, float, float], b: tuple[str, float, float]) -> bool:
    if a[0] != b[0]:
        return False
    return a[0] != "body" or (abs(a[1] - b[1]) <= SAME_PLACE and abs(a[2] - b[2]) <= SAME_PLACE)


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
    groups: list[_Group] = []
    exact: dict[tuple[str, str], list[_Group]] = {}
    for p, lines in enumerate(pages):
        for i, (text, rect, alone) in enumerate(lines):
            key = normalise(text)
            place = _place(rect, sizes[p]) if p < len(sizes) else None
            if not key or place is None or len(key) > MAX_CHARS:
                continue
            if place[0] == "body" and (len(key) > MAX_BODY_CHARS or not alone):
                continue
            group = _group_for(key, place, groups, exact)
            if group is None:
                group = _Group(key, place, text=text.strip())
                groups.append(group)
                exact.setdefault((key, place[0]), []).append(group)
            group.pages.add(p)
            group.members.append((p, i))
    running: set[tuple[int, int]] = set()
    texts: list[str] = []
    for group in groups:
        if len(group.pages) >= (needed_body if group.place[0] == "body" else needed):
            running.update(group.members)
            texts.append(group.text)
    return running, texts


def _group_for(
    key: str,
    place: tuple[str, float, float],
    groups: list[_Group],
    exact: dict[tuple[str, str], list[_Group]],
) -> _Group | None:
    """The group this line joins: same text at a near place first, else a similar text."""
    for group in exact.get((key, place[0]), ()):
        if _near(group.place, place):
            return group
    tried = 0
    for group in groups:
        if group.place[0] != place[0] or not _near(group.place, place):
            continue
        tried += 1
        if tried > MAX_GROUPS:
            break
        matcher = SequenceMatcher(None, group.key, key, autojunk=False)
        if matcher.real_quick_ratio() >= SIMILAR and matcher.ratio() >= SIMILAR:
            return group
    return None
