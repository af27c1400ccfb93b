"""The window shell: settings dialog validation, geometry restore, shortcuts, messages, theme."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from qwen_desk.controllers.services import AppServices
from qwen_desk.core import errors
from qwen_desk.core.settings import Settings
from qwen_desk.ui.main_window import MainWindow
from qwen_desk.ui.messages import known_codes, message_for
from qwen_desk.ui.settings_dialog import SettingsDialog
from qwen_desk.ui.theme import ThemeManager, current_scheme

pytestmark = pytest.mark.gui


@pytest.fixture
def services() -> Iterator[AppServices]:
    svc = AppServices(Settings())
    yield svc
    svc.close()


def make_window(qtbot, services: AppServices) -> MainWindow:
    win = MainWindow(services)
    qtbot.addWidget(win)
    return win


def test_every_error_code_has_its_own_message() -> None:
    codes = {cls.code for cls in errors.all_error_classes()}
    missing = codes - known_codes()
    assert not missing, f"no message for {sorted(missing)}"
    generic = message_for("qwen_desk_error")
    assert all(message_for(c) != generic for c in codes - {"qwen_desk_error"})
    assert message_for("no_such_code") == generic


def test_settings_dialog_shows_the_problem_next_to_the_field(qtbot, services) -> None:
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled() and dialog.error_for("max_tokens") == ""
    dialog.num_ctx_spin.setValue(2048)
    dialog.max_tokens_spin.setValue(4096)  # Settings.validate(): must be below num_ctx
    assert not ok.isEnabled()
    assert "context length" in dialog.error_for("max_tokens")
    dialog.max_tokens_spin.setValue(1024)
    assert ok.isEnabled() and dialog.error_for("max_tokens") == ""
    dialog.host_edit.setText("localhost 11434")
    assert not ok.isEnabled() and "http://" in dialog.error_for("ollama_host")
    dialog.host_edit.setText("http://10.0.0.5:11434")
    dialog.model_edit.setCurrentText("  ")
    assert not ok.isEnabled() and dialog.error_for("model")
    dialog.model_edit.setCurrentText("qwen2.5:14b")
    dialog.keep_alive_edit.setText("forever")
    assert not ok.isEnabled() and dialog.error_for("keep_alive")
    dialog.keep_alive_edit.setText("2h")
    assert ok.isEnabled()
    changes: list[set[str]] = []
    services.sig_settings_changed.connect(lambda _new, changed: changes.append(changed))
    dialog.accept()
    saved = Settings.load()
    assert (saved.ollama_host, saved.model, saved.num_ctx, saved.keep_alive) == (
        "http://10.0.0.5:11434",
        "qwen2.5:14b",
        2048,
        "2h",
    )
    assert services.settings == saved
    assert changes == [{"ollama_host", "model", "num_ctx", "keep_alive"}]


def test_language_change_says_it_needs_a_restart(qtbot, services) -> None:
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.restart_note.isVisible()
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("zh_CN"))
    assert dialog.restart_note.isVisible()


def test_theme_setting_applies_at_once(qtbot, services) -> None:
    app = QApplication.instance()
    manager = ThemeManager(app, "light")
    assert current_scheme() == "light"
    services.sig_settings_changed.connect(lambda new, _c: manager.apply(new.theme))
    services.apply_settings(services.settings.replace(theme="dark"))
    assert current_scheme() == "dark"
    assert app.palette().color(app.palette().ColorRole.Window).lightness() < 80
    manager.apply("light")


def test_geometry_and_splitters_are_restored(qtbot, services) -> None:
    win = make_window(qtbot, services)
    win.show()
    win.resize(760, 540)
    win.main_splitter.setSizes([250, 510])
    qtbot.waitUntil(lambda: win.size().width() == 760)
    sizes = win.main_splitter.sizes()
    size = (win.width(), win.height())
    win.close()
    again = make_window(qtbot, services)
    again.show()
    assert (again.width(), again.height()) == size
    assert again.main_splitter.sizes()[0] == sizes[0]
    again.close()


def test_shortcuts_are_wired(qtbot, services) -> None:
    win = make_window(qtbot, services)
    expected = {
        win.action_new_chat: QKeySequence(QKeySequence.StandardKey.New),
        win.action_add_files: QKeySequence(QKeySequence.StandardKey.Open),
        win.action_search: QKeySequence(QKeySequence.StandardKey.Find),
        win.action_settings: QKeySequence("Ctrl+,"),
        win.action_stop: QKeySequence(Qt.Key.Key_Escape),
    }
    for action, keys in expected.items():
        assert action.shortcut() == keys, action.text()
    win.action_settings.trigger()
    assert win.settings_dialog is not None and win.settings_dialog.isVisible()
    win.settings_dialog.reject()


def test_files_given_before_the_knowledge_base_opens_are_kept(qtbot, services, tmp_path) -> None:
    win = make_window(qtbot, services)
    path = tmp_path / "early.md"
    path.write_text("# Early\n\ntext\n", encoding="utf-8")
    win.open_paths([str(path)])
    assert not win.knowledge.ready
    assert win.knowledge._pending == [([str(path)], "default", None)]
    assert win.knowledge_sidebar.stack.currentIndex() == win.knowledge_sidebar.PAGE_LOADING


def test_second_launch_hands_its_files_to_the_first(qtbot, tmp_path) -> None:
    from qwen_desk.controllers.single_instance import SingleInstance, server_name

    name = server_name(tmp_path)
    first = SingleInstance(name)
    assert first.listen()
    second = SingleInstance(name)
    with qtbot.waitSignal(first.sig_files_received, timeout=60_000) as blocker:
        assert second.forward(["report.pdf", str(tmp_path / "b.docx")])
    assert blocker.args[0][0].endswith("report.pdf")
    assert blocker.args[0][1] == str(tmp_path / "b.docx")
    first.close()
    assert not SingleInstance(name).forward([])  # nobody listens any more


def test_escape_hides_the_drop_highlight_first(qtbot, services) -> None:
    win = make_window(qtbot, services)
    win.show()
    win.drop_overlay.reveal()
    assert win.drop_overlay.isVisible()
    win.action_stop.trigger()
    assert not win.drop_overlay.isVisible()


def test_a_burst_of_ingestion_events_is_coalesced(qtbot, services) -> None:
    """Thousands of events from the worker thread wake the GUI thread once, and keep order."""
    import threading

    from qwen_desk.controllers.knowledge_controller import KnowledgeController
    from qwen_desk.core.types import IngestEvent, IngestState

    controller = KnowledgeController(services, services)
    controller.document_model.set_documents("default", [])
    wakes: list[int] = []
    controller._relay.sig_wake.connect(lambda: wakes.append(1))
    n = 1000

    def worker() -> None:
        for i in range(n):
            controller._relay.push(
                IngestEvent(f"/docs/{i:04d}.pdf", "default", IngestState.QUEUED, job_id=i + 1)
            )

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: controller.document_model.rowCount() == n, timeout=60_000)
    assert len(wakes) == 1
    assert controller.document_model.item(0).path == "/docs/0999.pdf"  # newest on top
    assert controller.busy  # 1000 files queued, none finished


def test_a_knowledge_base_that_cannot_open_says_why(qtbot, qwen_desk_home, tmp_path) -> None:
    knowledge = qwen_desk_home / "data" / "knowledge"
    knowledge.mkdir(parents=True)
    (knowledge / "placeholder").write_text("x")  # not a first run: the store must open
    services = AppServices(Settings(embed_model_path=str(tmp_path / "no-such-model")))
    win = make_window(qtbot, services)
    win.show()
    services.start_knowledge()
    sidebar = win.knowledge_sidebar
    qtbot.waitUntil(lambda: win.knowledge.open_error is not None, timeout=30_000)
    assert win.knowledge.open_error[0] == "embed_model_missing"
    assert sidebar.stack.currentIndex() == sidebar.PAGE_LOADING
    assert sidebar.loading_label.text() == message_for("embed_model_missing")
    assert win.knowledge_error_box is not None and win.knowledge_error_box.isVisible()
    win.close()
    services.close()


def test_background_work_after_shutdown_is_dropped(qtbot) -> None:
    from qwen_desk.controllers.background import BackgroundRunner

    runner = BackgroundRunner("test")
    results: list[int] = []
    runner.submit(lambda: 1, on_done=results.append)
    qtbot.waitUntil(lambda: results == [1])
    runner.shutdown()
    late = runner.submit(lambda: 2, on_done=results.append)
    assert late.cancelled()
    qtbot.wait(50)
    assert results == [1]
