"""Controllers layer: ``AppServices``, the one object that holds the app's core services.

It holds the settings, the conversation store, the language-model back-end, the knowledge base
(with its ingestion service) and the RAG service, and tells the GUI when they change. Every
service is created lazily, and the knowledge base (LanceDB, the embedding model: seconds of
imports) is opened on a background thread by ``start_knowledge()``, which the composition root
calls after the window's first paint. Until ``sig_knowledge_ready`` the knowledge side is
``None``; the chat side can run meanwhile (the conversation store and the back-end are light).

Controllers take an ``AppServices`` in their constructor and read services through its
properties at the time they need them (a settings change can replace the back-end or the
knowledge base).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from qwen_desk.controllers.background import BackgroundRunner
from qwen_desk.core.errors import QwenDeskError
from qwen_desk.core.ollama_host import with_env_host
from qwen_desk.core.settings import Settings

if TYPE_CHECKING:
    from qwen_desk.core.conversations import ConversationStore
    from qwen_desk.core.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

# Settings whose change needs a new language-model back-end (and RAG service).
LLM_FIELDS = frozenset(
    {"backend", "ollama_host", "openai_base_url", "openai_api_key", "request_timeout_s"}
)
# Settings whose change needs the knowledge base opened again.
KNOWLEDGE_FIELDS = frozenset({"embed_model_path", "embed_threads"})
# Settings that only take effect after a restart.
RESTART_FIELDS = frozenset({"data_dir", "ui_language"})


def changed_fields(old: Settings, new: Settings) -> set[str]:
    """Names of the settings that differ between ``old`` and ``new``."""
    return {
        f.name
        for f in dataclasses.fields(Settings)
        if f.name != "problems" and getattr(old, f.name) != getattr(new, f.name)
    }


class AppServices(QObject):
    """Settings, conversations, LLM back-end, knowledge base and RAG: created on demand."""

    sig_settings_changed = Signal(object, object)
    """(new Settings, set of changed field names): emitted after ``apply_settings`` saved them."""
    sig_knowledge_ready = Signal()
    """The knowledge base is open: ``knowledge``, ``ingest`` and ``rag`` can be used."""
    sig_knowledge_closed = Signal()
    """The knowledge base is being reopened (settings changed): it is ``None`` until ready."""
    sig_knowledge_failed = Signal(str, str)
    """(error code, English message): opening the knowledge base failed (e.g. embedder_mismatch)."""
    sig_embedder_loaded = Signal()
    """The embedding model's weights are in memory: queries and indexing start without delay."""
    sig_backend_changed = Signal()
    """The language-model back-end was replaced (host or back-end type changed)."""
    sig_restart_required = Signal(object)
    """(set of field names): settings saved that only apply after a restart."""

    def __init__(
        self,
        settings: Settings | None = None,
        parent: QObject | None = None,
        *,
        embedder: Any = None,
        conversations: ConversationStore | None = None,
    ) -> None:
        """``embedder``: an already loaded ``core.embedding.Embedder`` to share (tests, tools);
        ``conversations``: an open ``ConversationStore`` to use instead of the data folder's
        (closed with the services)."""
        super().__init__(parent)
        self._settings = settings if settings is not None else Settings.load()
        self._embedder = embedder
        self._runner = BackgroundRunner("qwen-desk-services", parent=self)
        self._backend_runner = BackgroundRunner("qwen-desk-backend", parent=self)
        self._preparing_backend = False
        self._conversations: ConversationStore | None = conversations
        self._backend: Any = None
        self._knowledge: KnowledgeBase | None = None
        self._rag: Any = None
        self._knowledge_error: QwenDeskError | None = None
        self._opening = False
        self._warming = False
        self._closed = False

    # --- settings ------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The current settings (replace them with ``apply_settings``, never mutate)."""
        return self._settings

    def apply_settings(self, new: Settings) -> set[str]:
        """Validate and save ``new``, rebuild what depends on it; return the changed fields.

        Raises ``SettingsError`` (nothing changed) when a value is invalid.
        """
        new.validate()
        changed = changed_fields(self._settings, new)
        if not changed:
            return changed
        new.save()
        self._settings = new
        if changed & LLM_FIELDS:
            self._backend = None
            self._rag = None
            self.sig_backend_changed.emit()
        elif changed:
            self._rag = None  # the RAG service keeps a copy of the sampling settings
        if changed & KNOWLEDGE_FIELDS:
            self._embedder = None  # a shared model no longer matches the settings
            if self._knowledge is not None:
                self.reopen_knowledge()
        if changed & RESTART_FIELDS:
            self.sig_restart_required.emit(changed & RESTART_FIELDS)
        self.sig_settings_changed.emit(new, changed)
        return changed

    # --- light services ------------------------------------------------------------------------

    @property
    def conversations(self) -> ConversationStore:
        """The conversation store (SQLite; opened on first use, in well under 50 ms)."""
        if self._conversations is None:
            from qwen_desk.core import paths
            from qwen_desk.core.conversations import ConversationStore

            self._conversations = ConversationStore(
                paths.conversations_db(self._settings.resolved_data_dir)
            )
        return self._conversations

    def prepare_backend(self) -> None:
        """Create the back-end on a worker thread (its import of the HTTP client and pydantic
        takes a few hundred ms that the GUI thread should not spend); idempotent."""
        if self._backend is not None or self._preparing_backend or self._closed:
            return
        self._preparing_backend = True
        from qwen_desk.core.llm import make_backend

        settings = self._settings
        connect_to = with_env_host(settings)

        def done(backend: Any) -> None:
            self._preparing_backend = False
            if self._backend is None and settings is self._settings:
                self._backend = backend

        def failed(exc: BaseException) -> None:
            self._preparing_backend = False
            log.warning("preparing the language-model back-end failed: %s", exc)

        self._backend_runner.submit(make_backend, connect_to, on_done=done, on_error=failed)

    @property
    def backend_ready(self) -> bool:
        """The back-end exists (or could not be prepared in the background)."""
        return self._backend is not None or not self._preparing_backend

    @property
    def host(self) -> str:
        """Where the language model is served: the back-end's own (normalised) host once it
        exists, else the configured one (``OLLAMA_HOST`` wins over the setting). Never builds the
        back-end (its imports take ~0.5 s)."""
        if self._backend is not None:
            return str(self._backend.host)
        settings = with_env_host(self._settings)
        return settings.openai_base_url if settings.backend == "openai" else settings.ollama_host

    @property
    def backend(self) -> Any:
        """The language-model back-end for the current settings (``core.llm.make_backend``)."""
        if self._backend is None:
            from qwen_desk.core.llm import make_backend  # type: ignore[attr-defined]

            self._backend = make_backend(with_env_host(self._settings))
        return self._backend

    # --- knowledge -----------------------------------------------------------------------------

    @property
    def knowledge(self) -> KnowledgeBase | None:
        """The knowledge base once ``sig_knowledge_ready`` was emitted, else ``None``."""
        return self._knowledge

    @property
    def knowledge_ready(self) -> bool:
        return self._knowledge is not None

    @property
    def knowledge_error(self) -> QwenDeskError | None:
        """Why the knowledge base could not be opened (``None`` when it is open or opening)."""
        return self._knowledge_error

    @property
    def ingest(self) -> Any:
        """The ingestion service of the open knowledge base, or ``None``."""
        return self._knowledge.ingest if self._knowledge is not None else None

    @property
    def rag(self) -> Any:
        """The RAG service (``core.rag.RagService``) once the knowledge base is open, else None."""
        if self._rag is None and self._knowledge is not None:
            from qwen_desk.core.rag import RagService  # type: ignore[import-not-found]

            kb = self._knowledge
            self._rag = RagService(
                _StoreOf(kb), kb.embedder, self.backend, self._settings, self.conversations
            )
        return self._rag

    def start_knowledge(self) -> None:
        """Open the knowledge base on a background thread (idempotent); then load the model."""
        if self._opening or self._knowledge is not None or self._closed:
            return
        self._opening = True
        self._knowledge_error = None
        self._runner.submit(
            _open_knowledge,
            self._settings,
            self._embedder,
            on_done=self._on_opened,
            on_error=self._on_failed,
        )

    def reopen_knowledge(self) -> None:
        """Close the knowledge base and open it again with the current settings."""
        old, self._knowledge, self._rag = self._knowledge, None, None
        self._warming = False
        if old is not None:
            self.sig_knowledge_closed.emit()
            self._runner.submit(old.close)
        self.start_knowledge()

    def reindex_all_for_new_embedder(self) -> None:
        """Rebuild the knowledge base for the configured embedding model (after a mismatch)."""
        if self._opening or self._closed:
            return
        self._opening = True
        self._knowledge_error = None

        embedder = self._embedder

        def rebuild(settings: Settings) -> KnowledgeBase:
            from qwen_desk.core.knowledge import KnowledgeBase

            kb = KnowledgeBase(settings, embedder=embedder)
            try:
                kb.reindex_all_for_new_embedder()
            except BaseException:
                kb.close()
                raise
            return kb

        self._runner.submit(
            rebuild, self._settings, on_done=self._on_opened, on_error=self._on_failed
        )

    def _on_opened(self, kb: KnowledgeBase) -> None:
        self._opening = False
        if self._closed:
            self._runner.submit(kb.close)
            return
        self._knowledge = kb
        self.sig_knowledge_ready.emit()
        # Resume what a previous run left queued; load the model now only if there is
        # something to search or index (an empty knowledge base stays light: ~100 MB instead
        # of ~500 MB with torch), else when the user starts adding files (``warm_embedder``).
        self._runner.submit(_resume, kb, on_done=self._on_resumed)

    def _on_resumed(self, needs_model: bool) -> None:
        if needs_model:
            self.warm_embedder()

    def warm_embedder(self) -> None:
        """Load the embedding model in the background now (idempotent), e.g. when files are
        dragged over the window, so that indexing and the first question do not wait for it."""
        kb = self._knowledge
        if kb is None or self._warming or self._closed:
            return
        self._warming = True
        self._runner.submit(
            kb.embedder.load,
            on_done=lambda _: self.sig_embedder_loaded.emit(),
            on_error=self._on_warm_failed,
        )

    def _on_warm_failed(self, exc: BaseException) -> None:
        self._warming = False
        log.warning("loading the embedding model failed: %s", exc)

    def _on_failed(self, exc: BaseException) -> None:
        self._opening = False
        if isinstance(exc, QwenDeskError):
            self._knowledge_error = exc
            self.sig_knowledge_failed.emit(exc.code, exc.message)
        else:
            log.error("opening the knowledge base failed", exc_info=exc)
            self._knowledge_error = QwenDeskError(f"{type(exc).__name__}: {exc}")
            self.sig_knowledge_failed.emit(QwenDeskError.code, self._knowledge_error.message)

    # --- shutdown ------------------------------------------------------------------------------

    def close(self, quick: bool = False) -> None:
        """Stop ingestion (queued jobs resume next start) and close every store; ``quick``
        when the process ends right after (see ``KnowledgeBase.close``)."""
        if self._closed:
            return
        self._closed = True
        self._runner.shutdown(wait=False)
        self._backend_runner.shutdown(wait=False)
        if self._knowledge is not None:
            self._knowledge.close(quick=quick)
            self._knowledge = None
        if self._conversations is not None:
            self._conversations.close()
            self._conversations = None
        self._rag = None
        self._backend = None


class _StoreOf:
    """A knowledge base's store, opened at first use rather than when the RAG service is made.

    The RAG service searches on a worker thread (``asyncio.to_thread``); building it must not
    open the store on the GUI thread (on a first run that would import LanceDB there).
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kb.store, name)


def _open_knowledge(settings: Settings, embedder: Any = None) -> KnowledgeBase:
    """Worker thread: open the store (imports LanceDB); the model loads afterwards."""
    from qwen_desk.core.knowledge import DEFAULT_COLLECTION, KnowledgeBase

    kb = KnowledgeBase(settings, embedder=embedder)
    if not store_exists(kb):
        # First run: nothing to list yet. LanceDB (~150 MB resident) is imported when the
        # first file or collection is added, not while the app sits empty.
        return kb
    try:
        with kb.write_lock:
            kb.store.ensure_collection(DEFAULT_COLLECTION)
    except BaseException:
        kb.close()
        raise
    return kb


def store_exists(kb: KnowledgeBase) -> bool:
    """The knowledge base folder holds data (False on a first run)."""
    root = Path(kb.root)
    return root.is_dir() and any(root.iterdir())


def _resume(kb: KnowledgeBase) -> bool:
    """Worker thread: resume the ingestion queue; True when the model will be needed soon."""
    ingest = kb.ingest
    ingest.start()
    if ingest.pending():
        return True
    return store_exists(kb) and any(info.n_documents for info in kb.store.list_collections())
