"""UI layer: ``MainWindow``, the one window of Qwen Desk.

Layout: the model bar on top; a horizontal splitter with the sidebar (the knowledge base above,
the conversation list below, in a vertical splitter), the chat panel in the centre and the
source viewer on the right (hidden until a citation is opened); the status bar at the bottom.
Files dropped anywhere on the window go to the current collection (``DropOverlay``). The
window's geometry and splitter sizes are restored from ``ui_state()`` on start.

The conversation side (chat panel, conversation list, source viewer, model bar, Ollama panel and
their controllers) is built by ``_build_chat_side``; the Ollama panel only after the first
paint (it imports the HTTP client).

Nothing slow runs here: the knowledge base opens in the background after the first paint
(``sig_first_paint``, which the composition root connects to ``AppServices.start_knowledge``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.controllers.chat_controller import ChatController
from qwen_desk.controllers.knowledge_controller import KnowledgeController
from qwen_desk.controllers.ollama_controller import OllamaController
from qwen_desk.controllers.services import AppServices
from qwen_desk.controllers.ui_state import ui_state
from qwen_desk.ui.chat_panel import ChatPanel
from qwen_desk.ui.conversation_list import ConversationList
from qwen_desk.ui.drop_overlay import DropOverlay, DropWatcher
from qwen_desk.ui.knowledge_sidebar import KnowledgeSidebar
from qwen_desk.ui.messages import error_text
from qwen_desk.ui.model_bar import ModelBar
from qwen_desk.ui.ollama_panel import OllamaPanel
from qwen_desk.ui.settings_notice import show_settings_notice
from qwen_desk.ui.source_viewer import SourceViewer
from qwen_desk.ui.status_bar import StatusBar

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 820)
MAIN_SPLITTER_DEFAULT = [300, 700, 0]


class MainWindow(QMainWindow):
    """Sidebar, chat, source viewer, model bar and status bar."""

    sig_first_paint = Signal()
    """The window has been painted once (start heavy services after this)."""

    def __init__(
        self,
        services: AppServices,
        knowledge: KnowledgeController | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName("MainWindow")
        self.setWindowTitle(self.tr("Qwen Desk"))
        self.setAcceptDrops(True)
        self._painted = False
        self.settings_dialog: QWidget | None = None
        self.knowledge_error_box: QMessageBox | None = None
        self.settings_notice: QMessageBox | None = None
        """Says what ``Settings.load()`` reset (shown once, after the first paint)."""
        self.knowledge = knowledge or KnowledgeController(services, self)
        self._build()
        self._build_chat_side()
        self._build_actions()
        self._connect()
        self.restore_state()

    # --- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        self.sidebar = QWidget(self)
        self.sidebar.setObjectName("Sidebar")
        self.sidebar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.knowledge_sidebar = KnowledgeSidebar(self.knowledge, self.sidebar)
        self.sidebar_splitter = QSplitter(Qt.Orientation.Vertical, self.sidebar)
        self.sidebar_splitter.setObjectName("SidebarSplitter")
        self.sidebar_splitter.setChildrenCollapsible(False)
        self.sidebar_splitter.addWidget(self.knowledge_sidebar)
        layout = QVBoxLayout(self.sidebar)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sidebar_splitter)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("MainSplitter")
        self.main_splitter.addWidget(self.sidebar)

        central = QWidget(self)
        self.central_layout = QVBoxLayout(central)
        self.central_layout.setContentsMargins(0, 0, 0, 0)
        self.central_layout.setSpacing(0)
        self.central_layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.drop_overlay = DropOverlay(self)
        self.drop_watcher = DropWatcher(self, self.drop_overlay)

    def _build_chat_side(self) -> None:
        """The conversation side: its controllers and widgets (built by the chat engineer)."""
        self.chat = ChatController(self.services, self)
        self.ollama = OllamaController(self.services, self)
        self.model_bar = ModelBar(self.ollama, self.chat, parent=self)
        self.central_layout.insertWidget(0, self.model_bar)
        self.conversation_list = ConversationList(self.chat, parent=self)
        self.sidebar_splitter.addWidget(self.conversation_list)
        self.chat_panel = ChatPanel(self.chat, parent=self)
        self.main_splitter.addWidget(self.chat_panel)
        self.source_viewer = SourceViewer(self.chat, parent=self)
        self.main_splitter.addWidget(self.source_viewer)
        self.source_viewer.hide()  # until a citation is opened
        # The Ollama panel asks the back-end for its host, which imports the ollama client
        # (~0.5 s with httpx and pydantic): it is built after the first paint.
        self.ollama_panel: OllamaPanel | None = None
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setStretchFactor(2, 1)

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        self.action_add_files = self._action(
            file_menu,
            self.tr("Add files…"),
            QKeySequence.StandardKey.Open,
            self.knowledge_sidebar.choose_files,
        )
        self.action_add_folder = self._action(
            file_menu, self.tr("Add folder…"), None, self.knowledge_sidebar.choose_folder
        )
        self.chat_panel.sig_add_files.connect(self.knowledge_sidebar.choose_files)
        file_menu.addSeparator()
        self.action_settings = self._action(
            file_menu, self.tr("Settings…"), QKeySequence("Ctrl+,"), self.open_settings
        )
        self.action_settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        file_menu.addSeparator()
        self.action_quit = self._action(
            file_menu, self.tr("Quit"), QKeySequence.StandardKey.Quit, self.close
        )
        chat_menu = bar.addMenu(self.tr("&Chat"))
        self.action_new_chat = self._action(
            chat_menu, self.tr("New chat"), QKeySequence.StandardKey.New, self.new_conversation
        )
        self.action_search = self._action(
            chat_menu,
            self.tr("Search conversations"),
            QKeySequence.StandardKey.Find,
            self.focus_search,
        )
        self.action_stop = self._action(
            chat_menu, self.tr("Stop answer"), QKeySequence(Qt.Key.Key_Escape), self.stop
        )
        help_menu = bar.addMenu(self.tr("&Help"))
        self._action(help_menu, self.tr("About Qwen Desk"), None, self.show_about)

    def _action(self, menu: Any, text: str, shortcut: Any, slot: Callable[[], Any]) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda *_: slot())
        menu.addAction(action)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _connect(self) -> None:
        k = self.knowledge
        self.drop_overlay.sig_dropped.connect(self.open_paths)
        self.drop_overlay.sig_revealed.connect(k.prepare_for_files)
        self.sig_first_paint.connect(self._build_after_first_paint)
        self.sig_first_paint.connect(self._show_settings_notice)
        k.sig_current_collection_changed.connect(self._on_collection_changed)
        k.sig_progress.connect(self.status.set_ingest_progress)
        k.sig_batch_finished.connect(self.status.set_batch_summary)
        k.sig_problems_changed.connect(self.status.set_problems)
        self.status.sig_show_problems.connect(self.knowledge_sidebar.show_problems)
        k.sig_error.connect(self.knowledge_sidebar.show_error)
        self.services.sig_knowledge_failed.connect(self._on_knowledge_failed)
        self._on_collection_changed(k.current_collection)
        self.chat.sig_citation_requested.connect(self._reveal_source)
        self.ollama.sig_state_changed.connect(self._on_ollama_state)

    def _build_after_first_paint(self) -> None:
        if self.ollama_panel is None:
            self.ollama_panel = OllamaPanel(self.ollama, parent=self)
            self.chat_panel.add_banner(self.ollama_panel)

    def _show_settings_notice(self) -> None:
        if self.settings_notice is None:
            self.settings_notice = show_settings_notice(self, self.services.settings)

    @property
    def painted(self) -> bool:
        """The window has been painted at least once."""
        return self._painted

    # --- slots for the rest of the app ---------------------------------------------------------

    def open_paths(self, paths: Iterable[str]) -> None:
        """Add files and folders (dropped, or given on the command line) to the collection."""
        self.knowledge.add_paths(list(paths))

    def receive_files(self, paths: list[str]) -> None:
        """Files handed over by a second launch ("Open with"): show the window, add them."""
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        if paths:
            self.open_paths(paths)

    def new_conversation(self) -> None:
        """Ctrl+N: a new conversation, with the cursor in the question box."""
        self.chat.new_conversation()
        self.chat_panel.focus_input()

    def stop(self) -> None:
        """Esc: hide the drop highlight, or leave the edit of a question, or stop the answer."""
        if self.drop_overlay.isVisible():
            self.drop_overlay.hide()
            return
        # The window's Esc shortcut wins over the question box's own Esc handling: do its job.
        if getattr(self.chat_panel, "_editing", False):
            self.chat_panel.cancel_edit()
            self.chat_panel.input.clear()
            return
        self.chat.stop()

    def focus_search(self) -> None:
        """Ctrl+F: search the conversations."""
        self.conversation_list.focus_search()

    def show_source(self, citation: Any) -> None:
        """Open the source viewer on ``citation`` (a ``core.types.Citation``)."""
        self.source_viewer.show_citation(citation)
        self._reveal_source()

    def _reveal_source(self, *_: Any) -> None:
        """Make room for the source viewer (it opens itself on a citation click)."""
        viewer = self.source_viewer
        viewer.show()
        sizes = self.main_splitter.sizes()
        if len(sizes) == 3 and sizes[2] < 200:
            side, rest = sizes[0], sum(sizes) - sizes[0]
            self.main_splitter.setSizes([side, rest // 2, rest - rest // 2])

    def open_settings(self) -> None:
        """Ctrl+,: the settings dialog (non-blocking)."""
        from qwen_desk.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services, self)
        installed = [m.name for m in self.ollama.models]
        if installed:
            dialog.set_models(installed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings_dialog = dialog
        dialog.open()

    def show_about(self) -> None:
        from qwen_desk import __version__

        box = QMessageBox(self)
        box.setWindowTitle(self.tr("About Qwen Desk"))
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setText(
            self.tr(
                "<b>Qwen Desk %1</b><p>Private, offline chat with your documents. "
                "Answers come from the Ollama model on this computer; nothing leaves it.</p>"
            ).replace("%1", __version__)
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # --- reactions -----------------------------------------------------------------------------

    def _on_collection_changed(self, name: str) -> None:
        self.drop_overlay.set_collection(name)
        self.chat.collection = name

    def _on_knowledge_failed(self, code: str, detail: str) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Knowledge base"))
        box.setText(error_text(code, detail, with_detail=code != "embedder_mismatch"))
        if code == "embedder_mismatch":
            reindex = box.addButton(self.tr("Re-index now"), QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.finished.connect(
                lambda _: (
                    self.services.reindex_all_for_new_embedder()
                    if box.clickedButton() is reindex
                    else None
                )
            )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.knowledge_error_box = box
        box.open()

    def _on_ollama_state(self, state: str, detail: str = "") -> None:
        self.status.set_ollama_state(state, detail)

    # --- geometry ------------------------------------------------------------------------------

    def restore_state(self) -> None:
        """Window geometry and splitter sizes from the last run (defaults the first time)."""
        state = ui_state()
        geometry = state.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(*DEFAULT_SIZE)
        for key, splitter in (
            ("window/main_splitter", self.main_splitter),
            ("window/sidebar_splitter", self.sidebar_splitter),
        ):
            saved = state.value(key)
            if isinstance(saved, QByteArray) and not saved.isEmpty():
                splitter.restoreState(saved)
            elif splitter is self.main_splitter:
                splitter.setSizes(MAIN_SPLITTER_DEFAULT[: splitter.count()])
            else:
                splitter.setSizes([420, 300])
        if self.source_viewer is not None:
            self.source_viewer.hide()  # opens again with the next citation

    def save_state(self) -> None:
        state = ui_state()
        state.setValue("window/geometry", self.saveGeometry())
        state.setValue("window/main_splitter", self.main_splitter.saveState())
        state.setValue("window/sidebar_splitter", self.sidebar_splitter.saveState())
        state.sync()

    # --- events --------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self, self.sig_first_paint.emit)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.drop_overlay.isVisible():
            self.drop_overlay.setGeometry(self.rect())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.drop_watcher.detach()
        self.knowledge.shutdown()
        super().closeEvent(event)
