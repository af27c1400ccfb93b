"""Core layer: the user's settings, a dataclass saved as TOML with a schema version.

``Settings.load()`` never loses a setting it can read and never stops the app from starting:

- a value of the wrong type or out of range is reset to its default; the other values are kept;
- a file that does not parse (or is not UTF-8) is salvaged line by line: each ``key = value``
  line that parses on its own is kept (also one with the raw control characters an older
  writer left in strings);
- a file that cannot be read at all (permissions, a folder) resets every setting.

In each case the file as it was is kept aside (``settings.toml.broken-<timestamp>``, never
overwritten), the repaired settings are saved in its place (so the next start is quiet), and
``Settings.problems`` lists what happened as ``SettingsProblem``s: a stable code and the key,
never translated text (the GUI translates; ``describe_problems`` is the CLI's English line).
Unknown keys are ignored.

``save()`` validates first (a value TOML cannot hold, e.g. a lone surrogate, is refused with a
``SettingsError`` that names the field, before anything is written), writes with ``tomli-w``
(every other string round-trips: control characters, NUL, quotes, backslashes) and replaces the
file atomically (temp file, fsync, ``os.replace``, fsync of the folder). Window geometry is not
here: the GUI keeps it in QSettings.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from qwen_desk.core import paths
from qwen_desk.core.errors import SettingsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA_VERSION = 1
DEFAULT_MODEL = "qwen2.5:7b"
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
HEADER = "# Qwen Desk settings. Edit while the app is closed.\n\n"

# SettingsProblem codes (stable: the GUI maps them to text)
WRONG_TYPE = "wrong_type"  # key: a value of the wrong type (a string for a number...)
INVALID_VALUE = "invalid_value"  # key: out of range, or contradicts another setting
UNREADABLE_VALUE = "unreadable_value"  # key: its line in a damaged file did not parse
FILE_DAMAGED = "file_damaged"  # the file did not parse; the readable lines were kept
FILE_UNREADABLE = "file_unreadable"  # nothing could be read: every setting was reset
KEPT_ASIDE = "kept_aside"  # detail: where the file as it was is kept
NOT_KEPT_ASIDE = "not_kept_aside"  # it could not be moved: it was left alone, nothing written
NOT_SAVED = "not_saved"  # the repaired settings could not be written
_KEY_LINE = re.compile(rb"^\s*([A-Za-z0-9_-]+)\s*=")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class SettingsProblem:
    """One thing ``Settings.load`` had to do to a settings file it could not use as it was."""

    code: str
    key: str = ""  # the setting reset to its default ("" = about the whole file)
    detail: str = ""  # English, for logs and the CLI (never a value: it may be an API key)


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
    problems: list[SettingsProblem] = field(default_factory=list, compare=False, repr=False)

    # --- validation -------------------------------------------------------------------------

    def _checks(self) -> list[tuple[tuple[str, ...], bool, str]]:
        """(keys concerned, ok, message starting with the first key's name) for each rule."""
        checks: list[tuple[tuple[str, ...], bool, str]] = [
            (
                ("backend",),
                self.backend in ("ollama", "openai"),
                "backend must be 'ollama' or 'openai'",
            ),
            (
                ("temperature",),
                0.0 <= self.temperature <= 2.0,
                "temperature must be between 0 and 2",
            ),
            (("top_p",), 0.0 < self.top_p <= 1.0, "top_p must be in (0, 1]"),
            (("top_k",), 0 <= self.top_k <= 1000, "top_k must be between 0 and 1000"),
            (
                ("repeat_penalty",),
                0.5 <= self.repeat_penalty <= 2.0,
                "repeat_penalty must be between 0.5 and 2",
            ),
            (
                ("max_tokens",),
                16 <= self.max_tokens <= 32768,
                "max_tokens must be between 16 and 32768",
            ),
            (("num_ctx",), 512 <= self.num_ctx <= 131072, "num_ctx must be between 512 and 131072"),
            (
                ("sources_top_k",),
                1 <= self.sources_top_k <= 50,
                "sources_top_k must be between 1 and 50",
            ),
            (
                ("max_tokens", "num_ctx"),
                self.max_tokens < self.num_ctx,
                "max_tokens must be smaller than num_ctx",
            ),
            (
                ("theme",),
                self.theme in ("light", "dark", "system"),
                "theme must be light, dark or system",
            ),
            (
                ("ui_language",),
                self.ui_language in ("", "en", "zh_CN"),
                "ui_language must be '', 'en' or 'zh_CN'",
            ),
            (("model",), bool(self.model.strip()), "model must not be empty"),
            (
                ("request_timeout_s",),
                self.request_timeout_s > 0,
                "request_timeout_s must be positive",
            ),
            (
                ("relevance_threshold",),
                math.isfinite(self.relevance_threshold),
                "relevance_threshold must be a finite number",
            ),
        ]
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                checks.append(
                    (
                        (f.name,),
                        _encodable(value),
                        f"{f.name} contains a character that cannot be saved "
                        "(a lone surrogate, not valid Unicode text)",
                    )
                )
        return checks

    def validate(self) -> None:
        """Raise ``SettingsError`` (``details["key"]``: the field) naming the first bad value."""
        for keys, ok, message in self._checks():
            if not ok:
                raise SettingsError(message, key=keys[0])

    def _reset_invalid(self) -> None:
        """Reset each value that breaks a rule to its default (only those), noting each."""
        defaults = Settings()
        for _ in range(len(fields(self))):  # each round resets one value
            failed = next(((keys, msg) for keys, ok, msg in self._checks() if not ok), None)
            if failed is None:
                return
            keys, message = failed
            key = next((k for k in keys if getattr(self, k) != getattr(defaults, k)), keys[0])
            setattr(self, key, getattr(defaults, key))
            self.problems.append(SettingsProblem(INVALID_VALUE, key, message))

    # --- what load() had to do --------------------------------------------------------------

    @property
    def reset_keys(self) -> list[str]:
        """The settings ``load()`` reset to their defaults (in file order, each once)."""
        return list(dict.fromkeys(p.key for p in self.problems if p.key))

    @property
    def all_reset(self) -> bool:
        """``load()`` could read nothing of the file: every setting is its default."""
        return any(p.code == FILE_UNREADABLE for p in self.problems)

    @property
    def kept_aside(self) -> Path | None:
        """Where ``load()`` kept the file as it was (``None``: nothing was moved)."""
        return next((Path(p.detail) for p in self.problems if p.code == KEPT_ASIDE), None)

    # --- persistence ------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read settings: no file -> defaults; what cannot be used -> defaults, in ``problems``.

        A file with problems is kept aside and the repaired settings are saved in its place.
        """
        path = path or paths.settings_file()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            settings = cls()
            settings.problems.append(SettingsProblem(FILE_UNREADABLE, "", _reason(exc)))
            settings._keep_aside_and_repair(path)
            return settings
        problems: list[SettingsProblem] = []
        try:
            raw = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raw, lost = _salvage(data)
            code = FILE_DAMAGED if raw else FILE_UNREADABLE
            problems.append(SettingsProblem(code, "", f"{path.name}: {_reason(exc)}"))
            problems += lost
        settings = cls.from_dict(raw, problems=problems)
        if settings.problems:
            settings._keep_aside_and_repair(path)
        return settings

    @classmethod
    def from_dict(
        cls, raw: dict[str, Any], problems: list[SettingsProblem] | None = None
    ) -> Settings:
        """Settings from parsed TOML: wrong or invalid values reset (each noted in ``problems``)."""
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
                detail = f"expected {type(default).__name__}, found {type(value).__name__}"
                settings.problems.append(SettingsProblem(WRONG_TYPE, f.name, detail))
                continue
            setattr(settings, f.name, coerced)
        settings._reset_invalid()
        return settings

    def _keep_aside_and_repair(self, path: Path) -> None:
        """Move the file as it was out of the way, then save these settings in its place."""
        try:
            kept = _keep_aside(path)
        except OSError as exc:  # never write over a file that could not be kept
            self.problems.append(SettingsProblem(NOT_KEPT_ASIDE, "", _reason(exc)))
            return
        self.problems.append(SettingsProblem(KEPT_ASIDE, "", str(kept)))
        try:
            self.save(path)
        except (OSError, SettingsError) as exc:
            self.problems.append(SettingsProblem(NOT_SAVED, "", _reason(exc)))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("problems")
        data["schema_version"] = SCHEMA_VERSION
        return data

    def save(self, path: Path | None = None) -> Path:
        """Validate, then write atomically (nothing is written when a value is refused)."""
        self.validate()
        path = path or paths.settings_file()
        data = dumps_toml(self.to_dict()).encode("utf-8")
        paths.ensure(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_folder(path.parent)
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


def describe_problems(settings: Settings) -> str:
    """What ``load()`` did, in one English line (the CLI prints it); "" when nothing."""
    if not settings.problems:
        return ""
    if settings.all_reset:
        text = "the settings file could not be read: all settings were reset to their defaults"
    elif settings.reset_keys:
        text = "settings reset to their defaults: " + ", ".join(settings.reset_keys)
    else:
        text = "the settings file was damaged: the values that could be read were kept"
    kept = settings.kept_aside
    if kept is not None:
        text += f"; the old file was kept as {kept}"
    failed = [p for p in settings.problems if p.code in (NOT_KEPT_ASIDE, NOT_SAVED)]
    if failed:
        text += f"; the file was left as it is ({failed[0].detail})"
    return text


def dumps_toml(data: dict[str, Any]) -> str:
    """A flat table of scalars as TOML (``tomli-w``: every string is escaped as needed)."""
    return HEADER + tomli_w.dumps(data)


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


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _salvage(data: bytes) -> tuple[dict[str, Any], list[SettingsProblem]]:
    """The ``key = value`` lines of a damaged file that parse on their own; and the lost keys."""
    known = {f.name for f in fields(Settings)} - {"problems", "schema_version"}
    raw: dict[str, Any] = {}
    lost: list[SettingsProblem] = []
    for line in data.split(b"\n"):
        line = line.removesuffix(b"\r")
        match = _KEY_LINE.match(line)
        if match is None:
            continue  # blank, a comment, a table header or garbage
        key = match.group(1).decode("ascii")
        parsed = _parse_line(line)
        if parsed is not None and key in parsed:
            raw[key] = parsed[key]
        elif key in known:
            lost.append(SettingsProblem(UNREADABLE_VALUE, key, "its line does not parse"))
    return raw, lost


def _parse_line(line: bytes) -> dict[str, Any] | None:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # an older writer left raw control characters (\r, \x00...) inside strings: escape them
    for candidate in (text, _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)):
        try:
            return tomllib.loads(candidate)
        except tomllib.TOMLDecodeError:
            continue
    return None


def _keep_aside(path: Path) -> Path:
    """Rename ``path`` to ``<name>.broken-<timestamp>[-n]`` (an existing name is never reused)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        candidate = path.with_name(f"{path.name}.broken-{stamp}" + (f"-{n}" if n else ""))
        if not os.path.lexists(candidate):
            os.rename(path, candidate)
            return candidate
    raise FileExistsError(f"too many kept settings files next to {path}")


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX; folders cannot be opened this way on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
