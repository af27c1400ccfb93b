"""A tiny real chat against the user's Ollama daemon (``OLLAMA_HOST``); skipped when none answers.

Picks ``OLLAMA_TEST_MODEL``, else qwen2.5:7b when installed, else the smallest installed model.
"""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from qwen_desk.core.llm import GenerationOptions
from qwen_desk.core.llm.ollama_backend import OllamaBackend, normalize_host
from qwen_desk.core.types import ChatMessage, StreamStats, TokenDelta

pytestmark = pytest.mark.ollama


@pytest.fixture(scope="module")
def host() -> str:
    url = normalize_host(os.environ.get("OLLAMA_HOST", ""))
    try:
        httpx.get(url + "/api/version", timeout=1.0).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.skip(f"no Ollama daemon answers at {url} ({type(exc).__name__})")
    return url


def test_tiny_real_chat(host: str) -> None:
    async def go() -> tuple[str, StreamStats, int | None]:
        backend = OllamaBackend(host, request_timeout_s=120)
        try:
            models = await backend.list_models()
            if not models:
                pytest.skip("the daemon has no model installed")
            names = [m.name for m in models]
            model = os.environ.get("OLLAMA_TEST_MODEL") or (
                "qwen2.5:7b" if "qwen2.5:7b" in names else min(models, key=lambda m: m.size).name
            )
            info = await backend.show(model)
            options = GenerationOptions(num_ctx=2048, num_predict=8, temperature=0.0, seed=1)
            pieces: list[str] = []
            stats: list[StreamStats] = []
            messages = [ChatMessage("user", "Reply with the single word: ok")]
            async for event in backend.chat(messages, model=model, options=options):
                if isinstance(event, TokenDelta):
                    pieces.append(event.text)
                else:
                    stats.append(event)
            assert len(stats) == 1
            loaded = await backend.loaded_models()
            ctx = next((m.context_length for m in loaded if m.name == model), None)
            assert info.context_length is None or info.context_length >= 2048
            return "".join(pieces), stats[0], ctx
        finally:
            await backend.aclose()

    text, stats, ctx = asyncio.run(go())
    assert text.strip()
    assert stats.done_reason in ("stop", "length")
    assert 0 < stats.eval_tokens <= 8
    assert stats.ttft_s is not None and stats.tokens_per_s and stats.tokens_per_s > 0
    assert ctx in (None, 2048)  # older daemons do not report context_length in /api/ps
