"""UI layer: ``NoDocumentsNotice``, the answer to a question asked of an empty knowledge base.

Shown in place of the answer's text (the core's fixed reply) when the knowledge base had no
documents at all, which is not the same as "nothing relevant found": it says how to add files
(drag them onto the window, the Open shortcut, "Add folder…" in the sidebar) with an "Add
files…" button, and offers "Ask without documents": the same question sent to the model as plain
chat, its answer then marked as not from the documents. That choice only makes sense for the
last answer (it replaces it), so ``set_can_ask`` hides it elsewhere.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class NoDocumentsNotice(QFrame):
    """Heading, how to add documents, "Add files…" and "Ask without documents"."""

    sig_add_files = Signal()
    """The user wants to pick files to add."""
    sig_ask_without_documents = Signal()
    """The user wants the question answered without documents."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noDocuments")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        self.heading = QLabel(self)
        self.heading.setObjectName("noDocumentsHeading")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.text = QLabel(self)
        self.text.setObjectName("noDocumentsText")
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.add_files_button = QPushButton(self)
        self.add_files_button.setProperty("primary", True)
        self.add_files_button.clicked.connect(self.sig_add_files)
        self.ask_button = QPushButton(self)
        self.ask_button.clicked.connect(self.sig_ask_without_documents)
        for button in (self.add_files_button, self.ask_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.retranslate()

    def set_can_ask(self, can_ask: bool) -> None:
        """Offer "Ask without documents" (only on the last answer: it replaces that answer)."""
        self.ask_button.setVisible(can_ask)

    def retranslate(self) -> None:
        shortcut = QKeySequence(QKeySequence.StandardKey.Open).toString(
            QKeySequence.SequenceFormat.NativeText
        )
        self.heading.setText(self.tr("There are no documents in this knowledge base yet."))
        self.text.setText(
            self.tr(
                "To ask about your files, add them first: drag them onto this window, press %1, "
                "or use “Add folder…” in the sidebar. Or ask without documents: the model then "
                "answers from its own knowledge, without sources."
            ).replace("%1", shortcut or "Ctrl+O")
        )
        self.add_files_button.setText(self.tr("Add files…"))
        self.ask_button.setText(self.tr("Ask without documents"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
