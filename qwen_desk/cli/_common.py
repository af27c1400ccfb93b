"""CLI layer: what the chat and doctor commands share (settings with ``OLLAMA_HOST``, exit codes).

``OLLAMA_HOST`` overrides the configured host (``core.ollama_host``, shared with the window).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from qwen_desk.cli import EXIT_FAILED, EXIT_MODEL_MISSING, EXIT_UNREACHABLE
from qwen_desk.core.errors import DaemonUnreachable, ModelNotFound, QwenDeskError
from qwen_desk.core.ollama_host import with_env_host
from qwen_desk.core.settings import Settings, describe_problems


def load_settings() -> Settings:
    """The saved settings, with ``OLLAMA_HOST`` (when set) as the Ollama host.

    When the settings file could not be used as it was, one line on stderr says what was reset
    and where the old file was kept (``Settings.load`` repaired it: the next run is quiet).
    """
    settings = Settings.load()
    if settings.problems:
        print(f"qwen-desk: {describe_problems(settings)}", file=sys.stderr)
    return with_env_host(settings)


def exit_code(exc: BaseException) -> int:
    if isinstance(exc, DaemonUnreachable):
        return EXIT_UNREACHABLE
    if isinstance(exc, ModelNotFound):
        return EXIT_MODEL_MISSING
    return EXIT_FAILED


def advice(exc: QwenDeskError, settings: Settings, model: str | None = None) -> str:
    """What to do about the errors a user can fix."""
    if isinstance(exc, DaemonUnreachable):
        return (
            f"Ollama is not reachable at {settings.ollama_host}. Start it (`ollama serve` or the "
            "Ollama app), or point OLLAMA_HOST at the machine that runs it."
        )
    if isinstance(exc, ModelNotFound):
        name = model or settings.model
        return f"The model {name} is not installed. Download it with `qwen-desk pull {name}`."
    return ""


def report_error(exc: BaseException, settings: Settings, model: str | None = None) -> int:
    """Print ``error: <code>: <message>`` (and advice) on stderr; return the exit code."""
    if isinstance(exc, QwenDeskError):
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        hint = advice(exc, settings, model)
        if hint:
            print(hint, file=sys.stderr)
    else:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
    return exit_code(exc)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)
