"""Core layer: turn what HTTP clients and model servers raise into ``core.errors`` classes.

What really comes out of ``ollama`` 0.6.3 (checked against the stand-in and the client source):
non-streaming calls raise the builtin ``ConnectionError`` when nothing listens, streaming calls
raise the raw ``httpx.ConnectError`` (the request is sent on the first iteration); timeouts are
raw ``httpx`` timeouts; HTTP errors are ``ollama.ResponseError`` with the status code, and an
``{"error": ...}`` line after streaming began is a ``ResponseError`` with ``status_code == -1``;
a daemon that dies mid-answer gives ``httpx.RemoteProtocolError`` (incomplete chunked read) or
``httpx.ReadError`` (connection reset). The OpenAI back-end raises the same ``httpx`` errors and
hands its HTTP errors to ``classify`` with the status and the server's message.
"""

from __future__ import annotations

import json
from typing import Any

from qwen_desk.core.errors import (
    BadResponse,
    ContextOverflow,
    DaemonUnreachable,
    LLMError,
    LLMTimeout,
    ModelNotFound,
    OutOfMemory,
    StreamInterrupted,
)

# Lower-case fragments of the daemons' own messages (Ollama's llm/status.go, llama.cpp, vLLM).
_OOM_MARKERS = (
    "out of memory",
    "out of device memory",
    "cudamalloc failed",
    "hipmalloc failed",
    "cuda error",
    "requires more system memory",
    "not enough memory",
    "insufficient memory",
    "failed to allocate",
    "allocation failed",
)
_CONTEXT_MARKERS = (
    "context length",
    "context size",
    "context window",
    "context_length_exceeded",
    "maximum context",
    "exceeds the available context",
    "prompt is too long",
    "input is too long",
    "too many tokens",
)


def is_oom_text(message: str) -> bool:
    low = message.lower()
    return any(marker in low for marker in _OOM_MARKERS)


def is_context_text(message: str) -> bool:
    low = message.lower()
    return any(marker in low for marker in _CONTEXT_MARKERS)


def classify(
    status: int,
    message: str,
    *,
    model: str = "",
    host: str = "",
    streaming: bool = False,
) -> LLMError:
    """The error for a server's ``status`` and ``message`` (status -1: error line mid-stream)."""
    details: dict[str, Any] = {"status": status, "reason": message, "model": model, "host": host}
    if status == -1 or streaming:
        # The answer had started: the caller keeps the partial text and offers a retry.
        kind = "out_of_memory" if is_oom_text(message) else "server_error"
        return StreamInterrupted(
            f"the model server stopped the answer: {message}", kind=kind, **details
        )
    if is_oom_text(message):
        return OutOfMemory(f"the model server ran out of memory: {message}", **details)
    low = message.lower()
    if status in (400, 404) and "model" in low and ("not found" in low or "not exist" in low):
        return ModelNotFound(f"model '{model}' is not installed: {message}", **details)
    if status == 404:  # "404 page not found": something else answers at that address
        return BadResponse(
            f"{host} has no such endpoint: is it the right server? {message}", **details
        )
    if status >= 400 and is_context_text(message):
        return ContextOverflow(f"the prompt does not fit the context window: {message}", **details)
    if status in (408, 504):
        return LLMTimeout(f"the model server timed out: {message}", **details)
    return BadResponse(f"the model server answered {status}: {message}", **details)


def map_exception(
    exc: BaseException,
    *,
    model: str = "",
    host: str = "",
    streaming: bool = False,
) -> LLMError:
    """The ``LLMError`` for ``exc``; ``streaming`` is True once an answer's first bytes came."""
    import httpx

    if isinstance(exc, LLMError):
        return exc
    where = {"model": model, "host": host}
    status = getattr(exc, "status_code", None)
    if type(exc).__name__ == "ResponseError" and isinstance(status, int):  # ollama.ResponseError
        return classify(
            status,
            str(getattr(exc, "error", exc)),
            model=model,
            host=host,
            streaming=streaming and status == -1,
        )
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return DaemonUnreachable(f"cannot connect to {host}: {exc}", reason=str(exc), **where)
    if isinstance(exc, httpx.TimeoutException):
        return LLMTimeout(
            f"no answer from {host} in time ({type(exc).__name__})", reason=str(exc), **where
        )
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        if streaming:
            return StreamInterrupted(
                f"the connection to {host} broke mid-answer: {exc}",
                kind="disconnected",
                reason=str(exc),
                **where,
            )
        return DaemonUnreachable(
            f"the connection to {host} failed: {exc}", reason=str(exc), **where
        )
    if isinstance(exc, ConnectionError):  # ollama's non-streaming "Failed to connect" (builtin)
        return DaemonUnreachable(f"cannot connect to {host}: {exc}", reason=str(exc), **where)
    if isinstance(exc, httpx.TransportError):
        return DaemonUnreachable(f"cannot talk to {host}: {exc}", reason=str(exc), **where)
    if isinstance(exc, (json.JSONDecodeError, ValueError, KeyError, TypeError)):
        # pydantic's ValidationError is a ValueError: an answer we cannot read.
        return BadResponse(f"unexpected answer from {host}: {exc}", reason=str(exc), **where)
    return BadResponse(f"unexpected failure talking to {host}: {exc!r}", reason=repr(exc), **where)


def message_from_body(text: str) -> str:
    """The human message in an error body: Ollama ``{"error": "..."}``, OpenAI
    ``{"error": {"message": ...}}``, FastAPI ``{"detail": ...}``, or the raw text."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            return str(err.get("message") or err)
        if err is not None:
            return str(err)
    return text.strip()
