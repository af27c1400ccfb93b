"""Citation chips of a password-protected .docx (the real encrypted corpus file, the real viewer).

(1) Indexed with its password this session: the chip click shows the document's text with the
passage highlighted, opened with the session's password (the viewer's parser child re-reads the
file; it used to do so without the password and failed). (2) A new session: the viewer asks in
place (a Word file shows its passage, not a page); a wrong password says so and asks again; the
right one shows the passage and is kept for the session; Cancel leaves a clear message.

``QWEN_DESK_SCREENSHOT_DIR=folder`` saves the viewer at each step as PNG (for review).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt

from qwen_desk.core.documents.passwords import session_passwords
from tests.support.chat_side import click_chip, open_services
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)
from tests.test_gui_chat import _build, _wait_answer

pytestmark = [pytest.mark.gui, pytest.mark.corpus, pytest.mark.slow]

LOCKED = "tika__testWORD_protected_passtika.docx"
PASSWORD = "tika"
TEXT = "This is an encrypted Word 2007 File."  # all the file holds
QUESTION = "Is this an encrypted Word 2007 file?"
tr = QCoreApplication.translate


@pytest.fixture
def standin():
    with OllamaStandIn(tokens_per_second=400) as server:
        yield server


@pytest.fixture(autouse=True)
def forget_passwords():
    session_passwords().clear()
    yield
    session_passwords().clear()


@pytest.fixture
def locked(corpus: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(corpus / "docx" / LOCKED, tmp_path / "机密 memo.docx"))


def _shot(viewer, name: str) -> None:
    folder = os.environ.get("QWEN_DESK_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        viewer.grab().save(str(Path(folder) / f"{name}.png"))


def _index_with_password(services, path: Path) -> None:
    ingest = services.ingest
    ingest.start()
    ingest.add_paths([str(path)], "default", PASSWORD)
    assert ingest.wait_idle(timeout=120), "ingestion did not finish"
    (document,) = services.knowledge.store.list_documents("default")
    assert document.n_chunks > 0, document


def _ask_and_click(qtbot, chat, panel):
    chat.ask(QUESTION)
    _wait_answer(qtbot, chat)
    row = chat.model.last_row("assistant")
    record = chat.model.record(row)
    citation = next((c for c in record.citations if c.path.endswith(".docx")), None)
    assert citation is not None, (record.text, record.citations)
    click_chip(qtbot, panel.message_widget(row).body, citation.n)
    return citation


def _assert_passage_shown(qtbot, viewer) -> None:
    qtbot.waitUntil(lambda: viewer.stack.currentWidget() is viewer.text_view, timeout=30_000)
    assert viewer.text_view.toPlainText().strip() == TEXT
    assert viewer.highlighted_text() == TEXT


@pytest.mark.usefixtures("async_loop")
def test_chip_of_docx_added_with_password_shows_the_passage(qtbot, standin, locked) -> None:
    services = open_services(qtbot, standin.url)
    _index_with_password(services, locked)
    assert session_passwords().get(locked) == PASSWORD
    chat, panel, viewer = _build(qtbot, services)
    _ask_and_click(qtbot, chat, panel)
    _assert_passage_shown(qtbot, viewer)
    assert viewer.stack.currentWidget() is not viewer.password_prompt
    _shot(viewer, "docx_password_known")
    services.close()


@pytest.mark.usefixtures("async_loop")
def test_new_session_asks_for_the_docx_password_in_place(qtbot, standin, locked) -> None:
    services = open_services(qtbot, standin.url)
    _index_with_password(services, locked)
    services.close()
    session_passwords().clear()  # what quitting the app does: the next session knows none

    services = open_services(qtbot, standin.url)
    chat, panel, viewer = _build(qtbot, services)
    prompt = viewer.password_prompt
    citation = _ask_and_click(qtbot, chat, panel)
    qtbot.waitUntil(lambda: viewer.stack.currentWidget() is prompt, timeout=30_000)
    assert prompt.label.text() == tr(
        "PasswordPrompt", "“%1” is protected by a password. Enter it to show the passage:"
    ).replace("%1", locked.name)
    assert prompt.show_button.text() == tr("PasswordPrompt", "Show passage")
    assert not prompt.error.isVisible() and viewer.focusWidget() is prompt.field
    _shot(viewer, "docx_password_prompt")

    qtbot.keyClicks(prompt.field, "not-the-password")
    qtbot.keyClick(prompt.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: prompt.error.isVisible() and prompt.field.isEnabled(), timeout=30_000)
    assert viewer.stack.currentWidget() is prompt and prompt.field.text() == ""
    assert session_passwords().get(locked) is None

    qtbot.keyClicks(prompt.field, PASSWORD)
    prompt.show_button.click()
    _assert_passage_shown(qtbot, viewer)
    assert session_passwords().get(locked) == PASSWORD
    _shot(viewer, "docx_password_shown")

    # Cancel, in a session that forgot it (and a viewer that no longer holds the text)
    session_passwords().clear()
    viewer.controller._texts.clear()
    viewer._text_path = None
    click_chip(qtbot, panel.message_widget(chat.model.last_row("assistant")).body, citation.n)
    qtbot.waitUntil(lambda: viewer.stack.currentWidget() is prompt, timeout=30_000)
    prompt.cancel_button.click()
    assert viewer.stack.currentWidget() is viewer.message
    assert viewer.message.text() == tr(
        "SourceViewer",
        "“%1” is protected by a password, so its text cannot be shown. "
        "Click the citation again to enter the password.",
    ).replace("%1", locked.name)
    services.close()
