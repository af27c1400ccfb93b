"""UI layer: the knowledge half of the sidebar: collections, documents, adding files.

The collection switcher (a combo box with a menu to create, rename and delete, deletion asking
for confirmation), the documents of the current collection drawn by ``DocumentDelegate`` (or the
first-run ``EmptyState`` while there are none), the running ingestion with a Cancel button, and
"Add files…" / "Add folder…". A document's context menu re-indexes, removes, cancels, opens the
file, or, for an encrypted file, asks for its password and retries.

Dialogs are opened with ``open()`` (window-modal, no nested event loop: the asyncio loop keeps
running under qasync) and their results handled by slots; tests reach them through attributes
(``password_dialog``, ``confirm_dialog``, ``name_dialog``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.controllers.knowledge_controller import KnowledgeController
from qwen_desk.core.types import IngestState
from qwen_desk.models.collection_model import DEFAULT_COLLECTION, display_name
from qwen_desk.models.document_model import DocumentItem, DocumentModel
from qwen_desk.ui.document_delegate import DocumentDelegate, status_text
from qwen_desk.ui.empty_state import EmptyState
from qwen_desk.ui.messages import error_text
from qwen_desk.ui.uniform_list_view import UniformListView

FILE_FILTER_EXTS = "*.pdf *.docx *.md *.markdown *.txt *.text"


class KnowledgeSidebar(QWidget):
    """Collections and documents of the knowledge base."""

    sig_add_files_requested = Signal()
    """The user asked to pick files (Ctrl+O and the buttons end here)."""

    PAGE_LOADING, PAGE_EMPTY, PAGE_LIST = range(3)

    def __init__(self, controller: KnowledgeController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("KnowledgeSidebar")
        self.controller = controller
        self.password_dialog: QInputDialog | None = None
        self.confirm_dialog: QMessageBox | None = None
        self.name_dialog: QInputDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self._page_shown = False
        self._build()
        self._connect()
        self._update_page()

    # --- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        self.section_title = QLabel(self.tr("Knowledge base"), self)
        self.section_title.setObjectName("SectionTitle")
        font = self.section_title.font()
        font.setBold(True)  # as the conversation list's heading below it
        self.section_title.setFont(font)
        self.collection_combo = QComboBox(self)
        self.collection_combo.setModel(self.controller.collection_model)
        self.collection_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.collection_combo.setToolTip(self.tr("Each knowledge base keeps its documents apart"))
        self.collection_menu_button = QToolButton(self)
        self.collection_menu_button.setText("⋯")
        self.collection_menu_button.setToolTip(self.tr("Manage knowledge bases"))
        self.collection_menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        self.action_new_collection = menu.addAction(self.tr("New knowledge base…"))
        self.action_rename_collection = menu.addAction(self.tr("Rename…"))
        menu.addSeparator()
        self.action_delete_collection = menu.addAction(self.tr("Delete…"))
        self.collection_menu_button.setMenu(menu)

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.section_title, 1)
        header.addWidget(self.collection_menu_button)

        self.list_view = UniformListView(self)  # O(1) per progress event (see its module)
        self.list_view.setModel(self.controller.document_model)
        self.list_view.setItemDelegate(DocumentDelegate(self.list_view))
        self.list_view.setUniformItemSizes(True)
        self.list_view.setMouseTracking(True)
        self.list_view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_view.setAccessibleName(self.tr("Documents"))
        self.collection_combo.setAccessibleName(self.tr("Knowledge base"))
        self.empty_state = EmptyState(self)
        self.loading_label = QLabel(self.tr("Opening the knowledge base…"), self)
        self.loading_label.setWordWrap(True)
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_label.setProperty("muted", True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.loading_label)
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.list_view)

        self.progress_label = QLabel(self)
        self.progress_label.setProperty("muted", True)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setToolTip(self.tr("Stop indexing the files still waiting"))
        self.progress_row = QWidget(self)
        row = QVBoxLayout(self.progress_row)
        row.setContentsMargins(0, 4, 0, 0)
        line = QHBoxLayout()
        line.addWidget(self.progress_label, 1)
        line.addWidget(self.cancel_button)
        row.addLayout(line)
        row.addWidget(self.progress_bar)
        self.progress_row.hide()

        self.add_files_button = QPushButton(self.tr("Add files…"), self)
        self.add_folder_button = QPushButton(self.tr("Add folder…"), self)
        self.buttons_row = QWidget(self)
        buttons = QHBoxLayout(self.buttons_row)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_files_button)
        buttons.addWidget(self.add_folder_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.collection_combo)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.buttons_row)

    def _connect(self) -> None:
        c = self.controller
        self.collection_combo.activated.connect(self._on_combo_activated)
        self.action_new_collection.triggered.connect(self.ask_new_collection)
        self.action_rename_collection.triggered.connect(self.ask_rename_collection)
        self.action_delete_collection.triggered.connect(self.ask_delete_collection)
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.empty_state.sig_add_files.connect(self.choose_files)
        self.empty_state.sig_add_folder.connect(self.choose_folder)
        self.cancel_button.clicked.connect(c.cancel_all)
        self.list_view.customContextMenuRequested.connect(self._on_context_menu)
        self.list_view.doubleClicked.connect(self._on_double_clicked)
        remove = QShortcut(QKeySequence.StandardKey.Delete, self.list_view)
        remove.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove.activated.connect(self.remove_selected)
        c.sig_collections_changed.connect(self._sync_combo)
        c.sig_current_collection_changed.connect(self._sync_combo)
        c.sig_documents_loaded.connect(self._update_page)
        c.sig_progress.connect(self._on_progress)
        c.sig_ready.connect(self._update_page)
        c.sig_unavailable.connect(self._update_page)
        model = c.document_model
        model.rowsInserted.connect(self._update_page)
        model.rowsRemoved.connect(self._update_page)
        model.modelReset.connect(self._update_page)

    # --- state ---------------------------------------------------------------------------------

    def _update_page(self, *_: object) -> None:
        """Show the page for the current state; called on every insertion into the document
        list (a folder drop makes hundreds), so it changes widgets only when something moved."""
        error = self.controller.open_error
        text = error_text(*error) if error else self.tr("Opening the knowledge base…")
        if text != self.loading_label.text():
            self.loading_label.setText(text)
        if not self.controller.ready:
            page = self.PAGE_LOADING
        elif self.controller.document_model.rowCount() == 0:
            page = self.PAGE_EMPTY
        else:
            page = self.PAGE_LIST
        if page == self.stack.currentIndex() and self._page_shown:
            return
        self._page_shown = True
        self.stack.setCurrentIndex(page)
        # the empty state has its own buttons: do not show them twice
        self.buttons_row.setVisible(page == self.PAGE_LIST)
        enabled = self.controller.ready
        for widget in (self.collection_combo, self.collection_menu_button):
            widget.setEnabled(enabled)

    def _sync_combo(self, *_: object) -> None:
        current = self.controller.current_collection
        row = self.controller.collection_model.row_of(current)
        if row >= 0 and row != self.collection_combo.currentIndex():
            self.collection_combo.setCurrentIndex(row)
        builtin = current == DEFAULT_COLLECTION  # can be emptied, not renamed or removed
        self.action_rename_collection.setEnabled(not builtin)
        self.action_delete_collection.setText(
            self.tr("Remove all documents…") if builtin else self.tr("Delete…")
        )

    def _on_combo_activated(self, row: int) -> None:
        names = self.controller.collection_model.names()
        if 0 <= row < len(names):
            self.controller.set_current_collection(names[row])

    def _on_progress(self, finished: int, total: int) -> None:
        if total <= 0:
            self.progress_row.hide()
            return
        text = self.tr("Indexing %1 of %2…").replace("%1", str(min(finished + 1, total)))
        self.progress_label.setText(text.replace("%2", str(total)))
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(finished)
        self.progress_row.show()

    # --- adding files --------------------------------------------------------------------------

    def choose_files(self) -> None:
        """Let the user pick files (non-blocking dialog)."""
        dialog = QFileDialog(self, self.tr("Add files to the knowledge base"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(
            [
                self.tr("Documents (%1)").replace("%1", FILE_FILTER_EXTS),
                self.tr("All files (*)"),
            ]
        )
        dialog.filesSelected.connect(self.controller.add_paths)
        self._show_file_dialog(dialog)

    def choose_folder(self) -> None:
        """Let the user pick a folder; its documents are added recursively."""
        dialog = QFileDialog(self, self.tr("Add a folder to the knowledge base"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda path: self.controller.add_paths([path]))
        self._show_file_dialog(dialog)

    def _show_file_dialog(self, dialog: QFileDialog) -> None:
        self.controller.prepare_for_files()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.file_dialog = dialog
        dialog.open()

    # --- documents -----------------------------------------------------------------------------

    def _item_at(self, index: QModelIndex) -> DocumentItem | None:
        if not index.isValid():
            return None
        return self.controller.document_model.item(index.row())

    def _on_double_clicked(self, index: QModelIndex) -> None:
        item = self._item_at(index)
        if item is None:
            return
        if item.needs_password:
            self.ask_password(item.path)
        elif item.state is IngestState.READY:
            self.open_file(item.path)

    def context_menu_for(self, item: DocumentItem) -> QMenu:
        """The actions offered for one document (built fresh for its current state)."""
        menu = QMenu(self)
        c = self.controller
        if item.needs_password:
            menu.addAction(self.tr("Enter password…"), lambda: self.ask_password(item.path))
        if item.active:
            menu.addAction(self.tr("Cancel indexing"), lambda: c.cancel(item.job_id))
        else:
            if item.doc_id is not None or item.state is IngestState.FAILED:
                menu.addAction(
                    self.tr("Re-index"), lambda: self.controller.reindex_document(item.path)
                )
            menu.addAction(self.tr("Open file"), lambda: self.open_file(item.path))
        menu.addSeparator()
        menu.addAction(self.tr("Remove from knowledge base"), lambda: c.remove_document(item.path))
        return menu

    def remove_selected(self) -> None:
        """Delete key: remove the selected document from the knowledge base (not from disk)."""
        index = self.list_view.currentIndex()
        item = self._item_at(index)
        if item is not None:
            self.controller.remove_document(item.path)

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self._item_at(self.list_view.indexAt(pos))
        if item is None:
            return
        menu = self.context_menu_for(item)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.list_view.viewport().mapToGlobal(pos))

    def open_file(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def ask_password(self, path: str) -> None:
        """Ask for the password of an encrypted file, then index it again with it."""
        row = self.controller.document_model.row_of_path(path)
        wrong = (
            row >= 0
            and (error := self.controller.document_model.item(row).error) is not None
            and error.code == "wrong_password"
        )
        dialog = QInputDialog(self)
        dialog.setWindowTitle(self.tr("Password required"))
        label = self.tr("“%1” is protected by a password. Enter it to index the file:")
        if wrong:
            label = self.tr("The password for “%1” was not correct. Try again:")
        dialog.setLabelText(label.replace("%1", Path(path).name))
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.setOkButtonText(self.tr("Open"))
        dialog.textValueSelected.connect(
            lambda text: self.controller.retry_with_password(path, text) if text else None
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.password_dialog = dialog
        dialog.open()

    # --- collections ---------------------------------------------------------------------------

    def ask_new_collection(self) -> None:
        self._ask_name(
            self.tr("New knowledge base"), self.tr("Name:"), "", self.controller.create_collection
        )

    def ask_rename_collection(self) -> None:
        old = self.controller.current_collection
        self._ask_name(
            self.tr("Rename knowledge base"),
            self.tr("New name for “%1”:").replace("%1", display_name(old)),
            old,
            lambda new: self.controller.rename_collection(old, new) if new != old else None,
        )

    def _ask_name(self, title: str, label: str, value: str, accept: object) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextValue(value)
        dialog.textValueSelected.connect(
            lambda text: accept(text.strip()) if text.strip() else None  # type: ignore[operator]
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.name_dialog = dialog
        dialog.open()

    def ask_delete_collection(self) -> None:
        name = self.controller.current_collection
        info = self.controller.collection_model.info(name)
        count = info.n_documents if info else 0
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Delete knowledge base"))
        question = (
            self.tr("Remove all %2 documents from “%1”?")
            if name == DEFAULT_COLLECTION
            else self.tr("Delete “%1” and its %2 documents?")
        )
        box.setText(question.replace("%1", display_name(name)).replace("%2", str(count)))
        box.setInformativeText(
            self.tr("The files on your disk are not touched; only the index is deleted.")
        )
        delete = box.addButton(
            self.tr("Remove all") if name == DEFAULT_COLLECTION else self.tr("Delete"),
            QMessageBox.ButtonRole.DestructiveRole,
        )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def finished(_: int) -> None:
            if box.clickedButton() is delete:
                self.controller.delete_collection(name)

        box.finished.connect(finished)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.confirm_dialog = box
        box.open()

    def show_problems(self, kind: str) -> None:
        """Select the next document with problem ``kind`` ("password" or "failed") after the
        current one (wrapping around), so repeated clicks on the status bar visit them all."""
        paths = set(self.controller.problem_paths(kind))
        model = self.list_view.model()
        rows = model.rowCount() if model is not None else 0
        if not paths or not rows:
            return
        start = self.list_view.currentIndex().row()
        for step in range(1, rows + 1):
            index = model.index((start + step) % rows, 0)
            if index.data(DocumentModel.PathRole) in paths:
                self.list_view.setCurrentIndex(index)
                self.list_view.scrollTo(index)
                self.list_view.setFocus()
                return

    # --- helpers for tooltips and tests --------------------------------------------------------

    def status_of(self, path: str) -> str:
        """The status line shown for ``path`` (empty when it is not listed)."""
        row = self.controller.document_model.row_of_path(path)
        return status_text(self.controller.document_model.item(row)) if row >= 0 else ""

    def show_error(self, code: str, detail: str) -> None:
        """Report a failed knowledge operation next to the list."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Knowledge base"),
            error_text(code, detail),
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.confirm_dialog = box
        box.open()
