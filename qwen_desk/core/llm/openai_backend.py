"""Core layer: the back-end for any OpenAI-compatible server (vLLM, llama.cpp, LM Studio...).

Talks ``/models`` and ``/chat/completions`` under ``settings.openai_base_url`` with ``httpx``
directly (no ``openai`` package): SSE parsing, an optional ``Authorization: Bearer`` key, the same
events, statistics and errors as the Ollama back-end. Such servers fix their context window at
start-up, so ``num_ctx`` and ``keep_alive`` are not sent; ``top_k`` is sent, and the repeat
penalty under both names local servers use (``repetition_penalty``: vLLM; ``repeat_penalty``:
llama.cpp, LM Studio); these servers ignore fields they do not know. Time to first token and
tokens per second are measured here, from the usage the server reports and the wall clock.
Pull and delete are Ollama features: they raise.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from qwen_desk.core.errors import (
    BadResponse,
    LLMError,
    ModelNotFound,
    PullFailed,
    StreamInterrupted,
)
from qwen_desk.core.llm.base import CONNECT_TIMEOUT_S, GenerationOptions
from qwen_desk.core.llm.error_map import classify, map_exception, message_from_body
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

_CONTEXT_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length")


class OpenAIBackend:
    """``LLMBackend`` for an OpenAI-compatible HTTP server."""

    kind = "openai"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000/v1",
        *,
        api_key: str = "",
        request_timeout_s: float = 300.0,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.host = base_url.rstrip("/")
        self.timeout = httpx.Timeout(request_timeout_s, connect=connect_timeout_s)
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(
            base_url=self.host + "/", timeout=self.timeout, headers=headers
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIBackend:
        return cls(
            settings.openai_base_url,
            api_key=settings.openai_api_key,
            request_timeout_s=settings.request_timeout_s,
        )

    # --- plumbing ---------------------------------------------------------------------------

    async def _get_json(self, path: str, model: str = "") -> Any:
        try:
            response = await self._http.get(path)
        except Exception as exc:
            raise map_exception(exc, model=model, host=self.host) from exc
        if response.status_code >= 400:
            raise classify(
                response.status_code, message_from_body(response.text), model=model, host=self.host
            )
        try:
            return response.json()
        except ValueError as exc:
            raise BadResponse(f"{self.host}{path} did not answer JSON", host=self.host) from exc

    async def _model_entries(self) -> list[dict[str, Any]]:
        data = await self._get_json("models")
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise BadResponse(f"{self.host}/models has no 'data' list", host=self.host)
        return [e for e in entries if isinstance(e, dict) and e.get("id")]

    @staticmethod
    def _info(entry: dict[str, Any]) -> ModelInfo:
        context = next((entry[k] for k in _CONTEXT_KEYS if isinstance(entry.get(k), int)), None)
        return ModelInfo(name=str(entry["id"]), context_length=context)

    # --- information ------------------------------------------------------------------------

    async def version(self) -> str:
        await self._model_entries()
        return "openai-compatible"

    async def list_models(self) -> list[ModelInfo]:
        return [self._info(e) for e in await self._model_entries()]

    async def show(self, model: str) -> ModelInfo:
        for entry in await self._model_entries():
            if entry["id"] == model:
                return self._info(entry)
        raise ModelNotFound(
            f"model '{model}' is not served at {self.host}", model=model, host=self.host
        )

    async def loaded_models(self) -> list[LoadedModel]:
        return []

    async def preload(self, model: str, options: GenerationOptions) -> None:
        """Nothing to do: these servers load their model at start-up."""

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        raise PullFailed(
            f"{self.host} is an OpenAI-compatible server: it cannot download models",
            model=model,
            host=self.host,
            reason="unsupported",
        )
        yield PullProgress(status="")  # pragma: no cover - makes this an async generator

    async def delete(self, model: str) -> None:
        raise LLMError(
            f"{self.host} is an OpenAI-compatible server: it cannot delete models",
            model=model,
            host=self.host,
        )

    # --- chat ------------------------------------------------------------------------------

    @staticmethod
    def _chat_body(
        messages: Sequence[ChatMessage], model: str, options: GenerationOptions
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": [m.to_json() for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": options.temperature,
            "top_p": options.top_p,
            "max_tokens": options.num_predict,
            "top_k": options.top_k,
            "repetition_penalty": options.repeat_penalty,
            "repeat_penalty": options.repeat_penalty,
        }
        if options.seed is not None:
            body["seed"] = options.seed
        return body

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str,
        options: GenerationOptions,
    ) -> AsyncIterator[TokenDelta | StreamStats]:
        body = self._chat_body(messages, model, options)
        started = time.perf_counter()
        first: float | None = None
        last = started
        pieces = 0
        usage: dict[str, Any] = {}
        finish = ""
        streaming = False
        try:
            async with self._http.stream("POST", "chat/completions", json=body) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise classify(
                        response.status_code,
                        message_from_body(response.text),
                        model=model,
                        host=self.host,
                    )
                streaming = True
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue  # comments (": ping"), "event:" lines, blank separators
                    data = line[5:].strip()
                    if data == "[DONE]":
                        finish = finish or "stop"  # a complete stream, finish_reason or not
                        break
                    event = json.loads(data)
                    if not isinstance(event, dict):
                        raise BadResponse(f"unexpected event: {data[:200]}", host=self.host)
                    if event.get("error"):
                        # Before any text it is a plain failure (out of memory, context...);
                        # after some text, an interrupted answer.
                        status = -1 if pieces else 500
                        raise classify(status, message_from_body(data), model=model, host=self.host)
                    usage = event.get("usage") or usage
                    for choice in event.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            last = time.perf_counter()
                            if first is None:
                                first = last
                            pieces += 1
                            yield TokenDelta(text)
                        finish = choice.get("finish_reason") or finish
        except LLMError:
            raise
        except Exception as exc:
            raise map_exception(exc, model=model, host=self.host, streaming=streaming) from exc
        if not finish:
            raise StreamInterrupted(
                "the answer ended without a finish reason",
                model=model,
                host=self.host,
                kind="truncated",
                reason="no finish_reason",
            )
        yield self._stats(finish, usage, pieces, started, first, last, model)

    @staticmethod
    def _stats(
        finish: str,
        usage: dict[str, Any],
        pieces: int,
        started: float,
        first: float | None,
        last: float,
        model: str,
    ) -> StreamStats:
        completion = int(usage.get("completion_tokens") or pieces)
        decode_s = last - first if first is not None else 0.0
        # The first token's time is part of the TTFT; the rest were decoded in ``decode_s``.
        rate = (completion - 1) / decode_s if completion > 1 and decode_s > 0 else None
        return StreamStats(
            done_reason=finish,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            eval_tokens=completion,
            ttft_s=first - started if first is not None else None,
            tokens_per_s=rate,
            total_s=time.perf_counter() - started,
            model=model,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
