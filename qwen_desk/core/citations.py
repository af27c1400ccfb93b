"""Core layer: finding the ``[n]`` source markers in an answer, and removing invented ones.

Models write markers in many shapes: ``[1]``, ``[1, 2]``, ``[1][2]``, ``[1-3]``, ``【1】``,
``［１］`` (full-width digits), ``[1、2]``. All are read after NFKC normalisation. A number is
*used* when it names one of the ``n_sources`` sources of the prompt and *invented* otherwise.
Bracketed numbers of four or more digits (``[2024]``) are left alone: they are years or
quantities, not citations. ``[1](url)`` is a Markdown link, not a marker.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_RANGE = 20  # [1-3] expands; [1-500] is read as its two ends
_NUM = r"[0-9０-９]{1,3}"
_SEP = r"\s*(?:[,，、;；]|[-–—~～－])\s*"
MARKER_RE = re.compile(
    rf"(?P<open>[\[【［])\s*(?P<body>{_NUM}(?:{_SEP}{_NUM})*)\s*(?P<close>[\]】］])(?!\()"
)
_RANGE_RE = re.compile(r"^(\d+)\s*[-–—~]\s*(\d+)$")
_CLOSING = {"[": "]", "【": "】", "［": "］"}


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


def find_markers(text: str) -> list[Marker]:
    return [
        Marker(m.start(), m.end(), _numbers(m.group("body")), m.group("open"))
        for m in MARKER_RE.finditer(text)
    ]


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
            replacement = f"{marker.open}{numbers}{_CLOSING[marker.open]}"
        else:
            replacement = ""
            before = before.rstrip(" ") if before.endswith(" ") else before
        pieces += [before, replacement]
        pos = marker.end
    if not invented:
        return answer_text, 0
    pieces.append(answer_text[pos:])
    return "".join(pieces), len(invented)
