"""Core layer: language model back-ends (Ollama, OpenAI-compatible) behind one interface.

``make_backend(settings)`` builds the configured one. The back-end modules (and the ``ollama``
client, ~0.35 s to import) load only when a back-end is made, so importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_desk.core.errors import SettingsError
from qwen_desk.core.llm.base import GenerationOptions, LLMBackend, effective_num_ctx

if TYPE_CHECKING:
    from qwen_desk.core.settings import Settings

__all__ = ["GenerationOptions", "LLMBackend", "effective_num_ctx", "make_backend"]


def make_backend(settings: Settings) -> LLMBackend:
    """The back-end named by ``settings.backend`` ("ollama" or "openai")."""
    if settings.backend == "ollama":
        from qwen_desk.core.llm.ollama_backend import OllamaBackend

        return OllamaBackend.from_settings(settings)
    if settings.backend == "openai":
        from qwen_desk.core.llm.openai_backend import OpenAIBackend

        return OpenAIBackend.from_settings(settings)
    raise SettingsError(f"unknown backend {settings.backend!r}")
