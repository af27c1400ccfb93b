"""UI layer: ``MessageWidget``, one question or answer of the chat pane.

An answer shows, top to bottom: a notice when sources were left out to fit the context window,
the "not in your documents" banner (a distinct, amber style), for a knowledge base without any
documents the ``NoDocumentsNotice`` instead of the body (how to add files; "Ask without
documents"), the "not from your documents" mark of an answer given without them, the Markdown
body with citation chips (``MarkdownView``), a stopped/failed line with Retry, the numbered
sources (file, page, snippet; each opens the source viewer: while streaming all retrieved ones,
then those the text cites) and a footer with model, time to first token and tokens/s next to
Copy and Regenerate. Chips are made only for the numbers of the answer's sources. A question
shows its text and, when it is the last one, Edit.

While an answer streams only ``append_text`` is called (the body grows); everything else is
refreshed once when the record changes state.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.core.citations import cited_only
from qwen_desk.core.naming import document_name
from qwen_desk.core.types import Citation, MessageRecord, MessageState
from qwen_desk.models.chat_model import (
    is_no_documents,
    is_not_in_documents,
    is_without_documents,
)
from qwen_desk.ui.markdown_view import MarkdownView
from qwen_desk.ui.messages import error_text
from qwen_desk.ui.no_documents_notice import NoDocumentsNotice

SNIPPET_CHARS = 140


def snippet(text: str, max_chars: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 1].rstrip() + "…"


def source_count(record: MessageRecord) -> int:
    """How many sources the chips of ``record`` may name: its highest citation number (0 for a
    question, or an answer without sources)."""
    if record.role != "assistant":
        return 0
    return max((c.n for c in record.citations), default=0)


def listed_sources(record: MessageRecord) -> list[Citation]:
    """The sources an answer lists: while it streams every retrieved one (provisional), then
    those its text cites (``core.citations``' rule: the same markers that become chips)."""
    if record.state is MessageState.STREAMING:
        return sorted(record.citations, key=lambda c: c.n)
    return cited_only(record.text, record.citations)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class MessageWidget(QFrame):
    """A question or an answer; emits what the user clicked."""

    sig_citation_clicked = Signal(int)
    """Chip or source ``[n]`` clicked."""
    sig_retry = Signal()
    """Retry of a stopped or failed answer."""
    sig_regenerate = Signal()
    """Regenerate this (last) answer."""
    sig_edit = Signal()
    """Edit this (last) question."""
    sig_copied = Signal()
    """The text was copied to the clipboard."""
    sig_add_files = Signal()
    """"Add files…" in the no-documents notice."""
    sig_ask_without_documents = Signal()
    """Ask this (last) question again without documents."""

    def __init__(self, record: MessageRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._record = record
        self._is_last = False
        self.setObjectName("assistantMessage" if record.role == "assistant" else "userMessage")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 8)
        layout.setSpacing(6)

        header = QHBoxLayout()
        header.setSpacing(4)
        self.role_label = QLabel(self)
        self.role_label.setObjectName("messageRole")
        font = self.role_label.font()
        font.setBold(True)
        self.role_label.setFont(font)
        header.addWidget(self.role_label, 1)
        layout.addLayout(header)

        self.notice = QLabel(self)
        self.notice.setObjectName("trimmedNotice")
        self.notice.setWordWrap(True)
        layout.addWidget(self.notice)

        self.not_found = QLabel(self)
        self.not_found.setObjectName("notInDocuments")
        self.not_found.setWordWrap(True)
        layout.addWidget(self.not_found)

        self.no_documents = NoDocumentsNotice(self)
        self.no_documents.sig_add_files.connect(self.sig_add_files)
        self.no_documents.sig_ask_without_documents.connect(self.sig_ask_without_documents)
        layout.addWidget(self.no_documents)

        self.without_documents = QLabel(self)
        self.without_documents.setObjectName("withoutDocuments")
        self.without_documents.setWordWrap(True)
        layout.addWidget(self.without_documents)

        self.body = MarkdownView(self)
        self.body.sig_citation_clicked.connect(self.sig_citation_clicked)
        layout.addWidget(self.body)

        self.placeholder = QLabel(self)
        self.placeholder.setObjectName("streamingPlaceholder")
        layout.addWidget(self.placeholder)

        status_row = QHBoxLayout()
        self.status = QLabel(self)
        self.status.setObjectName("answerStatus")
        self.status.setWordWrap(True)
        self.retry_button = QPushButton(self)
        self.retry_button.clicked.connect(self.sig_retry)
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.retry_button)
        layout.addLayout(status_row)

        self.sources = QLabel(self)
        self.sources.setObjectName("sourcesList")
        self.sources.setWordWrap(True)
        self.sources.setTextFormat(Qt.TextFormat.RichText)
        self.sources.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.sources.linkActivated.connect(self._on_source_link)
        layout.addWidget(self.sources)

        footer = QHBoxLayout()
        footer.setSpacing(4)
        self.footer = QLabel(self)
        self.footer.setObjectName("answerFooter")
        footer.addWidget(self.footer, 1)
        self.copy_button = QPushButton(self)
        self.copy_button.setFlat(True)
        self.copy_button.clicked.connect(self.copy)
        self.regenerate_button = QPushButton(self)
        self.regenerate_button.setFlat(True)
        self.regenerate_button.clicked.connect(self.sig_regenerate)
        self.edit_button = QPushButton(self)
        self.edit_button.setFlat(True)
        self.edit_button.clicked.connect(self.sig_edit)
        # a question keeps its buttons in its header row; an answer in its footer
        row = header if record.role == "user" else footer
        for button in (self.copy_button, self.regenerate_button, self.edit_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            row.addWidget(button)
        if record.role != "user":
            layout.addLayout(footer)
        else:
            self.footer.hide()

        self.body.set_source_count(source_count(record))
        self.body.set_markdown(record.text)
        self._rendered = record.text
        self.refresh(record)

    # --- updates --------------------------------------------------------------------------

    @property
    def record(self) -> MessageRecord:
        return self._record

    def append_text(self, record: MessageRecord) -> None:
        """The record's text grew while streaming: render only the new part."""
        self._record = record
        if record.text.startswith(self._rendered):
            delta = record.text[len(self._rendered) :]
            self.body.append_markdown(delta)
        else:
            self.body.set_markdown(record.text)
        self._rendered = record.text
        if record.text and self.body.isHidden():
            self.placeholder.hide()
            self.body.show()

    def set_last(self, is_last: bool) -> None:
        """Only the last question/answer offer Edit/Regenerate/Ask without documents."""
        if is_last != self._is_last:
            self._is_last = is_last
            self._update_buttons()

    def refresh(self, record: MessageRecord) -> None:
        """Show every field of ``record`` (state, sources, footer...)."""
        self._record = record
        changed = record.text != self._rendered
        grows = record.text.startswith(self._rendered) and record.state is MessageState.STREAMING
        # chips only for this answer's sources (rendered once: with the new text if it is new)
        self.body.set_source_count(source_count(record), render=not changed or grows)
        if changed:
            if grows:
                self.body.append_markdown(record.text[len(self._rendered) :])
            else:
                self.body.set_markdown(record.text)
            self._rendered = record.text
        assistant = record.role == "assistant"
        streaming = record.state is MessageState.STREAMING
        no_documents = assistant and is_no_documents(record)
        self._retranslate_buttons()
        self.role_label.setText(self.tr("Assistant") if assistant else self.tr("You"))
        # the notice says it in the window's language, with what to do: not the core's sentence
        self.body.setVisible((bool(record.text) or not streaming) and not no_documents)
        self.no_documents.setVisible(no_documents)
        self.without_documents.setVisible(
            assistant and not streaming and is_without_documents(record)
        )
        self.without_documents.setText(
            "ℹ " + self.tr("Not from your documents: the model answered without sources.")
        )
        self.placeholder.setVisible(assistant and streaming and not record.text)
        self.placeholder.setText(
            self.tr("Searching your documents…")
            if not record.citations
            else self.tr("Writing the answer…")
        )
        self._show_notice(record)
        not_found = assistant and is_not_in_documents(record)
        self.not_found.setVisible(not_found)
        self.not_found.setText(
            "⚠ "
            + self.tr(
                "Not found in your documents. Nothing relevant was retrieved, so no "
                "answer was made up."
            )
        )
        self.setProperty("notInDocuments", not_found)
        self._show_status(record)
        self._show_sources(record)
        self._show_footer(record)
        self._update_buttons()

    # --- parts ----------------------------------------------------------------------------

    def _show_notice(self, record: MessageRecord) -> None:
        dropped = int(record.trimmed.get("sources_dropped", 0) or 0)
        turns = int(record.trimmed.get("history_turns_dropped", 0) or 0)
        parts = []
        if dropped == 1:
            parts.append(self.tr("1 source was left out to fit the model's context window."))
        elif dropped:
            parts.append(
                self.tr("%1 sources were left out to fit the model's context window.").replace(
                    "%1", str(dropped)
                )
            )
        if turns:
            parts.append(
                self.tr("Earlier exchanges not sent to the model: %1 (context window).").replace(
                    "%1", str(turns)
                )
            )
        self.notice.setVisible(bool(parts) and record.role == "assistant")
        self.notice.setText("ℹ " + " ".join(parts))

    def _show_status(self, record: MessageRecord) -> None:
        if record.state is MessageState.STOPPED:
            text = self.tr("Stopped.")
            if record.error_code and record.error_code not in ("cancelled",):
                text = self.tr("Interrupted: %1").replace("%1", error_text(record.error_code))
        elif record.state is MessageState.FAILED:
            text = self.tr("Failed: %1").replace("%1", error_text(record.error_code or ""))
        else:
            text = ""
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.status.setProperty("stopped", self._stopped_by_user())
        self.status.style().unpolish(self.status)  # re-read the theme's [stopped] rule
        self.status.style().polish(self.status)
        self.retry_button.setVisible(bool(text))
        self.setProperty("answerState", record.state.value)

    def _show_sources(self, record: MessageRecord) -> None:
        listed = listed_sources(record) if record.role == "assistant" else []
        if not listed:
            self.sources.hide()
            return
        items = [self._source_line(c) for c in listed]
        title = self.tr("Sources")
        self.sources.setText(f"<b>{title}</b><br>" + "<br>".join(items))
        self.sources.show()

    def _source_line(self, citation: Citation) -> str:
        name = _escape(document_name(citation.path, citation.title).name)
        page = self.tr("p. %1").replace("%1", str(citation.page)) if citation.page > 0 else ""
        where = f"{name}, {page}" if page else name
        link = self.palette().color(QPalette.ColorRole.Link).name()
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        return (
            f'<a href="src:{citation.n}" style="color:{link}; text-decoration:none;">'
            f"<b>[{citation.n}]</b> {where}</a> "
            f'<span style="color:{muted};">— {_escape(snippet(citation.text))}</span>'
        )

    def _show_footer(self, record: MessageRecord) -> None:
        if record.role != "assistant" or record.state is MessageState.STREAMING:
            self.footer.setText("")
            return
        stats = record.stats or {}
        parts = [record.model or str(stats.get("model") or "")]
        ttft = stats.get("ttft_s")
        if isinstance(ttft, (int, float)):
            parts.append(self.tr("first token %1 s").replace("%1", f"{ttft:.2f}"))
        tps = stats.get("tokens_per_s")
        if isinstance(tps, (int, float)) and tps > 0:
            parts.append(self.tr("%1 tokens/s").replace("%1", f"{tps:.0f}"))
        self.footer.setText(" · ".join(p for p in parts if p))

    def _update_buttons(self) -> None:
        record = self._record
        streaming = record.state is MessageState.STREAMING
        assistant = record.role == "assistant"
        self.copy_button.setVisible(not streaming and bool(record.text))
        self.regenerate_button.setVisible(
            assistant and self._is_last and not streaming and not self.retry_button.isVisible()
        )
        self.edit_button.setVisible(not assistant and self._is_last)
        self.no_documents.set_can_ask(self._is_last)

    def _retranslate_buttons(self) -> None:
        self.retry_button.setText(self.tr("Retry"))
        self.copy_button.setText(self.tr("Copy"))
        self.regenerate_button.setText(self.tr("Regenerate"))
        self.edit_button.setText(self.tr("Edit"))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.refresh(self._record)
        if event.type() == QEvent.Type.PaletteChange:
            # the sources list is rich text with the palette's link colour written into it
            self._show_sources(self._record)

    def _stopped_by_user(self) -> bool:
        """The user's own Stop is not an error: shown in secondary text; a failure stays red."""
        record = self._record
        plain_stop = (record.error_code or "") in ("", "cancelled")
        return record.state is MessageState.STOPPED and plain_stop

    # --- actions --------------------------------------------------------------------------

    def copy(self) -> None:
        """Copy the message's Markdown (citation markers included) to the clipboard."""
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self._record.text)
        self.sig_copied.emit()

    def _on_source_link(self, link: str) -> None:
        if link.startswith("src:"):
            try:
                self.sig_citation_clicked.emit(int(link[4:]))
            except ValueError:
                return
