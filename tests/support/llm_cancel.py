"""Test support: cancel a streaming answer half-way and see what the stand-in daemon saw.

Shared by the back-end tests (which check *that* the connection closes before the answer ends)
and ``bench/llm_stream.py`` (which reports *how soon*).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

from qwen_desk.core.llm import GenerationOptions
from qwen_desk.core.types import ChatMessage, TokenDelta
from tests.support.ollama_standin import Generation, OllamaStandIn

HANG_GUARD_S = 60.0  # far above the ~0.1 s it takes; only a hang reaches it


async def cancel_mid_answer(
    backend: Any,
    server: OllamaStandIn,
    messages: Sequence[ChatMessage],
    model: str,
    *,
    after_deltas: int = 3,
) -> tuple[Generation | None, float, list[Any]]:
    """Consume ``backend.chat`` in a task, cancel the task after ``after_deltas`` deltas.

    Returns the stand-in's record of the stream once it saw the client leave (None if it never
    did within the hang guard), the seconds from ``task.cancel()`` to that moment, and the events
    the task got. Polls on the running loop, so it works under asyncio and qasync alike.
    """
    got: list[Any] = []

    async def consume() -> None:
        async for event in backend.chat(list(messages), model=model, options=GenerationOptions()):
            got.append(event)

    task = asyncio.get_running_loop().create_task(consume())
    deadline = time.monotonic() + HANG_GUARD_S
    while len(got) < after_deltas and not task.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    cancelled_at = time.monotonic()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    while not server.disconnects and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    gone = server.disconnects[0] if server.disconnects else None
    latency = (gone.ended - cancelled_at) if gone is not None and gone.ended else float("nan")
    return gone, latency, got


def long_answer(words: int = 6000) -> str:
    """An answer that takes a minute at 100 tokens/s: a test never sees it end by itself."""
    return "word " * words


def only_deltas(events: list[Any]) -> bool:
    return all(isinstance(e, TokenDelta) for e in events)
