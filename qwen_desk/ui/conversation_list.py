"""UI layer: ``ConversationList``, the saved conversations in the sidebar.

A search box (Ctrl+F focuses it) filters by title and message text through the controller, the
list opens the clicked conversation, and a context menu renames, exports (Markdown) or deletes
(after confirmation) one. The open conversation stays selected.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.core.export_name import export_file_name
from qwen_desk.models.conversation_model import ConversationRole

SEARCH_DELAY_MS = 200


class ConversationList(QWidget):
    """Search, list, new, rename, export, delete."""

    def __init__(self, chat: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationList")
        self._chat = chat
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        header = QHBoxLayout()
        self.heading = QLabel(self)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        header.addWidget(self.heading, 1)
        self.new_button = QPushButton(self)
        self.new_button.clicked.connect(chat.new_conversation)
        header.addWidget(self.new_button)
        layout.addLayout(header)
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.view = QListView(self)
        self.view.setModel(chat.conversations)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(3)
        self.view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.clicked.connect(self._open)
        self.view.activated.connect(self._open)
        layout.addWidget(self.view, 1)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: chat.search_conversations(self.search.text()))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        chat.sig_conversation_changed.connect(self.select_conversation)
        chat.conversations.modelReset.connect(
            lambda: self.select_conversation(chat.conversation_id or 0)
        )
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Conversations"))
        self.new_button.setText(self.tr("New"))
        self.new_button.setToolTip(self.tr("New conversation (Ctrl+N)"))
        self.search.setPlaceholderText(self.tr("Search conversations (Ctrl+F)"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def focus_search(self) -> None:
        """Ctrl+F."""
        self.search.setFocus()
        self.search.selectAll()

    def select_conversation(self, conversation_id: int) -> None:
        model = self._chat.conversations
        row = model.row_of(conversation_id) if conversation_id else -1
        if row >= 0:
            self.view.setCurrentIndex(model.index(row, 0))
        else:
            self.view.clearSelection()

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self._chat.open_conversation(int(index.data(ConversationRole.ID)))

    def _menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        conversation_id = int(index.data(ConversationRole.ID))
        menu = QMenu(self)
        menu.addAction(self.tr("Rename…"), lambda: self.rename(conversation_id))
        menu.addAction(self.tr("Export as Markdown…"), lambda: self.export(conversation_id))
        menu.addSeparator()
        menu.addAction(self.tr("Delete…"), lambda: self.confirm_delete(conversation_id))
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _title(self, conversation_id: int) -> str:
        model = self._chat.conversations
        row = model.row_of(conversation_id)
        return str(model.data(model.index(row, 0))) if row >= 0 else ""

    def rename(self, conversation_id: int) -> None:
        title, ok = QInputDialog.getText(
            self,
            self.tr("Rename conversation"),
            self.tr("Title:"),
            QLineEdit.EchoMode.Normal,
            self._title(conversation_id),
        )
        if ok and title.strip():
            self._chat.rename_conversation(conversation_id, title)

    def confirm_delete(self, conversation_id: int) -> QMessageBox:
        """Ask before deleting (non-blocking dialog; returned for tests)."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Delete conversation"))
        box.setText(
            self.tr("Delete “%1” and all its messages? This cannot be undone.").replace(
                "%1", self._title(conversation_id)
            )
        )
        delete = box.addButton(self.tr("Delete"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(
            lambda _r: (
                self._chat.delete_conversation(conversation_id)
                if box.clickedButton() is delete
                else None
            )
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def export(self, conversation_id: int) -> None:
        name = export_file_name(
            self._title(conversation_id), date.today(), fallback=self.tr("Conversation")
        )
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Export conversation"),
            str(Path.home() / name),
            self.tr("Markdown (*.md)"),
        )
        if path:
            Path(path).write_text(self._chat.export_markdown(conversation_id), encoding="utf-8")
