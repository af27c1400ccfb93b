"""UI layer: where the app's resources (icons, themes, translations) are on disk.

The repository keeps them in the top-level ``resources/`` folder; packaging installs that folder
as ``qwen_desk/resources`` (``package-dir`` in pyproject.toml), so an installed wheel or sdist
finds them through ``importlib.resources``. In order: ``QWEN_DESK_RESOURCES`` (packagers,
tests); a frozen build (PyInstaller) unpacks them under ``sys._MEIPASS/resources``; the
installed package's ``qwen_desk/resources``; a source checkout's (or editable install's)
``resources/`` next to the package.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from importlib import resources as importlib_resources
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
    installed = installed_resources()
    if installed is not None:
        return installed
    return Path(__file__).resolve().parents[2] / "resources"


def installed_resources() -> Path | None:
    """``qwen_desk/resources`` of an installed (non-editable) package, if it is there.

    Looked up on the ``qwen_desk`` package itself (a regular package) rather than importing
    ``qwen_desk.resources``: an editable install maps that name to the checkout it was made from,
    which need not be the checkout running now.
    """
    try:
        folder = importlib_resources.files("qwen_desk") / "resources"
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - qwen_desk is always importable
        return None
    # a zip import would give a non-filesystem Traversable: Qt and lrelease need real files
    return folder if isinstance(folder, Path) and folder.is_dir() else None


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def app_icon() -> QIcon:
    """The application icon (empty when the resources are missing)."""
    path = resource("icons", APP_ICON)
    return QIcon(str(path)) if path.is_file() else QIcon()
