"""Core layer: where Qwen Desk keeps user data, settings, caches and logs.

Everything comes from platformdirs, except that ``QWEN_DESK_HOME`` relocates all of it into one
folder (tests and portable installs use it). The data folder can also be moved by the
``data_dir`` setting; settings themselves always stay in the config folder so they can say where
the data is. Nothing here creates folders on import: call ``ensure`` when writing.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "QwenDesk"
APP_AUTHOR = "QwenDesk"
HOME_ENV = "QWEN_DESK_HOME"


def home_override() -> Path | None:
    """The folder named by ``QWEN_DESK_HOME``, when set and not empty."""
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


def _platform_dir(kind: str) -> Path:
    import platformdirs

    getter = {
        "data": platformdirs.user_data_dir,
        "config": platformdirs.user_config_dir,
        "cache": platformdirs.user_cache_dir,
        "log": platformdirs.user_log_dir,
    }[kind]
    return Path(getter(APP_NAME, APP_AUTHOR))


def config_dir() -> Path:
    """Folder of ``settings.toml``."""
    home = home_override()
    return home / "config" if home else _platform_dir("config")


def cache_dir() -> Path:
    """Disposable files (rendered pages, compiled translations)."""
    home = home_override()
    return home / "cache" if home else _platform_dir("cache")


def log_dir() -> Path:
    """Log files."""
    home = home_override()
    return home / "logs" if home else _platform_dir("log")


def default_data_dir() -> Path:
    """The data folder when no ``data_dir`` setting moves it."""
    home = home_override()
    return home / "data" if home else _platform_dir("data")


def data_dir(configured: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``QWEN_DESK_HOME``, else the ``data_dir`` setting, else platformdirs."""
    home = home_override()
    if home:
        return home / "data"
    if configured:
        return Path(configured).expanduser().resolve()
    return default_data_dir()


def settings_file() -> Path:
    return config_dir() / "settings.toml"


def knowledge_base_dir(root: Path | None = None) -> Path:
    """The LanceDB folder."""
    return (root or data_dir()) / "knowledge"


def conversations_db(root: Path | None = None) -> Path:
    """The SQLite file of conversations."""
    return (root or data_dir()) / "conversations.sqlite3"


def ingest_queue_db(root: Path | None = None) -> Path:
    """The SQLite file of the persisted ingestion queue."""
    return (root or data_dir()) / "ingest_queue.sqlite3"


def ensure(path: Path) -> Path:
    """Create ``path`` (a folder) with its parents and return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path
