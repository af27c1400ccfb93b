"""UI layer: where the app's resources (icons, themes, translations) are on disk.

From a source checkout they are in ``resources/`` next to the package; a frozen build
(PyInstaller) unpacks them under ``sys._MEIPASS/resources``; ``QWEN_DESK_RESOURCES`` overrides
both (packagers, tests).
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

APP_ICON = "qwen-desk.svg"


@cache
def resources_dir() -> Path:
    """The folder that holds ``icons/``, ``themes/`` and ``translations/``."""
    override = os.environ.get("QWEN_DESK_RESOURCES", "").strip()
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def app_icon() -> QIcon:
    """The application icon (empty when the resources are missing)."""
    path = resource("icons", APP_ICON)
    return QIcon(str(path)) if path.is_file() else QIcon()
