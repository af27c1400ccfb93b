"""UI layer: ``SourceViewer``, the cited passage in its document.

PDF: the page is rendered by the core in its child process (``ViewerController``), shown fitted
to the pane's width, the citation's rectangles (PDF points, top-left origin) drawn over it in
semi-transparent yellow (points x zoom = pixels of the rendered image) and scrolled into view;
Previous/Next move through pages; the cited passage is shown whole under the page (wrapped,
scrolling past a few lines). DOCX, TXT, Markdown: the extracted text with the passage
``[char_start, char_end)`` highlighted and centred (Python offsets converted to Qt's UTF-16
positions). "Open in default app" hands the file to the desktop. An encrypted PDF or Word file
opens with the password known this session (the one it was indexed with, or one typed here
earlier); otherwise the viewer asks for it in place (``PasswordPrompt``,
a page of the viewer, not a modal dialog): a wrong one says so and asks again, Cancel leaves a
message saying why the page is not shown. The viewer belongs to the
open conversation: a new chat (Ctrl+N) or another conversation closes and clears it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QRectF, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QImage, QPainter, QPixmap, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.controllers.viewer_controller import RenderedPage, ViewerController
from qwen_desk.core.naming import document_name
from qwen_desk.core.types import Citation, Rect
from qwen_desk.ui.messages import error_text
from qwen_desk.ui.password_prompt import PasswordPrompt

HIGHLIGHT = QColor(255, 214, 0, 110)
HIGHLIGHT_BORDER = QColor(230, 160, 0, 200)
PDF_KINDS = (".pdf",)
SNIPPET_LINES = 5  # the passage under the page scrolls past this many lines


def _is_cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"


def passage_text(text: str) -> str:
    """The whole passage as one flowing paragraph: runs of spaces and line breaks become one
    space, or nothing between two Chinese characters (a PDF's line break inside a sentence)."""
    words = text.split()
    if not words:
        return ""
    out = [words[0]]
    for word in words[1:]:
        if not (_is_cjk(out[-1][-1]) and _is_cjk(word[0])):
            out.append(" ")
        out.append(word)
    return "".join(out)


def utf16_offset(text: str, index: int) -> int:
    """Qt position (UTF-16 code units) of Python string index ``index``."""
    prefix = text[: max(0, min(index, len(text)))]
    return len(prefix.encode("utf-16-le")) // 2


def highlight_page(png: bytes, rects: list[Rect], zoom: float) -> QImage:
    """The rendered page with ``rects`` (PDF points) painted over it in translucent yellow."""
    image = QImage.fromData(png, "PNG").convertToFormat(QImage.Format.Format_ARGB32)
    if rects:
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(HIGHLIGHT_BORDER)
        painter.setBrush(HIGHLIGHT)
        for x0, y0, x1, y1 in rects:
            painter.drawRect(QRectF(x0 * zoom, y0 * zoom, (x1 - x0) * zoom, (y1 - y0) * zoom))
        painter.end()
    return image


class SourceViewer(QFrame):
    """Shows a citation's page (PDF) or text (others), highlighted."""

    def __init__(self, chat: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sourceViewer")
        self.controller = ViewerController(self)
        self.citation: Citation | None = None
        self.page = 0
        self._image: QImage | None = None
        self._rendered: RenderedPage | None = None
        self._text_path = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        header = QHBoxLayout()
        self.title = QLabel(self)
        self.title.setObjectName("sourceTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        header.addWidget(self.title, 1)
        self.close_button = QPushButton(self)
        self.close_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton)
        )
        self.close_button.setFlat(True)
        self.close_button.clicked.connect(self.hide)
        header.addWidget(self.close_button)
        layout.addLayout(header)

        nav = QHBoxLayout()
        self.prev_button = QPushButton(self)
        self.prev_button.clicked.connect(lambda: self.go_to_page(self.page - 1))
        self.next_button = QPushButton(self)
        self.next_button.clicked.connect(lambda: self.go_to_page(self.page + 1))
        self.page_label = QLabel(self)
        self.open_button = QPushButton(self)
        self.open_button.clicked.connect(self.open_externally)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.page_label)
        nav.addWidget(self.next_button)
        nav.addStretch(1)
        nav.addWidget(self.open_button)
        layout.addLayout(nav)

        self.stack = QStackedWidget(self)
        self.page_scroll = QScrollArea(self)
        self.page_scroll.setWidgetResizable(False)
        self.page_scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.page_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.page_label_image = QLabel(self.page_scroll)
        self.page_label_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.page_scroll.setWidget(self.page_label_image)
        self.text_view = QPlainTextEdit(self)
        self.text_view.setReadOnly(True)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.password_prompt = PasswordPrompt(self)
        self.password_prompt.sig_submitted.connect(self._on_password_submitted)
        self.password_prompt.sig_cancelled.connect(self._on_password_cancelled)
        for widget in (self.page_scroll, self.text_view, self.message, self.password_prompt):
            self.stack.addWidget(widget)
        layout.addWidget(self.stack, 1)
        # the cited passage, whole: wrapped, selectable, scrolling past a few lines
        self.snippet_scroll = QScrollArea(self)
        self.snippet_scroll.setObjectName("sourceSnippetArea")
        self.snippet_scroll.setWidgetResizable(True)
        self.snippet_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.snippet_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.snippet = QLabel(self.snippet_scroll)
        self.snippet.setObjectName("sourceSnippet")
        self.snippet.setWordWrap(True)
        self.snippet.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.snippet.setTextFormat(Qt.TextFormat.PlainText)
        self.snippet.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.snippet_scroll.setWidget(self.snippet)
        lines = SNIPPET_LINES * self.snippet.fontMetrics().lineSpacing()
        self.snippet_scroll.setMaximumHeight(lines + 8)
        self.snippet_scroll.hide()
        layout.addWidget(self.snippet_scroll)

        self.controller.sig_page_ready.connect(self._on_page)
        self.controller.sig_text_ready.connect(self._on_text)
        self.controller.sig_failed.connect(self._on_failed)
        self.controller.sig_password_needed.connect(self._on_password_needed)
        # the viewer opens itself on a citation click; the main window only makes room for it
        if chat is not None and hasattr(chat, "sig_citation_requested"):
            chat.sig_citation_requested.connect(self.show_citation)
            chat.sig_conversation_changed.connect(self._on_conversation_changed)
        self.retranslate()
        self._show_message(self.tr("Click a citation to see its source."))

    # --- public -----------------------------------------------------------------------------

    def show_citation(self, citation: Citation) -> None:
        """Open the citation's document at its page/passage, highlighted."""
        self.citation = citation
        self.show()
        name = document_name(citation.path, citation.title)
        self.title.setText(name.name)
        self.title.setToolTip(f"{name.label()}\n{citation.path}" if name.title else citation.path)
        self.snippet.setText(f"[{citation.n}] " + passage_text(citation.text))
        self.snippet_scroll.verticalScrollBar().setValue(0)
        self.snippet_scroll.show()
        if not Path(citation.path).exists():
            self._show_message(self.tr("The file is no longer at %1.").replace("%1", citation.path))
            return
        if self.is_pdf:
            self.go_to_page(max(1, citation.page))
        else:
            self._set_nav(False)
            self._show_message(self.tr("Loading…"))
            self.controller.request_text(citation.path)

    def clear(self) -> None:
        """Forget the citation shown and close the viewer (its conversation is no longer open)."""
        self.citation = None
        self.page = 0
        self._image = None
        self._rendered = None
        self.page_label_image.clear()
        self.title.clear()
        self.title.setToolTip("")
        self.snippet.clear()
        self.snippet_scroll.hide()
        self._show_message(self.tr("Click a citation to see its source."))
        self.hide()

    def _on_conversation_changed(self, _conversation_id: int) -> None:
        self.clear()

    @property
    def is_pdf(self) -> bool:
        return self.citation is not None and self.citation.path.lower().endswith(PDF_KINDS)

    def go_to_page(self, page: int) -> None:
        if self.citation is None or page < 1:
            return
        self.page = page
        self.page_label.setText(self.tr("Page %1").replace("%1", str(page)))
        self._set_nav(True)
        self.controller.request_page(self.citation.path, page)

    def open_externally(self) -> None:
        """Open the document in the desktop's default application."""
        if self.citation is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.citation.path))

    def highlighted_rects(self) -> list[Rect]:
        """Rectangles drawn on the page shown (the citation's, on its own page)."""
        c = self.citation
        if c is None or self._rendered is None or self._rendered.page != c.page:
            return []
        return list(c.rects)

    def retranslate(self) -> None:
        self.prev_button.setText(self.tr("◀ Previous"))
        self.next_button.setText(self.tr("Next ▶"))
        self.open_button.setText(self.tr("Open in default app"))
        self.close_button.setToolTip(self.tr("Close"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # --- results ----------------------------------------------------------------------------

    def _on_page(self, rendered: RenderedPage) -> None:
        if self.citation is None or rendered.path != self.citation.path:
            return
        self._rendered = rendered
        self._image = highlight_page(rendered.png, self.highlighted_rects(), rendered.zoom)
        self.stack.setCurrentWidget(self.page_scroll)
        self._fit_page()
        self.prev_button.setEnabled(rendered.page > 1)
        self.next_button.setEnabled(True)
        self._scroll_to_highlight()

    def _fit_page(self) -> None:
        if self._image is None:
            return
        # fit the width left once the vertical scroll bar is shown (a page is taller than wide)
        bar = self.page_scroll.verticalScrollBar().sizeHint().width()
        frame = self.page_scroll.frameWidth() * 2
        width = max(200, self.page_scroll.width() - bar - frame - 2)
        pixmap = QPixmap.fromImage(self._image)
        if pixmap.width() > width:
            pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
        self.page_label_image.setPixmap(pixmap)
        self.page_label_image.resize(pixmap.size())

    def display_scale(self) -> float:
        """Displayed pixels per rendered pixel."""
        pixmap = self.page_label_image.pixmap()
        if self._image is None or pixmap is None or pixmap.isNull():
            return 1.0
        return pixmap.width() / self._image.width()

    def _scroll_to_highlight(self) -> None:
        rects = self.highlighted_rects()
        if not rects or self._rendered is None:
            self.page_scroll.verticalScrollBar().setValue(0)
            return
        scale = self._rendered.zoom * self.display_scale()
        top = min(r[1] for r in rects) * scale
        bottom = max(r[3] for r in rects) * scale
        centre = int((top + bottom) / 2)
        self.page_scroll.ensureVisible(0, centre, 0, int((bottom - top) / 2) + 40)

    def _on_text(self, path: str, text: str) -> None:
        c = self.citation
        if c is None or path != c.path:
            return
        if self._text_path != path:
            self.text_view.setPlainText(text)
            self._text_path = path
        start = utf16_offset(text, c.char_start)
        end = utf16_offset(text, c.char_end)
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor  # type: ignore[attr-defined]
        selection.format.setBackground(HIGHLIGHT)  # type: ignore[attr-defined]
        self.text_view.setExtraSelections([selection])
        self.stack.setCurrentWidget(self.text_view)
        caret = QTextCursor(self.text_view.document())
        caret.setPosition(start)
        self.text_view.setTextCursor(caret)
        self.text_view.centerCursor()

    def highlighted_text(self) -> str:
        """The text under the highlight in the text view."""
        selections = self.text_view.extraSelections()
        return selections[0].cursor.selectedText() if selections else ""

    def _on_failed(self, path: str, code: str, detail: str) -> None:
        if self.citation is not None and path == self.citation.path:
            if self.is_pdf and self.page > max(1, self.citation.page) and code == "document_error":
                self.next_button.setEnabled(False)  # past the last page
                self.go_to_page(self.page - 1)
                return
            self._show_message(error_text(code, detail, with_detail=True))

    def _on_password_needed(self, path: str, page: int, wrong: bool) -> None:
        if self.citation is None or path != self.citation.path:
            return
        self.page = page
        self.prev_button.setEnabled(False)  # no page to move from until one is shown
        self.next_button.setEnabled(False)
        self.password_prompt.ask(Path(path).name, wrong, page=self.is_pdf)
        self.stack.setCurrentWidget(self.password_prompt)
        self.password_prompt.field.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_password_submitted(self, password: str) -> None:
        if self.citation is None:
            return
        if self.is_pdf:
            self.controller.request_page(self.citation.path, max(1, self.page), password=password)
        else:
            self.controller.request_text(self.citation.path, password=password)

    def _on_password_cancelled(self) -> None:
        name = Path(self.citation.path).name if self.citation is not None else ""
        if self.is_pdf:
            text = self.tr(
                "“%1” is protected by a password, so its page cannot be shown. "
                "Click the citation again to enter the password."
            )
        else:
            text = self.tr(
                "“%1” is protected by a password, so its text cannot be shown. "
                "Click the citation again to enter the password."
            )
        self._show_message(text.replace("%1", name))

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def _set_nav(self, pdf: bool) -> None:
        for widget in (self.prev_button, self.next_button, self.page_label):
            widget.setVisible(pdf)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.stack.currentWidget() is self.page_scroll:
            self._fit_page()

    def closeEvent(self, event: Any) -> None:
        self.controller.close()
        super().closeEvent(event)
