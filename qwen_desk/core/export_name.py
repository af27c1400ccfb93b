"""Core layer: the default file name of an exported conversation.

``export_file_name("What did they say about their…", date(2025, 6, 1))`` gives
``What did they say about their 2025-06-01.md``: the title with everything that is not a letter,
a digit, a space, ``-`` or ``_`` (or a ``.`` inside a word, as in ``qwen2.5``) turned into a
space, so no character is illegal on Windows, macOS or Linux; Chinese and other scripts are
kept; runs of spaces collapse; punctuation and ellipses at the ends go; the title is capped at
``max_chars`` (at a word boundary when there is one: Chinese has none), which keeps the name
under the 255-byte limit of common file systems even in 4-byte characters; the date makes the
name unique per day and never a reserved Windows name (``CON``, ``NUL``...).
"""

from __future__ import annotations

import unicodedata
from datetime import date

MAX_TITLE_CHARS = 50
_KEEP = {" ", "-", "_"}
_TRIM = " -_."


def _keep(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM" or ch in _KEEP


def clean_title(title: str, max_chars: int = MAX_TITLE_CHARS) -> str:
    """``title`` made safe as (part of) a file name; may be empty."""
    text = unicodedata.normalize("NFKC", title)
    out: list[str] = []
    for i, ch in enumerate(text):
        if _keep(ch):
            out.append(ch)
        elif (
            ch == "."
            and 0 < i < len(text) - 1
            and unicodedata.category(text[i - 1])[0] in "LN"
            and unicodedata.category(text[i + 1])[0] in "LN"
        ):
            out.append(ch)  # a dot inside a word or number: qwen2.5, v1.2
        else:
            out.append(" ")
    name = " ".join("".join(out).split()).strip(_TRIM)
    if len(name) > max_chars:
        cut = name[:max_chars]
        space = cut.rfind(" ")
        name = (cut[:space] if space >= max_chars // 2 else cut).strip(_TRIM)
    return name


def export_file_name(
    title: str,
    day: date,
    *,
    fallback: str = "conversation",
    suffix: str = ".md",
    max_chars: int = MAX_TITLE_CHARS,
) -> str:
    """``<clean title> <YYYY-MM-DD><suffix>``; ``fallback`` when nothing of the title is left."""
    name = clean_title(title, max_chars) or clean_title(fallback, max_chars) or "conversation"
    return f"{name} {day.isoformat()}{suffix}"
