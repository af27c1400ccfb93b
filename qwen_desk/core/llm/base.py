"""Core layer: the interface every language-model back-end implements, and its options.

``LLMBackend`` is what the RAG service, the CLI and the controllers talk to; ``OllamaBackend``
and ``OpenAIBackend`` implement it. Streams yield ``TokenDelta`` pieces and then exactly one
``StreamStats``; failures are raised as the ``LLMError`` subclasses of ``core.errors`` after
whatever text already arrived has been yielded (the caller keeps the partial answer).

Cancelling: Stop is ``task.cancel()`` on the task that owns the ``async for``; the back-ends close
the HTTP stream on the way out, so the server stops generating. A consumer that leaves the loop
early with ``break`` should wrap the stream in ``contextlib.aclosing`` (or rely on the event
loop's async-generator hooks, which the app installs under qasync).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from qwen_desk.core.types import (
    ChatMessage,
    LoadedModel,
    ModelInfo,
    PullProgress,
    StreamStats,
    TokenDelta,
)

if TYPE_CHECKING:
    from qwen_desk.core.settings import Settings

CONNECT_TIMEOUT_S = 4.0  # a local daemon answers a connect in microseconds; fail fast when down


@dataclass
class GenerationOptions:
    """Sampling and loading options sent with every chat request (Qwen2.5's recommendations)."""

    num_ctx: int = 8192
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    repeat_penalty: float = 1.05
    num_predict: int = 1024
    keep_alive: str = "30m"
    seed: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> GenerationOptions:
        return cls(
            num_ctx=settings.num_ctx,
            temperature=settings.temperature,
            top_p=settings.top_p,
            top_k=settings.top_k,
            repeat_penalty=settings.repeat_penalty,
            num_predict=settings.max_tokens,
            keep_alive=settings.keep_alive,
        )

    def ollama_options(self) -> dict[str, Any]:
        """The ``options`` object of an Ollama request; ``num_ctx`` is always present so the
        daemon never falls back to its own default (and never reloads between requests)."""
        options: dict[str, Any] = {
            "num_ctx": self.num_ctx,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "repeat_penalty": self.repeat_penalty,
            "num_predict": self.num_predict,
        }
        if self.seed is not None:
            options["seed"] = self.seed
        return options


def effective_num_ctx(requested: int, model_context_length: int | None) -> int:
    """``requested`` capped by what the model was trained for (unknown length: no cap)."""
    if model_context_length and model_context_length > 0:
        return min(requested, model_context_length)
    return requested


@runtime_checkable
class LLMBackend(Protocol):
    """A language-model server. Every method raises ``LLMError`` subclasses only."""

    kind: str  # "ollama" | "openai"
    host: str

    async def version(self) -> str:
        """The server's version (health check); raises ``DaemonUnreachable``."""
        ...

    async def list_models(self) -> list[ModelInfo]:
        """Installed models (``context_length`` only when already known from ``show``)."""
        ...

    async def show(self, model: str) -> ModelInfo:
        """One model's facts, with its trained context length; raises ``ModelNotFound``."""
        ...

    async def loaded_models(self) -> list[LoadedModel]:
        """Models in memory now, with VRAM use (OpenAI-compatible servers: empty)."""
        ...

    async def preload(self, model: str, options: GenerationOptions) -> None:
        """Load ``model`` with the same ``num_ctx`` the chats will use, kept for ``keep_alive``."""
        ...

    def pull(self, model: str) -> AsyncIterator[PullProgress]:
        """Download ``model``; progress with speed and ETA; cancel the task to stop."""
        ...

    async def delete(self, model: str) -> None: ...

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        options: GenerationOptions,
    ) -> AsyncIterator[TokenDelta | StreamStats]:
        """Stream an answer: ``TokenDelta`` pieces, then exactly one ``StreamStats``."""
        ...

    async def aclose(self) -> None: ...
