"""Core layer: the Ollama back-end, over the official ``ollama`` AsyncClient.

Every chat sends the same ``num_ctx`` (changing it reloads the model), the sampling options,
``keep_alive`` and ``truncate: false`` (so a prompt over the window is an error, never silently
cut). ``ollama`` 0.6.3's ``chat()`` has no ``truncate`` parameter and its request model drops
unknown fields, so the request body is built here and sent through the client's own request
method (``AsyncClient._request``, the one ``chat()`` uses); a client whose ``chat()`` accepts
``truncate`` is called the public way. The client has no timeout by default: ours is explicit
(short connect, ``request_timeout_s`` between bytes). The client is imported lazily because it
costs ~0.35 s (pydantic).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from qwen_desk.core.errors import BadResponse, DaemonUnreachable, PullFailed, StreamInterrupted
from qwen_desk.core.llm.base import CONNECT_TIMEOUT_S, GenerationOptions
from qwen_desk.core.llm.error_map import map_exception
from qwen_desk.core.llm.rates import PullRateMeter
from qwen_desk.core.ollama_host import normalize_host
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

_NS = 1e-9

__all__ = ["OllamaBackend", "normalize_host"]  # normalize_host: kept importable from here


class OllamaBackend:
    """``LLMBackend`` for an Ollama daemon."""

    kind = "ollama"

    def __init__(
        self,
        host: str = "http://127.0.0.1:11434",
        *,
        request_timeout_s: float = 300.0,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        import ollama

        self.host = normalize_host(host)
        self.timeout = httpx.Timeout(request_timeout_s, connect=connect_timeout_s)
        self._client = ollama.AsyncClient(self.host, timeout=self.timeout)
        self._context_lengths: dict[str, int] = {}
        self._public_truncate = "truncate" in inspect.signature(self._client.chat).parameters
        self._http: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OllamaBackend:
        return cls(settings.ollama_host, request_timeout_s=settings.request_timeout_s)

    def _error(self, exc: BaseException, model: str = "", streaming: bool = False) -> Exception:
        return map_exception(exc, model=model, host=self.host, streaming=streaming)

    # --- information ------------------------------------------------------------------------

    async def version(self) -> str:
        # The client has no version() call; a plain httpx client (kept for the health checks
        # that repeat while the daemon is down) asks for it.
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.host, timeout=self.timeout)
        try:
            response = await self._http.get("/api/version")
            response.raise_for_status()
            return str(response.json()["version"])
        except httpx.HTTPStatusError as exc:
            raise DaemonUnreachable(
                f"{self.host} is not an Ollama daemon (HTTP {exc.response.status_code})",
                host=self.host,
                status=exc.response.status_code,
            ) from exc
        except Exception as exc:
            raise self._error(exc) from exc

    async def list_models(self) -> list[ModelInfo]:
        try:
            listing = await self._client.list()
        except Exception as exc:
            raise self._error(exc) from exc
        models = []
        for m in listing.models:
            details = m.details
            name = m.model or ""
            models.append(
                ModelInfo(
                    name=name,
                    size=int(m.size or 0),
                    family=(details.family or "") if details else "",
                    parameter_size=(details.parameter_size or "") if details else "",
                    quantization=(details.quantization_level or "") if details else "",
                    context_length=self._context_lengths.get(name),
                    modified_at=m.modified_at.isoformat() if m.modified_at else "",
                )
            )
        return models

    async def show(self, model: str) -> ModelInfo:
        try:
            info = await self._client.show(model)
        except Exception as exc:
            raise self._error(exc, model) from exc
        model_info = dict(info.modelinfo or {})
        details = info.details
        family = (details.family if details else None) or ""
        arch = str(model_info.get("general.architecture") or family)
        context = model_info.get(f"{arch}.context_length")
        if context is None:  # some architectures are named differently from their family
            context = next(
                (v for k, v in model_info.items() if k.endswith(".context_length")), None
            )
        context_length = int(context) if context else None
        if context_length:
            self._context_lengths[model] = context_length
        return ModelInfo(
            name=model,
            family=family or arch,
            parameter_size=(details.parameter_size or "") if details else "",
            quantization=(details.quantization_level or "") if details else "",
            context_length=context_length,
            modified_at=info.modified_at.isoformat() if info.modified_at else "",
        )

    async def loaded_models(self) -> list[LoadedModel]:
        try:
            ps = await self._client.ps()
        except Exception as exc:
            raise self._error(exc) from exc
        return [
            LoadedModel(
                name=m.model or m.name or "",
                size=int(m.size or 0),
                size_vram=int(m.size_vram or 0),
                context_length=m.context_length,
                expires_at=m.expires_at.isoformat() if m.expires_at else "",
            )
            for m in ps.models
        ]

    # --- model management -------------------------------------------------------------------

    async def preload(self, model: str, options: GenerationOptions) -> None:
        """An empty chat loads the model with the chats' ``num_ctx`` (so they do not reload)."""
        try:
            await self._client.chat(
                model, [], options=options.ollama_options(), keep_alive=options.keep_alive
            )
        except Exception as exc:
            raise self._error(exc, model) from exc

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        meter = PullRateMeter()
        stream = None
        got_any = False
        try:
            stream = await self._client.pull(model, stream=True)
            async for part in stream:
                got_any = True
                yield meter.update(
                    PullProgress(
                        status=part.status or "",
                        digest=part.digest or "",
                        completed=int(part.completed or 0),
                        total=int(part.total or 0),
                    )
                )
        except Exception as exc:
            error = self._error(exc, model, streaming=got_any)
            if isinstance(error, DaemonUnreachable):
                raise error from exc
            reason = str(error.details.get("reason") or exc)
            raise PullFailed(
                f"pulling {model} failed: {reason}", model=model, host=self.host, reason=reason
            ) from exc
        finally:
            if stream is not None:
                await stream.aclose()

    async def delete(self, model: str) -> None:
        try:
            await self._client.delete(model)
        except Exception as exc:
            raise self._error(exc, model) from exc
        self._context_lengths.pop(model, None)

    async def embed(self, texts: Sequence[str], *, model: str) -> list[list[float]]:
        """Embeddings from an Ollama embedding model (``/api/embed``), one vector per text."""
        try:
            response = await self._client.embed(model, list(texts), keep_alive="30m")
        except Exception as exc:
            raise self._error(exc, model) from exc
        vectors = [list(v) for v in response.embeddings]
        if len(vectors) != len(texts):
            raise BadResponse(f"{len(vectors)} embeddings for {len(texts)} texts", model=model)
        return vectors

    # --- chat ------------------------------------------------------------------------------

    def _chat_body(
        self, messages: Sequence[ChatMessage], model: str, options: GenerationOptions
    ) -> dict[str, Any]:
        return {
            "model": model,
            "messages": [m.to_json() for m in messages],
            "stream": True,
            "options": options.ollama_options(),
            "keep_alive": options.keep_alive,
            "truncate": False,
        }

    async def _open_chat(self, body: dict[str, Any]) -> AsyncIterator[Any]:
        if self._public_truncate:
            kwargs = {k: v for k, v in body.items() if k not in ("model", "messages")}
            return await self._client.chat(body["model"], body["messages"], **kwargs)
        from ollama import ChatResponse

        return await self._client._request(
            ChatResponse, "POST", "/api/chat", json=body, stream=True
        )

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        options: GenerationOptions,
    ) -> AsyncIterator[TokenDelta | StreamStats]:
        started = time.perf_counter()
        ttft: float | None = None
        final: Any = None
        pieces = 0
        stream = None
        try:
            stream = await self._open_chat(self._chat_body(messages, model, options))
            async for part in stream:
                text = part.message.content if part.message else ""
                if text:
                    if ttft is None:
                        ttft = time.perf_counter() - started
                    pieces += 1
                    yield TokenDelta(text)
                if part.done:
                    final = part
        except Exception as exc:
            raise self._error(exc, model, streaming=pieces > 0) from exc
        finally:
            if stream is not None:
                await stream.aclose()  # closes the HTTP response: the daemon stops generating
        if final is None:
            raise StreamInterrupted(
                "the answer ended without its final message",
                model=model,
                host=self.host,
                kind="truncated",
                reason="no done chunk",
            )
        yield self._stats(final, model, ttft, time.perf_counter() - started)

    @staticmethod
    def _stats(final: Any, model: str, ttft: float | None, wall_s: float) -> StreamStats:
        eval_count = int(final.eval_count or 0)
        eval_ns = int(final.eval_duration or 0)
        return StreamStats(
            done_reason=final.done_reason or "stop",  # daemons before 0.1.3x sent none
            prompt_tokens=int(final.prompt_eval_count or 0),
            eval_tokens=eval_count,
            ttft_s=ttft,
            tokens_per_s=eval_count / (eval_ns * _NS) if eval_ns > 0 else None,
            total_s=(final.total_duration or 0) * _NS or wall_s,
            load_s=(final.load_duration * _NS) if final.load_duration is not None else None,
            prompt_eval_s=(
                final.prompt_eval_duration * _NS if final.prompt_eval_duration is not None else None
            ),
            model=final.model or model,
        )

    async def aclose(self) -> None:
        await self._client.close()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
