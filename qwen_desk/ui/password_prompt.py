"""UI layer: ``PasswordPrompt``, the password request shown inside the source viewer.

A page of the viewer, not a dialog: no nested event loop (``QDialog.exec()`` under qasync), and
it stays attached to the document it is about. ``ask(name, wrong, page=...)`` shows it (with "not
correct" above the field when the last password failed; ``page=False`` for a Word file, whose
passage is shown rather than a page); Enter or "Show page" emits ``sig_submitted``
with the password, "Cancel" or Escape ``sig_cancelled``. While a password is being tried the
field is disabled (``set_busy``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class PasswordPrompt(QWidget):
    """Label, password field, "Show page" and "Cancel"."""

    sig_submitted = Signal(str)
    sig_cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("passwordPrompt")
        self._name = ""
        self._wrong = False
        self._page = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addStretch(1)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.label)
        self.error = QLabel(self)
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.error)
        self.field = QLineEdit(self)
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setMaximumWidth(320)
        self.field.returnPressed.connect(self._submit)
        self.field.textChanged.connect(self._update_buttons)
        layout.addWidget(self.field, 0, Qt.AlignmentFlag.AlignHCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.show_button = QPushButton(self)
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self._submit)
        self.cancel_button = QPushButton(self)
        self.cancel_button.clicked.connect(self.sig_cancelled.emit)
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(2)
        self.retranslate()
        self._update_buttons()

    def ask(self, name: str, wrong: bool, *, page: bool = True) -> None:
        """Ask for the password of the file called ``name``; ``wrong``: the last one failed;
        ``page``: a page is shown with it (PDF), else its text (Word)."""
        self._name, self._wrong, self._page = name, wrong, page
        self.retranslate()
        self.set_busy(False)
        self.field.clear()
        self.field.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_busy(self, busy: bool) -> None:
        self.field.setEnabled(not busy)
        self.cancel_button.setEnabled(True)
        self._update_buttons()
        if busy:
            self.show_button.setEnabled(False)

    def retranslate(self) -> None:
        if self._page:
            label = self.tr("“%1” is protected by a password. Enter it to show the page:")
        else:
            label = self.tr("“%1” is protected by a password. Enter it to show the passage:")
        self.label.setText(label.replace("%1", self._name))
        wrong = self.tr("The password is not correct. Try again.")
        self.error.setText(wrong if self._wrong else "")
        self.error.setVisible(self._wrong)
        self.field.setPlaceholderText(self.tr("Password"))
        self.show_button.setText(self.tr("Show page") if self._page else self.tr("Show passage"))
        self.cancel_button.setText(self.tr("Cancel"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.sig_cancelled.emit()
            return
        super().keyPressEvent(event)

    def _submit(self) -> None:
        text = self.field.text()
        if text and self.field.isEnabled():
            self.set_busy(True)
            self.sig_submitted.emit(text)

    def _update_buttons(self, *_: object) -> None:
        self.show_button.setEnabled(bool(self.field.text()) and self.field.isEnabled())
