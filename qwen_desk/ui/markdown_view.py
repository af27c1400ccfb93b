"""UI layer: ``MarkdownView``, a read-only rich text view that renders streamed Markdown cheaply.

Rendering Markdown again on every flush costs time proportional to the answer's length. This view
splits the source at blank lines outside code fences: finished blocks are converted once and
appended to the ``QTextDocument``; only the last, incomplete block (the *tail*) is removed and
re-inserted on each flush. ``QTextDocumentLayout`` lays out only what changed, so a flush costs
about the same at 200 or 4,000 tokens; it grows only with the length of the block still being
written (measured: a 1,000-character unfinished paragraph ~3 ms, a 6,000-character one ~70 ms;
lists and code are cheaper).

Appending a block: Qt merges the first block of an inserted fragment into the block at the cursor
and drops its block format (a heading or a code block would lose its style), so each fragment is
converted with a zero-width sentinel paragraph in front; the sentinel is what merges, and it is
deleted afterwards.

Citation markers (every form ``core.citations.find_markers`` reads: ``[1, 2]``, ``[1-3]``,
``【1】``, ``［１］``) outside code become chips: anchors with the
``cite:n`` URL, drawn on a tinted background; a click emits ``sig_citation_clicked(n)``. With
``set_source_count(n)`` only the numbers 1..n become chips: a marker naming none of them stays
plain text, as written; the numbers of a mixed one (``[1, 9]`` of two sources) beyond ``n`` are
written as plain, greyed ``[9]`` with a tooltip saying that source is not available. The view
sizes itself to its document's height (it lives in a scroll area and never scrolls itself).
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QEvent, QSizeF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from qwen_desk.core.citations import CLOSING, find_markers

CITE_SCHEME = "cite"
_SENTINEL = "\u200b"
_FENCE_RE = re.compile(r"^ {0,3}(```|~~~)")


def split_finished(pending: str) -> int:
    """Length of the prefix of ``pending`` made of finished Markdown blocks.

    A block is finished once a blank line follows it outside a code fence. ``pending`` starts at
    a block boundary outside any fence (that is where the previous commit stopped).
    """
    in_fence = False
    boundary = 0
    pos = 0
    for line in pending.splitlines(keepends=True):
        end = pos + len(line)
        if not line.endswith("\n"):
            break  # the last line is still being written
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            if not in_fence:
                boundary = end  # a closed fence is a finished block
        elif not in_fence and not line.strip():
            boundary = end
        pos = end
    return boundary


def chip_format(palette: QPalette) -> QTextCharFormat:
    """How a citation chip looks: bold, tinted with the palette's highlight colour."""
    fmt = QTextCharFormat()
    accent = palette.color(QPalette.ColorRole.Highlight)
    background = QColor(accent)
    background.setAlpha(48)
    fmt.setBackground(background)
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    fmt.setForeground(accent.lighter(150) if dark else accent.darker(130))
    fmt.setFontWeight(QFont.Weight.DemiBold)
    fmt.setFontUnderline(False)
    fmt.setAnchor(True)
    return fmt


class MarkdownView(QTextBrowser):
    """Markdown text that can grow by appends; ``[n]`` markers are clickable chips."""

    sig_citation_clicked = Signal(int)
    """A citation chip ``[n]`` was clicked; carries ``n``."""

    sig_link_clicked = Signal(QUrl)
    """Any other link was clicked (the owner decides whether to open it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.viewport().setAutoFillBackground(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        doc = self.document()
        doc.setDocumentMargin(2)
        doc.setUndoRedoEnabled(False)  # appends must not accumulate undo history
        doc.documentLayout().documentSizeChanged.connect(self._fit_height)
        self.anchorClicked.connect(self._on_anchor)
        self._source = ""
        self._committed = 0  # characters of ``_source`` appended as finished blocks
        self._tail_pos = 0  # document position where the re-rendered tail starts
        self._chip = chip_format(self.palette())
        self._source_count: int | None = None  # None: every number is a chip
        self.setFixedHeight(self._height_for(doc.size()))

    # --- content --------------------------------------------------------------------------

    def markdown(self) -> str:
        """The Markdown source shown."""
        return self._source

    def set_markdown(self, text: str) -> None:
        """Show ``text`` (replaces everything; one full conversion)."""
        self._source = ""
        self._committed = 0
        self._tail_pos = 0
        self.document().clear()
        self.append_markdown(text)

    def append_markdown(self, delta: str) -> None:
        """Append streamed Markdown: finished blocks are converted once, the tail again."""
        if not delta:
            return
        self._source += delta
        pending = self._source[self._committed :]
        finished = split_finished(pending)
        self._remove_tail()
        if finished:
            self._insert_segment(pending[:finished])
            self._committed += finished
            self._tail_pos = self._end_position()
        tail = self._source[self._committed :]
        if tail.strip():
            self._insert_segment(tail)

    def source_count(self) -> int | None:
        """How many sources chips may name (``None``: no limit)."""
        return self._source_count

    def set_source_count(self, count: int | None, *, render: bool = True) -> None:
        """Only numbers 1..``count`` become chips (``None``: all).

        The text shown is rendered again (with ``render``) only when a marker in it changes
        between chip and plain text; an answer's sources usually arrive before its markers.
        """
        old, self._source_count = self._source_count, count
        if count == old or not render or not self._source:
            return
        changed = any(
            _available(old, n) != _available(count, n)
            for marker in find_markers(self._source, markdown=False)  # code too: errs on redoing
            for n in marker.numbers
        )
        if changed:
            self.set_markdown(self._source)

    def _available(self, n: int) -> bool:
        return _available(self._source_count, n)

    # --- internals ------------------------------------------------------------------------

    def _end_position(self) -> int:
        return self.document().characterCount() - 1

    def _remove_tail(self) -> None:
        doc = self.document()
        if self._tail_pos == 0:
            doc.clear()
            return
        cursor = QTextCursor(doc)
        cursor.setPosition(self._tail_pos)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()

    def _insert_segment(self, markdown: str) -> None:
        doc = self.document()
        empty = doc.isEmpty()
        # Chips and code styling are applied in the fragment's own document, which has no
        # layout: editing the view's document would lay the block out again for every chip.
        fragment_doc = QTextDocument()
        fragment_doc.setMarkdown(markdown if empty else _SENTINEL + "\n\n" + markdown)
        self._style_code_blocks(fragment_doc)
        self._make_chips(fragment_doc)
        fragment = QTextDocumentFragment(fragment_doc)
        cursor = QTextCursor(doc)
        if empty:
            cursor.insertFragment(fragment)
            # An empty document adopts the fragment's first block format when it is a whole doc.
            QTextCursor(doc.begin()).setBlockFormat(fragment_doc.begin().blockFormat())
            return
        cursor.movePosition(QTextCursor.MoveOperation.End)
        start = cursor.position()
        cursor.insertFragment(fragment)
        sentinel = QTextCursor(doc)
        sentinel.setPosition(start)
        sentinel.setPosition(start + 1, QTextCursor.MoveMode.KeepAnchor)
        if sentinel.selectedText() == _SENTINEL:
            sentinel.removeSelectedText()

    def _style_code_blocks(self, doc: QTextDocument) -> None:
        """Give fenced code a tinted background and a little breathing room."""
        tint = self.palette().color(QPalette.ColorRole.AlternateBase)
        block = doc.begin()
        while block.isValid():
            fmt = block.blockFormat()
            if fmt.nonBreakableLines():
                fmt.setBackground(tint)
                fmt.setLeftMargin(6)
                fmt.setRightMargin(6)
                QTextCursor(block).setBlockFormat(fmt)
            block = block.next()

    def _make_chips(self, doc: QTextDocument) -> None:
        """Turn ``[n]`` markers of ``doc`` (outside code) into chip anchors."""
        text = doc.toRawText()  # U+2029 between blocks: offsets are document positions
        # the one rule of core/citations (all bracket forms); code is known here by its format
        markers = find_markers(text, markdown=False)
        for match in reversed(markers):  # from the end, so earlier positions stay valid
            numbers = list(dict.fromkeys(match.numbers))
            available = [n for n in numbers if self._available(n)]
            if not available:
                continue  # no source of this answer: plain text, as written
            cursor = QTextCursor(doc)
            cursor.setPosition(match.start + 1)  # charFormat() is that of the char before
            if cursor.block().blockFormat().nonBreakableLines() or _is_code(cursor):
                continue
            cursor.setPosition(match.start)
            cursor.setPosition(match.end, QTextCursor.MoveMode.KeepAnchor)
            base = cursor.charFormat()
            cursor.removeSelectedText()
            for i, number in enumerate(available):
                if i:
                    cursor.insertText("\u200a", base)
                fmt = QTextCharFormat(base)
                fmt.merge(self._chip)
                fmt.setAnchorHref(f"{CITE_SCHEME}:{number}")
                fmt.setToolTip(self.tr("Show source [%1]").replace("%1", str(number)))
                cursor.insertText(f"\u00a0{number}\u00a0", fmt)
            missing = [n for n in numbers if n not in available]
            if missing:
                listed = ", ".join(str(n) for n in missing)
                fmt = QTextCharFormat(base)
                fmt.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
                tip = self.tr("Not among the sources of this answer: [%1]")
                fmt.setToolTip(tip.replace("%1", listed))
                cursor.insertText("\u200a", base)
                cursor.insertText(f"{match.open}{listed}{CLOSING[match.open]}", fmt)

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == CITE_SCHEME:
            try:
                self.sig_citation_clicked.emit(int(url.path()))
            except ValueError:
                return
        else:
            self.sig_link_clicked.emit(url)

    def _height_for(self, size: QSizeF) -> int:
        margins = self.contentsMargins()
        return math.ceil(size.height()) + margins.top() + margins.bottom()

    def _fit_height(self, size: QSizeF) -> None:
        height = self._height_for(size)
        if height != self.height():
            self.setFixedHeight(height)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            chip = chip_format(self.palette())
            same = (
                chip.background() == self._chip.background()
                and chip.foreground() == self._chip.foreground()
            )
            self._chip = chip
            if self._source and not same:
                self.set_markdown(self._source)  # new theme: chips need the new colours


def _available(count: int | None, n: int) -> bool:
    return count is None or 1 <= n <= count


def _is_code(cursor: QTextCursor) -> bool:
    fmt = cursor.charFormat()
    return fmt.fontFixedPitch() or "mono" in fmt.fontFamilies().__str__().lower()
