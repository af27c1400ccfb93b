"""The OpenAI-compatible back-end against the stand-in's ``/v1`` surface."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from qwen_desk.core.errors import (
    BadResponse,
    ContextOverflow,
    DaemonUnreachable,
    LLMError,
    LLMTimeout,
    ModelNotFound,
    PullFailed,
    StreamInterrupted,
)
from qwen_desk.core.llm import GenerationOptions, make_backend
from qwen_desk.core.llm.openai_backend import OpenAIBackend
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import ChatMessage, StreamStats, TokenDelta
from tests.support import llm_cancel
from tests.support.ollama_standin import OllamaStandIn, StandInModel, free_port

MODEL = "qwen2.5:7b"
QUESTION = [
    ChatMessage("user", "Sources:\n\n[1] (a.pdf, p. 2)\nThe sky is blue.\n\nQuestion: Sky?")
]


@pytest.fixture
def standin() -> Iterator[OllamaStandIn]:
    small = StandInModel("tiny", context_length=512)
    with OllamaStandIn(models=[MODEL, small], tokens_per_second=2000) as server:
        yield server


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def with_backend(url: str, fn: Any, **kwargs: Any) -> Any:
    backend = OpenAIBackend(url + "/v1", **kwargs)
    try:
        return await fn(backend)
    finally:
        await backend.aclose()


async def collect(
    backend: OpenAIBackend, messages: list[ChatMessage] = QUESTION, model: str = MODEL, **opts: Any
) -> tuple[list[str], StreamStats]:
    pieces: list[str] = []
    stats: list[StreamStats] = []
    async for event in backend.chat(messages, model=model, options=GenerationOptions(**opts)):
        if isinstance(event, TokenDelta):
            assert not stats
            pieces.append(event.text)
        else:
            stats.append(event)
    assert len(stats) == 1
    return pieces, stats[0]


async def until_error(backend: OpenAIBackend, **opts: Any) -> tuple[list[str], Exception]:
    pieces: list[str] = []
    try:
        async for event in backend.chat(QUESTION, model=MODEL, options=GenerationOptions(**opts)):
            if isinstance(event, TokenDelta):
                pieces.append(event.text)
    except Exception as exc:
        return pieces, exc
    raise AssertionError("the stream did not fail")


def test_streams_with_usage_and_sends_the_options(standin: OllamaStandIn) -> None:
    pieces, stats = run(with_backend(standin.url, lambda b: collect(b, temperature=0.2, seed=3)))
    assert "".join(pieces) == "Source 1 says: The sky is blue [1]."
    assert stats.done_reason == "stop"
    assert stats.eval_tokens == len(pieces) and stats.prompt_tokens > 0
    assert stats.ttft_s is not None and stats.total_s is not None
    body = standin.last_request("/v1/chat/completions").body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2 and body["top_p"] == 0.8 and body["top_k"] == 20
    assert body["max_tokens"] == 1024 and body["seed"] == 3
    assert body["repetition_penalty"] == body["repeat_penalty"] == 1.05
    assert "num_ctx" not in body and "keep_alive" not in body


def test_pace_gives_plausible_ttft_and_rate() -> None:
    with OllamaStandIn(tokens_per_second=250, ttft_s=0.12, answer=" ".join(["x"] * 120)) as s:
        pieces, stats = run(with_backend(s.url, collect))
    assert len(pieces) == 120
    # Lower bounds only (a busy machine is late, never early); bench/llm_stream.py measures
    # how close to the pace the figures are.
    assert stats.ttft_s is not None and stats.ttft_s >= 0.11
    assert stats.tokens_per_s is not None and 0 < stats.tokens_per_s <= 300


def test_max_tokens_gives_length(standin: OllamaStandIn) -> None:
    pieces, stats = run(with_backend(standin.url, lambda b: collect(b, num_predict=3)))
    assert len(pieces) == 3 and stats.done_reason == "length" and stats.eval_tokens == 3


def test_api_key_header(standin: OllamaStandIn) -> None:
    run(with_backend(standin.url, lambda b: b.list_models(), api_key="sk-local"))
    assert standin.last_request("/v1/models").headers["authorization"] == "Bearer sk-local"
    run(with_backend(standin.url, lambda b: b.list_models()))
    assert "authorization" not in standin.last_request("/v1/models").headers


def test_models(standin: OllamaStandIn) -> None:
    async def go(backend: OpenAIBackend) -> Any:
        return await backend.version(), await backend.list_models(), await backend.show("tiny")

    version, models, tiny = run(with_backend(standin.url, go))
    assert version == "openai-compatible"
    assert [m.name for m in models] == [MODEL, "tiny"]
    assert tiny.context_length == 512
    with pytest.raises(ModelNotFound):
        run(with_backend(standin.url, lambda b: b.show("nope")))
    assert run(with_backend(standin.url, lambda b: b.loaded_models())) == []
    run(with_backend(standin.url, lambda b: b.preload(MODEL, GenerationOptions())))
    assert not standin.requests_for("/v1/chat/completions")


def test_errors_map_like_ollama(standin: OllamaStandIn) -> None:
    with pytest.raises(ModelNotFound) as info:
        run(with_backend(standin.url, lambda b: collect(b, model="nope")))
    assert info.value.details["status"] == 404
    long = [ChatMessage("user", "word " * 600)]
    with pytest.raises(ContextOverflow):
        run(with_backend(standin.url, lambda b: collect(b, long, model="tiny")))
    standin.fail_next_chat(401, "invalid api key")
    with pytest.raises(BadResponse, match="invalid api key"):
        run(with_backend(standin.url, collect))


def test_error_event_and_disconnect_mid_stream(standin: OllamaStandIn) -> None:
    standin.break_stream_after(3, "engine died")
    pieces, exc = run(with_backend(standin.url, until_error))
    assert len(pieces) == 3 and isinstance(exc, StreamInterrupted)
    assert exc.details["reason"] == "engine died"
    standin.drop_connection_after(2)
    pieces, exc = run(with_backend(standin.url, until_error))
    assert len(pieces) == 2 and isinstance(exc, StreamInterrupted)


def test_error_event_before_any_text_is_classified(standin: OllamaStandIn) -> None:
    from qwen_desk.core.errors import OutOfMemory

    standin.break_stream_after(0, "CUDA error: out of memory")  # 200, role chunk, error event
    _, exc = run(with_backend(standin.url, until_error))
    assert isinstance(exc, OutOfMemory)


def test_timeout_and_down(standin: OllamaStandIn) -> None:
    standin.stall_next(120.0, after_tokens=1)  # ends early when the client gives up
    pieces, exc = run(with_backend(standin.url, until_error, request_timeout_s=2.0))
    assert pieces and isinstance(exc, LLMTimeout)
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DaemonUnreachable):
        run(with_backend(url, lambda b: b.version()))
    with pytest.raises(DaemonUnreachable):
        run(with_backend(url, collect))


def test_pull_and_delete_are_not_supported(standin: OllamaStandIn) -> None:
    async def pull(backend: OpenAIBackend) -> None:
        async for _ in backend.pull(MODEL):
            pass

    with pytest.raises(PullFailed):
        run(with_backend(standin.url, pull))
    with pytest.raises(LLMError):
        run(with_backend(standin.url, lambda b: b.delete(MODEL)))


def test_cancel_closes_the_connection() -> None:
    """The server sees the close long before the answer (a minute at 100 tokens/s) would end."""
    with OllamaStandIn(tokens_per_second=100, answer=llm_cancel.long_answer()) as server:

        async def go() -> tuple[Any, list[Any]]:
            backend = OpenAIBackend(server.url + "/v1")
            gone, _, got = await llm_cancel.cancel_mid_answer(backend, server, QUESTION, MODEL)
            await backend.aclose()
            return gone, got

        gone, got = run(go())
    assert gone is not None and gone.outcome == "disconnected" and gone.tokens_sent < 6000
    assert got and llm_cancel.only_deltas(got)


def test_make_backend_openai() -> None:
    settings = Settings(
        backend="openai",
        openai_base_url="http://h:8000/v1/",
        openai_api_key="k",
        request_timeout_s=12.0,
    )
    backend = make_backend(settings)
    try:
        assert isinstance(backend, OpenAIBackend)
        assert backend.kind == "openai" and backend.host == "http://h:8000/v1"
        assert backend.timeout.read == 12.0
    finally:
        run(backend.aclose())
