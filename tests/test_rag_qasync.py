"""``RagService`` unchanged on the GUI's qasync loop: the loop keeps ticking while the question
is embedded and searched, and Stop (``task.cancel()``) closes the stream and keeps the text."""

from __future__ import annotations

import asyncio
import itertools
import time
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
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.005)

        async def full_answer() -> list[Any]:
            return [e async for e in rag.answer("Where do penguins breed?", collection="notes")]

        standin.set_answer("Emperor penguins breed in the Antarctic winter [1].")
        tick_task = asyncio.get_running_loop().create_task(ticker())
        events = run_coro(qtbot, full_answer())
        tick_task.cancel()
        done = events[-1]
        assert isinstance(done, AnswerDone) and [c.n for c in done.citations] == [1]
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert gaps and max(gaps) < 0.25, max(gaps)  # the loop never blocked on embed/search

        standin.set_answer(answer)
        seen: list[Any] = []

        async def consume() -> None:
            async for event in rag.answer("Where do penguins breed?", collection="notes"):
                seen.append(event)

        task = asyncio.get_running_loop().create_task(consume())
        qtbot.waitUntil(lambda: sum(isinstance(e, TokenDelta) for e in seen) >= 5, timeout=10000)
        task.cancel()
        qtbot.waitUntil(task.done, timeout=5000)
        assert task.cancelled()
        assert standin.wait_for_disconnect(2.0)
        found = next(e for e in seen if isinstance(e, SourcesFound))
        saved = conversations.message(found.message_id)
        assert saved.state is MessageState.STOPPED and saved.text.startswith("w0 w1")
        run_coro(qtbot, rag.backend.aclose())
        conversations.close()
