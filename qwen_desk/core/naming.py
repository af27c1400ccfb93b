"""Core layer: what a document is called, the same everywhere (sidebar, sources, viewer, CLI).

A document is named by its file name; its metadata title (PDF info, Word core properties) is
secondary text, shown only when it says something: not empty, not a placeholder a template or
converter left behind ("标准名称", "Untitled", "Microsoft Word - x.doc", "Slide 1"...), not the
file name again, and of a reasonable length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

MAX_TITLE_CHARS = 120
MIN_TITLE_CHARS = 2

# Whole-title placeholders (case-insensitive, after trimming).
_PLACEHOLDERS = frozenset(
    {
        "untitled",
        "untitled document",
        "no title",
        "title",
        "document",
        "document1",
        "doc1",
        "new document",
        "presentation",
        "slide 1",
        "powerpoint presentation",
        "microsoft word document",
        "标准名称",
        "标题",
        "无标题",
        "文档",
        "新建文档",
        "新建 microsoft word 文档",
        "文档1",
        "unknown",
        "none",
        "null",
        "default",
        "-",
    }
)
# Titles a converter writes from the file it came from: "Microsoft Word - x.doc", "x.docx".
_GENERATED = re.compile(
    r"^(microsoft (word|powerpoint|excel)\s*-\s*.*"
    r"|.*\.(docx?|pdf|pptx?|xlsx?|rtf|txt|md|odt|html?|tex|dvi|ps|indd|qxd))$",
    re.IGNORECASE,
)
_NOT_LANGUAGE = re.compile(r"^[\W\d_]+$")


@dataclass(frozen=True)
class DocumentName:
    """``name``: the file name; ``title``: a meaningful metadata title, else ``""``."""

    name: str
    title: str = ""

    def label(self, separator: str = " — ") -> str:
        """One line: ``name — title`` (just the name when there is no meaningful title)."""
        return f"{self.name}{separator}{self.title}" if self.title else self.name


def meaningful_title(title: str | None, path: str = "") -> str:
    """``title`` trimmed when it is worth showing next to the file name of ``path``, else ``""``."""
    text = " ".join((title or "").split())
    if not MIN_TITLE_CHARS <= len(text) <= MAX_TITLE_CHARS:
        return ""
    folded = text.casefold()
    if folded in _PLACEHOLDERS or _GENERATED.match(text) or _NOT_LANGUAGE.match(text):
        return ""
    file = PurePath(path)
    if path and folded in (file.name.casefold(), file.stem.casefold()):
        return ""
    if path and _squash(folded) == _squash(file.stem.casefold()):
        return ""  # "annual_report-2018" for annual report 2018.pdf
    return text


def document_name(path: str, title: str | None = None) -> DocumentName:
    """How to name the document at ``path`` whose metadata title is ``title``."""
    name = PurePath(path).name if path else ""
    return DocumentName(
        name or (title or "").strip(), meaningful_title(title, path) if name else ""
    )


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)
