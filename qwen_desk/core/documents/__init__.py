"""Core layer: document parsers (PDF, DOCX, TXT/Markdown) and the file types they accept.

``parse_document`` runs in the calling process; ingestion runs it in a sandboxed child through
``qwen_desk.core.documents.sandbox.ParserProcess``. This module stays light: each parser (and
its library: pymupdf, lxml/python-docx, charset-normalizer) is imported only when used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from qwen_desk.core.errors import EmptyFile, FileNotReadable, FileTooLarge, UnsupportedFileType
from qwen_desk.core.types import ParsedDocument

SUPPORTED_SUFFIXES: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
}


# Text files are read whole (a viewer highlights by offsets into the text), chunked and
# embedded in one go. 8 MB of text is ~8,000 passages: about what a 2,000-page text PDF gives
# (1.25 GB peak for the whole ``add``, 11 min on 2 busy cores); a 60 MB file reached 1.43 GB
# before its first passages were embedded, and would take an hour. Larger text files are
# refused before they are read (bench/input_memory.py).
MAX_TEXT_BYTES = 8 * 1024 * 1024


def kind_for_path(path: str | Path) -> str | None:
    """The parser kind for a file name ("pdf", "docx", "txt", "md"), or None when unsupported."""
    return SUPPORTED_SUFFIXES.get(Path(path).suffix.lower())


def check_readable(path: str | Path) -> int:
    """The size of a regular, readable, non-empty file; raises the matching DocumentError."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise FileNotReadable(f"Cannot open {p.name}: {exc.strerror or exc}") from exc
    if not p.is_file():
        raise FileNotReadable(f"{p.name} is not a regular file")
    if not os.access(p, os.R_OK):
        raise FileNotReadable(f"No permission to read {p.name}")
    if st.st_size == 0:
        raise EmptyFile(f"{p.name} is empty (0 bytes)")
    return st.st_size


def parse_document(
    path: str | Path, password: str | None = None, on_page: Callable[[int], None] | None = None
) -> ParsedDocument:
    """Parse one file in this process; raises DocumentError subclasses for bad input.

    ``on_page(pages read)`` is called after each PDF page (the sandbox's progress reports).
    """
    kind = kind_for_path(path)
    if kind is None:
        raise UnsupportedFileType(f"{Path(path).suffix or 'This file type'} is not supported yet")
    size = check_readable(path)
    if kind in ("txt", "md") and size > MAX_TEXT_BYTES:
        mb = 1024 * 1024
        raise FileTooLarge(
            f"{Path(path).name} is {size / mb:.0f} MB: text files over {MAX_TEXT_BYTES // mb} MB "
            "are not indexed (split it into smaller files)",
            size=size,
        )
    if kind == "pdf":
        from qwen_desk.core.documents.pdf import parse_pdf

        return parse_pdf(path, password, on_page=on_page)
    if kind == "docx":
        from qwen_desk.core.documents.word import parse_docx

        return parse_docx(path, password)
    from qwen_desk.core.documents.text import parse_text

    return parse_text(path, kind)
