"""UI layer: the one notice that says the settings file could not be used as it was.

``Settings.load()`` (core) resets what it cannot use, keeps the old file aside and lists what it
did as ``SettingsProblem`` codes; ``settings_notice_text`` turns that into translated text and
``show_settings_notice`` shows it in a non-modal message box (``show()``, never ``exec()``: no
nested event loop under qasync). The main window calls it once, after its first paint.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from qwen_desk.core.settings import NOT_KEPT_ASIDE, NOT_SAVED, Settings


def settings_notice_text(settings: Settings) -> str:
    """What was reset and where the old file is, translated ("" when nothing happened)."""
    if not settings.problems:
        return ""
    if settings.all_reset:
        parts = [
            QCoreApplication.translate(
                "SettingsNotice",
                "The settings file could not be read: all settings were reset to their defaults.",
            )
        ]
    elif settings.reset_keys:
        parts = [
            QCoreApplication.translate(
                "SettingsNotice",
                "These settings could not be read and were reset to their defaults: %1.",
            ).replace("%1", ", ".join(settings.reset_keys))
        ]
    else:
        parts = [
            QCoreApplication.translate(
                "SettingsNotice",
                "The settings file was damaged; the settings that could be read were kept.",
            )
        ]
    kept = settings.kept_aside
    if kept is not None:
        parts.append(
            QCoreApplication.translate("SettingsNotice", "The old file was kept as %1.").replace(
                "%1", str(kept)
            )
        )
    if any(p.code in (NOT_KEPT_ASIDE, NOT_SAVED) for p in settings.problems):
        parts.append(
            QCoreApplication.translate(
                "SettingsNotice", "The settings file could not be repaired: it was left as it is."
            )
        )
    return "\n\n".join(parts)


def show_settings_notice(parent: QWidget, settings: Settings) -> QMessageBox | None:
    """Show the notice (non-modal) when ``load()`` had to reset something; else ``None``."""
    text = settings_notice_text(settings)
    if not text:
        return None
    box = QMessageBox(parent)
    box.setObjectName("SettingsNotice")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(QCoreApplication.translate("SettingsNotice", "Settings reset"))
    box.setText(text)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return box
