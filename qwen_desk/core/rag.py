"""Core layer: ``RagService``, a question in, a cited answer streamed out and saved.

One call to ``answer`` does: persist the question -> embed it and search the conversation's
knowledge base (in a worker thread: both are blocking CPU/disk work) -> keep only relevant hits
-> lay out a budgeted, prefix-cache friendly prompt (``prompts``) -> stream from the back-end,
saving the text at least once a second (``StreamingSaver``) -> map ``[n]`` markers to passages,
drop invented ones, and persist the final answer. Events: ``SourcesFound``, then ``TokenDelta``
pieces, then ``AnswerDone``.

Nothing relevant in a knowledge base: the service answers with a fixed sentence in the question's
language (``prompts.NOT_IN_DOCUMENTS``) and does not call the model at all. A model asked with
no sources either refuses in its own words or, worse, answers from memory without citations;
the fixed reply is instant and cannot invent anything. (The model's facts are still asked
first, concurrently with the search, so a daemon that is down or a missing model is reported
the same way for every question.)
A knowledge base with no documents at all is a different case (``AnswerDone.no_documents``,
``done_reason`` ``no_documents``): the fixed reply (``prompts.NO_DOCUMENTS``) says so, and the
window offers to add files or to ask again with ``use_documents=False``. Such a reply is never
re-sent as history (``ConversationStore.history``): once files are added, the model must not read
"there are no documents" as its own earlier answer.
A conversation without a knowledge base (``collection=None``), or a question asked with
``use_documents=False``, is plain chat without sources; its answer is marked
``without_documents`` (in ``AnswerDone`` and in the saved stats).

Stop = ``task.cancel()`` on the task iterating ``answer``: the partial text is saved as
``stopped`` and ``CancelledError`` propagates (the back-end closes the HTTP stream, so the daemon
stops generating). Back-end errors save the partial text as ``failed`` with the error's code and
propagate. Either way the sources the partial text already cites are saved with it. Every wait
is ``await``-ed, so the service runs unchanged under qasync; the only synchronous work on the
loop thread is a few SQLite statements (well under a millisecond each).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from qwen_desk.core.citations import cited_numbers, parse_citations, strip_invented
from qwen_desk.core.conversations import ConversationStore, StreamingSaver
from qwen_desk.core.documents import running
from qwen_desk.core.documents.language import is_residue
from qwen_desk.core.errors import QwenDeskError
from qwen_desk.core.llm.base import GenerationOptions, effective_num_ctx
from qwen_desk.core.prompts import (
    Trimmed,
    build_prompt,
    detect_language,
    no_documents_reply,
    not_in_documents_reply,
)
from qwen_desk.core.settings import Settings
from qwen_desk.core.text_tokens import tokens
from qwen_desk.core.types import (
    NO_DOCUMENTS,
    NOT_IN_DOCUMENTS,
    WITHOUT_DOCUMENTS,
    Citation,
    ConversationRecord,
    Hit,
    MessageState,
    StreamStats,
    TokenDelta,
)

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "default"

# Relevance, calibrated by ``bench/relevance.py`` (CMRC2018 + HotpotQA passages and corpus files,
# the default all-MiniLM-L6-v2 embedder, k = 6): see ``RelevancePolicy``.
DEFAULT_MAX_VECTOR_DISTANCE = 0.55
DEFAULT_MIN_COVERAGE = 0.3
# The passage itself must hold this share of the question's tokens when its document's title and
# heading path bring the rest (a table row naming 营业收入 under a title naming the company).
DEFAULT_MIN_TEXT_COVERAGE = 0.1
# Embedders whose vectors carry no meaning for Chinese text (their id starts with one of these).
ENGLISH_ONLY_EMBEDDERS = ("all-MiniLM",)


def query_coverage(question_tokens: set[str], text: str) -> float:
    """Share of the question's search tokens (words, CJK bigrams) that occur in ``text``."""
    if not question_tokens:
        return 0.0
    return len(question_tokens & set(tokens(text))) / len(question_tokens)


def is_boilerplate_hit(hit: Hit, repeated: set[tuple[str, str]]) -> bool:
    """A passage that is chart residue, or a short text its document repeats on other pages."""
    key = running.normalise(hit.text)
    short = len(key) <= running.MAX_CHARS
    return is_residue(hit.text) or (short and (hit.doc_id, key) in repeated)


def drop_boilerplate(hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` without running headers, footers and page numbers stored as passages.

    A safety net for knowledge bases indexed before chunking left running text out: the same
    short text (digits blanked) on two or more pages of one document among the hits is running
    text, not an answer.
    """
    pages: dict[tuple[str, str], set[int]] = {}
    for hit in hits:
        pages.setdefault((hit.doc_id, running.normalise(hit.text)), set()).add(hit.page)
    repeated = {key for key, seen in pages.items() if len(seen) >= 2}
    return [hit for hit in hits if not is_boilerplate_hit(hit, repeated)]


@dataclass(frozen=True)
class RelevancePolicy:
    """Which search hits may be shown to the model as sources.

    Measured (``bench/relevance.py``, 134 questions): for English questions the cosine distance
    of the vector leg separates cleanly: answerable questions' gold passages at <= 0.47 (9 in 10;
    one at 0.64), unanswerable and unrelated questions never under 0.57; distance <= 0.55 keeps
    30/31 gold passages and rejects 21/21. Full-text scores do not separate English (stop words
    match everywhere). For Chinese questions the default English-only embedder's distances are
    noise (unrelated "秘鲁的首都是哪里？" at 0.23, closer than most real matches), so only the
    lexical leg counts: the share of the question's tokens (CJK bigrams) found in the passage,
    >= 0.3, keeps 47/63 gold passages and rejects 14/19 unanswerable and 4/4 unrelated
    questions (0.25 would keep 53/63 and reject 11/19). Coverage, unlike BM25, does not depend on
    the size of the knowledge base.
    """

    max_vector_distance: float = DEFAULT_MAX_VECTOR_DISTANCE
    min_coverage: float = DEFAULT_MIN_COVERAGE
    min_text_coverage: float = DEFAULT_MIN_TEXT_COVERAGE
    vector_for_cjk: bool = False  # True for a multilingual embedder

    @classmethod
    def for_setup(cls, settings: Settings, embedder: Any) -> RelevancePolicy:
        """The calibrated defaults; ``relevance_threshold`` (0 < t <= 1) sets the minimum cosine
        similarity of the vector leg instead."""
        model_id = str(getattr(embedder, "model_id", "") or "")
        multilingual = bool(model_id) and not model_id.startswith(ENGLISH_ONLY_EMBEDDERS)
        threshold = settings.relevance_threshold
        max_distance = DEFAULT_MAX_VECTOR_DISTANCE
        if threshold and 0.0 < threshold <= 1.0:
            max_distance = 1.0 - threshold
        return cls(max_vector_distance=max_distance, vector_for_cjk=multilingual)

    def is_relevant(self, hit: Hit, *, cjk: bool, question_tokens: set[str]) -> bool:
        distance = hit.vector_distance
        close = distance is not None and distance <= self.max_vector_distance
        if close and (self.vector_for_cjk or not cjk):
            return True
        if not cjk:
            return False
        own = query_coverage(question_tokens, hit.text)
        if own >= self.min_coverage:
            return True
        # The passage in its context: a question naming the document and the item it asks for
        context = f"{hit.title}\n{hit.heading}\n{hit.text}"
        return (
            own >= self.min_text_coverage
            and query_coverage(question_tokens, context) >= self.min_coverage
        )

    def filter(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        """The relevant ``hits``, in their order."""
        cjk = detect_language(question) == "zh"
        wanted = set(tokens(question))
        return [h for h in hits if self.is_relevant(h, cjk=cjk, question_tokens=wanted)]


# --- events -------------------------------------------------------------------------------


@dataclass
class SourcesFound:
    """The passages given to the model, numbered [1].. in this order (empty: none relevant)."""

    hits: list[Hit]
    trimmed: Trimmed
    conversation_id: int = 0
    message_id: int = 0  # the assistant message being written
    no_documents: bool = False  # the knowledge base holds none: the fixed reply follows


@dataclass
class AnswerDone:
    """The answer as saved: final text, citations mapped to passages, statistics."""

    message_id: int
    conversation_id: int
    text: str
    citations: list[Citation]
    stats: StreamStats
    trimmed: Trimmed
    dropped_citations: int = 0  # distinct [n] numbers that named no source (removed)
    not_in_documents: bool = False  # nothing relevant retrieved: the fixed reply
    sources: list[Hit] = field(default_factory=list)
    no_documents: bool = False  # the knowledge base holds no documents: the fixed reply
    without_documents: bool = False  # the model answered without any documents (plain chat)

    def stats_json(self) -> dict[str, Any]:
        """The statistics as saved with the message: what the answer was made from included."""
        stats = self.stats.to_json()
        if self.no_documents:
            stats["done_reason"] = NO_DOCUMENTS
        elif self.not_in_documents:
            stats["done_reason"] = NOT_IN_DOCUMENTS
        if self.without_documents:
            stats[WITHOUT_DOCUMENTS] = True
        return stats


RagEvent = SourcesFound | TokenDelta | AnswerDone


def _retrieve_exception(task: asyncio.Future[Any]) -> None:
    """Mark a background task's exception as seen (it is re-raised where it is awaited)."""
    if not task.cancelled():
        task.exception()


def citation_from_hit(n: int, hit: Hit) -> Citation:
    return Citation(
        n=n,
        chunk_id=hit.chunk_id,
        doc_id=hit.doc_id,
        path=hit.path,
        title=hit.title,
        page=hit.page,
        char_start=hit.char_start,
        char_end=hit.char_end,
        text=hit.text,
        rects=list(hit.rects),
        collection=hit.collection,
    )


def partial_citations(text: str, sources: Sequence[Hit]) -> list[Citation] | None:
    """The sources a stopped or failed answer's partial text cites (kept as streamed: nothing
    is removed), so its chips and its export still name them; None without sources."""
    if not sources:
        return None
    return [citation_from_hit(n, sources[n - 1]) for n in cited_numbers(text, len(sources))]


def map_citations(text: str, sources: Sequence[Hit]) -> tuple[str, list[Citation], int]:
    """(text without invented markers, citations in order of first use, invented count)."""
    cleaned, dropped = strip_invented(text, len(sources))
    used, _ = parse_citations(cleaned, len(sources))
    return cleaned, [citation_from_hit(n, sources[n - 1]) for n in used], dropped


class RagService:
    """Answers questions from a knowledge base, streaming and saving as it goes."""

    def __init__(
        self,
        store: Any,
        embedder: Any,
        backend: Any,
        settings: Settings,
        conversations: ConversationStore,
        *,
        relevance: RelevancePolicy | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.backend = backend
        self.settings = settings
        self.conversations = conversations
        self._relevance = relevance
        self._context_lengths: dict[str, int | None] = {}
        self.last_timings: dict[str, float] = {}

    # --- pieces -------------------------------------------------------------------------------

    def has_documents(self, collection: str) -> bool:
        """Whether ``collection`` holds any searchable document (blocking: call off the loop)."""
        return bool(self.store.has_documents(collection))

    def _search(self, question: str, collection: str, k: int) -> list[Hit]:
        """The top ``k`` hybrid hits that are not boilerplate (``drop_boilerplate``)."""
        vector = self.embedder.embed_query(question)
        hits = self.store.search(question, vector, collection=collection, k=k, mode="hybrid")
        kept = drop_boilerplate(hits)
        if len(kept) < len(hits):  # an index holding running text: look further down
            more = self.store.search(
                question, vector, collection=collection, k=3 * k, mode="hybrid"
            )
            kept = drop_boilerplate(more)[:k]
        return kept

    async def retrieve(
        self, question: str, collection: str, *, previous_question: str | None = None
    ) -> list[Hit]:
        """The relevant passages for ``question``, best first (searches in a worker thread).

        A follow-up ("and what does the female do meanwhile?") often names nothing the
        documents contain; when it finds nothing relevant on its own, it is searched again
        together with the previous question of the conversation.
        """
        k = self.settings.sources_top_k
        hits = await asyncio.to_thread(self._search, question, collection, k)
        relevant = self.relevance.filter(question, hits)
        if relevant or not previous_question:
            return relevant
        combined = f"{previous_question}\n{question}"
        hits = await asyncio.to_thread(self._search, combined, collection, k)
        return self.relevance.filter(combined, hits)

    @property
    def relevance(self) -> RelevancePolicy:
        """The given policy, else the calibrated one for the settings and the embedder."""
        return self._relevance or RelevancePolicy.for_setup(self.settings, self.embedder)

    async def context_length(self, model: str) -> int | None:
        """The model's trained context length (asked once per model)."""
        if model not in self._context_lengths:
            info = await self.backend.show(model)
            self._context_lengths[model] = info.context_length
        return self._context_lengths[model]

    async def generation_options(self, model: str) -> GenerationOptions:
        """Options from the settings, ``num_ctx`` capped by the model, room for the prompt kept."""
        options = GenerationOptions.from_settings(self.settings)
        options.num_ctx = effective_num_ctx(self.settings.num_ctx, await self.context_length(model))
        # A small model window must still leave room for a prompt.
        options.num_predict = min(options.num_predict, options.num_ctx // 2)
        return options

    def _conversation(
        self, conversation_id: int | None, collection: str | None
    ) -> ConversationRecord:
        if conversation_id is None:
            return self.conversations.create(collection=collection)
        return self.conversations.get(conversation_id)

    # --- the answer ---------------------------------------------------------------------------

    async def answer(
        self,
        question: str,
        *,
        conversation_id: int | None = None,
        collection: str | None = DEFAULT_COLLECTION,
        model: str | None = None,
        use_documents: bool = True,
    ) -> AsyncIterator[RagEvent]:
        """Answer ``question`` in a conversation (a new one bound to ``collection`` when
        ``conversation_id`` is None; an existing conversation keeps its own collection).
        ``use_documents=False``: plain chat even in a conversation with a knowledge base."""
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        model = model or self.settings.model
        t0 = time.perf_counter()
        conversation = self._conversation(conversation_id, collection)
        collection = conversation.collection
        user = self.conversations.add_message(conversation.id, "user", question)
        assistant = self.conversations.add_message(
            conversation.id, "assistant", "", state=MessageState.STREAMING, model=model
        )
        saver = StreamingSaver(self.conversations, assistant.id)
        pairs = self.conversations.history(conversation.id, before_message_id=user.id)
        history_start = max(
            (Trimmed.from_json(a.trimmed).history_turns_dropped for _, a in pairs), default=0
        )
        trimmed = Trimmed(0, history_start)
        sent: Sequence[Hit] = []  # the numbered sources of the prompt, once it is built
        timings = self.last_timings = {}
        # The model's context length (an HTTP call, once per model) is asked while the
        # question is embedded and searched; a daemon that is down fails here, even when the
        # documents hold nothing relevant.
        options_task = asyncio.ensure_future(self.generation_options(model))
        options_task.add_done_callback(_retrieve_exception)
        # an answer asked without documents stays marked so when it is stopped or fails
        unfinished_stats = (
            None if collection is not None and use_documents else {WITHOUT_DOCUMENTS: True}
        )
        try:
            sources: list[Hit] | None = None
            empty = False
            if collection is not None and use_documents:
                try:
                    empty = not await asyncio.to_thread(self.has_documents, collection)
                    if not empty:
                        previous = pairs[-1][0].text if pairs else None
                        sources = await self.retrieve(
                            question, collection, previous_question=previous
                        )
                except BaseException:
                    options_task.cancel()
                    raise
                timings["retrieval_s"] = time.perf_counter() - t0
            options = await options_task
            if empty or (sources is not None and not sources):
                async for event in self._fixed_reply(
                    question, conversation.id, saver, model, trimmed, no_documents=empty
                ):
                    yield event
                return
            prompt = build_prompt(
                question,
                sources=sources,
                history=[(q.text, a.text) for q, a in pairs],
                num_ctx=options.num_ctx,
                num_predict=options.num_predict,
                history_start=history_start,
            )
            trimmed = prompt.trimmed
            sent = prompt.sources
            yield SourcesFound(prompt.sources, trimmed, conversation.id, assistant.id)
            stats = StreamStats(model=model)
            timings["request_s"] = time.perf_counter() - t0
            stream = self.backend.chat(prompt.messages, model=model, options=options)
            async with contextlib.aclosing(stream):
                async for event in stream:
                    if isinstance(event, TokenDelta):
                        if "first_token_s" not in timings:
                            timings["first_token_s"] = time.perf_counter() - t0
                        saver.append(event.text)
                        yield event
                    elif isinstance(event, StreamStats):
                        stats = event
            text, citations, dropped = saver.text, [], 0
            if prompt.sources:
                text, citations, dropped = map_citations(text, prompt.sources)
            done = AnswerDone(
                message_id=assistant.id,
                conversation_id=conversation.id,
                text=text,
                citations=citations,
                stats=stats,
                trimmed=trimmed,
                dropped_citations=dropped,
                sources=list(prompt.sources),
                without_documents=sources is None,
            )
            saver.finish(
                MessageState.DONE,
                text=text,
                citations=citations,
                stats=done.stats_json(),
                model=stats.model or model,
                trimmed=trimmed.to_json(),
            )
            yield done
        except (asyncio.CancelledError, GeneratorExit):
            # Stop: keep what arrived. GeneratorExit: the consumer dropped the generator.
            if not saver.finished:
                saver.finish(
                    MessageState.STOPPED,
                    citations=partial_citations(saver.text, sent),
                    stats=unfinished_stats,
                    trimmed=trimmed.to_json(),
                )
            raise
        except BaseException as exc:
            if not saver.finished:
                code = exc.code if isinstance(exc, QwenDeskError) else QwenDeskError.code
                saver.finish(
                    MessageState.FAILED,
                    citations=partial_citations(saver.text, sent),
                    stats=unfinished_stats,
                    error_code=code,
                    trimmed=trimmed.to_json(),
                )
            raise

    async def _fixed_reply(
        self,
        question: str,
        conversation_id: int,
        saver: StreamingSaver,
        model: str,
        trimmed: Trimmed,
        *,
        no_documents: bool,
    ) -> AsyncIterator[RagEvent]:
        """The reply without the model: no documents at all, or nothing relevant in them."""
        if no_documents:
            text, reason = no_documents_reply(question), NO_DOCUMENTS
        else:
            text, reason = not_in_documents_reply(question), NOT_IN_DOCUMENTS
        done = AnswerDone(
            message_id=saver.message_id,
            conversation_id=conversation_id,
            text=text,
            citations=[],
            stats=StreamStats(done_reason=reason, model=model),
            trimmed=trimmed,
            not_in_documents=not no_documents,
            no_documents=no_documents,
        )
        yield SourcesFound([], trimmed, conversation_id, saver.message_id, no_documents)
        yield TokenDelta(text)
        saver.finish(
            MessageState.DONE,
            text=text,
            citations=[],
            stats=done.stats_json(),
            trimmed=trimmed.to_json(),
        )
        yield done
