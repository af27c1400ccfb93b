"""Core layer: Word (.docx) parsing by walking the document XML in order.

Body paragraphs and tables come in document order (the body's XML children, through content
controls); headings from paragraph styles ("Heading 1..9", "Title", localised "标题 N") or
outline levels; each table is one TABLE block (one line per row, cells joined by " | ",
vertically merged continuation cells left empty so nothing is repeated). Text boxes
(``w:txbxContent``; the VML fallback copy is skipped) and tables nested in runs follow their
paragraph. Tracked changes: insertions kept, deletions dropped. Footnotes, endnotes, then
headers and footers (identical ones once) come after the body.

Pages: Word stores no pages, only where it last broke them (``w:lastRenderedPageBreak``); those
are counted when present, else explicit page and section breaks. ``page_count`` is the larger of
that count and the page count Word saved in docProps/app.xml. Block pages are approximate.
Encrypted .docx files are OLE containers (ECMA-376 agile or standard encryption): without a
password they raise PasswordRequired; with one they are decrypted in memory by
``msoffcrypto-tool`` (in the parser child, like all parsing) and parsed like any .docx; a
password that does not open them raises WrongPassword.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from qwen_desk.core.documents.builder import TextBuilder
from qwen_desk.core.documents.ooxml import W_NS, Package
from qwen_desk.core.errors import (
    CorruptFile,
    FileNotReadable,
    NoTextContent,
    PasswordRequired,
    UnsupportedFileType,
    WrongPassword,
)
from qwen_desk.core.types import BlockKind, ParsedDocument

W = f"{{{W_NS}}}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_HEADING_NAME = re.compile(r"^(?:heading|标题|見出し)\s*(\d)$", re.IGNORECASE)
_SKIP = frozenset(
    {"del", "moveFrom", "delText", "delInstrText", "instrText", "Fallback", "rPr", "pPr",
     "tblPr", "tcPr", "trPr", "sectPr", "commentReference", "annotationRef"}
)  # fmt: skip
_NESTED = frozenset({"txbxContent", "tbl", "p"})
_NOTE_SKIP_TYPES = frozenset({"separator", "continuationSeparator", "continuationNotice"})


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


@dataclass
class _Style:
    name: str
    outline: int | None
    based_on: str | None


def parse_docx(path: str | Path, password: str | None = None) -> ParsedDocument:
    """Parse a .docx file; raises DocumentError subclasses for damaged or encrypted files."""
    p = Path(path)
    with Package(_open_ole(p, password) or p, name=p.name) as package:
        doc_rels = package.relationships(package.main_part)
        styles = _read_styles(package, doc_rels.get_first("styles"))
        root = package.xml(package.main_part)
        body = root.find(f"{W}body")
        if body is None:
            raise NoTextContent(f"{p.name} has no document body")
        walker = _Walker(
            styles, rendered_breaks=body.find(f".//{W}lastRenderedPageBreak") is not None
        )
        walker.blocks(body, None)
        for kind, rel in ((BlockKind.FOOTNOTE, "footnotes"), (BlockKind.ENDNOTE, "endnotes")):
            part = doc_rels.get_first(rel)
            if part and package.has(part):
                walker.notes(package.xml(part), kind)
        for kind, tag in (
            (BlockKind.HEADER, "headerReference"),
            (BlockKind.FOOTER, "footerReference"),
        ):
            parts = [doc_rels.by_id.get(ref.get(R_ID, "")) for ref in body.iter(f"{W}{tag}")]
            walker.margins(
                [package.xml(x) for x in dict.fromkeys(parts) if x and package.has(x)], kind
            )
        core_title = _core_title(package)
        saved_pages = _saved_page_count(package)
    builder = walker.builder
    if not builder.blocks:
        raise NoTextContent(f"No text could be extracted from {p.name}")
    return ParsedDocument(
        path=str(p),
        kind="docx",
        title=core_title or walker.title or p.stem,
        text=builder.text,
        blocks=builder.blocks,
        page_count=max(walker.page, saved_pages),
        warnings=["Strict Open XML document"] if package.strict else [],
        running_text=[
            b.text for b in builder.blocks if b.kind in (BlockKind.HEADER, BlockKind.FOOTER)
        ],
    )


def _open_ole(path: Path, password: str | None) -> BinaryIO | None:
    """``None`` for a plain .docx (a zip); the decrypted package of an encrypted one (an OLE
    compound file); raises for an old .doc renamed, or when the password is missing or wrong."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            if head != CFB_SIGNATURE:
                return None
            data = head + fh.read()
    except OSError as exc:
        raise FileNotReadable(f"Cannot read {path.name}: {exc.strerror or exc}") from exc
    if ENCRYPTION_INFO not in data[: 4 * 1024 * 1024]:
        raise UnsupportedFileType(
            f"{path.name} is an old Word 97-2003 (.doc) file: save it as .docx to add it"
        )
    if not password:
        raise PasswordRequired(f"{path.name} is protected by a password")
    return _decrypt(path.name, data, password)


def _decrypt(name: str, data: bytes, password: str) -> BinaryIO:
    try:
        import msoffcrypto
        from msoffcrypto.exceptions import DecryptionError, InvalidKeyError
    except ImportError as exc:  # a build without the package: say so, do not pretend
        raise PasswordRequired(
            f"{name} is password-protected and this build cannot decrypt Word files "
            "(msoffcrypto-tool is missing)",
            decryption_unavailable=True,
        ) from exc
    out = io.BytesIO()
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password)
        office.decrypt(out)
    except InvalidKeyError as exc:
        raise WrongPassword(f"The password does not open {name}") from exc
    except DecryptionError as exc:  # also raised for a wrong password by some formats
        raise WrongPassword(f"The password does not open {name}: {exc}") from exc
    except Exception as exc:  # msoffcrypto raises plain exceptions on damaged files
        raise CorruptFile(f"{name} is encrypted in a way that cannot be read: {exc}") from exc
    out.seek(0)
    return out


def _read_styles(package: Package, part: str | None) -> dict[str, _Style]:
    styles: dict[str, _Style] = {}
    if not part or not package.has(part):
        return styles
    for style in package.xml(part).iter(f"{W}style"):
        name_el = style.find(f"{W}name")
        outline_el = style.find(f"{W}pPr/{W}outlineLvl")
        based_el = style.find(f"{W}basedOn")
        styles[style.get(f"{W}styleId", "")] = _Style(
            name=(name_el.get(f"{W}val", "") if name_el is not None else "").strip().lower(),
            outline=_int(outline_el.get(f"{W}val")) if outline_el is not None else None,
            based_on=based_el.get(f"{W}val") if based_el is not None else None,
        )
    return styles


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _saved_page_count(package: Package) -> int:
    """The page count Word stored in docProps/app.xml when it last saved (0 when absent)."""
    if not package.has("docProps/app.xml"):
        return 0
    try:
        root = package.xml("docProps/app.xml")
    except Exception:
        return 0
    pages = root.find(
        "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Pages"
    )
    return _int(pages.text if pages is not None else None) or 0


def _core_title(package: Package) -> str:
    if not package.has("docProps/core.xml"):
        return ""
    try:
        el = package.xml("docProps/core.xml").find("{http://purl.org/dc/elements/1.1/}title")
    except Exception:
        return ""
    return " ".join((el.text or "").split()) if el is not None else ""


class _Walker:
    """Walks body XML in order and appends blocks to a TextBuilder."""

    def __init__(self, styles: dict[str, _Style], rendered_breaks: bool) -> None:
        self.styles = styles
        self.rendered_breaks = rendered_breaks  # count Word's own page breaks, else explicit ones
        self.builder = TextBuilder()
        self.page = 1
        self.title = ""
        self.note_pages: dict[str, int] = {}
        self._level_cache: dict[str, int] = {}

    # --- block level ---------------------------------------------------------------------

    def blocks(self, parent: Any, kind: BlockKind | None) -> None:
        for child in parent:
            tag = _local(child.tag)
            if tag == "p":
                self.paragraph(child, kind)
                section = child.find(f"{W}pPr/{W}sectPr")
                if section is not None and not self.rendered_breaks:
                    kind_el = section.find(f"{W}type")
                    if kind_el is None or kind_el.get(f"{W}val") != "continuous":
                        self.page += 1  # a section break starts a new page by default
            elif tag == "tbl":
                self.table(child, kind)
            elif tag in ("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag"):
                self.blocks(child, kind)

    def paragraph(self, p: Any, kind: BlockKind | None) -> None:
        page = self.page
        if not self.rendered_breaks and p.find(f"{W}pPr/{W}pageBreakBefore") is not None:
            self.page += 1
            page = self.page
        parts: list[str] = []
        nested: list[Any] = []
        self.inline(p, parts, nested)
        text = "".join(parts).strip()
        level = self.heading_level(p) if kind is None else 0
        block_kind = kind or BlockKind.PARAGRAPH
        if level:
            block_kind = BlockKind.HEADING
            if not self.title and text:
                self.title = " ".join(text.split())[:200]
        elif kind is None and self.is_list(p):
            block_kind = BlockKind.LIST_ITEM
        self.builder.add(text, block_kind, page, level=level)
        for item in nested:
            tag = _local(item.tag)
            if tag == "tbl":
                self.table(item, kind)
            elif tag == "p":
                self.paragraph(item, kind)
            else:  # a text box
                self.blocks(item, kind or BlockKind.TEXTBOX)

    def inline(self, el: Any, out: list[str], nested: list[Any]) -> None:
        """Text of a paragraph's runs; nested paragraphs, tables, text boxes go to ``nested``."""
        for child in el:
            tag = _local(child.tag)
            if tag == "t":
                out.append(_t_text(child))
            elif tag in _SKIP or not tag:
                continue
            elif tag in ("tab", "ptab"):
                out.append("\t")
            elif tag in ("br", "cr"):
                out.append("\n")
                if child.get(f"{W}type") == "page" and not self.rendered_breaks:
                    self.page += 1
            elif tag == "lastRenderedPageBreak":
                self.page += 1
            elif tag == "noBreakHyphen":
                out.append("-")
            elif tag in ("footnoteReference", "endnoteReference"):
                self.note_pages[f"{tag[:3]}{child.get(f'{W}id')}"] = self.page
            elif tag in _NESTED:
                nested.append(child)
            else:
                self.inline(child, out, nested)

    def heading_level(self, p: Any) -> int:
        outline = p.find(f"{W}pPr/{W}outlineLvl")
        if outline is not None:
            value = _int(outline.get(f"{W}val"))
            if value is not None:
                return value + 1 if 0 <= value < 9 else 0
        style = p.find(f"{W}pPr/{W}pStyle")
        return self.style_level(style.get(f"{W}val", "")) if style is not None else 0

    def is_list(self, p: Any) -> bool:
        """Numbered or bulleted: direct numbering, or a "List ..." paragraph style."""
        if p.find(f"{W}pPr/{W}numPr") is not None:
            return True
        style = p.find(f"{W}pPr/{W}pStyle")
        info = self.styles.get(style.get(f"{W}val", "")) if style is not None else None
        return info is not None and info.name.startswith("list")

    def style_level(self, style_id: str) -> int:
        if style_id not in self._level_cache:
            level, seen, current = 0, set(), style_id
            while current and current not in seen and current in self.styles:
                seen.add(current)
                style = self.styles[current]
                match = _HEADING_NAME.match(style.name)
                if match:
                    level = int(match.group(1)) or 1
                elif style.name == "title":
                    level = 1
                elif style.outline is not None and 0 <= style.outline < 9:
                    level = style.outline + 1
                if level:
                    break
                current = style.based_on or ""
            self._level_cache[style_id] = level
        return self._level_cache[style_id]

    def table(self, tbl: Any, kind: BlockKind | None) -> None:
        rows = [row for row in (self.row_text(tr) for tr in _rows(tbl)) if row]
        if rows:
            self.builder.add("\n".join(rows), kind or BlockKind.TABLE, self.page)

    def row_text(self, tr: Any) -> str:
        cells: list[str] = []
        for tc in _cells(tr):
            merge = tc.find(f"{W}tcPr/{W}vMerge")
            if merge is not None and merge.get(f"{W}val", "continue") != "restart":
                cells.append("")  # continuation of the cell above: its text was given there
                continue
            cells.append(self.cell_text(tc))
        return " | ".join(cells) if any(cells) else ""

    def cell_text(self, tc: Any) -> str:
        """A cell's paragraphs on one line (nested tables flattened, merges respected)."""
        return " ".join(" ".join(line.split()) for line in self.lines(tc))

    # --- outside the body ----------------------------------------------------------------

    def notes(self, root: Any, kind: BlockKind) -> None:
        tag = "footnote" if kind is BlockKind.FOOTNOTE else "endnote"
        for note in root.iter(f"{W}{tag}"):
            if note.get(f"{W}type") in _NOTE_SKIP_TYPES:
                continue
            text = self.plain_text(note)
            page = self.note_pages.get(f"{tag[:3]}{note.get(f'{W}id')}", 1)
            self.builder.add(text, kind, page)

    def margins(self, roots: list[Any], kind: BlockKind) -> None:
        """Headers or footers, each distinct text once."""
        seen: set[str] = set()
        for root in roots:
            text = self.plain_text(root)
            key = " ".join(text.split())
            if key and key not in seen:
                seen.add(key)
                self.builder.add(text, kind, 1)

    def plain_text(self, root: Any) -> str:
        """A header, footer or note as lines: paragraphs, and table rows as in the body."""
        return "\n".join(self.lines(root))

    def lines(self, parent: Any) -> list[str]:
        out: list[str] = []
        for child in parent:
            tag = _local(child.tag)
            if tag == "p":
                parts: list[str] = []
                nested: list[Any] = []
                self.inline(child, parts, nested)
                out.append("".join(parts).strip())
                for item in nested:
                    out.extend(self.lines(item) if _local(item.tag) != "p" else self.lines([item]))
            elif tag == "tbl":
                out.extend(self.row_text(tr) for tr in _rows(child))
            elif tag in ("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag"):
                out.extend(self.lines(child))
        return [line for line in out if line]


def _t_text(t: Any) -> str:
    """A ``w:t``'s text; unresolved entity references (never fetched) contribute nothing."""
    if len(t) == 0:
        return t.text or ""
    return (t.text or "") + "".join(child.tail or "" for child in t)


def _rows(tbl: Any) -> list[Any]:
    return [el for el in _content(tbl) if _local(el.tag) == "tr"]


def _cells(tr: Any) -> list[Any]:
    return [el for el in _content(tr) if _local(el.tag) == "tc"]


def _content(parent: Any) -> list[Any]:
    """Children, looking through content controls and custom XML wrappers."""
    out = []
    for child in parent:
        tag = _local(child.tag)
        if tag in ("sdt", "sdtContent", "customXml"):
            out.extend(_content(child))
        else:
            out.append(child)
    return out
