"""Core layer: ``KnowledgeStore``, collections, documents and chunks in an embedded LanceDB.

One writer thread calls the mutating methods; any thread may search at the same time. Atomicity
per document: ``replace_document`` commits the chunks (one ``merge_insert`` that also deletes the
document's old chunks) and then the document row; both carry the same write ``version``. Search
only returns chunks whose document row is READY at that version, so a crash between the two
commits never shows a half-indexed document, and the next open (by the process holding the
writer lock) deletes such orphan chunks. Searches see the writer's commits at once (same table
handles) and other processes' commits within ``READ_CONSISTENCY``.

Any number of processes may write one folder: every mutating method (and an opening that
creates tables or cleans up) runs under the process write lock (``write_lock``, shared with the
``KnowledgeBase``), first moves the table handles to the latest version (so the index checks
and the READY set see the other processes' commits: an index another process built is never
built again) and retries a Lance commit conflict that is retryable (``conflicts``). Reading,
searching and a second process's opening of a ready folder take no lock.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from qwen_desk.core.errors import (
    CollectionExists,
    CollectionNotFound,
    DocumentNotFound,
    EmbedderMismatch,
    InvalidCollectionName,
    StoreError,
)
from qwen_desk.core.store import search as search_mod
from qwen_desk.core.store.conflicts import retry_conflicts
from qwen_desk.core.store.lock import WriterLock
from qwen_desk.core.store.schema import (
    CHUNK_COLUMNS,
    CHUNKS,
    COLLECTIONS,
    DEFAULT_COLLECTION,
    DOCUMENTS,
    SCHEMA_VERSION,
    Meta,
    chunks_schema,
    clean_collection_name,
    collections_schema,
    documents_schema,
    list_tables,
    migrate,
    remove_stray_temp_files,
    sql_str,
)
from qwen_desk.core.store.search import Visible, collection_filter
from qwen_desk.core.store.write_lock import ProcessWriteLock
from qwen_desk.core.text_tokens import search_text
from qwen_desk.core.types import (
    Chunk,
    CollectionInfo,
    DocumentRecord,
    DocumentStatus,
    Hit,
)

log = logging.getLogger(__name__)

READ_CONSISTENCY = timedelta(seconds=1)
VECTOR_INDEX_MIN_ROWS = 50_000
VECTOR_INDEX_REGROW = 4  # retrain the vector index when the table grew 4x since it was built
KEEP_OLD_VERSIONS = timedelta(hours=1)
# maintain() folds unindexed rows into the indexes once there are this many (or this share).
UNINDEXED_ROWS_TO_FOLD = 2_000
UNINDEXED_SHARE_TO_FOLD = 0.02  # older table versions are deleted by maintain()
MIN_DOC_ID_PREFIX = 8
INTERRUPTED_MESSAGE = "indexing was interrupted; add the file again"
_SMALL_FRAGMENTS_TO_COMPACT = 64


class _NeedsWrite(Exception):
    """Opening must write (create, upgrade, switch model): start again under the lock."""


F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def _writes(method: F) -> F:
    """Run a mutating method under the process write lock, on the latest table versions."""

    @functools.wraps(method)
    def locked(self: KnowledgeStore, *args: Any, **kwargs: Any) -> Any:
        with self.write_lock:
            self._sync()
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


class KnowledgeStore:
    """The knowledge base at ``root`` for one embedding model (id and dimension)."""

    def __init__(
        self,
        root: Path,
        *,
        embed_model_id: str,
        dim: int,
        allow_mismatch: bool = False,
        write_lock: ProcessWriteLock | None = None,
    ) -> None:
        """Open or create; ``allow_mismatch`` opens another model's store to read its documents
        (search is then refused) until ``reset`` switches it to this model. ``write_lock`` is
        the knowledge base's (``<root>/.write.lock`` when not given)."""
        self._open(
            Path(root),
            embed_model_id=embed_model_id,
            dim=dim,
            reindex=False,
            lenient=allow_mismatch,
            write_lock=write_lock,
        )

    @classmethod
    def open_for_reindex(
        cls,
        root: Path,
        *,
        embed_model_id: str,
        dim: int,
        write_lock: ProcessWriteLock | None = None,
    ) -> KnowledgeStore:
        """Open with a new embedding model: old vectors are dropped, documents marked stale.

        Every READY document of the old model becomes a FAILED row with code
        ``embedder_mismatch`` (see ``documents_needing_reindex``) so the caller re-adds its
        file; the marks survive a crash, and calling this again is harmless.
        """
        store = cls.__new__(cls)
        store._open(
            Path(root), embed_model_id=embed_model_id, dim=dim, reindex=True, write_lock=write_lock
        )
        return store

    # --- opening -------------------------------------------------------------------------------

    def _open(
        self,
        root: Path,
        *,
        embed_model_id: str,
        dim: int,
        reindex: bool,
        lenient: bool = False,
        write_lock: ProcessWriteLock | None = None,
    ) -> None:
        if dim <= 0 or not embed_model_id:
            raise StoreError("an embedding model id and a positive dimension are required")
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.embed_model_id = embed_model_id
        self.dim = dim
        self._lock = threading.RLock()
        self.write_lock = write_lock or ProcessWriteLock(root / ".write.lock")
        self._writer_lock = WriterLock(root / ".writer.lock")
        self.is_primary = self._writer_lock.acquire()
        try:
            self._open_tables(reindex=reindex, lenient=lenient)
        except BaseException:
            self._writer_lock.release()
            raise

    def _open_tables(self, *, reindex: bool, lenient: bool) -> None:
        """Open, creating or upgrading the tables and cleaning up under the write lock.

        A second process (a search beside an ``add``) opening a ready folder writes nothing and
        takes no lock; the primary process cleans up, so it always takes it.
        """
        import lancedb

        self._db = lancedb.connect(str(self.root), read_consistency_interval=READ_CONSISTENCY)
        if not self.is_primary:
            try:
                self._load_tables(reindex=reindex, lenient=lenient, may_write=False)
                return
            except _NeedsWrite:
                pass
        with self.write_lock:  # creating tables, cleaning up: never beside another writer
            if self.is_primary:
                remove_stray_temp_files(self.root)
            self._load_tables(reindex=reindex, lenient=lenient, may_write=True)

    def _load_tables(self, *, reindex: bool, lenient: bool, may_write: bool) -> None:
        """The rest of opening; without ``may_write`` it raises ``_NeedsWrite`` before a write."""
        root, embed_model_id, dim = self.root, self.embed_model_id, self.dim
        meta = Meta.load(root)
        if meta.schema_version == 0:
            meta = Meta(schema_version=0, embed_model_id=embed_model_id, dim=dim)
        if not may_write and meta.schema_version != SCHEMA_VERSION:
            raise _NeedsWrite()
        self._meta = migrate(self._db, root, meta)
        self._collections = self._db.open_table(COLLECTIONS)
        self._documents = self._db.open_table(DOCUMENTS)
        self._chunks = self._db.open_table(CHUNKS)
        self.mismatch = (self._meta.embed_model_id, self._meta.dim) != (embed_model_id, dim)
        if self.mismatch and not lenient:
            if not may_write:
                raise _NeedsWrite()
            self._switch_model(reindex)
        self._visible: dict[tuple[str, str], Visible] = {}
        self._visible_version = -1
        self._collection_names: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._vector_indexed = self._has_index("vector")
        self._refresh_visible(force=True)
        self._refresh_collections()
        if DEFAULT_COLLECTION not in self._collection_names:
            if not may_write:
                raise _NeedsWrite()
            self._add_collection_row(DEFAULT_COLLECTION)
        if self.is_primary and not self.mismatch:
            self._clean_orphans()

    def _switch_model(self, reindex: bool) -> None:
        """The folder was written by another model: refuse, or (re-index) start over."""
        old = f"{self._meta.embed_model_id} ({self._meta.dim}-d)"
        new = f"{self.embed_model_id} ({self.dim}-d)"
        if not reindex and self._chunks.count_rows() > 0:
            raise EmbedderMismatch(
                f"this knowledge base was built with {old}; the embedder is now {new}",
                stored=self._meta.embed_model_id,
                stored_dim=self._meta.dim,
                current=self.embed_model_id,
                current_dim=self.dim,
            )
        if not self.is_primary:
            raise StoreError("the knowledge base is open in another Qwen Desk process")
        message = f"built with {self._meta.embed_model_id}; needs re-indexing"
        self._commit(
            lambda: self._documents.update(
                where="status = 'ready'",
                values={"status": DocumentStatus.FAILED.value, "error_code": EmbedderMismatch.code,
                        "error_message": message, "n_chunks": 0},
            )
        )  # fmt: skip
        self._db.drop_table(CHUNKS)
        self._db.create_table(CHUNKS, schema=chunks_schema(self.dim))
        self._chunks = self._db.open_table(CHUNKS)
        self._meta.embed_model_id, self._meta.dim = self.embed_model_id, self.dim
        self._meta.vector_index_rows = 0
        self._meta.save(self.root)
        self.mismatch = False

    def _check_model(self) -> None:
        if self.mismatch:
            raise EmbedderMismatch(
                f"the knowledge base was built with {self._meta.embed_model_id}; "
                f"re-index it for {self.embed_model_id}"
            )

    @_writes
    def reset(self, *, embed_model_id: str, dim: int) -> None:
        """Switch to another embedding model now, as ``open_for_reindex`` does."""
        self.embed_model_id, self.dim = embed_model_id, dim
        if (self._meta.embed_model_id, self._meta.dim) != (embed_model_id, dim):
            self._switch_model(reindex=True)
        self._refresh_visible(force=True)

    def _clean_orphans(self) -> None:
        """Delete chunks of interrupted writes; flag READY rows whose chunks are gone."""
        import pyarrow.compute as pc

        if self._chunks.count_rows() == 0:
            counts: dict[tuple[str, str, str], int] = {}
        else:
            keys = self._chunks.search().select(["collection", "doc_id", "doc_version"]).to_arrow()
            grouped = keys.group_by(["collection", "doc_id", "doc_version"]).aggregate(
                [("doc_id", "count")]
            )
            counts = {
                (c, d, v): n
                for c, d, v, n in zip(
                    grouped["collection"].to_pylist(),
                    grouped["doc_id"].to_pylist(),
                    grouped["doc_version"].to_pylist(),
                    pc.cast(grouped["doc_id_count"], "int64").to_pylist(),
                    strict=True,
                )
            }
        for (collection, doc_id, version), _n in counts.items():
            doc = self._visible.get((collection, doc_id))
            if doc is None or doc.version != version:
                log.warning("removing orphan chunks of %s in %s", doc_id, collection)
                where = (
                    f"collection = {sql_str(collection)} AND doc_id = {sql_str(doc_id)} "
                    f"AND doc_version = {sql_str(version)}"
                )
                self._commit(lambda where=where: self._chunks.delete(where))
        for record in self.list_documents():
            if record.status is not DocumentStatus.READY or record.n_chunks == 0:
                continue
            version = self._visible[(record.collection, record.doc_id)].version
            if counts.get((record.collection, record.doc_id, version), 0) != record.n_chunks:
                record.status = DocumentStatus.FAILED
                record.error_code = StoreError.code
                record.error_message = INTERRUPTED_MESSAGE
                record.n_chunks = 0
                self.record_failure(record)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._writer_lock.release()
        self._db = None

    def __enter__(self) -> KnowledgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing across processes ----------------------------------------------------------------

    def _checkout_latest(self) -> None:
        for table in (self._collections, self._documents, self._chunks):
            table.checkout_latest()

    def _sync(self) -> None:
        """Under the write lock: see every process's commits before deciding what to write."""
        self._checkout_latest()
        self._refresh_visible()
        self._refresh_collections()

    def _commit(self, write: Callable[[], R]) -> R:
        """One Lance commit, retried (on the latest versions) when it lost a retryable race."""
        return retry_conflicts(write, self._checkout_latest)

    # --- visibility ------------------------------------------------------------------------------

    def _refresh_visible(self, force: bool = False) -> None:
        """Reload the READY documents when the documents table moved on (another process)."""
        version = self._documents.version
        if not force and version == self._visible_version:
            return
        rows = (
            self._documents.search()
            .where("status = 'ready'")
            .select(["collection", "doc_id", "version", "path", "title"])
            .to_list()
        )
        visible = {
            (r["collection"], r["doc_id"]): Visible(r["version"], r["path"], r["title"])
            for r in rows
        }
        with self._lock:
            self._visible = visible
            self._visible_version = version
        if not force:  # another process wrote: it may have built the vector index too
            self._vector_indexed = self._has_index("vector")

    def _set_visible(self, collection: str, doc_id: str, doc: Visible | None) -> None:
        with self._lock:
            visible = dict(self._visible)
            if doc is None:
                visible.pop((collection, doc_id), None)
            else:
                visible[(collection, doc_id)] = doc
            self._visible = visible  # readers keep the dict they took: swap, never mutate
            self._visible_version = self._documents.version

    # --- collections -----------------------------------------------------------------------------

    def _refresh_collections(self) -> None:
        names = {r["name"] for r in self._collections.search().select(["name"]).to_list()}
        with self._lock:
            self._collection_names = names

    def _add_collection_row(self, name: str) -> float:
        import pyarrow as pa

        now = time.time()
        row = pa.Table.from_pylist([{"name": name, "created_at": now}], collections_schema())
        self._commit(lambda: self._collections.add(row))
        self._refresh_collections()
        return now

    def _require_collection(self, name: str) -> str:
        cleaned = clean_collection_name(name)
        if cleaned not in self._collection_names:
            self._refresh_collections()
        if cleaned not in self._collection_names:
            raise CollectionNotFound(f"no collection named {cleaned!r}", name=cleaned)
        return cleaned

    def change_token(self) -> tuple[int, int]:
        """The versions of the documents and collections tables: they change with every commit
        of any process (seen within ``READ_CONSISTENCY``). About 1 ms, whatever the size: it
        reads the latest manifest, not the data. Takes no lock: it never waits for a write."""
        return (int(self._documents.version), int(self._collections.version))

    def list_collections(self) -> list[CollectionInfo]:
        """Every collection with its document and chunk counts, ``default`` first."""
        rows = self._collections.search().select(["name", "created_at"]).to_list()
        docs: dict[str, int] = {}
        chunks: dict[str, int] = {}
        for record in self.list_documents():
            if record.status is DocumentStatus.READY:
                docs[record.collection] = docs.get(record.collection, 0) + 1
                chunks[record.collection] = chunks.get(record.collection, 0) + record.n_chunks
        infos = [
            CollectionInfo(n, r["created_at"], docs.get(n, 0), chunks.get(n, 0))
            for r in rows
            if (n := r["name"])
        ]
        infos.sort(key=lambda c: (c.name != DEFAULT_COLLECTION, c.created_at, c.name))
        return infos

    @_writes
    def create_collection(self, name: str) -> CollectionInfo:
        cleaned = clean_collection_name(name)
        self._refresh_collections()
        if cleaned in self._collection_names:
            raise CollectionExists(f"a collection named {cleaned!r} exists", name=cleaned)
        return CollectionInfo(cleaned, self._add_collection_row(cleaned))

    def ensure_collection(self, name: str) -> None:
        cleaned = clean_collection_name(name)
        self._refresh_collections()
        if cleaned not in self._collection_names:  # else no lock: nothing to write
            self._add_missing_collection(cleaned)

    @_writes
    def _add_missing_collection(self, cleaned: str) -> None:
        if cleaned not in self._collection_names:  # another process may just have added it
            self._add_collection_row(cleaned)

    def has_documents(self, collection: str) -> bool:
        """Whether ``collection`` holds a searchable (READY) document; reads no table data
        unless another process wrote since (the READY set is kept in memory)."""
        cleaned = self._require_collection(collection)
        self._refresh_visible()
        return any(name == cleaned for name, _doc_id in self._visible)

    @_writes
    def rename_collection(self, old: str, new: str) -> None:
        """Rename; chunk ids are kept so stored citations still resolve."""
        old = self._require_collection(old)
        new = clean_collection_name(new)
        if old == DEFAULT_COLLECTION:
            raise InvalidCollectionName("the default collection cannot be renamed", name=old)
        if new == old:
            return
        if new in self._collection_names:
            raise CollectionExists(f"a collection named {new!r} exists", name=new)
        where = collection_filter(old)
        # Chunks first: until the documents move, the renamed chunks are simply not visible.
        self._commit(lambda: self._chunks.update(where=where, values={"collection": new}))
        self._commit(lambda: self._documents.update(where=where, values={"collection": new}))
        self._commit(
            lambda: self._collections.update(where=f"name = {sql_str(old)}", values={"name": new})
        )
        self._refresh_collections()
        self._refresh_visible(force=True)

    @_writes
    def delete_collection(self, name: str) -> None:
        """Delete a collection and everything in it; ``default`` is emptied but stays."""
        name = self._require_collection(name)
        where = collection_filter(name)
        self._commit(lambda: self._documents.delete(where))
        self._commit(lambda: self._chunks.delete(where))
        if name != DEFAULT_COLLECTION:
            self._commit(lambda: self._collections.delete(f"name = {sql_str(name)}"))
        self._refresh_collections()
        self._refresh_visible(force=True)

    # --- documents -------------------------------------------------------------------------------

    @staticmethod
    def _record(row: dict[str, Any]) -> DocumentRecord:
        return DocumentRecord(
            doc_id=row["doc_id"],
            collection=row["collection"],
            path=row["path"],
            title=row["title"],
            kind=row["kind"],
            size=row["size"],
            mtime=row["mtime"],
            pages=row["pages"],
            n_chunks=row["n_chunks"],
            embed_model=row["embed_model"],
            status=DocumentStatus(row["status"]),
            scanned_pages=row["scanned_pages"],
            error_code=row["error_code"],
            error_message=row["error_message"],
            added_at=row["added_at"],
        )

    def _document_rows(self, where: str | None) -> list[dict[str, Any]]:
        query = self._documents.search()
        if where:
            query = query.where(where)
        columns = [f for f in documents_schema().names if f != "version"]
        return query.select(columns).limit(None).to_list()

    def get_document(self, collection: str, doc_id: str) -> DocumentRecord | None:
        where = (
            f"{collection_filter(clean_collection_name(collection))} AND doc_id = {sql_str(doc_id)}"
        )
        rows = self._document_rows(where)
        return self._record(rows[0]) if rows else None

    def list_documents(self, collection: str | None = None) -> list[DocumentRecord]:
        """Documents (READY and FAILED), oldest first."""
        where = collection_filter(clean_collection_name(collection)) if collection else None
        records = [self._record(r) for r in self._document_rows(where)]
        records.sort(key=lambda r: (r.added_at, r.path))
        return records

    def find_documents(self, key: str, collection: str | None = None) -> list[DocumentRecord]:
        """Documents whose id is ``key``, starts with ``key`` (>= 8 chars) or whose path it is."""
        key = key.strip()
        if not key:
            return []
        resolved = str(Path(key).expanduser().resolve()) if not key.startswith("\\\\") else key
        found = []
        for record in self.list_documents(collection):
            if (
                record.doc_id == key
                or (len(key) >= MIN_DOC_ID_PREFIX and record.doc_id.startswith(key.lower()))
                or record.path in (key, resolved)
            ):
                found.append(record)
        return found

    def _document_row(self, record: DocumentRecord, version: str) -> Any:
        import pyarrow as pa

        row = asdict(record)
        row["status"] = DocumentStatus(record.status).value
        row["added_at"] = record.added_at or time.time()
        row["version"] = version
        return pa.Table.from_pylist([row], documents_schema())

    def _chunk_rows(
        self, record: DocumentRecord, chunks: Sequence[Chunk], vectors: np.ndarray, version: str
    ) -> Any:
        import pyarrow as pa

        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(chunks), self.dim):
            raise StoreError(
                f"expected vectors of shape ({len(chunks)}, {self.dim}), got {vectors.shape}"
            )
        n = len(chunks)
        columns = {
            "chunk_id": [c.chunk_id for c in chunks],
            "doc_id": [record.doc_id] * n,
            "collection": [record.collection] * n,
            "ord": [c.ord for c in chunks],
            "page": [c.page for c in chunks],
            "char_start": [c.char_start for c in chunks],
            "char_end": [c.char_end for c in chunks],
            "rects": [[list(r) for r in c.rects] for c in chunks],
            "heading": [c.heading for c in chunks],
            "text": [c.text for c in chunks],
            "search_text": [search_text(f"{c.heading}\n{c.text}") for c in chunks],
            "n_tokens": [c.n_tokens for c in chunks],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), self.dim),
            "embed_model": [self.embed_model_id] * n,
            "doc_version": [version] * n,
        }
        schema = chunks_schema(self.dim)
        return pa.Table.from_pydict(
            {name: pa.array(values, schema.field(name).type) if name != "vector" else values
             for name, values in columns.items()},
            schema=schema,
        )  # fmt: skip

    @_writes
    def replace_document(
        self, record: DocumentRecord, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> None:
        """Make ``chunks`` the whole content of the document, atomically, and mark it READY."""
        self._check_model()
        collection = self._require_collection(record.collection)
        record.collection = collection
        for chunk in chunks:
            if chunk.doc_id != record.doc_id or chunk.collection != collection:
                raise StoreError(f"chunk {chunk.chunk_id} does not belong to {record.doc_id}")
        version = uuid.uuid4().hex
        rows = self._chunk_rows(record, chunks, vectors, version)
        doc_where = f"{collection_filter(collection)} AND doc_id = {sql_str(record.doc_id)}"
        if len(chunks):
            self._commit(
                lambda: (
                    self._chunks.merge_insert("chunk_id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .when_not_matched_by_source_delete(doc_where)
                    .execute(rows)
                )
            )
        else:
            self._commit(lambda: self._chunks.delete(doc_where))
        record.status = DocumentStatus.READY
        record.n_chunks = len(chunks)
        record.embed_model = self.embed_model_id
        record.error_code = record.error_message = ""
        self._upsert_document(record, version)
        self._set_visible(collection, record.doc_id, Visible(version, record.path, record.title))
        if len(chunks) and not self._has_index("search_text"):  # latest version: really none
            self._create_fts_index()

    def _upsert_document(self, record: DocumentRecord, version: str) -> None:
        row = self._document_row(record, version)
        self._commit(
            lambda: (
                self._documents.merge_insert(["collection", "doc_id"])
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(row)
            )
        )

    @_writes
    def record_failure(self, record: DocumentRecord) -> None:
        """Store a FAILED row (with ``error_code``/``error_message``) and drop the doc's chunks."""
        collection = self._require_collection(record.collection)
        record.collection = collection
        record.status = DocumentStatus.FAILED
        record.n_chunks = 0
        self._set_visible(collection, record.doc_id, None)
        self._upsert_document(record, uuid.uuid4().hex)
        where = f"{collection_filter(collection)} AND doc_id = {sql_str(record.doc_id)}"
        self._commit(lambda: self._chunks.delete(where))
        self._visible_version = self._documents.version

    @_writes
    def delete_document(self, collection: str, doc_id: str) -> None:
        collection = self._require_collection(collection)
        where = f"{collection_filter(collection)} AND doc_id = {sql_str(doc_id)}"
        if self._documents.count_rows(where) == 0:
            raise DocumentNotFound(f"no document {doc_id} in {collection!r}", doc_id=doc_id)
        self._set_visible(collection, doc_id, None)
        # Document row first: from then on the chunks are invisible orphans, never half a doc.
        self._commit(lambda: self._documents.delete(where))
        self._commit(lambda: self._chunks.delete(where))
        self._visible_version = self._documents.version

    def documents_needing_reindex(self, collection: str | None = None) -> list[DocumentRecord]:
        """Documents whose vectors were dropped by ``open_for_reindex``: add their files again."""
        return [
            r
            for r in self.list_documents(collection)
            if r.status is DocumentStatus.FAILED and r.error_code == EmbedderMismatch.code
        ]

    # --- chunks ----------------------------------------------------------------------------------

    def _visible_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._refresh_visible()
        visible = self._visible
        return [
            r
            for r in rows
            if (doc := visible.get((r["collection"], r["doc_id"]))) is not None
            and doc.version == r["doc_version"]
        ]

    @staticmethod
    def _chunk(row: dict[str, Any]) -> Chunk:
        return Chunk(
            chunk_id=row["chunk_id"],
            doc_id=row["doc_id"],
            collection=row["collection"],
            ord=row["ord"],
            page=row["page"],
            char_start=row["char_start"],
            char_end=row["char_end"],
            text=row["text"],
            heading=row["heading"],
            rects=[tuple(r) for r in row["rects"] or []],  # type: ignore[misc]
            n_tokens=row["n_tokens"] or 0,
        )

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """Chunks of READY documents, in the order asked; unknown ids are skipped."""
        if not chunk_ids:
            return []
        wanted = ", ".join(sql_str(c) for c in dict.fromkeys(chunk_ids))
        rows = (
            self._chunks.search()
            .where(f"chunk_id IN ({wanted})")
            .select(CHUNK_COLUMNS)
            .limit(None)
            .to_list()
        )
        by_id = {r["chunk_id"]: self._chunk(r) for r in self._visible_rows(rows)}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def neighbours(self, chunk_id: str, before: int = 1, after: int = 1) -> list[Chunk]:
        """The chunk itself with up to ``before``/``after`` chunks around it, in reading order."""
        found = self.get_chunks([chunk_id])
        if not found:
            return []
        chunk = found[0]
        where = (
            f"{collection_filter(chunk.collection)} AND doc_id = {sql_str(chunk.doc_id)} "
            f"AND ord >= {chunk.ord - max(0, before)} AND ord <= {chunk.ord + max(0, after)}"
        )
        rows = self._chunks.search().where(where).select(CHUNK_COLUMNS).limit(None).to_list()
        chunks = [self._chunk(r) for r in self._visible_rows(rows)]
        return sorted(chunks, key=lambda c: c.ord)

    # --- search ----------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        query_vector: np.ndarray | None,
        *,
        collection: str,
        k: int = 10,
        mode: str = "hybrid",
        vector_weight: float | None = None,
    ) -> list[Hit]:
        """Top ``k`` chunks of ``collection``; ``mode`` is hybrid, vector or fts.

        ``vector_weight`` is the vector leg's RRF weight against the full-text leg's 1; ``None``
        lowers it for Chinese queries when the embedder only knows English (``search.py``).
        """
        if mode not in search_mod.MODES:
            raise ValueError(f"unknown search mode {mode!r}")
        self._check_model()
        collection = self._require_collection(collection)
        if k <= 0:
            return []
        self._refresh_visible()
        where = collection_filter(collection)
        n = search_mod.leg_size(k)
        fts_future: Future[list[dict[str, Any]]] | None = None
        if mode in ("hybrid", "fts") and query.strip():
            # The legs run in parallel: LanceDB releases the GIL while it searches.
            fts_future = self._search_pool().submit(
                search_mod.fts_leg, self._chunks, query, where, n
            )
        vector_rows: list[dict[str, Any]] = []
        try:
            if mode in ("hybrid", "vector") and query_vector is not None:
                vector = np.asarray(query_vector, dtype=np.float32).reshape(-1)
                if vector.shape != (self.dim,):
                    raise StoreError(
                        f"query vector has {vector.shape[0]} values, expected {self.dim}"
                    )
                vector_rows = search_mod.vector_leg(
                    self._chunks, vector, where, n, self._vector_indexed
                )
        finally:
            fts_rows = fts_future.result() if fts_future is not None else []
        if vector_weight is None:
            vector_weight = search_mod.vector_weight(query, self.embed_model_id)
        return search_mod.fuse(vector_rows, fts_rows, self._visible, k, self._hit, vector_weight)

    @staticmethod
    def _hit(row: dict[str, Any], doc: Visible, score: float) -> Hit:
        return Hit(
            chunk_id=row["chunk_id"],
            doc_id=row["doc_id"],
            collection=row["collection"],
            path=doc.path,
            title=doc.title,
            page=row["page"],
            char_start=row["char_start"],
            char_end=row["char_end"],
            text=row["text"],
            score=score,
            heading=row["heading"],
            rects=[tuple(r) for r in row["rects"] or []],  # type: ignore[misc]
        )

    # --- indexes and maintenance -----------------------------------------------------------------

    def _indices(self) -> dict[str, Any]:
        return {next(iter(ix.columns)): ix for ix in self._chunks.list_indices()}

    def _has_index(self, column: str) -> bool:
        return column in self._indices()

    def _search_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kb-search")
            return self._pool

    def _create_fts_index(self) -> None:
        from lancedb.index import FTS

        config = FTS(
            base_tokenizer="whitespace",
            lower_case=False,  # text_tokens already normalised the column
            stem=False,
            remove_stop_words=False,
            ascii_folding=False,
            max_token_length=64,
        )

        def create() -> None:
            if not self._has_index("search_text"):  # after a lost race: the winner built it
                self._chunks.create_index("search_text", config=config, replace=True)

        self._commit(create)

    @_writes
    def maintain(self, *, force: bool = False) -> None:
        """Fold new rows into the indexes, build the vector index past 50k rows, compact.

        Call from the writer thread after a batch of writes. Folding rows in rewrites index
        segments (seconds at 100k rows), and unindexed rows are searched anyway, so it waits until
        enough rows gathered (``force`` folds now); cheap when there is nothing to do.
        """
        rows = self._chunks.count_rows()
        if rows == 0:
            return
        indices = self._indices()
        if "search_text" not in indices:
            self._create_fts_index()
        if ("vector" not in indices and rows >= VECTOR_INDEX_MIN_ROWS) or (
            # Partitions are trained once; retrain when the table outgrew them.
            "vector" in indices
            and rows > VECTOR_INDEX_REGROW * max(1, self._meta.vector_index_rows)
        ):
            self.build_vector_index()
            indices = self._indices()
        unindexed = sum(
            self._chunks.index_stats(ix.name).num_unindexed_rows for ix in indices.values()
        )
        small = self._chunks.stats()["fragment_stats"]["num_small_fragments"]
        enough = max(UNINDEXED_ROWS_TO_FOLD, int(rows * UNINDEXED_SHARE_TO_FOLD))
        if (unindexed and (force or unindexed >= enough)) or small >= _SMALL_FRAGMENTS_TO_COMPACT:
            self._commit(lambda: self._chunks.optimize(cleanup_older_than=KEEP_OLD_VERSIONS))
        for table in (self._documents, self._collections):
            if (
                table.stats()["fragment_stats"]["num_small_fragments"]
                >= _SMALL_FRAGMENTS_TO_COMPACT
            ):
                self._commit(lambda t=table: t.optimize(cleanup_older_than=KEEP_OLD_VERSIONS))

    @_writes
    def build_vector_index(self) -> None:
        """IVF_HNSW_SQ, cosine (best recall/latency measured by bench/search.py)."""
        from lancedb.index import IvfHnswSq

        rows = self._chunks.count_rows()
        partitions = max(1, min(1024, rows // 8192))
        config = IvfHnswSq(distance_type="cosine", num_partitions=partitions)
        self._commit(lambda: self._chunks.create_index("vector", config=config, replace=True))
        self._vector_indexed = True
        self._meta.vector_index_rows = rows
        if self.is_primary:
            self._meta.save(self.root)

    def stats(self) -> dict[str, Any]:
        """Counts, versions and index state, for ``doctor`` and the status bar."""
        indices = {}
        for column, ix in self._indices().items():
            ist = self._chunks.index_stats(ix.name)
            indices[column] = {
                "name": ix.name,
                "type": str(ix.index_type),
                "indexed_rows": ist.num_indexed_rows,
                "unindexed_rows": ist.num_unindexed_rows,
            }
        return {
            "root": str(self.root),
            "schema_version": self._meta.schema_version,
            "embed_model_id": self.embed_model_id,
            "dim": self.dim,
            "collections": len(self._collections.search().select(["name"]).to_list()),
            "documents": self._documents.count_rows(),
            "documents_ready": self._documents.count_rows("status = 'ready'"),
            "chunks": self._chunks.count_rows(),
            "indices": indices,
            "versions": {
                name: table.version
                for name, table in (
                    (COLLECTIONS, self._collections),
                    (DOCUMENTS, self._documents),
                    (CHUNKS, self._chunks),
                )
            },
            "tables": list_tables(self._db),
        }
