"""Core layer: the user's settings, a dataclass saved as TOML with a schema version.

``Settings.load()`` never fails on a damaged or foreign file: unknown keys are ignored, bad values
fall back to defaults (and are reported in ``Settings.problems``), so a bad edit cannot stop the
app from starting. ``save()`` writes atomically (temp file + rename). Window geometry is not here:
the GUI keeps it in QSettings.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from qwen_desk.core import paths
from qwen_desk.core.errors import SettingsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA_VERSION = 1
DEFAULT_MODEL = "qwen2.5:7b"
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


@dataclass
class Settings:
    """Every user-facing setting. Field names are the TOML keys."""

    # language model
    backend: str = "ollama"  # "ollama" or "openai" (any OpenAI-compatible server)
    ollama_host: str = DEFAULT_OLLAMA_HOST
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_api_key: str = ""
    model: str = DEFAULT_MODEL
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    repeat_penalty: float = 1.05
    max_tokens: int = 1024
    num_ctx: int = 8192
    keep_alive: str = "30m"
    request_timeout_s: float = 300.0
    # retrieval
    sources_top_k: int = 6
    relevance_threshold: float = 0.0  # 0 = the RAG service's calibrated default
    embed_model_path: str = ""  # "" = the packaged all-MiniLM-L6-v2
    embed_threads: int = 0  # 0 = leave one core free
    # appearance and folders
    ui_language: str = ""  # "" = system locale; "en" or "zh_CN"
    theme: str = "system"  # "light", "dark", "system"
    data_dir: str = ""  # "" = platform default (QWEN_DESK_HOME always wins)
    schema_version: int = SCHEMA_VERSION
    problems: list[str] = field(default_factory=list, compare=False, repr=False)

    # --- validation -------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise ``SettingsError`` naming the first bad value."""
        checks: list[tuple[bool, str]] = [
            (self.backend in ("ollama", "openai"), "backend must be 'ollama' or 'openai'"),
            (0.0 <= self.temperature <= 2.0, "temperature must be between 0 and 2"),
            (0.0 < self.top_p <= 1.0, "top_p must be in (0, 1]"),
            (0 <= self.top_k <= 1000, "top_k must be between 0 and 1000"),
            (0.5 <= self.repeat_penalty <= 2.0, "repeat_penalty must be between 0.5 and 2"),
            (16 <= self.max_tokens <= 32768, "max_tokens must be between 16 and 32768"),
            (512 <= self.num_ctx <= 131072, "num_ctx must be between 512 and 131072"),
            (1 <= self.sources_top_k <= 50, "sources_top_k must be between 1 and 50"),
            (self.max_tokens < self.num_ctx, "max_tokens must be smaller than num_ctx"),
            (self.theme in ("light", "dark", "system"), "theme must be light, dark or system"),
            (self.ui_language in ("", "en", "zh_CN"), "ui_language must be '', 'en' or 'zh_CN'"),
            (bool(self.model.strip()), "model must not be empty"),
            (self.request_timeout_s > 0, "request_timeout_s must be positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)

    # --- persistence ------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read settings: no file -> defaults; bad values -> defaults, noted in ``problems``."""
        path = path or paths.settings_file()
        settings = cls()
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return settings
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            settings.problems.append(f"{path.name}: {exc}")
            return settings
        return cls.from_dict(raw, problems=settings.problems)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], problems: list[str] | None = None) -> Settings:
        settings = cls()
        settings.problems = problems if problems is not None else []
        for f in fields(cls):
            if f.name in ("problems", "schema_version") or f.name not in raw:
                continue
            default = getattr(settings, f.name)
            value = raw[f.name]
            try:
                coerced = _coerce(value, type(default))
            except (TypeError, ValueError):
                settings.problems.append(f"{f.name}: ignored invalid value {value!r}")
                continue
            setattr(settings, f.name, coerced)
        try:
            settings.validate()
        except SettingsError as exc:
            settings.problems.append(f"reset to defaults: {exc.message}")
            keep_problems = settings.problems
            settings = cls()
            settings.problems = keep_problems
        return settings

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("problems")
        data["schema_version"] = SCHEMA_VERSION
        return data

    def save(self, path: Path | None = None) -> Path:
        """Validate, then write atomically."""
        self.validate()
        path = path or paths.settings_file()
        paths.ensure(path.parent)
        text = dumps_toml(self.to_dict())
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with ``changes`` applied."""
        new = dataclasses.replace(self, **changes)
        new.problems = []
        new.validate()
        return new

    @property
    def resolved_data_dir(self) -> Path:
        return paths.data_dir(self.data_dir or None)


def _coerce(value: Any, target: type) -> Any:
    if target is bool:
        if isinstance(value, bool):
            return value
        raise TypeError(value)
    if target is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(value)
        return value
    if target is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(value)
        return float(value)
    if target is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    raise TypeError(target)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = (
            value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\t", "\\t")
        )
        return f'"{escaped}"'
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps_toml(data: dict[str, Any]) -> str:
    """Write a flat table of scalars as TOML (all settings are scalars)."""
    lines = ["# Qwen Desk settings. Edit while the app is closed.", ""]
    lines += [f"{key} = {_toml_value(value)}" for key, value in data.items()]
    return "\n".join(lines) + "\n"
