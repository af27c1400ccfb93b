"""UI layer: ``ConversationList``, the saved conversations in the sidebar.

A search box (Ctrl+F focuses it) filters by title and message text through the controller (the
store is searched off the GUI thread); an empty result says "No conversations match". The list
opens the clicked conversation and shows one line per title, elided on the right (never a
horizontal scroll bar). One context menu, built once, renames, exports (Markdown) or deletes (after
confirmation) the conversation under the pointer. Every dialog is window-modal and opened with
``open()`` (its answer comes by signal), never ``exec()``: no nested event loop under qasync.
A failed export says why, in a message box attached to the list. The open conversation stays
selected.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt, QTimer
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
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.core.export_name import export_file_name
from qwen_desk.models.conversation_model import ConversationRole
from qwen_desk.ui.messages import message_for
from qwen_desk.ui.uniform_list_view import UniformListView

SEARCH_DELAY_MS = 200


class _TitleDelegate(QStyledItemDelegate):
    """Titles on one line: the row's natural width is not asked for, so the list lays every row
    out at the viewport's width and the title is elided there, instead of widening the list."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(1, hint.height())


class ConversationList(QWidget):
    """Search, list, new, rename, export, delete."""

    def __init__(self, chat: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationList")
        self._chat = chat
        self._menu_target = 0  # the conversation the context menu acts on
        self.dialog: QWidget | None = None  # the dialog open now (tests answer it)
        self.export_error: QMessageBox | None = None  # the last "export failed" message
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
        self.view = UniformListView(self)
        self.view.setModel(chat.conversations)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(3)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setItemDelegate(_TitleDelegate(self.view))
        self.view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_menu)
        self.view.clicked.connect(self._open)
        self.view.activated.connect(self._open)
        layout.addWidget(self.view, 1)
        self.no_matches = QLabel(self.view.viewport())
        self.no_matches.setObjectName("noMatches")
        self.no_matches.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.no_matches.setWordWrap(True)
        self.no_matches.setEnabled(False)  # drawn in the disabled (placeholder) colour
        self.no_matches.hide()
        self.menu = QMenu(self)  # one menu for every right-click
        self.action_rename = self.menu.addAction("", lambda: self.rename(self._menu_target))
        self.action_export = self.menu.addAction("", lambda: self.export(self._menu_target))
        self.menu.addSeparator()
        self.action_delete = self.menu.addAction("", lambda: self.confirm_delete(self._menu_target))
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: chat.search_conversations(self.search.text()))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        chat.sig_conversation_changed.connect(self.select_conversation)
        chat.sig_search_finished.connect(self._update_placeholder)
        chat.sig_export_failed.connect(self._export_failed)
        model = chat.conversations
        model.modelReset.connect(self._reselect)
        model.rowsInserted.connect(self._reselect)  # a new conversation, saved after it opened
        model.modelReset.connect(self._update_placeholder)
        model.rowsInserted.connect(self._update_placeholder)
        model.rowsRemoved.connect(self._update_placeholder)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Conversations"))
        self.new_button.setText(self.tr("New"))
        self.new_button.setToolTip(self.tr("New conversation (Ctrl+N)"))
        self.search.setPlaceholderText(self.tr("Search conversations (Ctrl+F)"))
        self.no_matches.setText(self.tr("No conversations match"))
        self.action_rename.setText(self.tr("Rename…"))
        self.action_export.setText(self.tr("Export as Markdown…"))
        self.action_delete.setText(self.tr("Delete…"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._place_placeholder()

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

    def _reselect(self, *_: object) -> None:
        self.select_conversation(self._chat.conversation_id or 0)

    def _update_placeholder(self, *_: object) -> None:
        model = self._chat.conversations
        self.no_matches.setVisible(bool(model.filter_text) and model.rowCount() == 0)
        self._place_placeholder()

    def _place_placeholder(self) -> None:
        viewport = self.view.viewport()
        self.no_matches.setGeometry(8, 16, max(0, viewport.width() - 16), 48)

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self._chat.open_conversation(int(index.data(ConversationRole.ID)))

    def _show_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        self._menu_target = int(index.data(ConversationRole.ID))
        self.menu.popup(self.view.viewport().mapToGlobal(pos))

    def _title(self, conversation_id: int) -> str:
        model = self._chat.conversations
        row = model.row_of(conversation_id)
        return str(model.data(model.index(row, 0))) if row >= 0 else ""

    def _show(self, dialog: QWidget) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog = dialog
        dialog.destroyed.connect(lambda *_: self._forget(dialog))
        dialog.open()  # type: ignore[attr-defined]

    def _forget(self, dialog: QWidget) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def rename(self, conversation_id: int) -> QInputDialog:
        """Ask for a new title (non-blocking dialog; returned for tests)."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(self.tr("Rename conversation"))
        dialog.setLabelText(self.tr("Title:"))
        dialog.setTextValue(self._title(conversation_id))
        dialog.textValueSelected.connect(
            lambda title: (
                self._chat.rename_conversation(conversation_id, title) if title.strip() else None
            )
        )
        self._show(dialog)
        return dialog

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
        self._show(box)
        return box

    def export(self, conversation_id: int, folder: str | None = None) -> QFileDialog:
        """Ask where to save the Markdown (non-blocking dialog; returned for tests)."""
        start = Path(folder) if folder else Path.home()
        name = export_file_name(
            self._title(conversation_id), date.today(), fallback=self.tr("Conversation")
        )
        dialog = QFileDialog(
            self,
            self.tr("Export conversation"),
            str(start / name),
            self.tr("Markdown (*.md)"),
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("md")
        dialog.fileSelected.connect(
            lambda path: self._chat.export_markdown(conversation_id, path) if path else None
        )
        self._show(dialog)
        return dialog

    def _export_failed(self, code: str, detail: str) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Export conversation"))
        box.setText(message_for(code))
        box.setInformativeText(detail)  # the file and the system's reason, as the core gives it
        box.addButton(QMessageBox.StandardButton.Ok)
        self.export_error = box
        self._show(box)
