"""Core layer: ``KnowledgeBase``, the facade over one data folder's documents and search.

It owns the embedder, the LanceDB store and the sandboxed parser process of a data folder and
opens each lazily (nothing heavy is imported until it is needed), plus the ``IngestService``
whose worker thread is this process's writer. ``search`` can be called from any thread: it
embeds the query and reads the store without waiting for the worker (only writes take
``write_lock``, each for one store call; the store takes it itself, so every write of every
process on this folder is serialised, and callers may hold it around a few store calls).
Re-indexing after a change of embedding model goes through ``reindex_all_for_new_embedder``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from qwen_desk.core import paths
from qwen_desk.core.errors import DocumentNotFound
from qwen_desk.core.settings import Settings
from qwen_desk.core.store.write_lock import ProcessWriteLock
from qwen_desk.core.types import DocumentRecord, Hit

if TYPE_CHECKING:
    from qwen_desk.core.documents.sandbox import ParserProcess
    from qwen_desk.core.embedding import Embedder
    from qwen_desk.core.ingest import IngestService
    from qwen_desk.core.store import KnowledgeStore

DEFAULT_COLLECTION = "default"
# close(quick=True): how long the ingestion worker may take to reach its next stop check
QUICK_STOP_S = 0.3


class KnowledgeBase:
    """Documents and search of one data folder. Thread-safe; ``close()`` when done.

    ``embedder`` may be given to share one loaded model (the app, the tests); it is then not
    owned. Opening the store raises ``EmbedderMismatch`` when the knowledge base was built with
    another embedding model: offer ``reindex_all_for_new_embedder``.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        data_dir: Path | None = None,
        embedder: Embedder | None = None,
        parser_timeout_s: float = 120.0,
    ) -> None:
        self.settings = settings or Settings.load()
        self.data_dir = data_dir or self.settings.resolved_data_dir
        self.root = paths.knowledge_base_dir(self.data_dir)
        self.parser_timeout_s = parser_timeout_s
        # one store write at a time, across threads and processes (never held to embed)
        self.write_lock = ProcessWriteLock(self.root / ".write.lock")
        self._lock = threading.RLock()  # guards lazy opening only
        self._embedder = embedder
        self._owns_embedder = embedder is None
        self._store: KnowledgeStore | None = None
        self._parser: ParserProcess | None = None
        self._ingest: IngestService | None = None
        self._closed = False

    # --- lazily opened parts -------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedding model (created on first use; it loads its weights lazily)."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from qwen_desk.core.embedding import Embedder

                    self._embedder = Embedder(
                        model_path=self.settings.embed_model_path or None,
                        threads=self.settings.embed_threads or None,
                    )
        return self._embedder

    @property
    def store(self) -> KnowledgeStore:
        """The LanceDB store, opened for the current embedder (``EmbedderMismatch`` if not)."""
        if self._store is None:
            import lancedb  # noqa: F401 - seconds on first import: not under the lock

            # Lock order everywhere: write_lock, then _lock. Opening may take write_lock, and
            # callers may hold it around ``kb.store...``: taking it first rules out a deadlock.
            with self.write_lock, self._lock:
                self._check_open()
                if self._store is None:
                    self._store = self._open_store()
        return self._store

    def _open_store(self) -> KnowledgeStore:
        from qwen_desk.core.store import KnowledgeStore

        embedder = self.embedder
        return KnowledgeStore(
            paths.ensure(self.root),
            embed_model_id=embedder.model_id,
            dim=embedder.dim,
            write_lock=self.write_lock,
        )

    @property
    def parser(self) -> ParserProcess:
        """The sandboxed parser child process (started on first use, restarted by itself)."""
        if self._parser is None:
            with self._lock:
                self._check_open()
                if self._parser is None:
                    from qwen_desk.core.documents.sandbox import ParserProcess

                    self._parser = ParserProcess(timeout_s=self.parser_timeout_s)
        return self._parser

    @property
    def ingest(self) -> IngestService:
        """The ingestion service; its worker starts on the first job (or ``ingest.start()``)."""
        if self._ingest is None:
            with self._lock:
                self._check_open()
                if self._ingest is None:
                    from qwen_desk.core.ingest import IngestService

                    self._ingest = IngestService(self)
        return self._ingest

    def open(self) -> None:
        """Load the model and open the store now (call it off the GUI thread at start-up)."""
        self.embedder.load()
        _ = self.store

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the knowledge base is closed")

    # --- reading -------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        collection: str | None = DEFAULT_COLLECTION,
        k: int = 10,
        mode: str = "hybrid",
    ) -> list[Hit]:
        """The ``k`` best passages for ``query`` in ``collection`` (``None``: every collection).

        Callable from any thread, also while the worker embeds: nothing here waits for it.
        """
        vector = None if mode == "fts" else self.embedder.embed_query(query)
        store = self.store
        if collection is not None:
            return store.search(query, vector, collection=collection, k=k, mode=mode)
        hits = [
            hit
            for info in store.list_collections()
            for hit in store.search(query, vector, collection=info.name, k=k, mode=mode)
        ]
        return sorted(hits, key=lambda h: -h.score)[:k]

    def find_documents(self, key: str, collection: str | None = None) -> list[DocumentRecord]:
        """Documents whose id, id prefix or path is ``key``."""
        return self.store.find_documents(key, collection)

    # --- writing -------------------------------------------------------------------------------

    def remove(self, collection: str, doc_id: str) -> None:
        """Delete one document and its chunks (``DocumentNotFound`` when absent)."""
        if self.store.get_document(collection, doc_id) is None:
            raise DocumentNotFound(f"no document {doc_id} in {collection}")
        with self.write_lock:
            self.store.delete_document(collection, doc_id)

    def reindex(self, collection: str, doc_id: str) -> int:
        """Queue a re-index of one document; returns the job id."""
        return self.ingest.reindex(collection, doc_id)

    def reindex_all_for_new_embedder(self) -> list[int]:
        """Rebuild the knowledge base for the current embedder; returns the queued job ids.

        The store drops the old model's vectors and marks its documents stale (failed with
        ``embedder_mismatch``, marks that survive a crash); every stale document's file is
        queued again (a missing file then fails visibly). Calling it again is harmless.
        """
        with self.write_lock, self._lock:  # the order of ``store``
            self._check_open()
            if self._store is None:
                from qwen_desk.core.store import KnowledgeStore

                embedder = self.embedder
                self._store = KnowledgeStore.open_for_reindex(
                    paths.ensure(self.root),
                    embed_model_id=embedder.model_id,
                    dim=embedder.dim,
                    write_lock=self.write_lock,
                )
            store = self._store
        stale = store.documents_needing_reindex()
        queued = {(j.path, j.collection) for j in self.ingest.pending()}
        todo = [(r.path, r.collection) for r in stale if (r.path, r.collection) not in queued]
        return self.ingest.index_paths(todo)

    def request_stop(self) -> None:
        """Ask ingestion to stop soon, without waiting (the window is closing)."""
        ingest = self._ingest
        if ingest is not None:
            ingest.request_stop()

    def close(self, quick: bool = False) -> None:
        """Stop ingestion (running job resumes next time), stop the parser, close the store.

        ``quick`` (the window quits): the ingestion worker gets ``QUICK_STOP_S`` to reach its
        next stop check; one still inside an embedding batch then is left to the process exit,
        but first this takes the write lock (waiting for a write in flight), so that it can
        never write to the store once it is closed. The parser child is killed, not awaited."""
        with self._lock:
            self._closed = True
            ingest, parser, store = self._ingest, self._parser, self._store
        if ingest is not None and not ingest.close(QUICK_STOP_S if quick else 30.0):
            self.write_lock.acquire()  # held until the process exits
        if parser is not None:
            parser.close(kill=quick)
        if store is not None:
            store.close()
        if self._owns_embedder and self._embedder is not None:
            close = getattr(self._embedder, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
