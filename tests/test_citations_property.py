"""Property test of ``core.citations.find_markers``: random text, markers of random forms inserted.

The text around the markers is drawn from words (English and Chinese), punctuation and decoys
that must never be read as markers: bracketed words, years, code spans and fenced code holding
markers, parentheses. ``find_markers`` must return exactly the inserted markers (spans and
numbers), and ``parse_citations`` exactly the inserted numbers, split at the source count.
"""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from qwen_desk.core.citations import MAX_RANGE, find_markers, parse_citations  # noqa: E402

WORDS = ["the", "notice", "is", "sixty", "days", "Lease", "通知期", "为", "六十天", "租约"]
PUNCTUATION = [".", ",", "。", "，", "；", ":", "!", "—"]
DECOYS = [
    "[a]",
    "[note]",
    "[2018]",
    "【2024】",
    "［２０１９］",
    "`[3]`",
    "`x[1-2]`",
    "``a`[4]`b``",
    "(1)",
    "1.5",
    "2024年",
    "[1](https://example.org)",
    "\n```\n[2] in code\n```\n",
    "\n~~~\n【5】\n~~~\n",
    "\n\n",
]
BRACKETS = [("[", "]"), ("【", "】"), ("［", "］")]
SEPARATORS = [", ", ",", "; ", "；", "，", "、", " , "]
DASHES = ["-", "–"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def items(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    """One number (``3``) or a range (``2-4``) of a marker, with the numbers it names."""
    a = draw(st.integers(1, 120))
    if draw(st.booleans()):
        return str(a), (a,)
    b = a + draw(st.integers(0, MAX_RANGE))
    return f"{a}{draw(st.sampled_from(DASHES))}{b}", tuple(range(a, b + 1))


@st.composite
def markers(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    """A marker in one of the forms models write, and the numbers it names in order."""
    opening, closing = draw(st.sampled_from(BRACKETS))
    parts = draw(st.lists(items(), min_size=1, max_size=4))
    body = parts[0][0]
    for text, _ in parts[1:]:
        body += draw(st.sampled_from(SEPARATORS)) + text
    if draw(st.booleans()):
        body = body.translate(FULL_WIDTH)  # ［１，２］
    numbers = tuple(n for _, ns in parts for n in ns)
    return f"{opening}{body}{closing}", numbers


fillers = st.lists(st.sampled_from(WORDS + PUNCTUATION + DECOYS), max_size=6).map(" ".join)


@st.composite
def answers(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, tuple[int, ...]]]]:
    """Random text with markers inserted, and ``(start, end, numbers)`` of each marker."""
    text = draw(fillers)
    expected = []
    for marker, numbers in draw(st.lists(markers(), max_size=6)):
        text += draw(st.sampled_from(["", " "]))
        expected.append((len(text), len(text) + len(marker), numbers))
        text += marker + " " + draw(fillers)  # " ": "[1](x)" would be a link, not a marker
    return text, expected


@settings(max_examples=400, deadline=None)
@given(answers(), st.integers(0, 40))
def test_find_markers_returns_exactly_the_inserted_markers(
    answer: tuple[str, list[tuple[int, int, tuple[int, ...]]]], n_sources: int
) -> None:
    text, expected = answer
    found = [(m.start, m.end, m.numbers) for m in find_markers(text)]
    assert found == expected, text
    inserted = [n for _, _, numbers in expected for n in numbers]
    used, invented = parse_citations(text, n_sources)
    assert used == list(dict.fromkeys(n for n in inserted if n <= n_sources))
    assert invented == list(dict.fromkeys(n for n in inserted if n > n_sources))
