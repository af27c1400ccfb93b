"""UI layer: the friendly first-run view of an empty knowledge base.

Shown in the sidebar instead of the document list while the current collection has no
documents: the app icon, what to do ("Drop PDF, Word, Markdown or text files here") and the two
buttons that do it without dragging.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from qwen_desk.ui.assets import app_icon


class EmptyState(QWidget):
    """A dashed drop zone with a hint and "Add files…" / "Add folder…" buttons."""

    sig_add_files = Signal()
    """The user asked to pick files."""
    sig_add_folder = Signal()
    """The user asked to pick a folder."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EmptyState")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        icon = QLabel(self)
        icon.setPixmap(app_icon().pixmap(56, 56))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(self.tr("Add documents to start"), self)
        self.title.setObjectName("EmptyTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel(self.tr("Drop PDF, Word, Markdown or text files here"), self)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setProperty("muted", True)
        self.privacy = QLabel(
            self.tr("Files stay on this computer. Folders are searched for documents too."), self
        )
        self.privacy.setWordWrap(True)
        self.privacy.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.privacy.setProperty("muted", True)
        self.add_files_button = QPushButton(self.tr("Add files…"), self)
        self.add_files_button.setProperty("primary", True)
        self.add_folder_button = QPushButton(self.tr("Add folder…"), self)
        self.add_files_button.clicked.connect(self.sig_add_files)
        self.add_folder_button.clicked.connect(self.sig_add_folder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 20, 16, 20)
        layout.setSpacing(10)
        layout.addStretch(1)
        layout.addWidget(icon)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addSpacing(6)
        layout.addWidget(self.add_files_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.add_folder_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(6)
        layout.addWidget(self.privacy)
        layout.addStretch(1)
