"""Controllers layer: ``ChatController``, runs questions through ``RagService`` on the GUI loop.

Each answer is one asyncio task on the running loop (qasync in the app, the test fixture's loop in
tests); the task owns the ``async for`` over ``RagService.answer``, so Stop is ``task.cancel()``:
the cancellation unwinds through the back-end's stream, which closes the HTTP connection (the
daemon stops generating) and the service saves the partial text as ``stopped``. Tokens go through
a ``TokenThrottler`` into ``ChatModel`` about 30 times a second: one model change, hence one
repaint, per flush.

Conversations: the list (``ConversationListModel``) and the open one (``ChatModel``) are loaded
from ``ConversationStore``; the id of the open conversation is remembered in QSettings so it
reopens at start. Regenerate and edit-and-resend replace the last question/answer pair: the old
answer is marked superseded (state ``failed``, code ``superseded``), which keeps it out of the
history the model sees and out of the view when the conversation is reopened. "Ask without
documents" (offered when the knowledge base has no documents yet) replaces the last pair the
same way, with the question asked as plain chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from qwen_desk.controllers.background import BackgroundRunner
from qwen_desk.controllers.throttle import TokenThrottler
from qwen_desk.controllers.ui_state import ui_state
from qwen_desk.core.errors import QwenDeskError, error_for_code
from qwen_desk.core.types import (
    WITHOUT_DOCUMENTS,
    Citation,
    ConversationRecord,
    MessageRecord,
    MessageState,
    StreamStats,
    TokenDelta,
)
from qwen_desk.models.chat_model import ChatModel, is_without_documents
from qwen_desk.models.conversation_model import ConversationListModel

log = logging.getLogger(__name__)

SUPERSEDED = "superseded"  # error code of an answer replaced by regenerate / edit-and-resend
LAST_CONVERSATION_KEY = "chat/last_conversation"


def visible_messages(records: list[MessageRecord]) -> list[MessageRecord]:
    """Messages to show: superseded answers are hidden together with their question."""
    shown: list[MessageRecord] = []
    for record in records:
        if record.role == "assistant" and record.error_code == SUPERSEDED:
            if shown and shown[-1].role == "user":
                shown.pop()
            continue
        shown.append(record)
    return shown


@dataclass
class _Stream:
    """The rows of one answer being written (ids, not rows: rows move when others change)."""

    user_id: int
    answer_id: int
    model: str


class ChatController(QObject):
    """Asks, streams, stops; opens, creates, renames, deletes and searches conversations."""

    sig_busy_changed = Signal(bool)
    """An answer started (True) or ended (False)."""

    sig_conversation_changed = Signal(int)
    """The open conversation changed (its id; 0 for a new, not yet saved conversation)."""

    sig_answer_finished = Signal(int)
    """The answer at this row of ``model`` ended (done, stopped or failed)."""

    sig_error = Signal(str, str)
    """An operation failed: error ``code`` (see ``core/errors.py``) and English detail."""

    sig_citation_requested = Signal(object)
    """The user asked to see a source: carries the ``Citation``."""

    sig_stats = Signal(object)
    """The statistics of the last answer (``StreamStats``): tokens/s, time to first token."""

    sig_edit_requested = Signal(str)
    """The user wants to edit the last question: carries its text for the input box."""

    sig_conversations_loaded = Signal()
    """The conversation list was (re)loaded from the store."""

    sig_search_finished = Signal(str)
    """The conversation list shows the result of searching this text."""

    sig_exported = Signal(str)
    """A conversation was exported to this file."""

    sig_export_failed = Signal(str, str)
    """Exporting failed: error ``code`` (``export_not_permitted``, ``export_failed``…), detail."""

    def __init__(self, services: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.model = ChatModel(self)
        self.conversations = ConversationListModel(self, untitled=self.tr("New conversation"))
        self._throttle = TokenThrottler(parent=self)
        self._throttle.sig_flush.connect(self._on_flush)
        self._task: asyncio.Task[None] | None = None
        self._conversation_id: int | None = None
        self._stream: _Stream | None = None
        self.collection: str | None = "default"
        self.model_override: str | None = None
        self._store_runner = BackgroundRunner("qwen-desk-conversations", parent=self)
        self._opening = 0  # ticket of the latest open/new request
        self._searching = 0  # ticket of the latest search
        # the list and the last conversation appear once the event loop runs
        QTimer.singleShot(0, self, self.restore_last)

    # --- services -------------------------------------------------------------------------

    @property
    def store(self) -> Any:
        """The ``ConversationStore``."""
        return self._services.conversations

    @property
    def rag(self) -> Any:
        return self._services.rag

    @property
    def conversation_id(self) -> int | None:
        return self._conversation_id

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task streaming the current answer (tests await it)."""
        return self._task

    @property
    def throttler(self) -> TokenThrottler:
        return self._throttle

    # --- asking ---------------------------------------------------------------------------

    @Slot(str)
    def ask(self, question: str) -> None:
        """Ask ``question`` in the open conversation (cancels a running answer first)."""
        question = question.strip()
        if not question:
            return
        previous = self._cancel_running()
        self._start(question, previous)

    @Slot()
    def stop(self) -> None:
        """Stop the running answer; the partial text is kept (state ``stopped``)."""
        self._cancel_running()

    @Slot()
    def regenerate(self) -> None:
        """Ask the last question again, replacing its answer (one asked without documents is
        asked without them again)."""
        question = self._last_question()
        if question is not None:
            row = self.model.last_row("assistant")
            plain = row >= 0 and is_without_documents(self.model.record(row))
            self._replace_last_turn(question.text, use_documents=not plain)

    @Slot()
    def retry(self) -> None:
        """Retry after a failed or stopped answer (same as regenerate)."""
        self.regenerate()

    @Slot()
    def ask_without_documents(self) -> None:
        """Ask the last question again as plain chat (no sources), replacing its answer."""
        question = self._last_question()
        if question is not None:
            self._replace_last_turn(question.text, use_documents=False)

    @Slot()
    def request_edit(self) -> None:
        """Ask the view to put the last question into the input box for editing."""
        question = self._last_question()
        if question is not None:
            self.sig_edit_requested.emit(question.text)

    @Slot(str)
    def edit_and_resend(self, new_text: str) -> None:
        """Replace the last question by ``new_text`` and ask it."""
        if new_text.strip():
            self._replace_last_turn(new_text)

    def _last_question(self) -> MessageRecord | None:
        row = self.model.last_row("user")
        return self.model.record(row) if row >= 0 else None

    def _replace_last_turn(self, question: str, *, use_documents: bool = True) -> None:
        previous = self._cancel_running()
        row = self.model.last_row("user")
        if row < 0:
            self._start(question, previous, use_documents=use_documents)
            return
        answers = [r for r in self.model.records()[row + 1 :] if r.role == "assistant"]
        self.model.remove_rows_from(row)
        self._start(question, previous, supersede=answers, use_documents=use_documents)

    def _start(
        self,
        question: str,
        previous: asyncio.Task[None] | None,
        supersede: list[MessageRecord] | None = None,
        *,
        use_documents: bool = True,
    ) -> None:
        # The question and an empty answer appear at once; the task fills the answer in.
        model_name = self.model_override or self._services.settings.model
        conversation_id = self._conversation_id or 0
        user_id = self.model.new_temp_id()
        self.model.append(MessageRecord(user_id, conversation_id, "user", question))
        row = self.model.append_streaming(conversation_id, model_name)
        if not use_documents:  # kept if it fails or is stopped: a retry asks without them too
            self.model.update_record(row, stats={WITHOUT_DOCUMENTS: True})
        stream = _Stream(user_id=user_id, answer_id=self.model.record(row).id, model=model_name)
        self._stream = stream
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(
            self._answer(question, previous, supersede or [], stream, use_documents)
        )
        self.sig_busy_changed.emit(True)

    def _cancel_running(self) -> asyncio.Task[None] | None:
        task = self._task
        if task is not None and not task.done():
            self._throttle.flush_now()  # pending tokens belong to the answer being stopped
            self._stream = None
            task.cancel()
            return task
        return None

    async def _answer(
        self,
        question: str,
        previous: asyncio.Task[None] | None,
        supersede: list[MessageRecord],
        stream: _Stream,
        use_documents: bool = True,
    ) -> None:
        try:
            if previous is not None:
                # Let the cancelled answer save itself before the next one reads the history.
                await asyncio.wait([previous])
            for old in supersede:
                await self._supersede(old)
            rag = await self._wait_for_rag()
            events = rag.answer(
                question,
                conversation_id=self._conversation_id,
                collection=self.collection,
                model=stream.model,
                use_documents=use_documents,
            )
            async with contextlib.aclosing(events):
                async for event in events:
                    if isinstance(event, TokenDelta):
                        self._throttle.push(event.text)
                    elif type(event).__name__ == "SourcesFound":
                        self._on_sources(stream, event)
                    elif type(event).__name__ == "AnswerDone":
                        self._throttle.flush_now()
                        self._on_done(stream, event)
        except asyncio.CancelledError:
            self._end(stream, MessageState.STOPPED, "")
            raise
        except QwenDeskError as exc:
            self._end(stream, MessageState.FAILED, exc.code)
            self.sig_error.emit(exc.code, exc.message)
        except Exception as exc:  # an unexpected bug must not leave the view streaming
            log.exception("answer failed")
            self._end(stream, MessageState.FAILED, QwenDeskError.code)
            self.sig_error.emit(QwenDeskError.code, str(exc))
        finally:
            if self._stream is stream:
                self._stream = None
            self.sig_busy_changed.emit(self.busy and self._task is not asyncio.current_task())
            self.sig_answer_finished.emit(self.model.row_of(stream.answer_id))

    async def _wait_for_rag(self) -> Any:
        """The RAG service; while the knowledge base opens (seconds at start), wait for it."""
        services = self._services
        if self.rag is not None:
            return self.rag
        if getattr(services, "knowledge_error", None) is not None:
            raise services.knowledge_error
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_ready() -> None:
            if not ready.done():
                ready.set_result(None)

        def on_failed(code: str, message: str) -> None:
            if not ready.done():
                ready.set_exception(error_for_code(code)(message))

        services.sig_knowledge_ready.connect(on_ready)
        services.sig_knowledge_failed.connect(on_failed)
        try:
            if hasattr(services, "start_knowledge"):
                services.start_knowledge()
            await ready
        finally:
            services.sig_knowledge_ready.disconnect(on_ready)
            services.sig_knowledge_failed.disconnect(on_failed)
        return self.rag

    async def _supersede(self, record: MessageRecord) -> None:
        if record.id > 0:
            try:
                self.store.update_message(
                    record.id, state=MessageState.FAILED, error_code=SUPERSEDED
                )
            except QwenDeskError as exc:
                log.warning("could not mark message %s superseded: %s", record.id, exc)

    def _on_sources(self, stream: _Stream, event: Any) -> None:
        new_conversation = self._conversation_id != event.conversation_id
        self._conversation_id = event.conversation_id
        # provisional citations: chips are clickable while the answer streams
        from qwen_desk.core.rag import citation_from_hit  # light module, no heavy imports

        citations = [citation_from_hit(i + 1, hit) for i, hit in enumerate(event.hits)]
        user_row = self.model.row_of(stream.user_id)
        if user_row >= 0:
            self.model.update_record(user_row, conversation_id=event.conversation_id)
        row = self.model.row_of(stream.answer_id)
        stream.answer_id = event.message_id
        if row >= 0:
            self.model.update_record(
                row,
                id=event.message_id,
                conversation_id=event.conversation_id,
                citations=citations,
                trimmed=event.trimmed.to_json(),
            )
        self._refresh_conversation(event.conversation_id)  # in the list before it is selected
        if new_conversation:
            self._remember(event.conversation_id)
            self.sig_conversation_changed.emit(event.conversation_id)

    def _on_done(self, stream: _Stream, event: Any) -> None:
        stats: StreamStats = event.stats
        stats_json = event.stats_json()  # what the answer was made from, as saved
        row = self.model.row_of(stream.answer_id)
        stream.answer_id = event.message_id
        if row >= 0:
            self.model.update_record(
                row,
                id=event.message_id,
                conversation_id=event.conversation_id,
                text=event.text,
                state=MessageState.DONE,
                citations=list(event.citations),
                stats=stats_json,
                model=stats.model or stream.model,
                trimmed=event.trimmed.to_json(),
            )
        if self._conversation_id is None:
            self._conversation_id = event.conversation_id
            self._remember(event.conversation_id)
        self._refresh_conversation(event.conversation_id)
        self.sig_stats.emit(stats)

    def _end(self, stream: _Stream, state: MessageState, error_code: str) -> None:
        if self._stream is stream:
            self._throttle.flush_now()
        row = self.model.row_of(stream.answer_id)
        if row >= 0 and self.model.record(row).state is MessageState.STREAMING:
            self.model.update_record(row, state=state, error_code=error_code)

    def _on_flush(self, text: str) -> None:
        stream = self._stream
        if stream is not None:
            row = self.model.row_of(stream.answer_id)
            if row >= 0:
                self.model.append_text(row, text)

    # --- citations --------------------------------------------------------------------------

    @Slot(int, int)
    def open_citation(self, row: int, n: int) -> None:
        """Show citation ``[n]`` of the answer at ``row`` (emits ``sig_citation_requested``)."""
        citation: Citation | None = self.model.citation(row, n)
        if citation is not None:
            self.sig_citation_requested.emit(citation)

    # --- conversations ----------------------------------------------------------------------
    # Every store call below runs on ``self._store_runner`` (one worker thread, in order) and its
    # result comes back on the GUI thread; a result that a newer request has overtaken (a newer
    # search, another conversation opened meanwhile) is dropped.

    def _store_call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._store_runner.submit(fn, *args, on_done=on_done, on_error=on_error or self._failed)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, QwenDeskError):
            self.sig_error.emit(exc.code, exc.message)
        else:
            log.error("conversation operation failed", exc_info=exc)
            self.sig_error.emit(QwenDeskError.code, f"{type(exc).__name__}: {exc}")

    @Slot()
    def load_conversations(self, then: Callable[[], None] | None = None) -> None:
        """(Re)load the conversation list from the store (off the GUI thread)."""

        def loaded(records: list[ConversationRecord]) -> None:
            self.conversations.set_conversations(records)
            self.sig_conversations_loaded.emit()
            if then is not None:
                then()

        self._store_call(self.store.list, on_done=loaded)

    @Slot()
    def restore_last(self) -> None:
        """Load the list and reopen the conversation open at the last exit, if it still exists."""

        def reopen() -> None:
            last = int(ui_state().value(LAST_CONVERSATION_KEY, 0) or 0)
            if last and self.conversations.row_of(last) >= 0 and self._opening == 0:
                self.open_conversation(last)

        self.load_conversations(then=reopen)

    @Slot()
    def new_conversation(self) -> None:
        """Start a new conversation (saved when the first question is asked)."""
        self._cancel_running()
        self._opening += 1  # a conversation still loading must not replace the new one
        self._conversation_id = None
        self.model.clear()
        self._remember(0)
        self.sig_conversation_changed.emit(0)

    @Slot(int)
    def open_conversation(self, conversation_id: int) -> None:
        """Show a saved conversation (stops a running answer; its partial text is saved).

        The messages are read off the GUI thread; ``sig_conversation_changed`` tells when they
        are in ``model``.
        """
        if conversation_id == self._conversation_id and not self.busy:
            return
        self._cancel_running()
        self._opening += 1
        ticket = self._opening

        def loaded(records: list[MessageRecord]) -> None:
            if ticket != self._opening:
                return  # another conversation was opened (or a new one started) meanwhile
            self._cancel_running()  # a question asked while loading belongs to the old one
            self._conversation_id = conversation_id
            self.model.set_messages(visible_messages(records))
            self._remember(conversation_id)
            self.sig_conversation_changed.emit(conversation_id)

        self._store_call(self.store.messages, conversation_id, on_done=loaded)

    @Slot(int, str)
    def rename_conversation(self, conversation_id: int, title: str) -> None:
        if title.strip():
            self._store_call(
                self.store.rename, conversation_id, title, on_done=self.conversations.upsert
            )

    @Slot(int)
    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation (the view asks for confirmation first)."""
        if conversation_id == self._conversation_id:
            self.new_conversation()
        self._store_call(
            self.store.delete,
            conversation_id,
            on_done=lambda _: self.conversations.remove(conversation_id),
        )

    @Slot(str)
    def search_conversations(self, text: str) -> None:
        """Filter the list: titles and message text containing ``text`` (searched off-thread).

        ``sig_search_finished`` tells when the list shows the result of ``text``.
        """
        self._searching += 1
        ticket = self._searching
        if not text.strip():
            self.conversations.set_filter("")
            self.sig_search_finished.emit(text)
            return

        def found(records: list[ConversationRecord]) -> None:
            if ticket == self._searching:  # else a newer search is on its way
                self.conversations.set_filter(text, [r.id for r in records])
                self.sig_search_finished.emit(text)

        self._store_call(self.store.search, text, on_done=found)

    def export_markdown(self, conversation_id: int, path: str) -> None:
        """Write the conversation as Markdown to ``path`` off the GUI thread.

        Ends with ``sig_exported(path)`` or ``sig_export_failed(code, detail)``.
        """

        def failed(exc: BaseException) -> None:
            code = exc.code if isinstance(exc, QwenDeskError) else QwenDeskError.code
            self.sig_export_failed.emit(code, str(getattr(exc, "message", exc)))

        self._store_call(
            self.store.export_markdown_to,
            conversation_id,
            path,
            on_done=lambda written: self.sig_exported.emit(str(written)),
            on_error=failed,
        )

    def _refresh_conversation(self, conversation_id: int) -> None:
        self._store_call(
            self.store.get,
            conversation_id,
            on_done=self.conversations.upsert,
            on_error=lambda exc: log.warning(
                "conversation %s not refreshed: %s", conversation_id, exc
            ),
        )

    def _remember(self, conversation_id: int) -> None:
        settings = ui_state()
        settings.setValue(LAST_CONVERSATION_KEY, conversation_id)
        settings.sync()

    # --- shutdown ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop a running answer and wait until it has saved itself (at app exit)."""
        task = self._cancel_running()
        if task is not None:
            await asyncio.wait([task])
        # queued store work (a rename, an export) finishes; nothing is delivered any more
        await asyncio.to_thread(self._store_runner.shutdown, True)
