"""RAG end to end: real embedder, real LanceDB store, real SQLite, the Ollama stand-in over HTTP.

Covers citations mapped to stored chunks, invented markers dropped, "not in your documents",
general chat, history re-sent as stored (prefix stability), Stop (cancel) and a daemon that dies
mid-answer, each checked in the conversation store and in what the stand-in received.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from qwen_desk.core.conversations import ConversationStore
from qwen_desk.core.errors import ModelNotFound, StreamInterrupted
from qwen_desk.core.llm import make_backend
from qwen_desk.core.prompts import NO_DOCUMENTS, NOT_IN_DOCUMENTS, system_prompt
from qwen_desk.core.rag import AnswerDone, RagService, SourcesFound
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import WITHOUT_DOCUMENTS, MessageState, TokenDelta
from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS, shared_embedder
from tests.support.ollama_standin import OllamaStandIn
from tests.support.rag_kb import IndexedDocument, add_document

pytestmark = pytest.mark.timeout(300)

COLLECTION = "notes"


@pytest.fixture(scope="module")
def embedder() -> Any:
    return shared_embedder()


@pytest.fixture(scope="module")
def store(embedder: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One knowledge base for the module: the tests only read it."""
    from qwen_desk.core.store import KnowledgeStore

    root = tmp_path_factory.mktemp("kb")
    kb = KnowledgeStore(root, embed_model_id=embedder.model_id, dim=embedder.dim)
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def documents(store: Any, embedder: Any) -> dict[str, IndexedDocument]:
    en = add_document(store, embedder, COLLECTION, "/docs/nature.pdf", EN_PAGES, title="Nature")
    zh = add_document(
        store, embedder, COLLECTION, "/docs/中国.md", ["\n\n".join(ZH_PARAGRAPHS)], title="中国"
    )
    store.maintain()
    return {"en": en, "zh": zh}


@pytest.fixture
def standin() -> Iterator[OllamaStandIn]:
    with OllamaStandIn(models=["qwen2.5:7b"], tokens_per_second=2000) as server:
        yield server


@pytest.fixture
def conversations() -> Iterator[ConversationStore]:
    store = ConversationStore()
    yield store
    store.close()


def _service(store: Any, embedder: Any, standin: OllamaStandIn, conversations: Any,
             **settings: Any) -> RagService:  # fmt: skip
    cfg = Settings().replace(ollama_host=standin.url, **settings)
    return RagService(store, embedder, make_backend(cfg), cfg, conversations)


def _run(rag: RagService, question: str, *, times: int = 1, **kwargs: Any) -> list[Any]:
    """Answer ``question`` (``times`` times, on one event loop); the events of the last run."""

    async def collect() -> list[Any]:
        try:
            for _ in range(times):
                events = [event async for event in rag.answer(question, **kwargs)]
            return events
        finally:
            await rag.backend.aclose()

    return asyncio.run(collect())


def test_answer_cites_real_chunks_and_is_saved(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    rag = _service(store, embedder, standin, conversations)
    question = "How long does the male emperor penguin keep the egg warm?"
    events = _run(rag, question, collection=COLLECTION)
    found = events[0]
    assert isinstance(found, SourcesFound) and found.hits
    assert found.hits[0].path == "/docs/nature.pdf" and found.hits[0].page == 1
    assert any(isinstance(e, TokenDelta) for e in events)
    done = events[-1]
    assert isinstance(done, AnswerDone) and not done.not_in_documents
    assert done.citations and done.dropped_citations == 0
    # every citation is a real stored chunk with its exact place in the document
    doc = documents["en"]
    by_id = {c.chunk_id: c for c in store.get_chunks([c.chunk_id for c in done.citations])}
    for citation in done.citations:
        assert citation.chunk_id in by_id
        assert citation.text == by_id[citation.chunk_id].text
        assert citation.path == found.hits[citation.n - 1].path
        if citation.doc_id == doc.record.doc_id:
            assert doc.text[citation.char_start : citation.char_end] == citation.text
            assert citation.rects
    assert done.citations[0].n == 1 and "penguin" in done.citations[0].text.lower()
    # what the daemon received: fixed system prompt, numbered sources + question last
    body = standin.last_request("/api/chat").body
    assert body["messages"][0] == {"role": "system", "content": system_prompt("en")}
    last = body["messages"][-1]["content"]
    assert last.startswith("Sources:\n\n[1] (nature.pdf, p. 1)\n")
    assert last.endswith(f"Question: {question}")
    assert body["options"]["num_ctx"] == 8192 and body["truncate"] is False
    # saved: the question without sources, the answer with citations and stats
    user, answer = conversations.messages(done.conversation_id)
    assert user.text == question and user.role == "user"
    assert answer.id == done.message_id and answer.state is MessageState.DONE
    assert answer.text == done.text and answer.citations == done.citations
    assert answer.stats["eval_tokens"] > 0 and answer.model == "qwen2.5:7b"
    assert conversations.get(done.conversation_id).collection == COLLECTION


def test_invented_citation_is_dropped_and_counted(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    standin.set_answer("The male keeps the egg warm for two months [1]. Penguins fly [9].")
    rag = _service(store, embedder, standin, conversations)
    events = _run(rag, "How long does the male penguin keep the egg warm?", collection=COLLECTION)
    done = events[-1]
    assert isinstance(done, AnswerDone)
    assert done.dropped_citations == 1
    assert done.text == "The male keeps the egg warm for two months [1]. Penguins fly."
    assert [c.n for c in done.citations] == [1]
    streamed = "".join(e.text for e in events if isinstance(e, TokenDelta))
    assert "[9]" in streamed  # the stream showed it; the saved answer does not
    assert conversations.message(done.message_id).text == done.text


@pytest.mark.parametrize(
    ("question", "language"),
    [("What is the capital of Peru?", "en"), ("秘鲁的首都是哪里？", "zh")],
)
def test_unrelated_question_gets_not_in_documents_without_calling_the_model(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument], question: str, language: str,
) -> None:  # fmt: skip
    rag = _service(store, embedder, standin, conversations)
    events = _run(rag, question, collection=COLLECTION)
    assert isinstance(events[0], SourcesFound) and events[0].hits == []
    done = events[-1]
    assert isinstance(done, AnswerDone) and done.not_in_documents
    assert done.text == NOT_IN_DOCUMENTS[language] and done.citations == []
    assert standin.requests_for("/api/chat") == []
    saved = conversations.message(done.message_id)
    assert saved.state is MessageState.DONE and saved.text == done.text


@pytest.mark.parametrize(
    ("question", "language"),
    [("How long does the male penguin keep the egg warm?", "en"), ("企鹅吃什么？", "zh")],
)
def test_empty_knowledge_base_says_so_then_answers_without_documents_on_request(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument], question: str, language: str,
) -> None:  # fmt: skip
    # "default" holds no document (the module's documents are in "notes"): a question that
    # "notes" could answer gets the "no documents yet" outcome, not "not in your documents"
    assert not store.has_documents("default") and store.has_documents(COLLECTION)
    rag = _service(store, embedder, standin, conversations)
    events = _run(rag, question, collection="default")
    assert isinstance(events[0], SourcesFound) and events[0].hits == []
    empty = events[-1]
    assert isinstance(empty, AnswerDone)
    assert empty.no_documents and not empty.not_in_documents and not empty.without_documents
    assert empty.text == NO_DOCUMENTS[language] and empty.citations == []
    assert standin.requests_for("/api/chat") == []
    saved = conversations.message(empty.message_id)
    assert saved.state is MessageState.DONE and saved.text == empty.text
    assert saved.stats["done_reason"] == "no_documents"
    # the user chose "ask without documents": the model answers, with no sources, marked so;
    # the fixed reply is not re-sent to it as history
    rag = _service(store, embedder, standin, conversations)
    events = _run(rag, question, conversation_id=empty.conversation_id, use_documents=False)
    plain = events[-1]
    assert isinstance(plain, AnswerDone) and plain.without_documents and not plain.no_documents
    assert plain.citations == [] and plain.text and plain.text != NO_DOCUMENTS[language]
    assert standin.last_request("/api/chat").body["messages"] == [
        {"role": "system", "content": system_prompt(language, documents=False)},
        {"role": "user", "content": question},
    ]
    assert conversations.message(plain.message_id).stats[WITHOUT_DOCUMENTS] is True
    assert conversations.get(empty.conversation_id).collection == "default"


def test_chinese_question_finds_chinese_passage(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    rag = _service(store, embedder, standin, conversations)
    events = _run(rag, "大熊猫每天吃多少竹子？", collection=COLLECTION)
    done = events[-1]
    assert isinstance(done, AnswerDone) and not done.not_in_documents
    assert done.citations and done.citations[0].doc_id == documents["zh"].record.doc_id
    body = standin.last_request("/api/chat").body
    assert body["messages"][0]["content"] == system_prompt("zh")
    assert body["messages"][-1]["content"].startswith("资料：\n\n[1] (中国.md, p. 1)\n")


def test_traditional_question_finds_simplified_passage(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    """Search and the relevance filter both fold Traditional to Simplified; the passage given to
    the model is the stored text, as written."""
    rag = _service(store, embedder, standin, conversations)
    events = _run(rag, "大熊貓進食要花幾個小時？", collection=COLLECTION)
    done = events[-1]
    assert isinstance(done, AnswerDone) and not done.not_in_documents
    assert done.citations and done.citations[0].doc_id == documents["zh"].record.doc_id
    sources = next(e for e in events if isinstance(e, SourcesFound))
    assert ZH_PARAGRAPHS[1] in sources.hits[0].text  # Simplified, as stored
    assert "大熊猫每天" in standin.last_request("/api/chat").body["messages"][-1]["content"]


def test_general_chat_and_follow_up_resend_history_as_stored(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    rag = _service(store, embedder, standin, conversations)
    first = _run(rag, "Tell me a fact about penguins.", collection=None)[-1]
    assert isinstance(first, AnswerDone) and first.citations == []
    body1 = standin.last_request("/api/chat").body
    assert body1["messages"] == [
        {"role": "system", "content": system_prompt("en", documents=False)},
        {"role": "user", "content": "Tell me a fact about penguins."},
    ]
    rag = _service(store, embedder, standin, conversations)
    second = _run(rag, "And about rivers?", conversation_id=first.conversation_id)[-1]
    body2 = standin.last_request("/api/chat").body
    assert body2["messages"][:2] == body1["messages"]  # identical prefix
    assert body2["messages"][2] == {"role": "assistant", "content": first.text}
    assert body2["messages"][3] == {"role": "user", "content": "And about rivers?"}
    assert second.conversation_id == first.conversation_id
    assert conversations.get(first.conversation_id).collection is None


def test_follow_up_in_a_collection_keeps_prefix_and_drops_old_sources(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    rag = _service(store, embedder, standin, conversations)
    q1, q2 = "Where do emperor penguins breed?", "What does chlorophyll absorb?"
    first = _run(rag, q1, collection=COLLECTION)[-1]
    body1 = standin.last_request("/api/chat").body
    rag = _service(store, embedder, standin, conversations)
    _run(rag, q2, conversation_id=first.conversation_id)
    body2 = standin.last_request("/api/chat").body
    assert body2["messages"][0] == body1["messages"][0]
    assert body2["messages"][1] == {"role": "user", "content": q1}  # stored without sources
    assert body2["messages"][2] == {"role": "assistant", "content": first.text}
    assert body2["messages"][3]["content"].endswith(f"Question: {q2}")


def test_cancel_mid_stream_keeps_partial_answer_as_stopped(
    store: Any, embedder: Any, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    # a minute at 40 tokens/s; the partial text cites source 1 (full-width brackets)
    answer = "word0 word1 【1】 " + " ".join(f"word{i}" for i in range(2, 2400)) + " [2]."
    with OllamaStandIn(tokens_per_second=40, answer=answer) as slow:
        rag = _service(store, embedder, slow, conversations)
        seen: list[Any] = []

        async def consume() -> None:
            async for event in rag.answer("Where do penguins breed?", collection=COLLECTION):
                seen.append(event)

        async def main() -> None:
            task = asyncio.create_task(consume())
            while sum(isinstance(e, TokenDelta) for e in seen) < 10:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await rag.backend.aclose()

        asyncio.run(main())
        assert slow.wait_for_disconnect(30)  # a hang guard: it comes in ~0.1 s
        assert slow.disconnects[-1].tokens_sent < 2400
    found = next(e for e in seen if isinstance(e, SourcesFound))
    saved = conversations.message(found.message_id)
    assert saved.state is MessageState.STOPPED
    streamed = "".join(e.text for e in seen if isinstance(e, TokenDelta))
    assert saved.text == streamed and saved.text.startswith("word0 word1")
    assert not any(isinstance(e, AnswerDone) for e in seen)
    # the sources the partial text cites are kept with it (chips and export still name them)
    assert [(c.n, c.chunk_id) for c in saved.citations] == [(1, found.hits[0].chunk_id)]


def test_daemon_dying_mid_answer_keeps_partial_text_as_failed(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    standin.set_answer(" ".join(f"part{i}" for i in range(50)))
    standin.drop_connection_after(8)
    rag = _service(store, embedder, standin, conversations)
    seen: list[Any] = []

    async def main() -> None:
        try:
            async for event in rag.answer("Where do penguins breed?", collection=COLLECTION):
                seen.append(event)
        finally:
            await rag.backend.aclose()

    with pytest.raises(StreamInterrupted):
        asyncio.run(main())
    found = next(e for e in seen if isinstance(e, SourcesFound))
    saved = conversations.message(found.message_id)
    assert saved.state is MessageState.FAILED and saved.error_code == "stream_interrupted"
    assert saved.text.startswith("part0 part1") and "part20" not in saved.text
    # a failed answer is not history for the next question
    assert conversations.history(found.conversation_id) == []


def test_missing_model_fails_with_model_not_found(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    rag = _service(store, embedder, standin, conversations, model="qwen2.5:72b")
    with pytest.raises(ModelNotFound):
        _run(rag, "Where do penguins breed?", collection=COLLECTION)
    [conversation] = conversations.list()
    user, answer = conversations.messages(conversation.id)
    assert user.text == "Where do penguins breed?"  # the question was saved first
    assert answer.state is MessageState.FAILED and answer.error_code == "model_not_found"


def test_num_ctx_is_capped_by_the_model(
    store: Any, embedder: Any, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    from tests.support.ollama_standin import StandInModel

    with OllamaStandIn(models=[StandInModel("tiny:1b", context_length=4096)]) as server:
        rag = _service(store, embedder, server, conversations, model="tiny:1b", num_ctx=16384)
        _run(rag, "Where do penguins breed?", collection=COLLECTION, times=2)
        assert server.last_request("/api/chat").body["options"]["num_ctx"] == 4096
        assert len(server.requests_for("/api/show")) == 1  # asked once, then cached


def test_follow_up_without_its_own_keywords_is_searched_with_the_previous_question(
    store: Any, embedder: Any, standin: OllamaStandIn, conversations: ConversationStore,
    documents: dict[str, IndexedDocument],
) -> None:  # fmt: skip
    rag = _service(store, embedder, standin, conversations)
    follow_up = "What does the female do meanwhile?"
    assert asyncio.run(rag.retrieve(follow_up, COLLECTION)) == []  # alone: nothing relevant
    first = _run(rag, "How long does the male emperor penguin keep the egg warm?",
                 collection=COLLECTION)[-1]  # fmt: skip
    rag = _service(store, embedder, standin, conversations)
    done = _run(rag, follow_up, conversation_id=first.conversation_id)[-1]
    assert isinstance(done, AnswerDone) and not done.not_in_documents
    assert "female returns to the sea" in done.sources[0].text
    body = standin.last_request("/api/chat").body
    assert body["messages"][-1]["content"].endswith(f"Question: {follow_up}")
