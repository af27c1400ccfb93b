"""Core layer: PDF parsing with pymupdf (imported inside functions).

Per page: text blocks from one ``TextPage`` (images excluded, which keeps it fast), put in
reading order by ``layout.reading_order`` (column by column, in the text's own direction for
rotated pages), tables from ``page.find_tables`` on pages whose content stream draws enough
ruling lines to hold one, headings from font sizes, AcroForm values as a last block of their
page. Each line of a block is a ``LineSpan`` whose rectangle is in the coordinates
``page.get_text`` uses: points, top-left origin, on the page as displayed (rotation applied,
the same space as ``page.rect`` and a rendered pixmap divided by its zoom).

Encryption: ``needs_pass`` is read once, before ``authenticate`` (reading it afterwards breaks
text extraction); passwords are tried as given and then SASLprep-normalised.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from qwen_desk.core.documents.builder import TextBuilder
from qwen_desk.core.documents.language import is_residue
from qwen_desk.core.documents.layout import (
    reading_order,
    snap_direction,
    split_columns,
    to_text_frame,
)
from qwen_desk.core.documents.running import find_running
from qwen_desk.core.errors import (
    CorruptFile,
    FileNotReadable,
    NoTextContent,
    PasswordRequired,
    WrongPassword,
)
from qwen_desk.core.types import BlockKind, ParsedDocument, Rect

HEADING_RATIO = 1.15  # a block this much larger than body text may be a heading
HEADING_MAX_CHARS = 150
HEADING_MAX_LINES = 3
HEADING_LEVELS = 4
REPEATED_PAGES = 3  # a "heading" on more pages than this is a running header
TABLE_MIN_RULES = 6  # ruling operators in the content stream before looking for tables
TABLE_MIN_V = 3  # vertical rules needed (a box counts two)
TABLE_MIN_CROSSINGS = 9  # rule crossings: a 2x2 grid has 9, one or two framed boxes 4 or 8
# find_tables costs 20-200 ms a page: a document gets this much CPU time for it (CPU, not wall
# time, so a busy machine changes little), then reads the remaining pages' tables as plain
# lines (keeps parsing near 300 pages/s on table-heavy files).
TABLE_BUDGET_S = 0.15
TABLE_BUDGET_PER_PAGE_S = 0.0006
SHORT_DOCUMENT_PAGES = 30  # short documents (reports, statements) get tables on every page:
SHORT_DOCUMENT_TABLE_S = 0.75  # their absolute time matters, not pages per second
SCANNED_MAX_CHARS = 3  # a page with images and at most this much text is a scan
GARBLED_RATIO = 0.3  # share of control characters / U+FFFD that makes a text layer garbage
_GARBAGE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffd]")
_RULES = re.compile(rb"\sre\s|\sl\s")  # path operators: rectangle, line
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_JUNK_TITLE = re.compile(r"(?i)^(untitled|microsoft word|document\d*|\W*)$|\.(docx?|pdf|indd|rtf)$")
SOFT_HYPHEN = "\u00ad"
_HYPHENATED = re.compile(r"[a-z]{2}[-\u00ad]$")  # a word broken at the end of a line
_LOWER = re.compile(r"[a-z]")
_DIGITS = re.compile(r"\d+")


@dataclass
class _Line:
    text: str
    rect: Rect
    size: float


@dataclass
class _Region:
    """A text block or a table of one page, before it becomes a ``Block``."""

    lines: list[_Line]
    bbox: Rect
    size: float = 0.0
    table: bool = False
    heading_level: int = 0
    direction: tuple[int, int] = (1, 0)
    margin: BlockKind | None = None  # HEADER / FOOTER: running text, kept out of chunks

    @property
    def n_chars(self) -> int:
        return sum(len(line.text) for line in self.lines)


@dataclass
class _Page:
    regions: list[_Region] = field(default_factory=list)
    size: tuple[float, float] = (0.0, 0.0)
    scanned: bool = False
    garbled: bool = False  # a text layer whose fonts map to no real characters


def password_candidates(password: str) -> list[str]:
    """The password as given, then SASLprep-ish normalised (NFKC, soft hyphens dropped)."""
    normalised = unicodedata.normalize("NFKC", password.replace(SOFT_HYPHEN, ""))
    return list(dict.fromkeys([password, normalised]))


def parse_pdf(
    path: str | Path,
    password: str | None = None,
    *,
    detect_running: bool = True,
    on_page: Callable[[int], None] | None = None,
) -> ParsedDocument:
    """Parse a PDF into blocks with per-line rectangles; raises DocumentError subclasses.

    ``on_page(pages read)`` is called after each page is read. ``detect_running=False`` leaves
    running headers and footers in the body (to measure what their detection costs:
    bench/running_text.py).
    """
    import pymupdf

    p = Path(path)
    _quiet(pymupdf)
    doc = open_pdf(p, password)
    warnings: list[str] = []
    try:
        if doc.page_count == 0:
            raise CorruptFile(f"{p.name} is damaged: it has no pages")
        budget = _TableBudget(_table_budget(doc.page_count))
        pages = []
        for i in range(doc.page_count):
            pages.append(_read_page_safely(doc, i, warnings, budget))
            if on_page is not None:
                on_page(i + 1)
        if budget.skipped:
            warnings.append(
                f"tables were looked for on the first pages only ({budget.skipped} pages with "
                "ruling lines were read as plain text)"
            )
        if doc.is_form_pdf:
            _add_form_values(doc, pages, warnings)
        metadata_title = (doc.metadata or {}).get("title") or ""
        page_count = doc.page_count
    finally:
        doc.close()
    running_text = _mark_running(pages) if detect_running else []
    _mark_headings(pages)
    builder = TextBuilder()
    for number, page in enumerate(pages, start=1):
        for region in page.regions:
            _emit(builder, region, number)
    scanned = [n for n, page in enumerate(pages, start=1) if page.scanned]
    garbled = [n for n, page in enumerate(pages, start=1) if page.garbled]
    if not builder.blocks:
        if garbled:
            raise NoTextContent(
                f"The text layer of {p.name} cannot be read: its fonts do not say which "
                f"characters they draw ({len(garbled)} of {page_count} pages)",
                garbled_pages=len(garbled),
            )
        if scanned:
            raise NoTextContent(
                f"{p.name} has no text layer: {len(scanned)} of {page_count} pages are scanned "
                "images (OCR is not available yet)",
                scanned_pages=len(scanned),
            )
        raise NoTextContent(f"No text could be extracted from {p.name}")
    if scanned:
        warnings.append(f"{len(scanned)} pages have no text layer (scanned)")
    if garbled:
        warnings.append(f"{len(garbled)} pages have an unreadable text layer and were skipped")
        scanned = sorted(scanned + garbled)  # like scans: only OCR could read them
    return ParsedDocument(
        path=str(p),
        kind="pdf",
        title=_title(metadata_title, builder, p),
        text=builder.text,
        blocks=builder.blocks,
        page_count=page_count,
        scanned_pages=scanned,
        page_sizes=[page.size for page in pages],
        warnings=warnings,
        running_text=running_text,
    )


def _quiet(pymupdf: Any) -> None:
    """No MuPDF chatter on stderr, no advert for the optional layout package."""
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    if hasattr(pymupdf, "no_recommend_layout"):
        pymupdf.no_recommend_layout()


def open_pdf(path: Path, password: str | None) -> Any:
    """An opened, authenticated ``pymupdf.Document``; raises the matching DocumentError."""
    import pymupdf

    try:
        doc = pymupdf.open(str(path), filetype="pdf")
    except pymupdf.FileNotFoundError as exc:
        raise FileNotReadable(f"Cannot open {path.name}: {exc}") from exc
    except (RuntimeError, ValueError) as exc:  # FileDataError is a RuntimeError
        raise CorruptFile(f"{path.name} is damaged or not a PDF: {exc}") from exc
    needs_pass = doc.needs_pass  # read ONCE, before authenticate (see module docstring)
    if needs_pass:
        if not password:
            doc.close()
            raise PasswordRequired(f"{path.name} is encrypted: it needs a password")
        if not any(doc.authenticate(c) for c in password_candidates(password)):
            doc.close()
            raise WrongPassword(f"The password does not open {path.name}")
    return doc


def _table_budget(pages: int) -> float:
    """CPU seconds a document may spend in ``find_tables``."""
    budget = TABLE_BUDGET_S + TABLE_BUDGET_PER_PAGE_S * pages
    return max(budget, SHORT_DOCUMENT_TABLE_S) if pages <= SHORT_DOCUMENT_PAGES else budget


class _TableBudget:
    """Time left for table detection in one document."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self.skipped = 0
        self._calls = 0
        self._spent = 0.0

    def allows(self) -> bool:
        """Whether one more page fits, at the average cost of the pages so far."""
        average = self._spent / self._calls if self._calls else 0.0
        return self.left > average

    def spend(self, seconds: float) -> None:
        self.left -= seconds
        self._spent += seconds
        self._calls += 1


def _read_page_safely(doc: Any, index: int, warnings: list[str], budget: _TableBudget) -> _Page:
    try:
        return _read_page(doc.load_page(index), budget)
    except Exception as exc:  # a damaged page must not lose the others
        warnings.append(f"page {index + 1} could not be read and was skipped: {exc}")
        return _Page()


def _read_page(page: Any, budget: _TableBudget) -> _Page:
    import time

    import pymupdf

    rect = page.rect
    # no TEXT_PRESERVE_LIGATURES: "ﬁ" comes out as "fi", which search and embeddings want
    flags = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
    data = page.get_textpage(flags=flags).extractDICT()
    regions: list[_Region] = []
    directions: dict[tuple[int, int], int] = {}
    residue: list[str] = []  # lines dropped as not language (the scan and garbled checks see them)
    for block in data["blocks"]:
        lines: list[_Line] = []
        block_dirs: dict[tuple[int, int], int] = {}
        for line in block.get("lines", ()):
            spans = line["spans"]
            if len(spans) == 1:
                text, size = spans[0]["text"].strip(), spans[0]["size"]
            else:
                texts = [span["text"] for span in spans]
                text = "".join(texts).strip()
                longest = max(range(len(texts)), key=lambda i: len(texts[i]))
                size = spans[longest]["size"]
            if not text:
                continue
            if is_residue(text):  # chart labels in a symbol font, unmapped glyphs: not language
                residue.append(text)
                continue
            lines.append(_Line(text, line["bbox"], round(size * 2) / 2))
            way = snap_direction(*line["dir"])
            block_dirs[way] = block_dirs.get(way, 0) + len(text)
        if lines:
            for way, n in block_dirs.items():
                directions[way] = directions.get(way, 0) + n
            direction = max(block_dirs, key=block_dirs.__getitem__)
            regions.extend(_column_regions(lines, direction))
    if regions and _may_hold_table(page):
        if budget.allows():
            started = time.process_time()
            regions = _with_tables(page, regions)
            budget.spend(time.process_time() - started)
        else:
            budget.skipped += 1
    direction = max(directions, key=directions.__getitem__) if directions else (1, 0)
    regions = _in_reading_order(regions, direction)
    n_chars = sum(r.n_chars for r in regions) + sum(len(line) for line in residue)
    scanned = n_chars <= SCANNED_MAX_CHARS and bool(page.get_images())  # a text layer is no scan
    garbled = not scanned and _is_garbled(regions, residue)
    return _Page(
        regions=[] if scanned or garbled else regions,
        size=(rect.width, rect.height),
        scanned=scanned,
        garbled=garbled,
    )


def _is_garbled(regions: list[_Region], residue: list[str]) -> bool:
    """A text layer of unmapped glyphs (control characters, U+FFFD): not worth indexing."""
    kept = (line.text for region in regions if not region.table for line in region.lines)
    text = "".join([*kept, *residue])
    return len(text) >= 10 and len(_GARBAGE.findall(text)) > GARBLED_RATIO * len(text)


def _column_regions(lines: list[_Line], direction: tuple[int, int]) -> list[_Region]:
    """One region per column: MuPDF sometimes puts lines of side-by-side columns in one block."""
    if len(lines) < 4:  # two columns need at least two lines each
        return [
            _Region(
                lines, _union(line.rect for line in lines), _dominant(lines), direction=direction
            )
        ]
    groups = split_columns([to_text_frame(line.rect, direction) for line in lines])
    if sum(1 for group in groups if len(group) > 1) < 2:  # a label and its value, "1." "Intro"
        groups = [list(range(len(lines)))]
    regions = []
    for group in groups:
        members = [lines[i] for i in sorted(group)]
        bbox = _union(line.rect for line in members)
        regions.append(_Region(members, bbox, _dominant(members), direction=direction))
    return regions


def _in_reading_order(regions: list[_Region], direction: tuple[int, int]) -> list[_Region]:
    """Main-direction text in reading order, then sideways text (margin stamps, arXiv ids)."""
    main = [r for r in regions if r.table or r.direction == direction]
    aside = [r for r in regions if not (r.table or r.direction == direction)]
    ordered = [main[i] for i in reading_order([to_text_frame(r.bbox, direction) for r in main])]
    return ordered + aside


def _union(rects: Any) -> Rect:
    rects = list(rects)
    if len(rects) == 1:
        return rects[0]
    x0s, y0s, x1s, y1s = zip(*rects, strict=True)
    return (min(x0s), min(y0s), max(x1s), max(y1s))


def _dominant(lines: list[_Line]) -> float:
    """The font size carrying most of the characters."""
    if len(lines) == 1:
        return lines[0].size
    sizes: dict[float, int] = {}
    for line in lines:
        sizes[line.size] = sizes.get(line.size, 0) + len(line.text)
    return max(sizes, key=sizes.__getitem__)


# --- tables ------------------------------------------------------------------------------------


def _may_hold_table(page: Any) -> bool:
    """Cheap gate before ``find_tables`` (20 ms to 1 s a page): ruling lines forming a grid.

    The content stream is scanned for path operators first (bytes, fast); only then are the
    drawings read as horizontal and vertical rules (a box gives two of each), and the gate
    opens when enough vertical rules cross enough horizontal ones. Underlines, single boxes
    and rules beside text stay out. Tables drawn inside form XObjects are not seen: the cost of
    a miss is a table read as plain lines.
    """
    try:
        rules = _RULES.finditer(page.read_contents())
        if sum(1 for _ in islice(rules, TABLE_MIN_RULES)) < TABLE_MIN_RULES:
            return False
        horizontal: list[tuple[float, float, float]] = []  # x0, x1, y
        vertical: list[tuple[float, float, float]] = []  # x, y0, y1
        for drawing in page.get_cdrawings():
            for item in drawing["items"]:
                _add_rules(item, horizontal, vertical)
        if len(vertical) < TABLE_MIN_V:
            return False
        return _crossings(horizontal, vertical) >= TABLE_MIN_CROSSINGS
    except Exception:
        return False


def _add_rules(item: Any, horizontal: list[Any], vertical: list[Any]) -> None:
    """The horizontal and vertical rules one drawing item contributes."""
    if item[0] == "l":
        (x0, y0), (x1, y1) = item[1], item[2]
    elif item[0] == "re":
        x0, y0, x1, y1 = item[1]
    else:
        return
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    w, h = x1 - x0, y1 - y0
    if h < 3 and w > 10:
        horizontal.append((x0, x1, (y0 + y1) / 2))
    elif w < 3 and h > 10:
        vertical.append(((x0 + x1) / 2, y0, y1))
    elif item[0] == "re" and w > 10 and h > 10:  # a box (a cell): its four edges
        horizontal.extend(((x0, x1, y0), (x0, x1, y1)))
        vertical.extend(((x0, y0, y1), (x1, y0, y1)))


def _crossings(horizontal: list[Any], vertical: list[Any], tol: float = 2.0) -> int:
    """How many (horizontal, vertical) rule pairs meet, counting up to the gate's need."""
    found = 0
    for x0, x1, y in horizontal:
        for x, y0, y1 in vertical:
            if x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol:
                found += 1
                if found >= TABLE_MIN_CROSSINGS:
                    return found
    return found


def _with_tables(page: Any, regions: list[_Region]) -> list[_Region]:
    """Replace the text regions inside detected tables by one table region each."""
    try:
        found = _find_tables(page)
    except Exception:
        return regions
    tables: list[_Region] = []
    for table in found:
        region = _table_region(table)
        if region is not None:
            tables.append(region)
    if not tables:
        return regions
    kept = [r for r in regions if not any(_inside(r.bbox, t.bbox) for t in tables)]
    return kept + tables


def _find_tables(page: Any) -> list[Any]:
    """``page.find_tables`` without the optional ONNX layout model (~0.5-1.5 s a page)."""
    try:
        return page.find_tables(use_layout=False).tables  # pymupdf >= 1.27 with layout
    except TypeError:
        return page.find_tables().tables


def _table_region(table: Any) -> _Region | None:
    if table.row_count < 2 or table.col_count < 2:
        return None
    rows = table.extract()
    lines: list[_Line] = []
    for row, cells in zip(table.rows, rows, strict=False):
        texts = [" ".join((cell or "").split()) for cell in cells]
        if not any(texts) or is_residue(" ".join(texts)):
            continue
        lines.append(_Line(" | ".join(texts), tuple(row.bbox), 0.0))
    if len(lines) < 2:
        return None
    return _Region(lines, tuple(table.bbox), 0.0, table=True)


def _inside(inner: Rect, outer: Rect) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3]


# --- forms ------------------------------------------------------------------------------------


def _add_form_values(doc: Any, pages: list[_Page], warnings: list[str]) -> None:
    """Filled AcroForm values (they are not page text) as a last block of their page."""
    for index, page in enumerate(pages):
        try:
            widgets = list(doc.load_page(index).widgets())
        except Exception:
            continue
        lines = []
        for widget in widgets:
            value = widget.field_value
            if value in (None, "", "Off", False) or isinstance(value, bool):
                continue
            label = (widget.field_label or widget.field_name or "").strip()
            text = " ".join(f"{label}: {value}".split()) if label else str(value).strip()
            if text:
                lines.append(_Line(text, tuple(widget.rect), 0.0))
        if lines:
            page.regions.append(_Region(lines, _union(line.rect for line in lines)))
            page.scanned = False


# --- running text, headings, title, text ------------------------------------------------------


def _mark_running(pages: list[_Page]) -> list[str]:
    """Split running headers, footers and page numbers off into margin regions; their texts."""
    lines: list[list[tuple[str, Rect, bool]]] = []
    owners: list[list[tuple[_Region, int]]] = []
    for page in pages:
        page_lines, page_owners = [], []
        for region in page.regions:
            if region.table:
                continue
            for i, line in enumerate(region.lines):
                page_lines.append((line.text, line.rect, len(region.lines) == 1))
                page_owners.append((region, i))
        lines.append(page_lines)
        owners.append(page_owners)
    running, texts = find_running(lines, [page.size for page in pages])
    if not running:
        return []
    marked: dict[int, dict[int, set[int]]] = {}  # page -> id(region) -> its running lines
    for p, k in running:
        region, i = owners[p][k]
        marked.setdefault(p, {}).setdefault(id(region), set()).add(i)
    for p, regions in marked.items():
        page = pages[p]
        page.regions = [
            piece
            for region in page.regions
            for piece in _split_running(region, regions.get(id(region), set()), page.size[1])
        ]
    return texts


def _split_running(region: _Region, running: set[int], height: float) -> list[_Region]:
    """``region`` cut into runs of running and body lines, in order (unchanged: no running)."""
    if not running:
        return [region]
    pieces: list[_Region] = []
    for i, line in enumerate(region.lines):
        is_running = i in running
        last = pieces[-1] if pieces else None
        if last is None or (last.margin is not None) != is_running:
            last = _Region([], line.rect, direction=region.direction)
            if is_running:
                top = (line.rect[1] + line.rect[3]) / 2 < height / 2
                last.margin = BlockKind.HEADER if top else BlockKind.FOOTER
            pieces.append(last)
        last.lines.append(line)
    for piece in pieces:
        piece.bbox = _union(line.rect for line in piece.lines)
        piece.size = _dominant(piece.lines)
    return pieces


def _mark_headings(pages: list[_Page]) -> None:
    """Blocks in a font clearly larger than the body text become headings, levels by size."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for region in page.regions:
            for line in region.lines:
                sizes[line.size] += len(line.text)
    if not sizes:
        return
    body = sizes.most_common(1)[0][0]
    candidates = [
        region
        for page in pages
        for region in page.regions
        if not region.table
        and region.margin is None
        and region.size >= body * HEADING_RATIO
        and len(region.lines) <= HEADING_MAX_LINES
        and region.n_chars <= HEADING_MAX_CHARS
        and any(ch.isalpha() for line in region.lines for ch in line.text)
    ]
    repeated = Counter(_plain(region) for region in candidates)
    candidates = [r for r in candidates if repeated[_plain(r)] <= REPEATED_PAGES]
    levels = sorted({region.size for region in candidates}, reverse=True)
    for region in candidates:
        region.heading_level = min(levels.index(region.size) + 1, HEADING_LEVELS)


def _plain(region: _Region) -> str:
    """A region's text with numbers blanked: running headers differ only by page number."""
    return _DIGITS.sub("#", " ".join(line.text for line in region.lines))


def _emit(builder: TextBuilder, region: _Region, page: int) -> None:
    parts: list[str] = []
    spans: list[tuple[int, int, Rect]] = []
    pos = 0
    for i, line in enumerate(region.lines):
        if i:
            sep = _line_separator(region.lines[i - 1], line)
            if (
                parts[-1].endswith(("-", SOFT_HYPHEN))
                and not region.table
                and _HYPHENATED.search(parts[-1][-3:])
                and _LOWER.match(line.text)
            ):
                # "com-" + "pile" -> "compile": the hyphen leaves the text and its line's span
                parts[-1] = parts[-1][:-1]
                start, end, rect = spans[-1]
                spans[-1] = (start, end - 1, rect)
                pos -= 1
                sep = ""
            parts.append(sep)
            pos += len(sep)
        parts.append(line.text)
        spans.append((pos, pos + len(line.text), line.rect))
        pos += len(line.text)
    kind = BlockKind.TABLE if region.table else BlockKind.PARAGRAPH
    if region.heading_level:
        kind = BlockKind.HEADING
    if region.margin is not None:
        kind = region.margin
    builder.add("".join(parts), kind, page, level=region.heading_level, lines=spans)


def _line_separator(before: _Line, after: _Line) -> str:
    """ "" between CJK characters (wrapping adds no space), " " between pieces of one visual
    line (MuPDF splits justified lines at wide gaps), else a line break."""
    if _CJK.match(before.text[-1:]) and _CJK.match(after.text[:1]):
        return ""
    b, a = before.rect, after.rect
    height = max(b[3] - b[1], 1.0)
    if abs(a[1] - b[1]) < 0.3 * height and abs(a[3] - b[3]) < 0.3 * height and a[0] >= b[2] - 1:
        return " "
    return "\n"


def _title(metadata_title: str, builder: TextBuilder, path: Path) -> str:
    title = " ".join(metadata_title.split())
    if title and not _JUNK_TITLE.search(title):
        return title
    for block in builder.blocks:
        if block.page > 2:
            break
        if block.kind is BlockKind.HEADING:
            return " ".join(block.text.split())[:200]
    return path.stem
