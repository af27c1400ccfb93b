"""The conversation list on the real conversation store: open, search, rename, delete with
confirmation, new, and the last conversation reopening at start."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from qwen_desk.controllers.chat_controller import ChatController
from qwen_desk.core.types import MessageState
from qwen_desk.ui.chat_panel import ChatPanel
from qwen_desk.ui.conversation_list import ConversationList
from tests.support.chat_side import open_services
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
    # rename (persisted)
    chat.rename_conversation(lease_id, "Lease — notice")
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
    chat.open_conversation(panda_id)
    chat.new_conversation()
    assert chat.model.rowCount() == 0 and panel.empty_label.isVisible()
    services.close()


def test_last_conversation_reopens_at_start(qtbot) -> None:
    services = open_services(qtbot, "http://127.0.0.1:9", knowledge=False)
    lease_id, _panda_id = _seed(services.conversations)
    chat, _sidebar, _panel = _build(qtbot, services)
    qtbot.waitUntil(lambda: chat.conversations.rowCount() == 2)
    chat.open_conversation(lease_id)
    services.close()
    services = open_services(qtbot, "http://127.0.0.1:9", knowledge=False)
    chat2, sidebar2, panel2 = _build(qtbot, services)
    qtbot.waitUntil(lambda: chat2.conversation_id == lease_id)
    assert len(panel2.message_widgets()) == 2
    assert sidebar2.view.currentIndex().row() == chat2.conversations.row_of(lease_id)
    services.close()
