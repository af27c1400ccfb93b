"""Citation chips of password-protected PDFs (real encrypted corpus files, the real viewer).

(1) A PDF added with its password in this session: the chip click renders the cited page with
its highlight, with the password kept in memory only (no file under QWEN_DESK_HOME holds it).
(2) A new session (the password is not known): the viewer asks in place; a wrong password says
so and asks again; the right one renders the page; Cancel leaves a clear message. Never a raw
``password_required``.

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
from tests.test_gui_chat import _build, _wait_answer, _yellow_share

pytestmark = [pytest.mark.gui, pytest.mark.corpus, pytest.mark.slow]

ENCRYPTED = "pysamples__libreoffice-writer-password.pdf"
PASSWORD = "openpassword"  # the corpus manifest's user password
tr = QCoreApplication.translate
QUESTION = "Lorem ipsum dolor sit amet, consetetur sadipscing elitr, sed diam nonumy eirmod tempor?"


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
def encrypted_pdf(corpus: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(corpus / "pdf" / ENCRYPTED, tmp_path / "保密 report.pdf"))


def _shot(viewer, name: str) -> None:
    folder = os.environ.get("QWEN_DESK_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        viewer.grab().save(str(Path(folder) / f"{name}.png"))


def _index_with_password(services, pdf: Path, password: str) -> None:
    ingest = services.ingest
    ingest.start()
    ingest.add_paths([str(pdf)], "default", password)
    assert ingest.wait_idle(timeout=120), "ingestion did not finish"
    (document,) = services.knowledge.store.list_documents("default")
    assert document.n_chunks > 0, document


def _ask_and_click(qtbot, chat, panel, viewer):
    chat.ask(QUESTION)
    _wait_answer(qtbot, chat)
    row = chat.model.last_row("assistant")
    record = chat.model.record(row)
    citation = next((c for c in record.citations if c.path.endswith(".pdf")), None)
    assert citation is not None, (record.text, record.citations)
    assert citation.rects, citation
    click_chip(qtbot, panel.message_widget(row).body, citation.n)
    return citation


def _assert_rendered(qtbot, viewer, citation) -> None:
    qtbot.waitUntil(
        lambda: viewer._rendered is not None and viewer._rendered.page == citation.page,
        timeout=30_000,
    )
    assert viewer.stack.currentWidget() is viewer.page_scroll
    assert viewer.highlighted_rects() == citation.rects
    assert _yellow_share(viewer, citation.rects[0]) > 0.5


def _files_holding(root: Path, secret: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


@pytest.mark.usefixtures("async_loop")
def test_chip_of_pdf_added_with_password_renders(
    qtbot, standin, encrypted_pdf, qwen_desk_home
) -> None:
    services = open_services(qtbot, standin.url)
    _index_with_password(services, encrypted_pdf, PASSWORD)
    assert session_passwords().get(encrypted_pdf) == PASSWORD
    chat, panel, viewer = _build(qtbot, services)

    citation = _ask_and_click(qtbot, chat, panel, viewer)
    _assert_rendered(qtbot, viewer, citation)
    _shot(viewer, "pdf_password_known")
    assert viewer.stack.currentWidget() is not viewer.password_prompt
    services.close()
    # memory only: the queue, the knowledge base, settings and logs never saw it
    assert not _files_holding(qwen_desk_home, PASSWORD.encode())


@pytest.mark.usefixtures("async_loop")
def test_new_session_asks_wrong_password_says_so(qtbot, standin, encrypted_pdf) -> None:
    services = open_services(qtbot, standin.url)
    _index_with_password(services, encrypted_pdf, PASSWORD)
    services.close()
    session_passwords().clear()  # what quitting the app does: the next session knows none

    services = open_services(qtbot, standin.url)
    chat, panel, viewer = _build(qtbot, services)
    prompt = viewer.password_prompt
    citation = _ask_and_click(qtbot, chat, panel, viewer)
    qtbot.waitUntil(lambda: viewer.stack.currentWidget() is prompt, timeout=30_000)
    assert encrypted_pdf.name in prompt.label.text()
    assert not prompt.error.isVisible() and viewer.focusWidget() is prompt.field
    _shot(viewer, "pdf_password_prompt")

    # a wrong password: said so, asked again (the field is enabled and empty)
    qtbot.keyClicks(prompt.field, "not-the-password")
    qtbot.keyClick(prompt.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: prompt.error.isVisible() and prompt.field.isEnabled(), timeout=30_000)
    assert viewer.stack.currentWidget() is prompt and prompt.field.text() == ""
    assert prompt.error.text() == tr("PasswordPrompt", "The password is not correct. Try again.")
    assert session_passwords().get(encrypted_pdf) is None
    _shot(viewer, "pdf_password_wrong")

    # the right one: the page with its highlight; it is known for the rest of the session
    qtbot.keyClicks(prompt.field, PASSWORD)
    prompt.show_button.click()
    _assert_rendered(qtbot, viewer, citation)
    assert session_passwords().get(encrypted_pdf) == PASSWORD
    _shot(viewer, "pdf_password_rendered")

    # Cancel (a session that forgot it again): a message in the viewer, never a raw code
    session_passwords().clear()
    viewer._rendered = None
    click_chip(qtbot, panel.message_widget(chat.model.last_row("assistant")).body, citation.n)
    qtbot.waitUntil(lambda: viewer.stack.currentWidget() is prompt, timeout=30_000)
    prompt.cancel_button.click()
    assert viewer.stack.currentWidget() is viewer.message
    text = viewer.message.text()
    assert text == tr(
        "SourceViewer",
        "“%1” is protected by a password, so its page cannot be shown. "
        "Click the citation again to enter the password.",
    ).replace("%1", encrypted_pdf.name)
    assert "password_required" not in text
    _shot(viewer, "pdf_password_cancelled")
    services.close()
