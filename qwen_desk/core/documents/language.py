"""Core layer: is a line of extracted text language, or residue of a chart or figure?

Charts drawn with symbol fonts extract as runs like ``%!" $#" $!" #"`` (their glyphs map to
ASCII punctuation). A line is residue when most of its visible characters sit in words that are
not language: a word (whitespace-separated) is language when at least half of it is letters,
CJK or digits, or when it is a number as tables write them (``-1,234.5``, ``12%``, ``(3,200)``,
``$5``, ``€0.99``). Leaders and rules (``....``, ``----``, ``⋯``, table bars ``|``) count for
nothing either way, so a table of contents, a table of figures or a form keeps its lines.
"""

from __future__ import annotations

import re

MIN_CHARS = 3  # shorter lines are never judged ("&", "--", a footnote mark)
MAX_JUNK_SHARE = 0.6
_NUMBER = re.compile(
    r"[(\[]?[-−–+±]?[$€£¥￥]?[-−–+]?\d[\d,.'\u00a0\u202f]*(?:[%‰]|[kKmMbB]n?)?[)\]]?[,;:]?"
)
_NEUTRAL = frozenset(".·•…⋯‥_-–—=*~|│¦:")


def _weigh(word: str) -> tuple[int, int]:
    """(visible characters that count, how many of them are junk) for one word."""
    if _NUMBER.fullmatch(word):
        return len(word), 0
    core = [ch for ch in word if ch not in _NEUTRAL]  # "----以下空白----" is its four characters
    wordy = sum(1 for ch in core if ch.isalnum())  # letters of every script, CJK, digits
    return len(core), 0 if 2 * wordy >= len(core) else len(core)


def is_residue(line: str) -> bool:
    """Whether ``line`` is mostly symbol runs that carry no language (see the module docstring)."""
    junk = total = 0
    for word in line.split():
        size, bad = _weigh(word)
        total += size
        junk += bad
    return total >= MIN_CHARS and junk > MAX_JUNK_SHARE * total
