"""The conversation list on the real conversation store: open, search, rename, delete with
confirmation, new, and the last conversation reopening at start; dialogs that never block, one
context menu, a failed export that says why, "No conversations match", elided titles, and every
store call made off the GUI thread."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent, QFontMetrics
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from qwen_desk.controllers.chat_controller import ChatController
from qwen_desk.controllers.services import AppServices
from qwen_desk.core.conversations import ConversationStore
from qwen_desk.core.types import MessageState
from qwen_desk.ui.chat_panel import ChatPanel
from qwen_desk.ui.conversation_list import ConversationList
from qwen_desk.ui.messages import message_for
from tests.support.chat_side import make_settings, open_services
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("async_loop")]


def _seed(store) -> tuple[int, int]:
    lease = store.create(collection="default")
    store.add_message(lease.id, "user", "What is the notice period of the lease?")
    store.add_message(lease.id, "assistant", "Sixty days [1].")
    panda = store.create(collection="default")
    store.add_message(panda.id, "user", "大熊猫吃什么？")
    store.add_message(panda.id, "assistant", "主要吃竹子。", state=MessageState.STOPPED)
    return lease.id, panda.id


def _build(qtbot, services) -> tuple[ChatController, ConversationList, ChatPanel]:
    chat = ChatController(services)
    sidebar = ConversationList(chat)
    panel = ChatPanel(chat)
    for widget in (sidebar, panel):
        qtbot.addWidget(widget)
        widget.show()
    return chat, sidebar, panel


def test_open_search_rename_delete_and_new(qtbot) -> None:
    services = open_services(qtbot, "http://127.0.0.1:9", knowledge=False)
    lease_id, panda_id = _seed(services.conversations)
    chat, sidebar, panel = _build(qtbot, services)
    qtbot.waitUntil(lambda: chat.conversations.rowCount() == 2)
    # most recent first; clicking opens it in the chat pane
    model = chat.conversations
    assert model.record(0).id == panda_id
    rect = sidebar.view.visualRect(model.index(1, 0))
    with qtbot.waitSignal(chat.sig_conversation_changed):  # the messages load off-thread
        qtbot.mouseClick(sidebar.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert chat.conversation_id == lease_id
    assert next(w.record.text for w in panel.message_widgets()).startswith("What is the notice")
    # search by message text (not only titles), Chinese included
    sidebar.focus_search()
    assert sidebar.search.hasFocus() or sidebar.search.isVisible()
    sidebar.search.setText("竹子")  # as an input method commits it
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert model.record(0).id == panda_id
    sidebar.search.clear()
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    # rename through the dialog (persisted)
    dialog = sidebar.rename(lease_id)
    assert dialog.isVisible() and dialog.textValue() == "What is the notice period of the lease?"
    dialog.setTextValue("Lease — notice")
    dialog.accept()
    qtbot.waitUntil(lambda: model.data(model.index(model.row_of(lease_id), 0)) == "Lease — notice")
    assert services.conversations.get(lease_id).title == "Lease — notice"
    assert model.data(model.index(model.row_of(lease_id), 0)) == "Lease — notice"
    # delete asks first; Cancel keeps it, Delete removes it (and clears the open chat)
    box = sidebar.confirm_delete(lease_id)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert model.row_of(lease_id) >= 0
    box = sidebar.confirm_delete(lease_id)
    next(b for b in box.buttons() if b.text() == "Delete").click()
    qtbot.waitUntil(lambda: model.row_of(lease_id) == -1)
    assert chat.conversation_id is None and chat.model.rowCount() == 0
    assert [c.id for c in services.conversations.list()] == [panda_id]
    # new conversation: empty pane, nothing saved until the first question
    with qtbot.waitSignal(chat.sig_conversation_changed):
        chat.open_conversation(panda_id)
    chat.new_conversation()
    assert chat.model.rowCount() == 0 and panel.empty_label.isVisible()
    services.close()


def test_last_conversation_reopens_at_start(qtbot) -> None:
    services = open_services(qtbot, "http://127.0.0.1:9", knowledge=False)
    lease_id, _panda_id = _seed(services.conversations)
    chat, _sidebar, _panel = _build(qtbot, services)
    qtbot.waitUntil(lambda: chat.conversations.rowCount() == 2)
    with qtbot.waitSignal(chat.sig_conversation_changed):
        chat.open_conversation(lease_id)
    services.close()
    services = open_services(qtbot, "http://127.0.0.1:9", knowledge=False)
    chat2, sidebar2, panel2 = _build(qtbot, services)
    qtbot.waitUntil(lambda: chat2.conversation_id == lease_id)
    assert len(panel2.message_widgets()) == 2
    assert sidebar2.view.currentIndex().row() == chat2.conversations.row_of(lease_id)
    services.close()


def _right_click(view, row: int) -> None:
    """A right-click on ``row`` as the window system delivers it (a context menu event)."""
    pos = view.visualRect(view.model().index(row, 0)).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)


def _menus() -> list[QMenu]:
    return [w for w in QApplication.allWidgets() if isinstance(w, QMenu)]


def test_dialogs_do_not_block_and_one_menu_serves_every_right_click(qtbot) -> None:
    services = open_services(qtbot, "http://127.0.0.1:9", knowledge=False)
    lease_id, panda_id = _seed(services.conversations)
    chat, sidebar, _panel = _build(qtbot, services)
    model = chat.conversations
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    menus_before = len(_menus())
    _right_click(sidebar.view, model.row_of(lease_id))
    qtbot.waitUntil(sidebar.menu.isVisible)
    sidebar.menu.hide()
    _right_click(sidebar.view, model.row_of(panda_id))
    qtbot.waitUntil(sidebar.menu.isVisible)
    assert len(_menus()) == menus_before  # the one menu, built with the list, was reused
    assert len(sidebar.findChildren(QMenu)) == 1
    # the menu acts on the row under the pointer: rename the panda conversation
    sidebar.action_rename.trigger()
    dialog = sidebar.dialog
    assert dialog is not None and dialog.isVisible()  # trigger() returned: no nested loop
    assert dialog.textValue() == "大熊猫吃什么？"
    dialog.setTextValue("熊猫")
    dialog.accept()
    qtbot.waitUntil(lambda: services.conversations.get(panda_id).title == "熊猫")
    qtbot.waitUntil(lambda: sidebar.dialog is None)  # closed and deleted
    # delete from the menu: Delete in the (non-blocking) box removes it
    _right_click(sidebar.view, model.row_of(panda_id))
    sidebar.action_delete.trigger()
    box = sidebar.dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    next(b for b in box.buttons() if b.text() == "Delete").click()
    qtbot.waitUntil(lambda: model.row_of(panda_id) == -1)
    assert [c.id for c in services.conversations.list()] == [lease_id]
    services.close()


def _unwritable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root ignores permissions; sysfs is not writable by anyone
        folder = Path("/sys")
    return folder


def test_export_writes_markdown_and_a_failure_says_why(qtbot, tmp_path: Path) -> None:
    services = open_services(qtbot, "http://127.0.0.1:9", knowledge=False)
    lease_id, _panda_id = _seed(services.conversations)
    chat, sidebar, _panel = _build(qtbot, services)
    qtbot.waitUntil(lambda: chat.conversations.rowCount() == 2)
    # into a writable folder: the file is there, with the default name
    dialog = sidebar.export(lease_id, folder=str(tmp_path))
    target = tmp_path / "What is the notice period of the lease.md"
    dialog.selectFile(str(target))
    with qtbot.waitSignal(chat.sig_exported):
        dialog.accept()
    assert "Sixty days [1]." in target.read_text(encoding="utf-8")
    # into a folder that cannot be written: a message attached to the list says why
    folder = _unwritable_folder(tmp_path)
    dialog = sidebar.export(lease_id, folder=str(folder))
    dialog.selectFile(str(folder / "lease.md"))
    dialog.accept()
    qtbot.waitUntil(lambda: sidebar.export_error is not None and sidebar.export_error.isVisible())
    box = sidebar.export_error
    assert box.parent() is sidebar
    assert box.text() == message_for("export_not_permitted")
    assert "Permission denied" in box.informativeText() and "lease.md" in box.informativeText()
    assert not (folder / "lease.md").exists()
    box.accept()
    services.close()


def test_empty_search_says_no_matches_and_long_titles_are_elided(qtbot) -> None:
    services = open_services(qtbot, "http://127.0.0.1:9", knowledge=False)
    store = services.conversations
    long_title = "A very long conversation title about the notice period of the lease " * 3
    long = store.create(title=long_title)
    store.add_message(long.id, "user", "notice?")
    _seed(store)
    chat, sidebar, _panel = _build(qtbot, services)
    sidebar.resize(260, 500)
    model = chat.conversations
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    # one line per title, elided on the right: no horizontal scrolling
    view = sidebar.view
    assert view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert view.textElideMode() == Qt.TextElideMode.ElideRight and not view.wordWrap()
    rect = view.visualRect(model.index(model.row_of(long.id), 0))
    assert rect.right() <= view.viewport().width()
    metrics = QFontMetrics(view.font())
    assert metrics.horizontalAdvance(long_title) > rect.width()  # so the delegate must elide
    assert view.horizontalScrollBar().maximum() == 0
    # a search without results says so; clearing it brings the list back
    assert not sidebar.no_matches.isVisible()
    sidebar.search.setText("zebra crossing")
    qtbot.waitUntil(sidebar.no_matches.isVisible)
    assert model.rowCount() == 0 and sidebar.no_matches.text() == "No conversations match"
    sidebar.search.setText("熊猫")  # matched in a message, Chinese
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert not sidebar.no_matches.isVisible()
    sidebar.search.clear()
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    assert not sidebar.no_matches.isVisible()
    services.close()


class _RecordingStore(ConversationStore):
    """The real store, noting which thread called each public method (test-side subclass)."""

    def __init__(self, path: Path) -> None:
        self.calls: list[tuple[str, int]] = []
        super().__init__(path)

    def _note(self, name: str) -> None:
        self.calls.append((name, threading.get_ident()))


for _name in ("list", "search", "get", "messages", "rename", "delete", "export_markdown_to"):

    def _recording(self, *args, _name=_name, **kwargs):  # type: ignore[no-untyped-def]
        self._note(_name)
        return getattr(ConversationStore, _name)(self, *args, **kwargs)

    setattr(_RecordingStore, _name, _recording)


def test_the_window_calls_the_store_off_the_gui_thread(qtbot, tmp_path: Path) -> None:
    store = _RecordingStore(tmp_path / "conversations.db")
    lease_id, panda_id = _seed(store)
    store.calls.clear()
    services = AppServices(make_settings("http://127.0.0.1:9"), conversations=store)
    chat, _sidebar, _panel = _build(qtbot, services)
    model = chat.conversations
    qtbot.waitUntil(lambda: model.rowCount() == 2)  # list
    with qtbot.waitSignal(chat.sig_conversation_changed):
        chat.open_conversation(lease_id)  # messages
    with qtbot.waitSignal(chat.sig_search_finished):
        chat.search_conversations("竹子")  # search
    assert [r.id for r in model.records()] == [panda_id]
    chat.search_conversations("")
    chat.rename_conversation(lease_id, "Lease")  # rename
    qtbot.waitUntil(lambda: model.data(model.index(model.row_of(lease_id), 0)) == "Lease")
    with qtbot.waitSignal(chat.sig_exported):
        chat.export_markdown(lease_id, str(tmp_path / "lease.md"))  # export
    chat.delete_conversation(panda_id)  # delete
    qtbot.waitUntil(lambda: model.row_of(panda_id) == -1)
    called = {name for name, _ in store.calls}
    assert {"list", "search", "messages", "rename", "delete", "export_markdown_to"} <= called
    gui_thread = threading.get_ident()
    on_gui = [name for name, ident in store.calls if ident == gui_thread]
    assert on_gui == []
    services.close()
