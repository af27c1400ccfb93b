"""Core layer: finding the ``[n]`` source markers in an answer, and removing invented ones.

Models write markers in many shapes: ``[1]``, ``[1, 2]``, ``[1][2]``, ``[1-3]``, ``【1】``,
``［１］`` (full-width digits), ``[1、2]``. All are read after NFKC normalisation. A number is
*used* when it names one of the ``n_sources`` sources of the prompt and *invented* otherwise.
Bracketed numbers of four or more digits (``[2024]``) are left alone: they are years or
quantities, not citations. ``[1](url)`` is a Markdown link, not a marker. In Markdown (the
default) nothing inside code is a marker: inline code spans (``x[1]`` between backtick runs of
equal length) and fenced code blocks; ``strip_invented`` therefore never edits code.

This module is the one rule: the chat view's chips, the sources an answer lists (window, export,
``ask``) and the invented-marker clean-up all read markers through ``find_markers``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

MAX_RANGE = 20  # [1-3] expands; [1-500] is read as its two ends
_NUM = r"[0-9０-９]{1,3}"
_SEP = r"\s*(?:[,，、;；]|[-–—~～－])\s*"
MARKER_RE = re.compile(
    rf"(?P<open>[\[【［])\s*(?P<body>{_NUM}(?:{_SEP}{_NUM})*)\s*(?P<close>[\]】］])(?!\()"
)
_RANGE_RE = re.compile(r"^(\d+)\s*[-–—~]\s*(\d+)$")
CLOSING = {"[": "]", "【": "】", "［": "］"}
_FENCE_LINE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BACKTICKS_RE = re.compile(r"`+")


class _Numbered(Protocol):
    @property
    def n(self) -> int: ...


C = TypeVar("C", bound=_Numbered)


@dataclass(frozen=True)
class Marker:
    """One bracketed marker: where it is and the numbers it names, in order."""

    start: int
    end: int
    numbers: tuple[int, ...]
    open: str


def _numbers(body: str) -> tuple[int, ...]:
    text = unicodedata.normalize("NFKC", body).replace("－", "-").replace("～", "~")
    out: list[int] = []
    for part in re.split(r"\s*[,、;]\s*", text):
        part = part.strip()
        if not part:
            continue
        match = _RANGE_RE.match(part)
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            if a <= b and b - a <= MAX_RANGE:
                out.extend(range(a, b + 1))
            else:
                out.extend((a, b))
        else:
            out.append(int(part))
    return tuple(out)


def code_ranges(markdown: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the fenced code blocks and inline code spans of ``markdown``, in order.

    A fence runs to the closing fence of the same character, at least as long (or to the end);
    an inline span runs from a backtick run to the next run of the same length (CommonMark); an
    unmatched run is literal text.
    """
    ranges: list[tuple[int, int]] = []
    pos = 0
    fence: tuple[str, int, int] | None = None  # (character, length, start) of the open fence
    prose_start = 0
    for line in markdown.splitlines(keepends=True):
        match = _FENCE_LINE_RE.match(line)
        if fence is None and match:
            ranges += _code_spans(markdown, prose_start, pos)
            run = match.group(1)
            fence = (run[0], len(run), pos)
        elif fence is not None and match:
            run = match.group(1)
            if run[0] == fence[0] and len(run) >= fence[1] and not line[match.end() :].strip():
                ranges.append((fence[2], pos + len(line)))
                fence = None
                prose_start = pos + len(line)
        pos += len(line)
    if fence is not None:
        ranges.append((fence[2], len(markdown)))
    else:
        ranges += _code_spans(markdown, prose_start, len(markdown))
    return ranges


def _code_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    runs = list(_BACKTICKS_RE.finditer(text, start, end))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        opening = runs[i]
        size = len(opening.group())
        closing = next((j for j in range(i + 1, len(runs)) if len(runs[j].group()) == size), None)
        if closing is None:
            i += 1  # literal backticks
            continue
        spans.append((opening.start(), runs[closing].end()))
        i = closing + 1
    return spans


def find_markers(text: str, *, markdown: bool = True) -> list[Marker]:
    """Every citation marker of ``text``, in order.

    With ``markdown`` (answers as the model wrote them) markers inside code are skipped; the
    chat view passes ``False`` as it reads a rendered document, where code is known by format.
    """
    code = code_ranges(text) if markdown and ("`" in text or "~~~" in text) else []
    out: list[Marker] = []
    k = 0
    for m in MARKER_RE.finditer(text):
        while k < len(code) and code[k][1] <= m.start():
            k += 1
        if k < len(code) and code[k][0] <= m.start() < code[k][1]:
            continue
        out.append(Marker(m.start(), m.end(), _numbers(m.group("body")), m.group("open")))
    return out


def cited_numbers(text: str, n_sources: int) -> list[int]:
    """The source numbers (1..``n_sources``) that ``text`` cites, in order of first citation."""
    return parse_citations(text, n_sources)[0]


def cited_only(text: str, citations: Sequence[C]) -> list[C]:
    """Those of ``citations`` (anything with an ``n``) that ``text`` cites, by number."""
    if not citations:
        return []
    cited = set(cited_numbers(text, max(c.n for c in citations)))
    return sorted((c for c in citations if c.n in cited), key=lambda c: c.n)


def parse_citations(answer_text: str, n_sources: int) -> tuple[list[int], list[int]]:
    """(used numbers, invented numbers), each without repeats, in order of first appearance."""
    used: dict[int, None] = {}
    invented: dict[int, None] = {}
    for marker in find_markers(answer_text):
        for n in marker.numbers:
            (used if 1 <= n <= n_sources else invented)[n] = None
    return list(used), list(invented)


def strip_invented(answer_text: str, n_sources: int) -> tuple[str, int]:
    """The text with invented numbers removed from markers, and how many distinct ones there were.

    Valid markers are kept byte for byte; a marker naming only invented numbers disappears
    (with the space before it); a mixed one is rewritten with its valid numbers (``[1, 2]``).
    """
    pieces: list[str] = []
    pos = 0
    invented: set[int] = set()
    for marker in find_markers(answer_text):
        valid = [n for n in marker.numbers if 1 <= n <= n_sources]
        bad = [n for n in marker.numbers if not 1 <= n <= n_sources]
        if not bad:
            continue
        invented.update(bad)
        before = answer_text[pos : marker.start]
        if valid:
            numbers = ", ".join(str(n) for n in dict.fromkeys(valid))
            replacement = f"{marker.open}{numbers}{CLOSING[marker.open]}"
        else:
            replacement = ""
            before = before.rstrip(" ") if before.endswith(" ") else before
        pieces += [before, replacement]
        pos = marker.end
    if not invented:
        return answer_text, 0
    pieces.append(answer_text[pos:])
    return "".join(pieces), len(invented)
