"""The Ollama back-end against the stand-in daemon: events, options, errors, pulls, cancelling."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from qwen_desk.core.errors import (
    ContextOverflow,
    DaemonUnreachable,
    LLMTimeout,
    ModelNotFound,
    OutOfMemory,
    PullFailed,
    QwenDeskError,
    StreamInterrupted,
)
from qwen_desk.core.llm import GenerationOptions, effective_num_ctx, make_backend
from qwen_desk.core.llm.ollama_backend import OllamaBackend, normalize_host
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import ChatMessage, PullProgress, StreamStats, TokenDelta
from tests.support import llm_cancel
from tests.support.ollama_standin import OllamaStandIn, free_port

MODEL = "qwen2.5:7b"
QUESTION = [
    ChatMessage("system", "Answer from the sources."),
    ChatMessage(
        "user", "Sources:\n[1] The cat sat on the mat.\n[2] Dogs bark.\n\nQuestion: Who sat?"
    ),
]


@pytest.fixture
def standin() -> Iterator[OllamaStandIn]:
    with OllamaStandIn(models=[MODEL], tokens_per_second=2000) as server:
        yield server


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def collect(
    backend: OllamaBackend, messages: list[ChatMessage] = QUESTION, **opts: Any
) -> tuple[list[str], StreamStats]:
    pieces: list[str] = []
    stats: list[StreamStats] = []
    async for event in backend.chat(
        messages, model=opts.pop("model", MODEL), options=GenerationOptions(**opts)
    ):
        if isinstance(event, TokenDelta):
            assert not stats, "a delta came after the stats"
            pieces.append(event.text)
        else:
            stats.append(event)
    assert len(stats) == 1
    return pieces, stats[0]


async def collect_until_error(backend: OllamaBackend, **opts: Any) -> tuple[list[str], Exception]:
    pieces: list[str] = []
    try:
        async for event in backend.chat(QUESTION, model=MODEL, options=GenerationOptions(**opts)):
            if isinstance(event, TokenDelta):
                pieces.append(event.text)
    except Exception as exc:
        return pieces, exc
    raise AssertionError("the stream did not fail")


async def with_backend(url: str, fn: Any, **kwargs: Any) -> Any:
    backend = OllamaBackend(url, **kwargs)
    try:
        return await fn(backend)
    finally:
        await backend.aclose()


# --- streaming and statistics ----------------------------------------------------------------


def test_chat_streams_pieces_then_one_stats(standin: OllamaStandIn) -> None:
    pieces, stats = run(with_backend(standin.url, collect))
    text = "".join(pieces)
    assert len(pieces) > 5
    assert "[1]" in text and "[2]" in text and "cat sat on the mat" in text
    assert stats.done_reason == "stop"
    assert stats.eval_tokens == len(pieces)
    assert stats.prompt_tokens > 0
    assert stats.model == MODEL
    assert stats.load_s is not None and stats.prompt_eval_s is not None and stats.total_s


def test_every_chat_sends_options_keep_alive_and_truncate(standin: OllamaStandIn) -> None:
    opts = dict(
        num_ctx=6144,
        temperature=0.3,
        top_p=0.9,
        top_k=30,
        repeat_penalty=1.1,
        num_predict=256,
        keep_alive="45m",
        seed=7,
    )

    async def twice(backend: OllamaBackend) -> None:
        await collect(backend, **opts)
        await collect(backend, **opts)

    run(with_backend(standin.url, twice))
    bodies = [r.body for r in standin.requests_for("/api/chat")]
    assert len(bodies) == 2
    for body in bodies:
        assert body["options"] == {
            "num_ctx": 6144,
            "temperature": 0.3,
            "top_p": 0.9,
            "top_k": 30,
            "repeat_penalty": 1.1,
            "num_predict": 256,
            "seed": 7,
        }
        assert body["keep_alive"] == "45m"
        assert body["truncate"] is False
        assert body["stream"] is True
        assert body["messages"] == [m.to_json() for m in QUESTION]
    assert standin.load_count == 1  # the same num_ctx: no reload between requests


def test_ttft_and_tokens_per_second_follow_the_pace() -> None:
    with OllamaStandIn(
        tokens_per_second=300, ttft_s=0.15, answer=" ".join(["word"] * 150)
    ) as server:
        pieces, stats = run(with_backend(server.url, collect))
    assert len(pieces) == 150
    # Lower bounds only: a busy machine makes everything later, never earlier. How close the
    # figures come to the pace is measured by bench/llm_stream.py.
    assert stats.ttft_s is not None and stats.ttft_s >= 0.14
    assert stats.tokens_per_s is not None and 0 < stats.tokens_per_s <= 310
    assert stats.total_s is not None and stats.total_s >= 0.15 + 149 / 300 - 0.05
    assert stats.total_s > stats.ttft_s


def test_num_predict_stops_with_length(standin: OllamaStandIn) -> None:
    standin.set_answer("one two three four five six seven eight nine ten")
    pieces, stats = run(with_backend(standin.url, lambda b: collect(b, num_predict=4)))
    assert pieces == ["one", " two", " three", " four"]
    assert stats.done_reason == "length"
    assert stats.eval_tokens == 4


# --- errors ----------------------------------------------------------------------------------


def test_missing_model_is_model_not_found(standin: OllamaStandIn) -> None:
    _, exc = run(with_backend(standin.url, lambda b: collect_until_error_model(b, "llama9:1b")))
    assert isinstance(exc, ModelNotFound)
    assert exc.details["model"] == "llama9:1b" and exc.details["status"] == 404
    with pytest.raises(ModelNotFound):
        run(with_backend(standin.url, lambda b: b.show("llama9:1b")))
    with pytest.raises(ModelNotFound):
        run(with_backend(standin.url, lambda b: b.preload("llama9:1b", GenerationOptions())))


async def collect_until_error_model(backend: OllamaBackend, model: str) -> tuple[list[str], Any]:
    try:
        await collect(backend, model=model)
    except Exception as exc:
        return [], exc
    raise AssertionError("no error")


@pytest.mark.parametrize(
    "call",
    ["version", "list_models", "show", "loaded_models", "preload", "chat", "pull", "delete"],
)
def test_daemon_down_is_unreachable_for_every_call(call: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    async def go(backend: OllamaBackend) -> Any:
        if call == "chat":
            return await collect(backend)
        if call == "pull":
            return [p async for p in backend.pull(MODEL)]
        if call in ("show", "delete"):
            return await getattr(backend, call)(MODEL)
        if call == "preload":
            return await backend.preload(MODEL, GenerationOptions())
        return await getattr(backend, call)()

    with pytest.raises(DaemonUnreachable) as info:
        run(with_backend(url, go))
    assert info.value.details["host"] == url


def test_same_backend_recovers_when_the_daemon_comes_back() -> None:
    port = free_port()

    async def go() -> tuple[str, list[str]]:
        backend = OllamaBackend(f"127.0.0.1:{port}")
        try:
            with pytest.raises(DaemonUnreachable):
                await backend.version()
            with pytest.raises(DaemonUnreachable):
                await collect(backend)
            server = OllamaStandIn(port=port, tokens_per_second=3000)
            with server:
                version = await backend.version()
                pieces, _ = await collect(backend)
            with pytest.raises(DaemonUnreachable):  # down again: pooled connections are dead
                await backend.version()
            return version, pieces
        finally:
            await backend.aclose()

    version, pieces = run(go())
    assert version and pieces


def test_error_mid_stream_is_interrupted_after_the_deltas(standin: OllamaStandIn) -> None:
    standin.break_stream_after(4, "llama runner process has terminated: exit status 2")
    pieces, exc = run(with_backend(standin.url, collect_until_error))
    assert len(pieces) == 4
    assert isinstance(exc, StreamInterrupted)
    assert "exit status 2" in exc.details["reason"]
    assert exc.details["status"] == -1


@pytest.mark.parametrize("reset", [False, True])
def test_daemon_dying_mid_answer_is_interrupted(standin: OllamaStandIn, reset: bool) -> None:
    standin.drop_connection_after(3, reset=reset)
    pieces, exc = run(with_backend(standin.url, collect_until_error))
    assert len(pieces) == 3
    assert isinstance(exc, StreamInterrupted)
    assert exc.details["kind"] == "disconnected"


STALL_S = 120.0


def test_stall_beyond_the_read_timeout_is_a_timeout(standin: OllamaStandIn) -> None:
    # The stalls outlast any slowness (they end early when the client leaves); the read timeout
    # is short next to them but long next to a token's gap on a busy machine.
    standin.stall_next(STALL_S)  # nothing at all, not even headers
    started = time.monotonic()
    _, exc = run(with_backend(standin.url, collect_until_error, request_timeout_s=2.0))
    assert isinstance(exc, LLMTimeout)
    assert time.monotonic() - started < STALL_S / 2  # the timeout, not the stall, ended it
    standin.stall_next(STALL_S, after_tokens=2)  # the answer stops flowing
    pieces, exc = run(with_backend(standin.url, collect_until_error, request_timeout_s=2.0))
    assert pieces and len(pieces) == 2
    assert isinstance(exc, LLMTimeout)


def test_health_check_times_out(standin: OllamaStandIn) -> None:
    standin.stall_next(STALL_S, paths=["/api/version"])  # ends when the client gives up
    with pytest.raises(LLMTimeout):
        run(with_backend(standin.url, lambda b: b.version(), request_timeout_s=0.3))
    assert run(with_backend(standin.url, lambda b: b.version())) == standin.version


def test_prompt_over_num_ctx_is_context_overflow(standin: OllamaStandIn) -> None:
    long = [ChatMessage("user", "lorem ipsum dolor " * 400)]  # ~1,800 tokens
    with pytest.raises(ContextOverflow) as info:
        run(with_backend(standin.url, lambda b: collect(b, long, num_ctx=1024)))
    assert info.value.details["status"] == 400
    assert "context" in info.value.details["reason"]
    pieces, _ = run(with_backend(standin.url, lambda b: collect(b, long, num_ctx=4096)))
    assert pieces


def test_out_of_memory(standin: OllamaStandIn) -> None:
    standin.simulate_oom()
    with pytest.raises(OutOfMemory) as info:
        run(with_backend(standin.url, collect))
    assert "out of memory" in info.value.details["reason"]


def test_other_daemon_errors_keep_their_text(standin: OllamaStandIn) -> None:
    from qwen_desk.core.errors import BadResponse

    standin.fail_next_chat(500, "something odd happened")
    with pytest.raises(BadResponse) as info:
        run(with_backend(standin.url, collect))
    assert info.value.details["reason"] == "something odd happened"


def test_error_classification() -> None:
    from qwen_desk.core.errors import BadResponse
    from qwen_desk.core.llm.error_map import classify

    assert isinstance(classify(404, "model 'x' not found", model="x"), ModelNotFound)
    assert isinstance(classify(404, "The model `x` does not exist."), ModelNotFound)  # vLLM
    assert isinstance(classify(404, "404 page not found"), BadResponse)  # not an Ollama server
    assert isinstance(
        classify(500, "model requires more system memory (5.6 GiB) than is available"),
        OutOfMemory,
    )
    assert isinstance(classify(400, "the input length exceeds the context length"), ContextOverflow)
    oom_mid_stream = classify(-1, "CUDA error: out of memory")
    assert isinstance(oom_mid_stream, StreamInterrupted)
    assert oom_mid_stream.details["kind"] == "out_of_memory"


def test_embed(standin: OllamaStandIn) -> None:
    async def go(backend: OllamaBackend) -> list[list[float]]:
        return await backend.embed(["alpha", "beta", "alpha"], model=MODEL)

    vectors = run(with_backend(standin.url, go))
    assert len(vectors) == 3 and len(vectors[0]) == standin.embed_dim
    assert vectors[0] == vectors[2] != vectors[1]
    with pytest.raises(ModelNotFound):
        run(with_backend(standin.url, lambda b: b.embed(["x"], model="bge-m3")))


# --- models, preload, ps ----------------------------------------------------------------------


def test_show_and_list_models(standin: OllamaStandIn) -> None:
    async def go(backend: OllamaBackend) -> Any:
        before = await backend.list_models()
        shown = await backend.show(MODEL)
        after = await backend.list_models()
        return before, shown, after

    before, shown, after = run(with_backend(standin.url, go))
    assert [m.name for m in before] == [MODEL]
    assert before[0].quantization == "Q4_K_M" and before[0].parameter_size == "7.6B"
    assert before[0].family == "qwen2" and before[0].size > 4e9
    assert before[0].context_length is None  # filled lazily
    assert shown.context_length == 32768
    assert after[0].context_length == 32768
    assert effective_num_ctx(65536, shown.context_length) == 32768
    assert effective_num_ctx(8192, shown.context_length) == 8192
    assert effective_num_ctx(8192, None) == 8192


def test_preload_loads_with_num_ctx_and_keep_alive(standin: OllamaStandIn) -> None:
    standin.vram_bytes = 4 * 1024**3  # a small GPU: part of the model stays in RAM
    options = GenerationOptions(num_ctx=8192, keep_alive="30m")

    async def go(backend: OllamaBackend) -> Any:
        await backend.preload(MODEL, options)
        loaded = await backend.loaded_models()
        await collect(backend, num_ctx=8192)
        return loaded

    loaded = run(with_backend(standin.url, go))
    body = standin.requests_for("/api/chat")[0].body
    assert body["messages"] == [] and body["keep_alive"] == "30m"
    assert body["options"]["num_ctx"] == 8192
    assert standin.load_count == 1  # the chat after the preload did not reload
    assert len(loaded) == 1
    entry = loaded[0]
    assert entry.name == MODEL and entry.context_length == 8192
    assert entry.size > entry.size_vram == 4 * 1024**3
    assert 0.5 < entry.gpu_fraction < 1.0
    from datetime import datetime, timezone

    left = datetime.fromisoformat(entry.expires_at) - datetime.now(timezone.utc)
    assert 29 * 60 < left.total_seconds() <= 30 * 60


# --- pull and delete --------------------------------------------------------------------------


def pull_server(bytes_per_s: float, layers: list[int]) -> OllamaStandIn:
    return OllamaStandIn(models=[MODEL], registry={"tiny:1b": layers}, pull_bytes_per_s=bytes_per_s)


async def pull_all(backend: OllamaBackend, model: str = "tiny:1b") -> list[PullProgress]:
    return [p async for p in backend.pull(model)]


def test_pull_reports_progress_speed_and_eta() -> None:
    with pull_server(10e6, [5_000_000, 2_000]) as server:
        progress = run(with_backend(server.url, pull_all))
        statuses = [p.status for p in progress]
        assert statuses[0] == "pulling manifest"
        assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
        layer = [p for p in progress if p.total == 5_000_000]
        assert (
            layer[0].status.startswith("pulling ") and len(layer[0].status) == len("pulling ") + 12
        )
        completed = [p.completed for p in layer]
        assert completed == sorted(completed) and completed[-1] == 5_000_000
        speeds = [p.bytes_per_s for p in layer if p.bytes_per_s]
        # The stand-in paces at 10 MB/s: the reported rate can fall behind that on a busy machine,
        # never run ahead of it (bench/ measures the pace itself).
        assert speeds and 0 < speeds[-1] < 15e6
        etas = [p.eta_s for p in layer if p.eta_s is not None]
        assert etas[0] > etas[-2] >= 0
        for p in layer:
            if p.bytes_per_s and p.eta_s is not None:
                assert p.eta_s == pytest.approx((p.total - p.completed) / p.bytes_per_s, rel=1e-6)
        assert "tiny:1b" in [
            m.name for m in run(with_backend(server.url, lambda b: b.list_models()))
        ]


def test_pull_progress_counts_the_whole_model_over_its_layers() -> None:
    """The stand-in pulls qwen2.5:7b as the registry serves it (a 4.7 GB model layer, then the
    small template, licence and parameter layers); progress is over all of them, resumed or not."""
    with OllamaStandIn(models=[], pull_bytes_per_s=2e9) as server:
        layers = server.registry["qwen2.5:7b"]
        assert len(layers) >= 3 and max(layers) > 1e9 and min(layers) < 10_000  # realistic
        server.interrupt_next_pull(after_bytes=1_500_000_000)  # the link drops at 1.5 GB
        with pytest.raises(QwenDeskError):
            run(with_backend(server.url, lambda b: pull_all(b, "qwen2.5:7b")))
        partial = sum(server.downloaded.values())
        assert 1e9 < partial < layers[0]

        progress = run(with_backend(server.url, lambda b: pull_all(b, "qwen2.5:7b")))
        pulled = [p for p in progress if p.digest]
        assert len({p.digest for p in pulled}) == len(layers)  # several layers were sent
        first = pulled[0]
        # resumed: the bytes already on disk count as done, without a burst of speed
        assert first.model_completed == first.completed == partial
        assert first.fraction == pytest.approx(partial / layers[0])
        assert first.bytes_per_s is None
        done = [p.model_completed for p in pulled]
        assert done == sorted(done)
        small = [p for p in pulled if p.total < 10_000]
        assert small and all(p.model_completed > layers[0] for p in small)  # not "1.1 kB / 1.5 kB"
        assert progress[-1].status == "success"
        assert progress[-1].model_completed == progress[-1].model_total == sum(layers)
        assert progress[-1].fraction == 1.0
        speeds = [p.bytes_per_s for p in pulled if p.bytes_per_s]
        assert speeds and all(s < 20e9 for s in speeds)  # measured, not the 1.5 GB jump


def test_rate_meter_uses_a_sliding_window() -> None:
    from qwen_desk.core.llm.rates import PullRateMeter

    meter = PullRateMeter(window_s=3.0)

    def feed(t: float, done: int) -> PullProgress:
        return meter.update(PullProgress("pulling x", "sha256:x", done, 1_000_000_000), now=t)

    first = feed(0.0, 400_000_000)  # resumed: 400 MB were already there
    assert first.bytes_per_s is None and first.eta_s is None
    feed(1.0, 410_000_000)
    p = feed(2.0, 420_000_000)
    assert p.bytes_per_s == pytest.approx(10e6)  # not 210 MB/s
    assert p.eta_s == pytest.approx(58.0)
    for t in range(3, 10):
        p = feed(float(t), 420_000_000 + (t - 2) * 50_000_000)  # the link got faster
    assert p.bytes_per_s == pytest.approx(50e6)  # the old, slow seconds left the window
    assert p.eta_s == pytest.approx((1e9 - 770e6) / 50e6)
    assert meter.update(PullProgress("verifying sha256 digest")).bytes_per_s is None


def test_cancelled_pull_closes_the_connection_and_resumes() -> None:
    with pull_server(20e6, [200_000_000, 1_000]) as server:

        async def start_then_cancel(backend: OllamaBackend) -> int:
            seen: list[PullProgress] = []

            async def consume() -> None:
                async for p in backend.pull("tiny:1b"):
                    seen.append(p)

            task = asyncio.create_task(consume())
            while sum(1 for p in seen if p.completed) < 5:
                await asyncio.sleep(0.01)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return max(p.completed for p in seen)

        got = run(with_backend(server.url, start_then_cancel))
        assert server.wait_for_disconnect(30)  # a hang guard: it comes in ~0.1 s
        assert server.disconnects[0].path == "/api/pull"
        partial = max(server.downloaded.values())
        assert got <= partial < 200_000_000

        server.pull_bytes_per_s = 2e9
        progress = run(with_backend(server.url, pull_all))
        first_layer = next(p for p in progress if p.total == 200_000_000)
        assert first_layer.completed >= partial  # resumed, not restarted
        assert progress[-1].status == "success"


def test_pull_failures_carry_the_daemon_message() -> None:
    with pull_server(1e9, [1_000]) as server:
        with pytest.raises(PullFailed) as info:
            run(with_backend(server.url, lambda b: pull_all(b, "no-such-model:1b")))
        assert "file does not exist" in info.value.message
        server.set_offline()
        with pytest.raises(PullFailed) as info:
            run(with_backend(server.url, pull_all))
        assert "no such host" in info.value.details["reason"]
        server.set_offline(False)
        server.interrupt_next_pull(500, error="unexpected EOF")
        with pytest.raises(PullFailed, match="unexpected EOF"):
            run(with_backend(server.url, pull_all))


def test_delete(standin: OllamaStandIn) -> None:
    async def go(backend: OllamaBackend) -> list[str]:
        await backend.delete(MODEL)
        return [m.name for m in await backend.list_models()]

    assert run(with_backend(standin.url, go)) == []
    assert standin.last_request("/api/delete").body == {"model": MODEL}
    with pytest.raises(ModelNotFound):
        run(with_backend(standin.url, lambda b: b.delete(MODEL)))


# --- cancelling -------------------------------------------------------------------------------


async def cancel_mid_answer(server: OllamaStandIn) -> None:
    """Start a long answer, cancel the consuming task: the server sees the close long before the
    answer would have ended (a minute at 100 tokens/s). How soon: bench/llm_stream.py."""
    backend = OllamaBackend(server.url)
    gone, _, got = await llm_cancel.cancel_mid_answer(backend, server, QUESTION, MODEL)
    await backend.aclose()
    assert gone is not None, "the server never saw the client leave"
    assert gone.outcome == "disconnected" and gone.tokens_sent < 6000
    assert got and llm_cancel.only_deltas(got)


@pytest.fixture
def slow_long_answer() -> Iterator[OllamaStandIn]:
    with OllamaStandIn(
        models=[MODEL], tokens_per_second=100, answer=llm_cancel.long_answer()
    ) as server:
        yield server


def test_cancel_closes_the_connection_asyncio(slow_long_answer: OllamaStandIn) -> None:
    run(cancel_mid_answer(slow_long_answer))


def run_qasync(qapp: Any, coro: Any) -> Any:
    """Run ``coro`` on a ``qasync.QEventLoop`` with the asyncgen hooks installed, as the app
    does at start-up (qasync does not install them itself)."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    old_hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
        finalizer=loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
    )
    try:
        return loop.run_until_complete(coro)
    finally:
        sys.set_asyncgen_hooks(*old_hooks)
        loop.close()
        asyncio.set_event_loop(None)
        del loop
        gc.collect()  # its Qt timer object dies here, on the thread that owns it


def test_cancel_closes_the_connection_qasync(qapp: Any, slow_long_answer: OllamaStandIn) -> None:
    run_qasync(qapp, cancel_mid_answer(slow_long_answer))


def test_abandoned_stream_is_closed_under_qasync_with_hooks(
    qapp: Any, slow_long_answer: OllamaStandIn
) -> None:
    async def go() -> bool:
        backend = OllamaBackend(slow_long_answer.url)
        async for _ in backend.chat(QUESTION, model=MODEL, options=GenerationOptions()):
            break  # no aclosing(): the loop's finalizer hook must close the stream
        found = await asyncio.to_thread(slow_long_answer.wait_for_disconnect, 30)
        await backend.aclose()
        return found

    assert run_qasync(qapp, go())


def test_leaving_the_loop_with_aclosing_closes_the_connection(
    slow_long_answer: OllamaStandIn,
) -> None:
    async def go(backend: OllamaBackend) -> None:
        stream: AsyncIterator[Any] = backend.chat(
            QUESTION, model=MODEL, options=GenerationOptions()
        )
        async with contextlib.aclosing(stream) as events:  # type: ignore[type-var]
            async for _ in events:
                break

    run(with_backend(slow_long_answer.url, go))
    assert slow_long_answer.wait_for_disconnect(30)  # long before the answer's minute is up


# --- construction -----------------------------------------------------------------------------


def test_make_backend_and_timeouts() -> None:
    settings = Settings(ollama_host="127.0.0.1:5555", request_timeout_s=42.0)
    backend = make_backend(settings)
    try:
        assert isinstance(backend, OllamaBackend)
        assert backend.kind == "ollama" and backend.host == "http://127.0.0.1:5555"
        assert backend.timeout.read == 42.0 and backend.timeout.connect is not None
        assert backend.timeout.connect <= 5
        assert backend._client._client.timeout == backend.timeout  # the client got ours
    finally:
        run(backend.aclose())
    options = GenerationOptions.from_settings(Settings(max_tokens=300, num_ctx=16384))
    assert options.num_predict == 300 and options.num_ctx == 16384 and options.keep_alive == "30m"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "http://127.0.0.1:11434"),
        ("127.0.0.1", "http://127.0.0.1:11434"),
        ("localhost:8080", "http://localhost:8080"),
        ("http://10.0.0.2", "http://10.0.0.2:80"),
        ("https://gpu.example.com", "https://gpu.example.com:443"),
        ("http://10.0.0.2:11434/", "http://10.0.0.2:11434"),
        ("[::1]:11434", "http://[::1]:11434"),
        ("[::1]", "http://[::1]:11434"),
    ],
)
def test_normalize_host_reads_hosts_as_ollama_does(given: str, expected: str) -> None:
    assert normalize_host(given) == expected
