"""Core layer: the knowledge base's on-disk layout, its meta record and numbered migrations.

A knowledge base is a LanceDB folder with three tables (``collections``, ``documents``,
``chunks``) and ``meta.json`` (schema version, embedding model id and dimension). Migrations are
numbered functions run in order on open; data written by a newer schema is refused
(``SchemaTooNew``) rather than misread. pyarrow is imported inside functions so that importing
the store stays light.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qwen_desk.core.errors import InvalidCollectionName, SchemaTooNew, StoreError

SCHEMA_VERSION = 2
META_FILE = "meta.json"
DEFAULT_COLLECTION = "default"
MAX_COLLECTION_NAME = 64

COLLECTIONS = "collections"
DOCUMENTS = "documents"
CHUNKS = "chunks"
# Columns read back for search hits and chunk look-ups (never the vector).
CHUNK_COLUMNS = [
    "chunk_id",
    "doc_id",
    "collection",
    "ord",
    "page",
    "char_start",
    "char_end",
    "rects",
    "heading",
    "text",
    "n_tokens",
    "doc_version",
]


@dataclass
class Meta:
    """``meta.json``: what the folder holds and which model wrote its vectors."""

    schema_version: int = 0
    embed_model_id: str = ""
    dim: int = 0
    vector_index_rows: int = 0  # rows when the vector index was trained (0: no index)

    @classmethod
    def load(cls, root: Path) -> Meta:
        file = root / META_FILE
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read {file}: {exc}") from exc
        return cls(
            schema_version=int(raw.get("schema_version", 0)),
            embed_model_id=str(raw.get("embed_model_id", "")),
            dim=int(raw.get("dim", 0)),
            vector_index_rows=int(raw.get("vector_index_rows", 0)),
        )

    def save(self, root: Path) -> None:
        """Write atomically (temp file, fsync, rename)."""
        fd, tmp = tempfile.mkstemp(prefix=".meta-", suffix=".tmp", dir=root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(asdict(self), fh, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, root / META_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# --- arrow schemas -----------------------------------------------------------------------------


def collections_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("name", pa.string()), ("created_at", pa.float64())])


def documents_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("collection", pa.string()),
            ("path", pa.string()),
            ("title", pa.string()),
            ("kind", pa.string()),
            ("size", pa.int64()),
            ("mtime", pa.float64()),
            ("pages", pa.int32()),
            ("n_chunks", pa.int32()),
            ("embed_model", pa.string()),
            ("status", pa.string()),
            ("scanned_pages", pa.int32()),
            ("error_code", pa.string()),
            ("error_message", pa.string()),
            ("added_at", pa.float64()),
            # The write that produced this row; its chunks carry the same value (``doc_version``).
            ("version", pa.string()),
        ]
    )


def chunks_schema(dim: int) -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("chunk_id", pa.string()),
            ("doc_id", pa.string()),
            ("collection", pa.string()),
            ("ord", pa.int32()),
            ("page", pa.int32()),
            ("char_start", pa.int64()),
            ("char_end", pa.int64()),
            ("rects", pa.list_(pa.list_(pa.float32(), 4))),
            ("heading", pa.string()),
            ("text", pa.string()),
            ("search_text", pa.string()),  # text_tokens.search_text(heading + text)
            ("n_tokens", pa.int32()),
            ("vector", pa.list_(pa.float32(), dim)),
            ("embed_model", pa.string()),
            ("doc_version", pa.string()),
        ]
    )


# --- migrations --------------------------------------------------------------------------------

Migration = Callable[[Any, Meta], None]


def _m1_create_tables(db: Any, meta: Meta) -> None:
    existing = set(list_tables(db))
    if COLLECTIONS not in existing:
        db.create_table(COLLECTIONS, schema=collections_schema())
    if DOCUMENTS not in existing:
        db.create_table(DOCUMENTS, schema=documents_schema())
    if CHUNKS not in existing:
        db.create_table(CHUNKS, schema=chunks_schema(meta.dim))


SEARCH_TEXT_BATCH = 4096


def rebuild_search_text(chunks: Any, may_change: Callable[[str], bool] | None = None) -> int:
    """Recompute ``search_text`` of every chunk from its heading and text, in place.

    ``may_change`` (given heading and text) skips, cheaply, the rows whose tokens cannot have
    changed (migration 2: those without Traditional characters). Only rows whose tokens changed
    are rewritten (one partial ``merge_insert`` per batch: chunk text, vectors and ids stay as
    they are); then the full-text index folds them in (until it does, LanceDB searches the
    rewritten rows unindexed, so search stays right). Returns the number of rows rewritten (0
    for a table without Traditional Chinese: nothing is written).
    """
    import pyarrow as pa

    from qwen_desk.core.text_tokens import search_text

    if chunks.count_rows() == 0:
        return 0
    columns = ["chunk_id", "heading", "text", "search_text"]
    changed_ids: list[str] = []
    changed_text: list[str] = []
    reader = chunks.search().select(columns).limit(None).to_batches(SEARCH_TEXT_BATCH)
    for batch in reader:
        for chunk_id, heading, text, old in zip(
            *(batch.column(name).to_pylist() for name in columns), strict=True
        ):
            source = f"{heading or ''}\n{text or ''}"
            if may_change is not None and not may_change(source):
                continue
            new = search_text(source)
            if new != old:
                changed_ids.append(chunk_id)
                changed_text.append(new)
    schema = pa.schema([("chunk_id", pa.string()), ("search_text", pa.string())])
    for start in range(0, len(changed_ids), SEARCH_TEXT_BATCH):
        rows = pa.Table.from_pydict(
            {
                "chunk_id": changed_ids[start : start + SEARCH_TEXT_BATCH],
                "search_text": changed_text[start : start + SEARCH_TEXT_BATCH],
            },
            schema=schema,
        )
        chunks.merge_insert("chunk_id").when_matched_update_all().execute(rows)
    if changed_ids and chunks.list_indices():
        chunks.optimize()
    return len(changed_ids)


def _m2_fold_chinese_scripts(db: Any, meta: Meta) -> None:
    """``search_text`` folds Traditional Chinese to Simplified (``text_tokens.fold_script``)."""
    from qwen_desk.core.text_tokens import folding_changes

    rebuild_search_text(db.open_table(CHUNKS), folding_changes)


# MIGRATIONS[n - 1] brings a folder from schema n - 1 to n. Append, never edit or reorder.
# A change to text_tokens.search_text needs a migration that calls rebuild_search_text.
MIGRATIONS: list[Migration] = [_m1_create_tables, _m2_fold_chinese_scripts]
assert len(MIGRATIONS) == SCHEMA_VERSION


def migrate(db: Any, root: Path, meta: Meta) -> Meta:
    """Run the migrations this folder lacks, saving ``meta.json`` after each one."""
    if meta.schema_version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"knowledge base schema {meta.schema_version} is newer than this version of "
            f"Qwen Desk supports ({SCHEMA_VERSION})",
            found=meta.schema_version,
            supported=SCHEMA_VERSION,
        )
    while meta.schema_version < SCHEMA_VERSION:
        MIGRATIONS[meta.schema_version](db, meta)
        meta.schema_version += 1
        meta.save(root)
    return meta


def list_tables(db: Any) -> list[str]:
    result = db.list_tables()
    names = getattr(result, "tables", result)
    return list(names)


# --- helpers -------------------------------------------------------------------------------------


def sql_str(value: str) -> str:
    """``value`` as a SQL string literal (quotes doubled), for LanceDB ``where`` filters."""
    return "'" + value.replace("'", "''") + "'"


def clean_collection_name(name: str) -> str:
    """The stored form of a collection name (NFC, trimmed), or ``InvalidCollectionName``."""
    if not isinstance(name, str):
        raise InvalidCollectionName("a collection name must be text")
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise InvalidCollectionName("a collection name cannot be empty")
    if len(cleaned) > MAX_COLLECTION_NAME:
        raise InvalidCollectionName(
            f"a collection name can have at most {MAX_COLLECTION_NAME} characters", name=name
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in cleaned):
        raise InvalidCollectionName("a collection name cannot hold control characters", name=name)
    return cleaned


def remove_stray_temp_files(root: Path) -> list[Path]:
    """Delete ``data/.tmp*`` files a killed writer left in the tables' folders."""
    removed: list[Path] = []
    for stray in root.glob("*.lance/data/.tmp*"):
        try:
            stray.unlink()
            removed.append(stray)
        except OSError:
            pass
    return removed
