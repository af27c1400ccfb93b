"""The stand-in daemon speaks Ollama's (and OpenAI's) HTTP API as the real servers do, and the
real ``ollama`` client behaves against it as FACTS.md says it does against the real daemon."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import ollama
import pytest

from qwen_desk.core.prompts import user_message
from qwen_desk.core.types import Hit
from tests.support.ollama_standin import OllamaStandIn, StandInModel, free_port
from tests.support.standin_answers import (
    approx_tokens,
    default_answer,
    find_sources,
    split_pieces,
)

MODEL = "qwen2.5:7b"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def server() -> Iterator[OllamaStandIn]:
    with OllamaStandIn(models=[MODEL], tokens_per_second=3000) as s:
        yield s


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def chat_body(content: str = "Hello?", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], **extra}


# --- plain endpoints ---------------------------------------------------------------------------


def test_information_endpoints(server: OllamaStandIn) -> None:
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/").text == "Ollama is running"
        assert http.get("/api/version").json()["version"]
        tags = http.get("/api/tags").json()["models"]
        assert tags[0]["name"] == MODEL and tags[0]["details"]["quantization_level"] == "Q4_K_M"
        show = http.post("/api/show", json={"model": MODEL}).json()
        assert show["model_info"]["qwen2.context_length"] == 32768
        assert show["details"]["parameter_size"] == "7.6B" and show["details"]["family"] == "qwen2"
        missing = http.post("/api/show", json={"model": "nope"})
        assert missing.status_code == 404 and missing.json() == {"error": "model 'nope' not found"}
        assert http.get("/api/ps").json() == {"models": []}
        assert http.get("/api/nothing").status_code == 404


def test_chat_stream_is_ndjson_with_the_real_final_fields(server: OllamaStandIn) -> None:
    with httpx.Client(base_url=server.url) as http:
        response = http.post("/api/chat", json=chat_body(options={"num_ctx": 4096}))
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["transfer-encoding"] == "chunked"
    lines = ndjson(response)
    *pieces, final = lines
    assert all(p["done"] is False and p["message"]["role"] == "assistant" for p in pieces)
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"]["content"] == ""
    for key in (
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
    ):
        assert isinstance(final[key], int) and final[key] > 0, key
    assert final["eval_count"] == len(pieces)
    text = "".join(p["message"]["content"] for p in pieces)
    assert text == "This is the stand-in's answer to: Hello?."


def test_chat_without_stream_and_generate(server: OllamaStandIn) -> None:
    with httpx.Client(base_url=server.url) as http:
        one = http.post("/api/chat", json=chat_body(stream=False)).json()
        gen = ndjson(http.post("/api/generate", json={"model": MODEL, "prompt": "Hi there"}))
    assert one["done"] is True and one["message"]["content"].startswith("This is the stand-in")
    assert "".join(g["response"] for g in gen[:-1]).startswith("This is the stand-in")
    assert gen[-1]["done_reason"] == "stop" and "context" in gen[-1]


def test_pace_ttft_and_rate_are_never_faster_than_asked_at_300_tokens_per_second() -> None:
    """Lower bounds only (a busy machine is late, never early): the first token waits for
    ``ttft_s`` and the pieces come spread over the time the pace asks for. How close to the pace
    the stand-in keeps is measured by bench/llm_stream.py."""
    answer = " ".join(["token"] * 300)
    with OllamaStandIn(tokens_per_second=300, ttft_s=0.1, answer=answer) as s:
        stamps: list[float] = []
        with httpx.Client(base_url=s.url) as http:
            started = time.perf_counter()
            with http.stream("POST", "/api/chat", json=chat_body()) as response:
                for line in response.iter_lines():
                    if line and not json.loads(line)["done"]:
                        stamps.append(time.perf_counter())
                    last = json.loads(line) if line else None
    assert last is not None and last["eval_count"] == 300 and len(stamps) == 300
    assert stamps[0] - started >= 0.09
    assert stamps[-1] - started >= 0.09 + 0.95 * 299 / 300  # paced, not one burst
    assert len({round(t, 2) for t in stamps}) > 3  # arrived in chunks spread over time
    assert 0 < last["eval_count"] / last["eval_duration"] * 1e9 <= 301


def test_num_predict_load_and_keep_alive(server: OllamaStandIn) -> None:
    with httpx.Client(base_url=server.url) as http:
        lines = ndjson(http.post("/api/chat", json=chat_body(options={"num_predict": 3})))
        assert lines[-1]["done_reason"] == "length" and lines[-1]["eval_count"] == 3
        load = http.post(
            "/api/chat",
            json={
                "model": MODEL,
                "messages": [],
                "keep_alive": "10m",
                "options": {"num_ctx": 8192},
            },
        )
        assert load.headers["content-type"].startswith("application/json")
        assert load.json()["done_reason"] == "load" and load.json()["done"] is True
        ps = http.get("/api/ps").json()["models"]
        assert ps[0]["context_length"] == 8192 and ps[0]["size_vram"] == ps[0]["size"]
        left = datetime.fromisoformat(ps[0]["expires_at"]) - datetime.now(timezone.utc)
        assert 9 * 60 < left.total_seconds() <= 600
        assert server.load_count == 2  # 4096 (no num_ctx) then 8192: a reload
        http.post("/api/chat", json={"model": MODEL, "messages": [], "keep_alive": 0})
        assert http.get("/api/ps").json()["models"] == []
        http.post("/api/chat", json={"model": MODEL, "messages": [], "keep_alive": -1})
        assert http.get("/api/ps").json()["models"][0]["expires_at"].startswith("2318")


def test_truncate_false_over_num_ctx_is_400(server: OllamaStandIn) -> None:
    long = "word " * 1000  # ~1,250 tokens by the stand-in's count
    assert approx_tokens(long) == 1250
    assert approx_tokens("中文字") == 3
    with httpx.Client(base_url=server.url) as http:
        refused = http.post(
            "/api/chat", json=chat_body(long, truncate=False, options={"num_ctx": 1024})
        )
        assert refused.status_code == 400
        assert "exceeds the available context size" in refused.json()["error"]
        silently = http.post("/api/chat", json=chat_body(long, options={"num_ctx": 1024}))
        assert silently.status_code == 200  # the daemon's default: truncate without telling


def test_bad_requests_are_400(server: OllamaStandIn) -> None:
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/api/chat", json={"messages": []}).json() == {
            "error": "model is required"
        }
        assert http.post("/api/chat", content=b"{oops").status_code == 400
        assert http.post("/api/pull", content=b"").status_code == 400
        assert http.get("/api/chat").status_code == 405
        openai = http.post("/v1/chat/completions", json={"messages": []})
        assert (
            openai.status_code == 400 and openai.json()["error"]["message"] == "model is required"
        )


def test_records_requests(server: OllamaStandIn) -> None:
    with httpx.Client(base_url=server.url) as http:
        http.post("/api/chat", json=chat_body(options={"temperature": 0.2}, keep_alive="5m"))
        http.get("/api/tags")
    rec = server.last_request("/api/chat")
    assert rec.method == "POST" and rec.body["options"] == {"temperature": 0.2}
    assert rec.body["keep_alive"] == "5m"
    assert [r.path for r in server.requests] == ["/api/chat", "/api/tags"]
    assert server.generations[0].outcome == "done"


# --- answers -----------------------------------------------------------------------------------


def hit(n: int, text: str) -> Hit:
    return Hit(
        chunk_id=f"c{n}",
        doc_id="d",
        collection="c",
        path=f"/docs/file{n}.pdf",
        title=f"File {n}",
        page=n,
        char_start=0,
        char_end=len(text),
        text=text,
        score=1.0,
    )


def test_echo_answer_cites_the_sources_of_the_real_prompt_format() -> None:
    sources = [hit(1, "The pump runs at 40 bar."), hit(2, "Valves are checked yearly.")]
    en = user_message("How fast is the pump?", sources, "en")
    answer = default_answer({"messages": [{"role": "user", "content": en}]})
    assert answer == (
        "Source 1 says: The pump runs at 40 bar [1]. Source 2 says: Valves are checked yearly [2]."
    )
    zh = user_message("泵的压力是多少？", [hit(1, "泵的工作压力为40巴。")], "zh")
    answer = default_answer({"messages": [{"role": "user", "content": zh}]})
    assert answer == "根据资料1，泵的工作压力为40巴 [1]。"


def test_echo_answer_is_tolerant_of_other_formats() -> None:
    text = (
        "Source [3]: Alpha beta.\n【4】 甲乙丙\nSource 5: Gamma\n"
        '<source id="6">Delta</source>\n### [7]\nEpsilon here\n\nWhat now?'
    )
    assert [n for n, _ in find_sources(text)] == [3, 4, 5, 6, 7]
    assert dict(find_sources(text))[7] == "Epsilon here"
    answer = default_answer({"messages": [{"role": "user", "content": text}]})
    assert answer.startswith("Source 3 says: Alpha beta [3].") and answer.endswith("[7].")
    plain = default_answer({"messages": [{"role": "user", "content": "你好，今天怎么样？"}]})
    assert plain.startswith("这是替身模型") and "[" not in plain


def test_pieces_are_about_one_token_and_lossless() -> None:
    text = "Hello, world! 你好世界。 ok\n\n- item [1].\tdone  "
    pieces = split_pieces(text)
    assert "".join(pieces) == text
    assert pieces[:4] == ["Hello", ",", " world", "!"]
    assert "你" in pieces and "。" in pieces


def test_scripted_answers(server: OllamaStandIn) -> None:
    server.set_answer(["first", "second"])
    with httpx.Client(base_url=server.url) as http:
        got = [
            http.post("/api/chat", json=chat_body(stream=False)).json()["message"]["content"]
            for _ in range(3)
        ]
        server.set_answer(lambda body: body["messages"][-1]["content"].upper())
        upper = http.post("/api/chat", json=chat_body("abc", stream=False)).json()
    assert got == ["first", "second", "second"]
    assert upper["message"]["content"] == "ABC"


# --- the real client against it: the facts our back-end relies on -----------------------------


def test_ollama_client_facts() -> None:
    async def go() -> None:
        down = ollama.AsyncClient(f"http://127.0.0.1:{free_port()}")
        assert down._client.timeout.read is None  # no timeout unless one is passed
        with pytest.raises(ConnectionError):  # non-streaming: the builtin ConnectionError
            await down.list()
        with pytest.raises(httpx.ConnectError):  # streaming: raw httpx, on the first iteration
            stream = await down.chat(MODEL, [{"role": "user", "content": "x"}], stream=True)
            async for _ in stream:
                pass
        with pytest.raises(TypeError):  # 0.6.3's chat() has no truncate parameter
            await down.chat(MODEL, [], truncate=False)  # type: ignore[call-overload]

        with OllamaStandIn(models=[MODEL], tokens_per_second=3000) as s:
            client = ollama.AsyncClient(s.url)
            with pytest.raises(ollama.ResponseError) as info:
                await client.chat("nope", [{"role": "user", "content": "x"}])
            assert info.value.status_code == 404 and info.value.error == "model 'nope' not found"
            s.break_stream_after(2, "boom")
            got = []
            with pytest.raises(ollama.ResponseError) as info:
                async for part in await client.chat(
                    MODEL, [{"role": "user", "content": "x"}], stream=True
                ):
                    got.append(part.message.content)
            assert info.value.status_code == -1 and info.value.error == "boom" and len(got) == 2
            s.drop_connection_after(2)
            with pytest.raises(httpx.RemoteProtocolError):
                async for _ in await client.chat(
                    MODEL, [{"role": "user", "content": "x"}], stream=True
                ):
                    pass
            s.drop_connection_after(2, reset=True)
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                async for _ in await client.chat(
                    MODEL, [{"role": "user", "content": "x"}], stream=True
                ):
                    pass
            with pytest.raises(ollama.ResponseError) as info:
                async for _ in await client.pull("nope:1b", stream=True):
                    pass
            assert info.value.status_code == -1  # 200 first, then an error line
            await client.close()
        await down.close()

    asyncio.run(go())


# --- failure injection --------------------------------------------------------------------------


def test_fail_stall_and_disconnect_detection(server: OllamaStandIn) -> None:
    server.fail_next_chat(503, "server busy")
    with httpx.Client(base_url=server.url) as http:
        busy = http.post("/api/chat", json=chat_body())
        assert busy.status_code == 503 and busy.json() == {"error": "server busy"}
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(0.3)) as http:
        server.stall_next(120.0)  # far beyond the timeout; it ends when the client leaves
        with pytest.raises(httpx.ReadTimeout):
            http.post("/api/chat", json=chat_body())
    server.set_answer(" ".join(["w"] * 12_000))  # a minute at 200 tokens/s
    server.tokens_per_second = 200
    with (
        httpx.Client(base_url=server.url) as http,
        http.stream("POST", "/api/chat", json=chat_body()) as response,
    ):
        lines = response.iter_lines()
        for _ in range(3):
            next(lines)
        closed_at = time.monotonic()
    assert server.wait_for_disconnect(30)  # a hang guard: it comes in a few ms
    gone = server.disconnects[-1]
    assert gone.ended is not None and gone.ended >= closed_at
    assert gone.outcome == "disconnected" and gone.tokens_sent < 12_000  # long before the end


def test_down_means_connection_refused(server: OllamaStandIn) -> None:
    url = server.url
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/version", timeout=30)
    server.start()  # back on the same port
    assert server.url == url
    assert httpx.get(url + "/api/version", timeout=30).status_code == 200


# --- pull, delete, embed ------------------------------------------------------------------------


def test_pull_stream_resume_and_errors() -> None:
    with (
        OllamaStandIn(models=[], registry={"m:1b": [3_000_000, 500]}, pull_bytes_per_s=20e6) as s,
        httpx.Client(base_url=s.url) as http,
    ):
        s.interrupt_next_pull(1_000_000)
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/api/pull", json={"model": "m:1b"})
        partial = max(s.downloaded.values())
        assert 0 < partial <= 1_000_000
        lines = ndjson(http.post("/api/pull", json={"model": "m:1b"}))
        assert lines[0] == {"status": "pulling manifest"}
        first = lines[1]
        assert first["completed"] == partial and first["total"] == 3_000_000
        assert (
            first["digest"].startswith("sha256:")
            and first["status"] == "pulling " + first["digest"][7:19]
        )
        assert [ln["status"] for ln in lines[-3:]] == [
            "verifying sha256 digest",
            "writing manifest",
            "success",
        ]
        assert http.get("/api/tags").json()["models"][0]["name"] == "m:1b"
        unknown = http.post("/api/pull", json={"model": "zz:9b"})
        assert unknown.status_code == 200
        assert ndjson(unknown) == [
            {"status": "pulling manifest"},
            {"error": "pull model manifest: file does not exist"},
        ]
        done = http.post("/api/pull", json={"model": "m:1b", "stream": False}).json()
        assert done == {"status": "success"}
        again = ndjson(http.post("/api/pull", json={"model": "m:1b"}))  # installed: no download
        assert again[1]["completed"] == again[1]["total"] == 3_000_000 and len(again) == 6
        assert http.request("DELETE", "/api/delete", json={"model": "m:1b"}).status_code == 200
        assert http.get("/api/tags").json()["models"] == []
        assert s.downloaded == {}
        gone = http.request("DELETE", "/api/delete", json={"model": "m:1b"})
        assert gone.status_code == 404


def test_embed_is_deterministic(server: OllamaStandIn) -> None:
    with httpx.Client(base_url=server.url) as http:
        a = http.post("/api/embed", json={"model": MODEL, "input": ["alpha", "beta"]}).json()
        b = http.post("/api/embed", json={"model": MODEL, "input": "alpha"}).json()
    assert len(a["embeddings"]) == 2 and len(a["embeddings"][0]) == 768
    assert a["embeddings"][0] == b["embeddings"][0] != a["embeddings"][1]
    assert abs(sum(v * v for v in b["embeddings"][0]) - 1) < 1e-9


# --- the OpenAI-compatible surface --------------------------------------------------------------


def sse(response: httpx.Response) -> list[Any]:
    events = []
    for line in response.text.splitlines():
        if line.startswith("data: "):
            data = line[6:]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def test_openai_surface() -> None:
    small = StandInModel("tiny", context_length=256)
    with (
        OllamaStandIn(models=[MODEL, small], tokens_per_second=3000) as s,
        httpx.Client(base_url=s.url + "/v1") as http,
    ):
        ids = [m["id"] for m in http.get("/models").json()["data"]]
        assert ids == [MODEL, "tiny"]
        streamed = http.post(
            "/chat/completions",
            json={
                "model": MODEL,
                "messages": [{"role": "user", "content": "Hi"}],
                "stream": True,
                "stream_options": {"include_usage": True},
                "max_tokens": 4,
            },
        )
        assert streamed.headers["content-type"] == "text/event-stream"
        events = sse(streamed)
        assert events[-1] == "[DONE]"
        usage = events[-2]
        assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 4
        assert events[-3]["choices"][0]["finish_reason"] == "length"
        text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-3])
        assert text == "This is the stand"
        whole = http.post(
            "/chat/completions",
            json={"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]},
        ).json()
        assert whole["object"] == "chat.completion"
        assert whole["choices"][0]["finish_reason"] == "stop"
        assert whole["usage"]["prompt_tokens"] > 0
        missing = http.post("/chat/completions", json={"model": "x", "messages": []})
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "model_not_found"
        over = http.post(
            "/chat/completions",
            json={"model": "tiny", "messages": [{"role": "user", "content": "word " * 400}]},
        )
        assert over.status_code == 400
        assert over.json()["error"]["code"] == "context_length_exceeded"


# --- command line -------------------------------------------------------------------------------


def start_on_its_own(
    port: int, *, sigint_ignored: bool = False, answer: str | None = None
) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "tests.support.ollama_standin",
        "--port",
        str(port),
        "--tokens-per-second",
        "500",
        "--ttft-ms",
        "10",
        *(["--answer", answer] if answer else []),
    ]
    if sigint_ignored:  # as a job started with `&` by a non-interactive shell (CI) inherits it
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)


def stop_on_its_own(proc: subprocess.Popen[str], signum: int) -> int | None:
    """Send ``signum``; the exit status, or None (and the process killed) if it did not exit."""
    proc.send_signal(signum)
    try:
        return proc.wait(timeout=30)  # a hang guard: it exits in ~0.1 s
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


@pytest.mark.parametrize(
    ("signum", "sigint_ignored"),
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, True)],
    ids=["sigint", "sigint-inherited-ignored", "sigterm"],
)
def test_runs_on_its_own(signum: int, sigint_ignored: bool) -> None:
    port = free_port()
    proc = start_on_its_own(port, sigint_ignored=sigint_ignored)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            assert http.get("/").text == "Ollama is running"
            done = http.post("/api/chat", json=chat_body(stream=False)).json()
            assert done["done"] is True
    finally:
        status = stop_on_its_own(proc, signum)
    assert status == 0


def test_stops_on_its_own_while_a_stream_is_open() -> None:
    """The signal ends the process even while an answer is streaming: the stream is cut."""
    port = free_port()
    proc = start_on_its_own(port, answer="word " * 5000)  # 10 s at 500 tokens/s
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"http://127.0.0.1:{port}"
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}") as http,
            http.stream("POST", "/api/chat", json=chat_body()) as response,
        ):
            lines = response.iter_lines()
            assert not json.loads(next(lines))["done"]
            status = stop_on_its_own(proc, signal.SIGINT)
            with pytest.raises(httpx.RemoteProtocolError):  # cut mid-body, as a dying daemon
                for _ in lines:
                    pass
    finally:
        if proc.poll() is None:
            status = stop_on_its_own(proc, signal.SIGKILL)
    assert status == 0
