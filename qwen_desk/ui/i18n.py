"""UI layer: the UI language, and the Qt translators that make it so.

English is the source language. For Chinese two translators are installed: Qt's own
``qtbase_zh_CN.qm`` (standard buttons, file dialogs) from PySide6's translations folder, and
ours, compiled from ``resources/translations/qwen_desk_zh_CN.ts``. The ``.qm`` is not committed:
a packaged build ships it next to the ``.ts``; otherwise it is built at start-up with PySide6's
``lrelease`` into the cache folder when missing or older than the ``.ts`` (a few milliseconds,
once).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from qwen_desk.core import paths
from qwen_desk.ui.assets import resource

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh_CN")
DOMAIN = "qwen_desk"


def system_language() -> str:
    """'zh_CN' when the system locale is Chinese, else 'en'."""
    name = QLocale.system().name()
    return "zh_CN" if name.startswith("zh") else "en"


def resolve_language(setting: str) -> str:
    """The language to use for the ``ui_language`` setting ('' = follow the system)."""
    return setting if setting in LANGUAGES else system_language()


def ts_file(language: str) -> Path:
    return resource("translations", f"{DOMAIN}_{language}.ts")


def _lrelease() -> list[str] | None:
    """The command that runs PySide6's lrelease, if it is installed."""
    try:
        import PySide6

        bundled = Path(PySide6.__file__).parent / (
            "lrelease.exe" if os.name == "nt" else "lrelease"
        )
        if bundled.is_file():
            return [str(bundled)]
    except ImportError:  # pragma: no cover
        pass
    for candidate in (
        Path(sys.executable).parent / "pyside6-lrelease",
        shutil.which("pyside6-lrelease"),
    ):
        if candidate and Path(candidate).is_file():
            return [str(candidate)]
    return None


def compiled_qm(language: str) -> Path | None:
    """A ``.qm`` for ``language`` that is not older than its ``.ts``; built when needed."""
    ts = ts_file(language)
    shipped = ts.with_suffix(".qm")
    if not ts.is_file():
        return shipped if shipped.is_file() else None
    ts_mtime = ts.stat().st_mtime
    if shipped.is_file() and shipped.stat().st_mtime >= ts_mtime:
        return shipped
    target = paths.ensure(paths.cache_dir() / "translations") / f"{DOMAIN}_{language}.qm"
    if target.is_file() and target.stat().st_mtime >= ts_mtime:
        return target
    command = _lrelease()
    if command is None:
        log.warning("lrelease not found: the UI stays in English")
        return shipped if shipped.is_file() else None
    tmp = target.with_suffix(".qm.tmp")
    try:
        subprocess.run(
            [*command, "-silent", str(ts), "-qm", str(tmp)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        os.replace(tmp, target)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not compile %s: %s", ts, exc)
        tmp.unlink(missing_ok=True)
        return None
    return target


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Install Qt's and our translators for ``language``; return them (keep them alive)."""
    installed: list[QTranslator] = []
    QLocale.setDefault(QLocale(language if language != "en" else "en_US"))
    if language == "en":
        return installed
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt_translator = QTranslator(app)
    if qt_translator.load(f"qtbase_{language}", qt_dir):
        app.installTranslator(qt_translator)
        installed.append(qt_translator)
    qm = compiled_qm(language)
    ours = QTranslator(app)
    if qm is not None and ours.load(str(qm)):
        app.installTranslator(ours)
        installed.append(ours)
    else:
        log.warning("no %s translation of Qwen Desk found", language)
    return installed
