"""Core layer: reading order of the text regions of a page (pure geometry, no pymupdf).

A recursive XY-cut that prefers vertical cuts: a region whose boxes leave a vertical gutter
free is read column by column; otherwise it is cut into horizontal bands at free rows. Bands that
each hold the same columns (two columns whose paragraph gaps happen to line up) are merged
back before recursing, so columns are never interleaved paragraph by paragraph.

Boxes are given in the text's own frame (``to_text_frame``), so rotated pages and sideways text
are ordered as their reader sees them.
"""

from __future__ import annotations

from collections.abc import Sequence

from qwen_desk.core.types import Rect

COLUMN_GAP = 5.0  # points of free space that make a gutter between columns
ROW_GAP = 0.5  # points of free space that separate two bands
MAX_DEPTH = 64


def to_text_frame(rect: Rect, direction: tuple[int, int]) -> Rect:
    """``rect`` rotated so that text running along ``direction`` runs left to right."""
    x0, y0, x1, y1 = rect
    dx, dy = direction
    if (dx, dy) == (0, -1):  # text runs upwards: reader's x is -y, reader's y is x
        return (-y1, x0, -y0, x1)
    if (dx, dy) == (0, 1):  # downwards
        return (y0, -x1, y1, -x0)
    if (dx, dy) == (-1, 0):  # upside down
        return (-x1, -y1, -x0, -y0)
    return rect


def snap_direction(dx: float, dy: float) -> tuple[int, int]:
    """The nearest of the four axis directions."""
    if abs(dx) >= abs(dy):
        return (1, 0) if dx >= 0 else (-1, 0)
    return (0, 1) if dy > 0 else (0, -1)


def reading_order(boxes: Sequence[Rect]) -> list[int]:
    """Indices of ``boxes`` in reading order (columns left to right, each top to bottom)."""
    out: list[int] = []
    _cut(list(range(len(boxes))), boxes, out, 0)
    return out


def split_columns(boxes: Sequence[Rect]) -> list[list[int]]:
    """Indices of ``boxes`` grouped by the vertical gutters between them (one group: none)."""
    if len(boxes) < 2:
        return [list(range(len(boxes)))]
    return _split(list(range(len(boxes))), boxes, 0, COLUMN_GAP)


def _cut(idx: list[int], boxes: Sequence[Rect], out: list[int], depth: int) -> None:
    if len(idx) > 1 and depth < MAX_DEPTH:
        columns = _split(idx, boxes, 0, COLUMN_GAP)
        if len(columns) > 1:
            for group in columns:
                _cut(group, boxes, out, depth + 1)
            return
        bands = _merge_column_bands(_split(idx, boxes, 1, ROW_GAP), boxes)
        if len(bands) > 1:
            for group in bands:
                _cut(group, boxes, out, depth + 1)
            return
        pieces = _split_at_spanners(idx, boxes)
        if pieces:
            for group in pieces:
                _cut(group, boxes, out, depth + 1)
            return
    out.extend(sorted(idx, key=lambda i: (boxes[i][1], boxes[i][0])))


def _split_at_spanners(idx: list[int], boxes: Sequence[Rect]) -> list[list[int]]:
    """Columns bridged by wide boxes (a full-width title or rule line between them).

    When no free row or gutter exists, boxes at least half the region wide are taken out; if
    the rest then shows a gutter, the region is cut into bands at each wide box, read in turn:
    band above, wide box, band below... Empty list when that does not help.
    """
    left = min(boxes[i][0] for i in idx)
    right = max(boxes[i][2] for i in idx)
    wide = [i for i in idx if boxes[i][2] - boxes[i][0] >= 0.5 * (right - left)]
    rest = [i for i in idx if i not in set(wide)]
    if not wide or not _has_gutter(rest, boxes):
        return []
    wide.sort(key=lambda i: boxes[i][1] + boxes[i][3])
    centres = [(boxes[i][1] + boxes[i][3]) / 2 for i in wide]
    bands: list[list[int]] = [[] for _ in range(len(wide) + 1)]
    for i in rest:
        centre = (boxes[i][1] + boxes[i][3]) / 2
        bands[sum(1 for c in centres if c < centre)].append(i)
    pieces: list[list[int]] = []
    for k, band in enumerate(bands):
        if band:
            pieces.append(band)
        if k < len(wide):
            pieces.append([wide[k]])
    return pieces


def _split(idx: list[int], boxes: Sequence[Rect], axis: int, gap: float) -> list[list[int]]:
    """Groups of boxes separated by free space of at least ``gap`` along ``axis`` (0 = x)."""
    order = sorted(idx, key=lambda i: boxes[i][axis])
    groups: list[list[int]] = [[order[0]]]
    end = boxes[order[0]][axis + 2]
    for i in order[1:]:
        if boxes[i][axis] > end + gap:
            groups.append([i])
        else:
            groups[-1].append(i)
        end = max(end, boxes[i][axis + 2])
    return groups


def _has_gutter(idx: list[int], boxes: Sequence[Rect]) -> bool:
    return len(idx) > 1 and len(_split(idx, boxes, 0, COLUMN_GAP)) > 1


def _merge_column_bands(bands: list[list[int]], boxes: Sequence[Rect]) -> list[list[int]]:
    """Join neighbouring bands, one of them in columns, while together they keep a gutter free.

    This undoes horizontal cuts made where the paragraph gaps of two columns line up, and keeps a
    column's tail (where the other column ended earlier) with the rest of that column.
    """
    merged: list[list[int]] = [bands[0]]
    for band in bands[1:]:
        joined = merged[-1] + band
        columned = _has_gutter(merged[-1], boxes) or _has_gutter(band, boxes)
        if columned and _has_gutter(joined, boxes):
            merged[-1] = joined
        else:
            merged.append(band)
    return merged
