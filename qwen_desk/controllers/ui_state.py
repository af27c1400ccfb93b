"""Controllers layer: the small UI state (window geometry, splitters, current collection).

Kept in a QSettings INI file inside the config folder (not the platform registry), so that
``QWEN_DESK_HOME`` relocates it like everything else and tests never touch the user's state.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from qwen_desk.core import paths

FILE_NAME = "ui-state.ini"


def ui_state() -> QSettings:
    """A QSettings on ``<config>/ui-state.ini`` (cheap: create one where needed)."""
    return QSettings(str(paths.config_dir() / FILE_NAME), QSettings.Format.IniFormat)
