"""Tests of retrieval: CJK-aware full-text search, vector search, RRF fusion, the vector index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qwen_desk.core import text_tokens
from qwen_desk.core.embedding import Embedder
from qwen_desk.core.store import KnowledgeStore
from qwen_desk.core.store import knowledge as knowledge_mod
from qwen_desk.core.store import search as search_mod
from qwen_desk.core.store.search import RRF_K
from qwen_desk.core.types import Chunk, DocumentRecord, make_chunk_id
from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS, shared_embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return shared_embedder()


def add(store: KnowledgeStore, embedder: Embedder, doc_id: str, texts: list[str], collection: str):
    record = DocumentRecord(
        doc_id=doc_id, collection=collection, path=f"/d/{doc_id}.txt", title=doc_id, kind="txt",
        size=1, mtime=0, pages=1, n_chunks=len(texts), embed_model=embedder.model_id,
    )  # fmt: skip
    chunks = [
        Chunk(make_chunk_id(collection, doc_id, i), doc_id, collection, i, 1, 0, len(t), t)
        for i, t in enumerate(texts)
    ]
    store.replace_document(record, chunks, embedder.embed_documents(texts))


@pytest.fixture
def store(tmp_path: Path, embedder: Embedder) -> KnowledgeStore:
    store = KnowledgeStore(tmp_path / "kb", embed_model_id=embedder.model_id, dim=embedder.dim)
    store.create_collection("zh 'quoted'")
    add(store, embedder, "en", EN_PAGES, "default")
    add(store, embedder, "zh", ZH_PARAGRAPHS, "zh 'quoted'")
    return store


def test_tokens_for_english_and_chinese() -> None:
    assert text_tokens.tokens("The Cats' STUDIES, 2024") == ["the", "cat", "study", "2024"]
    assert text_tokens.tokens("大熊猫，吃") == ["大熊", "熊猫", "吃"]
    assert text_tokens.tokens("ＡＢＣ１２３") == ["abc123"]  # full-width folded
    assert text_tokens.query_text("熊猫 熊猫 panda") == "熊猫 panda"
    assert text_tokens.query_text("?!") == ""


def test_chinese_full_text_search(store: KnowledgeStore) -> None:
    hits = store.search("熊猫吃多少竹子", None, collection="zh 'quoted'", mode="fts")
    assert hits[0].doc_id == "zh" and "竹子" in hits[0].text
    assert hits[0].fts_score and hits[0].vector_distance is None
    assert store.search("长江", None, collection="zh 'quoted'", mode="fts")[0].text.startswith(
        "长江"
    )
    # collection prefilter: the English collection has no Chinese text
    assert store.search("长江", None, collection="default", mode="fts") == []


def test_english_vector_and_hybrid(store: KnowledgeStore, embedder: Embedder) -> None:
    query = "How do penguins keep their eggs warm?"
    vector = embedder.embed_query(query)
    vec_hits = store.search(query, vector, collection="default", mode="vector", k=3)
    assert "penguins" in vec_hits[0].text
    assert vec_hits[0].vector_distance is not None and vec_hits[0].fts_score is None
    assert 0 <= vec_hits[0].vector_distance < vec_hits[-1].vector_distance <= 2
    hybrid = store.search(query, vector, collection="default", k=2)
    assert len(hybrid) == 2 and "penguins" in hybrid[0].text
    top = hybrid[0]
    assert top.vector_distance is not None and top.fts_score is not None
    assert top.score == pytest.approx(2 / (RRF_K + 1))  # first in both legs
    assert top.path == "/d/en.txt" and top.title == "en"
    assert hybrid[0].score >= hybrid[1].score


def test_fts_mode_without_vector_and_vector_mode_without_text(
    store: KnowledgeStore, embedder: Embedder
) -> None:
    assert store.search("", None, collection="default") == []
    hits = store.search("", embedder.embed_query("geology cliffs"), collection="default")
    assert "Jurassic" in hits[0].text and hits[0].fts_score is None


def test_vector_index_is_built_and_used(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(knowledge_mod, "VECTOR_INDEX_MIN_ROWS", 300)
    store = KnowledgeStore(tmp_path / "kb", embed_model_id="synthetic", dim=embedder.dim)
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((8, embedder.dim)).astype(np.float32)
    for d in range(4):
        n = 100
        vectors = centres[rng.integers(0, 8, n)] + 0.3 * rng.standard_normal((n, embedder.dim))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        record = DocumentRecord(
            doc_id=f"d{d}", collection="default", path=f"/{d}", title="t", kind="txt", size=1,
            mtime=0, pages=1, n_chunks=n, embed_model="synthetic",
        )  # fmt: skip
        chunks = [
            Chunk(make_chunk_id("default", f"d{d}", i), f"d{d}", "default", i, 1, 0, 1, f"row {i}")
            for i in range(n)
        ]
        store.replace_document(record, chunks, vectors)
        if d == 0:
            probe = vectors[5]
    exact = store.search("", probe, collection="default", k=10, mode="vector")
    store.maintain()
    assert store.stats()["indices"]["vector"]["indexed_rows"] == 400
    indexed = store.search("", probe, collection="default", k=10, mode="vector")
    assert indexed[0].chunk_id == exact[0].chunk_id == make_chunk_id("default", "d0", 5)
    overlap = {h.chunk_id for h in indexed} & {h.chunk_id for h in exact}
    assert len(overlap) >= 8
    # The index must report the same cosine distances as flat search (the relevance threshold
    # of the RAG service is a cosine distance): IVF_HNSW_SQ alone reports twice as much.
    exact_distance = {h.chunk_id: h.vector_distance for h in exact}
    for hit in indexed:
        if hit.chunk_id in exact_distance:
            assert hit.vector_distance == pytest.approx(exact_distance[hit.chunk_id], abs=1e-4)
    many = store.search("row", probe, collection="default", k=50)  # leg of 200 > HNSW ef
    assert len(many) == 50


def test_chinese_query_leans_on_full_text_with_an_english_embedder(
    store: KnowledgeStore, embedder: Embedder
) -> None:
    query = "熊猫每天吃多少竹子"
    assert text_tokens.cjk_fraction(query) == 1.0 and text_tokens.cjk_fraction("a 中") == 0.5
    assert search_mod.vector_weight(query, embedder.model_id) == pytest.approx(0.05)
    assert search_mod.vector_weight("what is 熊猫", embedder.model_id) == pytest.approx(0.5)
    assert search_mod.vector_weight("panda food", embedder.model_id) == 1.0
    assert search_mod.vector_weight(query, "bge-small-zh-v1.5-0123abcd") == 1.0
    collection = "zh 'quoted'"
    fts = store.search(query, None, collection=collection, mode="fts", k=3)
    hybrid = store.search(query, embedder.embed_query(query), collection=collection, k=3)
    assert hybrid[0].chunk_id == fts[0].chunk_id
    assert hybrid[0].score > hybrid[1].score


def test_traditional_and_simplified_chinese_find_each_other(
    tmp_path: Path, embedder: Embedder
) -> None:
    """A Simplified question finds a Traditional passage (and the reverse), in full-text and
    hybrid search, and the passage is shown as written."""
    traditional = [
        "臺灣高速鐵路連結臺北與高雄，全長約三百五十公里，最高時速三百公里。",
        "這座圖書館收藏了大量關於歷史與藝術的書籍，開放時間為每天上午九點。",
    ]
    simplified = ["长江是中国第一长河，全长约六千三百公里，流经青海、西藏、四川、云南等省区。"]
    store = KnowledgeStore(tmp_path / "kb", embed_model_id=embedder.model_id, dim=embedder.dim)
    add(store, embedder, "tw", traditional, "default")
    add(store, embedder, "cn", simplified, "default")
    for query, doc_id, shown in (
        ("台湾高速铁路全长多少公里", "tw", traditional[0]),  # Simplified over Traditional
        ("图书馆的开放时间", "tw", traditional[1]),
        ("長江流經哪些省區", "cn", simplified[0]),  # Traditional over Simplified
    ):
        fts = store.search(query, None, collection="default", mode="fts", k=3)
        hybrid = store.search(query, embedder.embed_query(query), collection="default", k=3)
        for hits in (fts, hybrid):
            assert hits[0].doc_id == doc_id, query
            assert hits[0].text == shown  # stored text unchanged: citations and highlights
    store.close()
    assert text_tokens.tokens("臺灣鐵路") == text_tokens.tokens("台湾铁路")
    assert text_tokens.fold_script("Plain English") == "Plain English"
    assert text_tokens.folding_changes(traditional[0])
    assert not text_tokens.folding_changes(simplified[0])
    assert not text_tokens.folding_changes("Plain English")
