"""``RagService`` unchanged on the GUI's qasync loop: the question is embedded and searched off the
loop's thread while the loop keeps ticking, and Stop (``task.cancel()``) closes the stream and
keeps the text. (How late the loop runs meanwhile is a figure for bench/ui_stall.py.)"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from qwen_desk.core.conversations import ConversationStore
from qwen_desk.core.llm import make_backend
from qwen_desk.core.rag import AnswerDone, RagService, SourcesFound
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import MessageState, TokenDelta
from tests.support.kb import EN_PAGES, shared_embedder
from tests.support.ollama_standin import OllamaStandIn
from tests.support.qt_async import async_loop, run_coro  # noqa: F401
from tests.support.rag_kb import add_document

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

WATCHED = {"embed_query", "search"}  # Embedder.embed_query, KnowledgeStore.search


@contextmanager
def calls_on_this_thread(names: set[str]) -> Iterator[list[str]]:
    """Record every call, on this thread, of a ``qwen_desk`` function named in ``names`` (the
    interpreter's profile hook: the real code runs, nothing is replaced)."""
    seen: list[str] = []

    def hook(frame: Any, event: str, arg: Any) -> None:
        code = frame.f_code
        if event == "call" and code.co_name in names and "qwen_desk" in code.co_filename:
            seen.append(code.co_name)

    old: Callable[..., Any] | None = sys.getprofile()
    sys.setprofile(hook)
    try:
        yield seen
    finally:
        sys.setprofile(old)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    from qwen_desk.core.store import KnowledgeStore

    embedder = shared_embedder()
    kb = KnowledgeStore(tmp_path / "kb", embed_model_id=embedder.model_id, dim=embedder.dim)
    add_document(kb, embedder, "notes", "/docs/nature.pdf", EN_PAGES)
    kb.maintain()
    yield kb
    kb.close()


def test_answer_and_stop_on_the_qasync_loop(qtbot: Any, async_loop: Any, store: Any) -> None:  # noqa: F811
    answer = " ".join(f"w{i}" for i in range(300)) + " [1]."
    with OllamaStandIn(tokens_per_second=60, answer=answer) as standin:
        settings = Settings().replace(ollama_host=standin.url)
        conversations = ConversationStore()
        rag = RagService(store, shared_embedder(), make_backend(settings), settings, conversations)
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.time())  # the clock of the stand-in's records
                await asyncio.sleep(0.005)

        async def full_answer() -> list[Any]:
            return [e async for e in rag.answer("Where do penguins breed?", collection="notes")]

        standin.set_answer("Emperor penguins breed in the Antarctic winter [1].")
        tick_task = asyncio.get_running_loop().create_task(ticker())
        with calls_on_this_thread(WATCHED) as on_the_loop:
            events = run_coro(qtbot, full_answer())
        tick_task.cancel()
        done = events[-1]
        assert isinstance(done, AnswerDone) and [c.n for c in done.citations] == [1]
        assert done.citations[0].path == "/docs/nature.pdf"  # it did embed and search...
        assert on_the_loop == []  # ...but not on the loop's thread
        asked = standin.last_request("/api/chat").time
        assert sum(t < asked for t in ticks) >= 2  # the loop kept running meanwhile

        standin.set_answer(answer)
        seen: list[Any] = []

        async def consume() -> None:
            async for event in rag.answer("Where do penguins breed?", collection="notes"):
                seen.append(event)

        task = asyncio.get_running_loop().create_task(consume())
        qtbot.waitUntil(lambda: sum(isinstance(e, TokenDelta) for e in seen) >= 5, timeout=60_000)
        task.cancel()
        qtbot.waitUntil(task.done, timeout=60_000)  # hang guards: these take well under 1 s
        assert task.cancelled()
        assert standin.wait_for_disconnect(30)
        found = next(e for e in seen if isinstance(e, SourcesFound))
        saved = conversations.message(found.message_id)
        assert saved.state is MessageState.STOPPED and saved.text.startswith("w0 w1")
        run_coro(qtbot, rag.backend.aclose())
        conversations.close()
