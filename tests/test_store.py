"""Tests of the knowledge store: schema, collections, atomic document writes, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from qwen_desk.core.errors import (
    CollectionExists,
    CollectionNotFound,
    DocumentNotFound,
    EmbedderMismatch,
    InvalidCollectionName,
    SchemaTooNew,
    StoreError,
)
from qwen_desk.core.store import KnowledgeStore
from qwen_desk.core.store.schema import META_FILE, SCHEMA_VERSION, rebuild_search_text
from qwen_desk.core.text_tokens import tokens
from qwen_desk.core.types import Chunk, DocumentRecord, DocumentStatus, make_chunk_id

DIM = 8
MODEL = "test-model-1"


def unit(seed: int, dim: int = DIM) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def make_doc(
    doc_id: str, texts: list[str], collection: str = "default", path: str = ""
) -> tuple[DocumentRecord, list[Chunk], np.ndarray]:
    record = DocumentRecord(
        doc_id=doc_id,
        collection=collection,
        path=path or f"/docs/{doc_id}.pdf",
        title=f"Title {doc_id}",
        kind="pdf",
        size=100,
        mtime=1.0,
        pages=len(texts),
        n_chunks=len(texts),
        embed_model=MODEL,
    )
    chunks = [
        Chunk(
            chunk_id=make_chunk_id(collection, doc_id, i),
            doc_id=doc_id,
            collection=collection,
            ord=i,
            page=i + 1,
            char_start=i * 100,
            char_end=i * 100 + len(t),
            text=t,
            heading="Intro",
            rects=[(1.0, 2.0, 3.0, 4.0)],
        )
        for i, t in enumerate(texts)
    ]
    vectors = np.stack([unit(hash((doc_id, i)) % 2**32) for i in range(len(texts))])
    return record, chunks, vectors


def open_store(root: Path, model: str = MODEL, dim: int = DIM) -> KnowledgeStore:
    return KnowledgeStore(root, embed_model_id=model, dim=dim)


def test_new_store_has_default_collection_and_meta(tmp_path: Path) -> None:
    store = open_store(tmp_path / "kb")
    assert [c.name for c in store.list_collections()] == ["default"]
    meta = json.loads((tmp_path / "kb" / META_FILE).read_text())
    assert meta == {
        "schema_version": SCHEMA_VERSION,
        "embed_model_id": MODEL,
        "dim": DIM,
        "vector_index_rows": 0,
    }
    stats = store.stats()
    assert stats["chunks"] == 0 and stats["embed_model_id"] == MODEL
    store.close()


def test_schema_too_new_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    open_store(root).close()
    meta = json.loads((root / META_FILE).read_text())
    meta["schema_version"] = 99
    (root / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(SchemaTooNew):
        open_store(root)


def test_collections_lifecycle_with_chinese_and_quotes(tmp_path: Path) -> None:
    store = open_store(tmp_path / "kb")
    store.create_collection("客户 O'Brien 合同")
    with pytest.raises(CollectionExists):
        store.create_collection(" 客户 O'Brien 合同 ")
    for bad in ["", "   ", "a" * 65, "tab\there", "nul\x00"]:
        with pytest.raises(InvalidCollectionName):
            store.create_collection(bad)
    store.replace_document(*make_doc("d1", ["alpha text"], collection="客户 O'Brien 合同"))
    store.rename_collection("客户 O'Brien 合同", "项目")
    infos = {c.name: c for c in store.list_collections()}
    assert set(infos) == {"default", "项目"}
    assert (infos["项目"].n_documents, infos["项目"].n_chunks) == (1, 1)
    hits = store.search("alpha", None, collection="项目", mode="fts")
    assert [h.doc_id for h in hits] == ["d1"]
    with pytest.raises(CollectionNotFound):
        store.search("alpha", None, collection="客户 O'Brien 合同")
    with pytest.raises(InvalidCollectionName):
        store.rename_collection("default", "other")
    store.ensure_collection("项目")
    store.ensure_collection("new one")
    store.delete_collection("项目")
    assert [c.name for c in store.list_collections()] == ["default", "new one"]
    assert store.list_documents() == []
    store.delete_collection("default")  # emptied, never removed
    assert "default" in {c.name for c in store.list_collections()}


def test_replace_document_is_a_whole_replacement(tmp_path: Path) -> None:
    store = open_store(tmp_path / "kb")
    store.replace_document(*make_doc("d1", ["one", "two", "three"]))
    store.replace_document(*make_doc("d2", ["other doc"]))
    record, chunks, vectors = make_doc("d1", ["uno", "dos"])
    store.replace_document(record, chunks, vectors)
    doc = store.get_document("default", "d1")
    assert doc is not None and doc.n_chunks == 2 and doc.status is DocumentStatus.READY
    assert doc.embed_model == MODEL
    ids = [make_chunk_id("default", "d1", i) for i in range(3)]
    got = store.get_chunks(ids)
    assert [c.text for c in got] == ["uno", "dos"]
    assert got[0].rects == [(1.0, 2.0, 3.0, 4.0)] and got[0].heading == "Intro"
    assert store.stats()["chunks"] == 3  # 2 of d1 + 1 of d2
    with pytest.raises(StoreError):
        store.replace_document(record, chunks, vectors[:1])


def test_find_neighbours_delete_and_failures(tmp_path: Path) -> None:
    store = open_store(tmp_path / "kb")
    doc_id = "ab12cd34" + "0" * 56
    store.replace_document(*make_doc(doc_id, [f"part {i}" for i in range(6)], path="/x/a.pdf"))
    assert [d.doc_id for d in store.find_documents(doc_id[:8])] == [doc_id]
    assert store.find_documents(doc_id[:7]) == []
    assert [d.doc_id for d in store.find_documents("/x/a.pdf")] == [doc_id]
    middle = make_chunk_id("default", doc_id, 3)
    assert [c.ord for c in store.neighbours(middle, before=2, after=1)] == [1, 2, 3, 4]
    assert [c.ord for c in store.neighbours(make_chunk_id("default", doc_id, 0))] == [0, 1]

    failed = DocumentRecord(
        doc_id="bad", collection="default", path="/x/bad.pdf", title="bad", kind="pdf",
        size=1, mtime=0, pages=0, n_chunks=0, embed_model=MODEL,
        error_code="corrupt_file", error_message="broken xref",
    )  # fmt: skip
    store.record_failure(failed)
    rows = {d.doc_id: d for d in store.list_documents("default")}
    assert rows["bad"].status is DocumentStatus.FAILED
    assert rows["bad"].error_code == "corrupt_file"

    store.delete_document("default", doc_id)
    assert store.get_document("default", doc_id) is None
    assert store.get_chunks([middle]) == []
    assert store.stats()["chunks"] == 0
    with pytest.raises(DocumentNotFound):
        store.delete_document("default", doc_id)


def test_other_model_is_refused_then_reindex_marks_documents(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    store = open_store(root)
    store.replace_document(*make_doc("d1", ["hello world"]))
    store.close()
    with pytest.raises(EmbedderMismatch) as info:
        open_store(root, model="other-model", dim=16)
    assert MODEL in info.value.message and "other-model" in info.value.message

    lenient = KnowledgeStore(root, embed_model_id="other-model", dim=16, allow_mismatch=True)
    assert [d.doc_id for d in lenient.list_documents()] == ["d1"]
    with pytest.raises(EmbedderMismatch):
        lenient.search("hello", None, collection="default")
    lenient.close()

    store = KnowledgeStore.open_for_reindex(root, embed_model_id="other-model", dim=16)
    assert store.stats()["chunks"] == 0
    stale = store.documents_needing_reindex()
    assert [d.doc_id for d in stale] == ["d1"] and stale[0].path == "/docs/d1.pdf"
    record, chunks, _ = make_doc("d1", ["hello world"])
    store.replace_document(record, chunks, np.stack([unit(1, 16)]))
    assert store.documents_needing_reindex() == []
    store.close()
    open_store(root, model="other-model", dim=16).close()  # no mismatch any more


def test_empty_store_adopts_a_new_model(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    open_store(root).close()
    store = open_store(root, model="bigger", dim=32)
    record, chunks, _ = make_doc("d1", ["x"])
    store.replace_document(record, chunks, np.stack([unit(0, 32)]))
    assert store.stats()["dim"] == 32


def test_orphan_chunks_are_hidden_then_cleaned(tmp_path: Path) -> None:
    """Chunks committed without their document row (a crash) never show and are removed."""
    import lancedb

    root = tmp_path / "kb"
    store = open_store(root)
    store.replace_document(*make_doc("good", ["shared word visible"]))
    record, chunks, vectors = make_doc("orphan", ["shared word hidden"])
    # Write the chunks exactly as replace_document would, then "crash" before the document row.
    rows = store._chunk_rows(record, chunks, vectors, "v-crashed")
    lancedb.connect(str(root)).open_table("chunks").add(rows)
    hits = store.search("shared word", vectors[0], collection="default")
    assert [h.doc_id for h in hits] == ["good"]
    assert store.get_chunks([chunks[0].chunk_id]) == []
    store.close()
    reopened = open_store(root)
    assert reopened.stats()["chunks"] == 1
    assert [d.doc_id for d in reopened.list_documents()] == ["good"]


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from test_store import make_doc, open_store
    from pathlib import Path
    store = open_store(Path({root!r}))
    store.replace_document(*make_doc("d1", ["first version"]))
    original = store._upsert_document
    def crash(record, version):
        if record.doc_id == "d2" or record.n_chunks == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        original(record, version)
    store._upsert_document = crash
    store.replace_document(*make_doc("d1", ["second", "version"]))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_between_chunks_and_document_row(tmp_path: Path) -> None:
    """Killed after the chunks commit of a re-index: the doc is flagged, never half shown."""
    root = tmp_path / "kb"
    script = CRASH_SCRIPT.format(tests=str(Path(__file__).parent), root=str(root))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    store = open_store(root)
    doc = store.get_document("default", "d1")
    assert doc is not None and doc.status is DocumentStatus.FAILED  # flagged for re-adding
    assert store.stats()["chunks"] == 0
    assert store.search("version", unit(0), collection="default") == []
    store.replace_document(*make_doc("d1", ["second", "version"]))
    assert len(store.search("version", None, collection="default", mode="fts")) == 1


def test_stray_temp_files_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    store = open_store(root)
    store.replace_document(*make_doc("d1", ["x"]))
    store.close()
    stray = root / "chunks.lance" / "data" / ".tmp_stray_upload"
    stray.write_bytes(b"partial")
    open_store(root).close()
    assert not stray.exists()


def test_second_process_handle_sees_commits(tmp_path: Path) -> None:
    """A second store on the same folder (e.g. the CLI) sees the first one's writes."""
    root = tmp_path / "kb"
    writer = open_store(root)
    reader = open_store(root)
    assert writer.is_primary and not reader.is_primary
    writer.replace_document(*make_doc("d1", ["fresh words"]))
    deadline = time.monotonic() + 60  # a hang guard: the loop ends as soon as it is seen
    while time.monotonic() < deadline:
        if reader.search("fresh", None, collection="default", mode="fts"):
            break
        time.sleep(0.2)
    assert [h.doc_id for h in reader.search("fresh", None, collection="default", mode="fts")] == [
        "d1"
    ]


def test_concurrent_search_while_writing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "kb")
    store.replace_document(*make_doc("seed", ["common token seed"]))
    errors: list[BaseException] = []
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                hits = store.search("common token", unit(3), collection="default", k=50)
                seen.add(len(hits))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(15):
        store.replace_document(*make_doc(f"d{i}", [f"common token {i}", f"more {i}"]))
    store.maintain()
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(store.search("common token", unit(3), collection="default", k=50)) == 31
    assert len(seen) > 1  # the readers saw the table grow while it was written


def test_maintain_builds_and_refreshes_indexes(tmp_path: Path) -> None:
    store = open_store(tmp_path / "kb")
    store.maintain()  # nothing to do on an empty store
    store.replace_document(*make_doc("d1", ["alpha beta"]))
    assert "search_text" in store.stats()["indices"]
    store.replace_document(*make_doc("d2", ["gamma alpha"]))
    assert store.stats()["indices"]["search_text"]["unindexed_rows"] == 1
    assert len(store.search("alpha", None, collection="default", mode="fts")) == 2
    store.maintain()  # one new row is not worth rewriting the index: searched anyway
    assert store.stats()["indices"]["search_text"]["unindexed_rows"] == 1
    store.maintain(force=True)
    assert store.stats()["indices"]["search_text"]["unindexed_rows"] == 0
    assert len(store.search("alpha", None, collection="default", mode="fts")) == 2


TRADITIONAL = "臺灣的資訊軟體產業發展迅速，鐵路與機場連結各個城市。"
SIMPLIFIED = "长江是中国最长的河流，流经青藏高原与四川盆地。"


def test_schema_1_store_gets_search_text_folded_in_place(tmp_path: Path) -> None:
    """A store written before Traditional/Simplified folding is upgraded on open: only the
    Chinese rows' search_text is rewritten; chunk text, vectors and ids are kept."""
    import pyarrow as pa

    root = tmp_path / "kb"
    store = open_store(root)
    store.replace_document(*make_doc("tw", [TRADITIONAL, "plain English text"]))
    store.replace_document(*make_doc("cn", [SIMPLIFIED]))
    before = {c.chunk_id: c for c in store.get_chunks(
        [make_chunk_id("default", "tw", 0), make_chunk_id("default", "tw", 1),
         make_chunk_id("default", "cn", 0)])}  # fmt: skip
    # Make it a schema 1 folder: search_text as schema 1 wrote it (no folding).
    table = store._chunks
    rows = table.search().select(["chunk_id", "heading", "text"]).limit(None).to_list()
    old = pa.table({
        "chunk_id": [r["chunk_id"] for r in rows],
        "search_text": [" ".join(tokens(f"{r['heading']}\n{r['text']}", fold=False))
                        for r in rows],
    })  # fmt: skip
    table.merge_insert("chunk_id").when_matched_update_all().execute(old)
    assert not store.search("台湾的资讯", None, collection="default", mode="fts")
    store.close()
    meta = json.loads((root / META_FILE).read_text())
    meta["schema_version"] = 1
    (root / META_FILE).write_text(json.dumps(meta))

    store = open_store(root)
    assert json.loads((root / META_FILE).read_text())["schema_version"] == SCHEMA_VERSION == 2
    hits = store.search("台湾的资讯软体", None, collection="default", mode="fts")
    assert hits and hits[0].chunk_id == make_chunk_id("default", "tw", 0)
    assert hits[0].text == TRADITIONAL  # shown as written
    assert store.search("長江", None, collection="default", mode="fts")[0].doc_id == "cn"
    after = {c.chunk_id: c for c in store.get_chunks(list(before))}
    assert after == before
    tw_vector = make_doc("tw", [TRADITIONAL])[2][0]
    vector_hit = store.search("", tw_vector, collection="default", mode="vector", k=1)
    assert vector_hit[0].chunk_id == make_chunk_id("default", "tw", 0)  # vectors kept
    assert store.stats()["indices"]["search_text"]["unindexed_rows"] == 0  # folded in
    # Nothing left to rewrite: a second pass (or an English-only store) writes nothing.
    version = store._chunks.version
    assert rebuild_search_text(store._chunks) == 0
    assert store._chunks.version == version
    store.close()


@pytest.mark.skipif(os.name == "nt", reason="paths")
def test_writer_lock_is_released_on_close(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    first = open_store(root)
    first.close()
    second = open_store(root)
    assert second.is_primary
