"""Core layer: which Ollama host to talk to, the saved setting or the ``OLLAMA_HOST`` variable.

``OLLAMA_HOST`` wins over the saved ``ollama_host`` setting, in the window and in the CLI alike,
as it does for the ``ollama`` tool itself, and takes the same forms: ``host``, ``host:port``,
``http(s)://host[:port][/path]``. The saved setting is never overwritten by the variable.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_desk.core.settings import Settings

ENV_VAR = "OLLAMA_HOST"


def normalize_host(host: str, default_port: int = 11434) -> str:
    """``127.0.0.1``, ``host:port`` or a URL -> ``scheme://host:port[/path]``, as Ollama reads
    ``OLLAMA_HOST``: no scheme -> http and port 11434; a scheme without port -> 80/443."""
    host = (host or "").strip() or "127.0.0.1"
    scheme, sep, rest = host.partition("://")
    if not sep:
        scheme, rest = "http", host
    netloc, _, path = rest.partition("/")
    has_port = netloc.rsplit("]", 1)[-1].count(":") == 1
    if not has_port:
        port = default_port if not sep else (443 if scheme == "https" else 80)
        netloc = f"{netloc}:{port}"
    path = path.rstrip("/")
    return f"{scheme}://{netloc}" + (f"/{path}" if path else "")


@dataclass(frozen=True)
class HostChoice:
    """The host in use and whether ``OLLAMA_HOST`` chose it (then the setting is overridden)."""

    host: str
    from_env: bool


def resolve_ollama_host(saved: str, environ: Mapping[str, str] | None = None) -> HostChoice:
    """The Ollama host to use: ``OLLAMA_HOST`` when set (non-blank), else ``saved``."""
    env = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if env:
        return HostChoice(normalize_host(env), True)
    return HostChoice(saved, False)


def with_env_host(settings: Settings) -> Settings:
    """``settings`` with the host ``resolve_ollama_host`` picks (for connecting, never saving)."""
    choice = resolve_ollama_host(settings.ollama_host)
    if not choice.from_env or choice.host == settings.ollama_host:
        return settings
    return dataclasses.replace(settings, ollama_host=choice.host)
