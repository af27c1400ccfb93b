"""The window says once, without blocking, which settings were reset and where the old file is.

A real settings file with a bad value: the first start shows a non-modal notice naming the key
and the kept file (and keeps the good values); the next start, on the repaired file, shows none.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from qwen_desk.controllers.services import AppServices
from qwen_desk.core import paths
from qwen_desk.core.settings import Settings
from qwen_desk.ui.main_window import MainWindow
from qwen_desk.ui.settings_notice import settings_notice_text

pytestmark = pytest.mark.gui


def start(qtbot) -> MainWindow:
    """What the composition root does: load the settings, build and show the window."""
    services = AppServices(Settings.load())
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.painted)
    return window


def notices() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "SettingsNotice" and w.isVisible()
    ]


def test_the_notice_is_shown_once_and_not_at_the_next_start(qtbot) -> None:
    path = paths.settings_file()
    paths.ensure(path.parent)
    path.write_text('model = "qwen2.5:14b"\ntemperature = "hot"\n', encoding="utf-8")
    window = start(qtbot)
    qtbot.waitUntil(lambda: window.settings_notice is not None)
    box = window.settings_notice
    assert box is not None and box.isVisible()
    assert not box.isModal()  # non-blocking: no nested event loop, the window stays usable
    kept = window.services.settings.kept_aside
    assert kept is not None and kept.is_file()
    assert "temperature" in box.text() and str(kept) in box.text()
    assert window.services.settings.model == "qwen2.5:14b"  # the good value is kept
    assert notices() == [box]
    window._show_settings_notice()  # a second first-paint signal: still one notice
    assert notices() == [box]
    box.close()
    window.close()
    window.services.close()
    QApplication.processEvents()

    again = start(qtbot)
    QApplication.processEvents()
    assert again.settings_notice is None and notices() == []
    assert again.services.settings.model == "qwen2.5:14b"
    again.close()
    again.services.close()


def test_a_file_that_could_not_be_read_says_all_were_reset(qtbot) -> None:
    path = paths.settings_file()
    paths.ensure(path.parent)
    path.write_bytes(bytes(range(256)))
    settings = Settings.load()
    text = settings_notice_text(settings)
    assert "all settings were reset" in text and str(settings.kept_aside) in text
    assert settings_notice_text(Settings.load()) == ""
