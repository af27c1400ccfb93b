"""Rough edges of the window a new user met (issue 13), on real widgets and the real stores:

- a new chat (Ctrl+N) or another conversation closes the source viewer of the previous one, and
  the tokens/s figure follows the open conversation (its last answer's, or nothing);
- VRAM and speed are shown once, in the model bar, not again in the status bar;
- the passage under the page is shown whole (wrapped, scrolling), not cut mid-word;
- Markdown, text and Word files show no page count (only PDFs have fixed pages);
- the export file name is clean, safe and dated; dialog buttons carry no icons under the theme;
- "Stopped." is secondary text, a failure stays red.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QProxyStyle,
    QStyle,
    QStyleFactory,
)

from qwen_desk.controllers.services import AppServices
from qwen_desk.core.export_name import clean_title, export_file_name
from qwen_desk.core.types import Citation, IngestState, MessageRecord, MessageState, StreamStats
from qwen_desk.models.document_model import DocumentItem
from qwen_desk.ui.document_delegate import status_text
from qwen_desk.ui.main_window import MainWindow
from qwen_desk.ui.message_widget import MessageWidget
from qwen_desk.ui.source_viewer import SourceViewer, passage_text
from qwen_desk.ui.theme import ThemeManager
from tests.support.chat_side import make_settings
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)

pytestmark = pytest.mark.gui

PASSAGE = (
    "Emperor penguins breed in the coldest environment of any bird species. The male keeps "
    "the egg warm on his feet under a fold of skin for about sixty-five days, without eating, "
    "while the female returns to the sea to feed. 东北电气发展股份有限公司2018年第一季度"
    "营业收入为人民币三千万元，同比增长百分之十二。 The colony huddles against the wind, and "
    "each bird takes its turn on the outside of the group before it moves back towards the "
    "warm centre, a slow rotation that lasts the whole winter night. Lastword"
)


@pytest.fixture
def standin() -> Iterator[OllamaStandIn]:
    with OllamaStandIn(models=("qwen2.5:7b",)) as server:
        yield server


def _window(qtbot, url: str) -> MainWindow:
    services = AppServices(make_settings(url))
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.resize(1300, 820)
    win.show()
    return win


def _seed(win: MainWindow) -> tuple[int, int, int]:
    """Three stored conversations: answers at 151 and 42 tokens/s, and one without figures."""
    store = win.chat.store
    ids = []
    for question, speed in (("Penguins?", 151.4), ("大熊猫吃什么？", 42.0), ("Lease?", None)):
        conversation = store.create(collection="default")
        store.add_message(conversation.id, "user", question)
        answer = store.add_message(conversation.id, "assistant", "An answer [1].")
        if speed is not None:
            store.update_message(answer.id, stats={"tokens_per_s": speed, "model": "qwen2.5:7b"})
        ids.append(conversation.id)
    win.chat.load_conversations()
    return ids[0], ids[1], ids[2]


def _open(qtbot, win: MainWindow, conversation_id: int) -> None:
    """Open a conversation and wait until its messages are in the model (loaded off-thread)."""
    with qtbot.waitSignal(win.chat.sig_conversation_changed, timeout=30_000):
        win.chat.open_conversation(conversation_id)


def _citation(path: Path, text: str = PASSAGE, page: int = 0) -> Citation:
    return Citation(1, "c1", "d1", str(path), path.stem, page, 0, len(text), text)


@pytest.mark.usefixtures("async_loop")
def test_new_chat_and_switching_clear_the_viewer_and_the_speed(qtbot, standin, tmp_path) -> None:
    win = _window(qtbot, standin.url)
    penguins, pandas, lease = _seed(win)
    speed = win.model_bar.speed
    note = tmp_path / "notes.md"
    note.write_text("# Notes\n\n" + PASSAGE + "\n", encoding="utf-8")

    _open(qtbot, win, penguins)
    assert speed.text() == "151 tokens/s"
    win.chat.sig_citation_requested.emit(_citation(note))  # as a chip click does
    viewer = win.source_viewer
    qtbot.waitUntil(lambda: viewer.stack.currentWidget() is viewer.text_view, timeout=30_000)
    assert viewer.isVisible() and viewer.citation is not None

    assert win.action_new_chat.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    win.action_new_chat.trigger()  # Ctrl+N
    assert not viewer.isVisible() and viewer.citation is None
    assert viewer.title.text() == "" and viewer.snippet.text() == ""
    assert speed.text() == ""  # a new chat has no answer yet

    _open(qtbot, win, pandas)
    assert speed.text() == "42 tokens/s"
    win.chat.sig_citation_requested.emit(_citation(note))
    assert viewer.isVisible()
    _open(qtbot, win, lease)  # another conversation: its sources are not these
    assert not viewer.isVisible() and viewer.citation is None
    assert speed.text() == ""  # its answer has no figures


@pytest.mark.usefixtures("async_loop")
def test_vram_and_speed_are_shown_once_in_the_model_bar(qtbot, standin) -> None:
    win = _window(qtbot, standin.url)
    qtbot.waitUntil(lambda: "VRAM" in win.model_bar.vram.text(), timeout=60_000)
    win.chat.sig_stats.emit(StreamStats(done_reason="stop", tokens_per_s=88.0))
    assert win.model_bar.speed.text() == "88 tokens/s"
    status_texts = [label.text() for label in win.status.findChildren(QLabel)]
    assert not [t for t in status_texts if "VRAM" in t or "tokens/s" in t], status_texts
    shown = [
        label.text()
        for label in win.findChildren(QLabel)
        if label.isVisible() and ("VRAM" in label.text())
    ]
    assert len(shown) == 1, shown


@pytest.mark.usefixtures("async_loop")
def test_the_passage_under_the_page_is_whole_and_wrapped(qtbot, tmp_path) -> None:
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(420, 700)
    viewer.show()
    viewer.show_citation(_citation(tmp_path / "gone.pdf", page=3))  # the file is not there
    text = viewer.snippet.text()
    assert text == "[1] " + passage_text(PASSAGE) and text.endswith("Lastword")
    assert "公司2018年第一季度营业收入" in text  # Chinese is not broken by spaces
    assert viewer.snippet.wordWrap() and viewer.snippet_scroll.isVisible()
    needed = viewer.snippet.heightForWidth(viewer.snippet_scroll.viewport().width())
    area = viewer.snippet_scroll.height()
    assert needed > area  # long: it scrolls instead of pushing the page away
    assert viewer.snippet_scroll.verticalScrollBar().maximum() > 0
    assert viewer.stack.height() > 2 * area


def test_passage_text_folds_breaks() -> None:
    assert passage_text("a  b\nc\n\n d") == "a b c d"
    assert passage_text("东北电气\n发展  股份 Co.\nLtd") == "东北电气发展股份 Co. Ltd"
    assert passage_text("  \n ") == ""


@pytest.mark.parametrize(
    ("kind", "pages", "expected"),
    [
        ("md", 1, "3 passages"),
        ("txt", 1, "1 passage"),
        ("docx", 4, "3 passages"),
        ("pdf", 1, "1 page · 3 passages"),
        ("pdf", 12, "12 pages · 3 passages"),
    ],
)
def test_only_pdfs_show_a_page_count(kind: str, pages: int, expected: str) -> None:
    chunks = 1 if kind == "txt" else 3
    item = DocumentItem(
        f"/docs/a.{kind}", "default", "a", kind, IngestState.READY, pages=pages, chunks=chunks
    )
    assert status_text(item) == expected


def test_export_file_names_are_clean_safe_and_dated() -> None:
    day = date(2025, 6, 1)
    assert export_file_name("What did they say about their...", day) == (
        "What did they say about their 2025-06-01.md"
    )
    assert export_file_name("What did they say about their…", day) == (
        "What did they say about their 2025-06-01.md"
    )
    assert export_file_name("东北电气2018年第一季度的营业收入是多少？", day) == (
        "东北电气2018年第一季度的营业收入是多少 2025-06-01.md"
    )
    assert export_file_name('a/b\\c:d*e?f"g<h>i|j', day) == "a b c d e f g h i j 2025-06-01.md"
    assert export_file_name("Is qwen2.5 good?", day) == "Is qwen2.5 good 2025-06-01.md"
    assert export_file_name("...", day, fallback="Conversation") == "Conversation 2025-06-01.md"
    assert export_file_name("", day, fallback="对话") == "对话 2025-06-01.md"
    assert export_file_name("CON", day) == "CON 2025-06-01.md"  # never a bare reserved name
    long_en = clean_title("word " * 40)
    assert len(long_en) <= 50 and long_en.endswith("word") and "  " not in long_en
    long_zh = export_file_name("熊" * 200, day)
    assert long_zh == "熊" * 50 + " 2025-06-01.md" and len(long_zh.encode()) < 255
    for name in (long_en, long_zh, export_file_name("\x00\x1f\tTab", day)):
        assert not set(name) & set('/\\:*?"<>|\x00\x1f\t')


@pytest.mark.usefixtures("async_loop")
def test_export_proposes_the_clean_name(qtbot, standin, tmp_path) -> None:
    win = _window(qtbot, standin.url)
    store = win.chat.store
    conversation = store.create(collection="default")
    store.add_message(conversation.id, "user", "What did they say about their leases? Or not...")
    store.add_message(conversation.id, "assistant", "Sixty days [1].")
    win.chat.load_conversations()
    qtbot.waitUntil(lambda: win.chat.conversations.rowCount() == 1, timeout=30_000)
    target = tmp_path / "out.md"
    dialog = win.conversation_list.export(conversation.id, folder=str(tmp_path))
    name = Path(dialog.selectedFiles()[0]).name
    title = clean_title(win.conversation_list._title(conversation.id))
    assert name == f"{title} {date.today().isoformat()}.md" and ".." not in name, name
    with qtbot.waitSignal(win.chat.sig_exported, timeout=30_000):
        dialog.fileSelected.emit(str(target))  # what the dialog sends when the user saves
    dialog.reject()
    assert "Sixty days" in target.read_text(encoding="utf-8")


class _DesktopWithButtonIcons(QProxyStyle):
    """What GNOME-like desktops say: dialog buttons have icons (Qt then adds OK/Cancel icons)."""

    def styleHint(self, hint, option=None, widget=None, returnData=None):
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 1
        return super().styleHint(hint, option, widget, returnData)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dialog_buttons_have_no_icons_under_the_theme(qapp, scheme: str) -> None:
    app = QApplication.instance()
    saved = app.style().name(), app.styleSheet(), app.palette(), app.property("qwen_desk_scheme")
    try:
        ThemeManager(app, scheme)
        sheet = app.styleSheet()
        app.setStyleSheet("")
        app.setStyle(_DesktopWithButtonIcons(QStyleFactory.create("Fusion")))
        plain = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        assert not plain.button(QDialogButtonBox.StandardButton.Ok).icon().isNull()  # can fail
        app.setStyleSheet(sheet)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        for button in box.buttons():
            assert button.icon().isNull(), button.text()
        message = QMessageBox(QMessageBox.Icon.Warning, "t", "x", QMessageBox.StandardButton.Ok)
        assert message.button(QMessageBox.StandardButton.Ok).icon().isNull()
        message.deleteLater()
    finally:
        app.setStyle(QStyleFactory.create(saved[0]))
        app.setStyleSheet(saved[1])
        app.setPalette(saved[2])
        app.setProperty("qwen_desk_scheme", saved[3])


def _status_color(qtbot, state: MessageState, error_code: str = "") -> QColor:
    record = MessageRecord(2, 1, "assistant", "Part of an answer", state=state)
    record.error_code = error_code
    widget = MessageWidget(record)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.status.isVisible()
    return widget.status.palette().color(widget.status.foregroundRole())


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_stopped_is_secondary_and_a_failure_is_red(qtbot, scheme) -> None:
    from qwen_desk.ui.theme import ThemeManager, muted_color

    manager = ThemeManager(QApplication.instance(), scheme)  # the app's theme, as at start-up
    try:
        stopped = _status_color(qtbot, MessageState.STOPPED, "cancelled")
        assert stopped.name() == muted_color(scheme).name()
        failures = (
            (MessageState.FAILED, "llm_unreachable"),
            (MessageState.STOPPED, "stream_interrupted"),
        )
        for state, code in failures:
            red = _status_color(qtbot, state, code)
            assert red.red() > 150 and red.green() < 140, (state, red.name())
    finally:
        manager.apply("light")
