"""UI layer: ``ChatPanel``, the conversation pane: messages, input box, Send/Stop.

A view of ``ChatModel``: one ``MessageWidget`` per row in a scroll area. Rows inserted, removed
or reset rebuild only what changed; a ``dataChanged`` limited to the text role (a streaming
flush) goes to ``MessageWidget.append_text``, which appends to the Markdown view, so a flush costs
the same at any answer length. The view sticks to the bottom while an answer streams unless the
user scrolled up.

Keys: Enter sends, Shift+Enter inserts a new line, Esc stops (the main window's shortcut, and the
input box's own). Editing the last question puts its text in the input box with a banner; Send
then re-asks it in place.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.core.types import MessageState
from qwen_desk.models.chat_model import ChatModel, ChatRole
from qwen_desk.ui.message_widget import MessageWidget

_TEXT_ONLY = {int(Qt.ItemDataRole.DisplayRole), int(ChatRole.TEXT)}
MAX_INPUT_LINES = 8


class ChatInput(QPlainTextEdit):
    """The question box: Enter submits, Shift+Enter adds a line; grows up to a few lines."""

    sig_submit = Signal()
    """Enter was pressed (without Shift)."""
    sig_escape = Signal()
    """Esc was pressed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.sig_submit.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.sig_escape.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def _fit(self, *_: Any) -> None:
        """Grow with the text up to ``MAX_INPUT_LINES`` lines, then scroll."""
        line = self.fontMetrics().lineSpacing()
        wanted = int(self.document().size().height())  # in lines (plain text layout)
        lines = max(1, min(MAX_INPUT_LINES, wanted))
        policy = Qt.ScrollBarPolicy
        self.setVerticalScrollBarPolicy(
            policy.ScrollBarAsNeeded if wanted > MAX_INPUT_LINES else policy.ScrollBarAlwaysOff
        )
        # frame, style sheet padding and viewport margins, as laid out now
        chrome = self.height() - self.viewport().height() if self.isVisible() else 0
        chrome = max(chrome, self.frameWidth() * 2)
        doc_margin = int(self.document().documentMargin() * 2)
        self.setFixedHeight(lines * line + doc_margin + chrome + 2)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit()


class ChatPanel(QWidget):
    """Messages of the open conversation plus the input row."""

    sig_send = Signal(str)
    """The user sent a question."""
    sig_edit_and_resend = Signal(str)
    """The user sent an edited version of the last question."""
    sig_stop = Signal()
    """Stop the running answer."""
    sig_regenerate = Signal()
    """Regenerate the last answer."""
    sig_retry = Signal()
    """Retry a stopped or failed answer."""
    sig_edit_last = Signal()
    """The user clicked Edit on the last question."""
    sig_citation_clicked = Signal(int, int)
    """(row, n): citation ``[n]`` of the answer at ``row`` was clicked."""
    sig_add_files = Signal()
    """"Add files…" in an answer that found no documents (the window opens the file picker)."""
    sig_ask_without_documents = Signal()
    """Ask the last question again without documents."""

    def __init__(
        self,
        controller: Any = None,
        *,
        model: ChatModel | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("chatPanel")
        self._model: ChatModel = model if model is not None else controller.model
        self._widgets: list[MessageWidget] = []
        self._editing = False
        self._stick_to_bottom = True

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self._banners = QVBoxLayout()
        self._banners.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._banners)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._container = QWidget(self.scroll)
        self._container.setObjectName("chatMessages")
        self._list = QVBoxLayout(self._container)
        self._list.setContentsMargins(16, 12, 16, 12)
        self._list.setSpacing(10)
        self.empty_label = QLabel(self._container)
        self.empty_label.setObjectName("chatEmptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self._list.addWidget(self.empty_label)
        self._list.addStretch(1)
        self.scroll.setWidget(self._container)
        outer.addWidget(self.scroll, 1)
        bar = self.scroll.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)

        self.edit_banner = QLabel(self)
        self.edit_banner.setObjectName("editBanner")
        self.edit_banner.hide()
        outer.addWidget(self.edit_banner)

        input_row = QHBoxLayout()
        input_row.setContentsMargins(16, 8, 16, 12)
        self.input = ChatInput(self)
        self.input.sig_submit.connect(self.submit)
        self.input.sig_escape.connect(self._on_escape)
        self.send_button = QPushButton(self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.submit)
        self.stop_button = QPushButton(self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.clicked.connect(self.sig_stop)
        self.stop_button.hide()
        input_row.addWidget(self.input, 1)
        input_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        input_row.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignBottom)
        outer.addLayout(input_row)

        self._model.modelReset.connect(self._rebuild)
        self._model.rowsInserted.connect(self._on_rows_inserted)
        self._model.rowsRemoved.connect(self._on_rows_removed)
        self._model.dataChanged.connect(self._on_data_changed)
        self.retranslate()
        self._rebuild()
        if controller is not None:
            self.bind(controller)

    # --- wiring ---------------------------------------------------------------------------

    def bind(self, controller: Any) -> None:
        """Connect to a ``ChatController`` (its model must be this panel's)."""
        self.sig_send.connect(controller.ask)
        self.sig_edit_and_resend.connect(controller.edit_and_resend)
        self.sig_stop.connect(controller.stop)
        self.sig_regenerate.connect(controller.regenerate)
        self.sig_retry.connect(controller.retry)
        self.sig_edit_last.connect(controller.request_edit)
        self.sig_citation_clicked.connect(controller.open_citation)
        self.sig_ask_without_documents.connect(controller.ask_without_documents)
        controller.sig_busy_changed.connect(self.set_busy)
        controller.sig_edit_requested.connect(self.begin_edit)
        controller.sig_conversation_changed.connect(lambda _id: self.cancel_edit())

    def add_banner(self, widget: QWidget) -> None:
        """Show ``widget`` (e.g. the Ollama-unreachable panel) above the messages."""
        self._banners.addWidget(widget)

    def retranslate(self) -> None:
        self.empty_label.setText(
            "<h3>"
            + self.tr("Ask a question about your documents")
            + "</h3>"
            + self.tr("Answers cite their sources as [1], [2]… Click a citation to open the page.")
        )
        self.input.setPlaceholderText(
            self.tr("Ask a question… (Enter to send, Shift+Enter for a new line)")
        )
        self.send_button.setText(self.tr("Send"))
        self.stop_button.setText(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop the answer (Esc)"))
        self.edit_banner.setText(
            "  " + self.tr("Editing your last question — Enter to resend, Esc to cancel")
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # --- input ----------------------------------------------------------------------------

    def submit(self) -> None:
        """Send the input box's text (or the edited question)."""
        text = self.input.toPlainText().strip()
        if not text:
            return
        self.input.clear()
        self._stick_to_bottom = True
        if self._editing:
            self.cancel_edit()
            self.sig_edit_and_resend.emit(text)
        else:
            self.sig_send.emit(text)

    def begin_edit(self, text: str) -> None:
        """Put the last question in the input box for editing."""
        self._editing = True
        self.input.setPlainText(text)
        self.input.moveCursor(self.input.textCursor().MoveOperation.End)
        self.edit_banner.show()
        self.input.setFocus()

    def cancel_edit(self) -> None:
        if self._editing:
            self._editing = False
            self.edit_banner.hide()

    def _on_escape(self) -> None:
        if self._editing:
            self.cancel_edit()
            self.input.clear()
        else:
            self.sig_stop.emit()

    def set_busy(self, busy: bool) -> None:
        """Swap Send for Stop while an answer streams."""
        self.stop_button.setVisible(busy)
        self.send_button.setVisible(not busy)

    def focus_input(self) -> None:
        self.input.setFocus()

    # --- model -> widgets -----------------------------------------------------------------

    def message_widget(self, row: int) -> MessageWidget:
        return self._widgets[row]

    def message_widgets(self) -> list[MessageWidget]:
        return list(self._widgets)

    def _make_widget(self, row: int) -> MessageWidget:
        widget = MessageWidget(self._model.record(row), self._container)
        widget.sig_citation_clicked.connect(lambda n, w=widget: self._on_citation(w, n))
        widget.sig_retry.connect(self.sig_retry)
        widget.sig_regenerate.connect(self.sig_regenerate)
        widget.sig_edit.connect(self.sig_edit_last)
        widget.sig_add_files.connect(self.sig_add_files)
        widget.sig_ask_without_documents.connect(self.sig_ask_without_documents)
        return widget

    def _on_citation(self, widget: MessageWidget, n: int) -> None:
        if widget in self._widgets:
            self.sig_citation_clicked.emit(self._widgets.index(widget), n)

    def _rebuild(self) -> None:
        for widget in self._widgets:
            widget.deleteLater()
        self._widgets = []
        for row in range(self._model.rowCount()):
            widget = self._make_widget(row)
            self._list.insertWidget(row, widget)
            widget.show()
            self._widgets.append(widget)
        self._after_rows_changed()
        self._stick_to_bottom = True
        QTimer.singleShot(0, self, self._scroll_to_bottom)

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            widget = self._make_widget(row)
            self._list.insertWidget(row, widget)
            widget.show()  # at once, not at the layout's next queued pass
            self._widgets.insert(row, widget)
        self._stick_to_bottom = True
        self._after_rows_changed()

    def _on_rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        for widget in self._widgets[first : last + 1]:
            self._list.removeWidget(widget)
            widget.deleteLater()
        del self._widgets[first : last + 1]
        self._after_rows_changed()

    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex, roles: list[int]) -> None:
        for row in range(top.row(), bottom.row() + 1):
            if not 0 <= row < len(self._widgets):
                continue
            record = self._model.record(row)
            widget = self._widgets[row]
            if roles and set(int(r) for r in roles) <= _TEXT_ONLY:
                widget.append_text(record)
            else:
                widget.refresh(record)

    def _after_rows_changed(self) -> None:
        self.empty_label.setVisible(not self._widgets)
        n = len(self._widgets)
        last_user = self._model.last_row("user")
        last_assistant = self._model.last_row("assistant")
        for row, widget in enumerate(self._widgets):
            widget.set_last(row in (last_user, last_assistant) and row >= n - 2)

    # --- scrolling ------------------------------------------------------------------------

    def _on_scrolled(self, value: int) -> None:
        bar = self.scroll.verticalScrollBar()
        self._stick_to_bottom = value >= bar.maximum() - 8

    def _on_range_changed(self, _min: int, _max: int) -> None:
        if self._stick_to_bottom:
            self._scroll_to_bottom()

    def _scroll_to_bottom(self) -> None:
        bar = self.scroll.verticalScrollBar()
        bar.setValue(bar.maximum())

    def streaming_widget(self) -> MessageWidget | None:
        """The widget of the answer being streamed, if any."""
        for widget in reversed(self._widgets):
            if widget.record.state is MessageState.STREAMING:
                return widget
        return None
