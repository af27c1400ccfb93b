"""``core.citations``: every marker form, code left alone, and the sources an answer cites."""

from __future__ import annotations

import pytest

from qwen_desk.core.citations import (
    cited_numbers,
    cited_only,
    code_ranges,
    find_markers,
    strip_invented,
)
from qwen_desk.core.types import Citation

FORMS = [
    ("[1]", (1,)),
    ("[1, 2]", (1, 2)),
    ("【1】", (1,)),
    ("［１］", (1,)),
    ("[1-3]", (1, 2, 3)),
    ("[1–3]", (1, 2, 3)),
    ("[1; 2]", (1, 2)),
    ("[1；2]", (1, 2)),
    ("[1，2]", (1, 2)),
    ("[1、2]", (1, 2)),
    ("[1,2,3]", (1, 2, 3)),
]


@pytest.mark.parametrize(("marker", "numbers"), FORMS)
def test_each_form_is_one_marker_with_its_numbers(marker: str, numbers: tuple[int, ...]) -> None:
    text = f"通知期为六十天{marker}，see also."
    (found,) = find_markers(text)
    assert (found.start, found.end) == (7, 7 + len(marker))
    assert found.numbers == numbers


@pytest.mark.parametrize(
    "text",
    [
        "inline `x[1]` code",
        "double ``a`[2]`b`` run",
        "```\n[1] in a fence\n```\n",
        "~~~python\n【1】\n~~~\n",
        "```\nnever closed [3]",
        "a link [1](https://example.org)",
        "years [2018] and [20240] and words [a] [note 1]",
    ],
)
def test_no_marker_in_code_links_years_or_words(text: str) -> None:
    assert find_markers(text) == []


def test_markers_around_code_still_count() -> None:
    text = "Before [1] `arr[2]` after 【3】\n\n```\n[4]\n```\n\nlast [5] and a lone ` tick [6]"
    assert [m.numbers for m in find_markers(text)] == [(1,), (3,), (5,), (6,)]
    assert text[slice(*code_ranges(text)[0])] == "`arr[2]`"


def test_rendered_text_is_read_without_markdown_rules() -> None:
    # the chat view reads a rendered document: backticks there are literal characters
    assert [m.numbers for m in find_markers("`[1]`", markdown=False)] == [(1,)]


def test_strip_invented_never_edits_code() -> None:
    assert strip_invented("Index `a[7]` and [7].", 2) == ("Index `a[7]` and.", 1)


def _citation(n: int) -> Citation:
    return Citation(n, f"c{n}", "d", "/docs/a.pdf", "a", n, 0, 5, "text")


def test_cited_only_lists_the_cited_sources_by_number() -> None:
    citations = [_citation(3), _citation(1), _citation(2)]
    assert cited_numbers("See 【2】 and [1-2].", 3) == [2, 1]
    assert [c.n for c in cited_only("See 【2】 and [1-2].", citations)] == [1, 2]
    assert [c.n for c in cited_only("Only ［３］ here, `[1]` is code.", citations)] == [3]
    assert cited_only("[9] names no source", citations) == []
    assert cited_only("[1]", []) == []
