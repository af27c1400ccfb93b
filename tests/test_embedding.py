"""Tests of the embedder with the real packaged model (loaded once per test process)."""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from qwen_desk.core.embedding import Embedder, default_model_path
from qwen_desk.core.errors import Cancelled, EmbedModelMissing
from tests.support.kb import long_text, shared_embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return shared_embedder()


def test_facts_without_torch(tmp_path: Path) -> None:
    """id, dim, token limit and token counts come from the folder, not from torch."""
    import subprocess

    code = (
        "import sys; from qwen_desk.core.embedding import Embedder; e = Embedder(); "
        "print(e.model_id, e.dim, e.max_tokens, e.count_tokens('Hello world, 你好')); "
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out[0].startswith("all-MiniLM-L6-v2-") and len(out[0]) == len("all-MiniLM-L6-v2-") + 8
    assert out[1:4] == ["384", "256", "5"]
    assert out[4:] == ["False", "False"]


def test_model_id_changes_with_the_model_files(tmp_path: Path) -> None:
    copy = tmp_path / "my-model"
    shutil.copytree(default_model_path(), copy)
    same = Embedder(copy)
    assert same.model_id.startswith("my-model-")
    assert same.model_id.split("-")[-1] == Embedder().model_id.split("-")[-1]
    config = json.loads((copy / "1_Pooling" / "config.json").read_text())
    config["pooling_mode_cls_token"] = True
    (copy / "1_Pooling" / "config.json").write_text(json.dumps(config))
    assert Embedder(copy).model_id != same.model_id


def test_bundled_model_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen build's launcher names its bundled model with QWEN_DESK_EMBED_MODEL."""
    copy = tmp_path / "bundled-model"
    shutil.copytree(default_model_path(), copy)
    monkeypatch.setenv("QWEN_DESK_EMBED_MODEL", str(copy))
    assert default_model_path() == copy
    assert Embedder().path == copy
    monkeypatch.setenv("QWEN_DESK_EMBED_MODEL", "")
    assert default_model_path() != copy


def test_bad_folder_raises_model_missing(tmp_path: Path) -> None:
    with pytest.raises(EmbedModelMissing):
        Embedder(tmp_path / "absent").load()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{not json")
    bad = Embedder(tmp_path / "junk")
    with pytest.raises(EmbedModelMissing):
        _ = bad.dim
    with pytest.raises(EmbedModelMissing):
        bad.load()


def test_vectors_are_normalised_and_match_sentence_transformers(embedder: Embedder) -> None:
    texts = ["The cat sat on the mat.", "大熊猫生活在四川。", "", "x" * 5000]
    vectors = embedder.embed_documents(texts, batch_size=2)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    reference = embedder._model.encode(texts, normalize_embeddings=True)
    assert np.abs(vectors - reference).max() < 1e-5  # same order despite length sorting
    query = embedder.embed_query("Where does the cat sit?")
    assert query.shape == (384,)
    assert float(query @ vectors[0]) > float(query @ vectors[1])
    assert embedder.embed_documents([]).shape == (0, 384)


def test_progress_and_cancel(embedder: Embedder) -> None:
    texts = [f"sentence number {i}" for i in range(10)]
    progress: list[tuple[int, int]] = []
    embedder.embed_documents(texts, batch_size=4, on_progress=lambda d, t: progress.append((d, t)))
    assert progress == [(4, 10), (8, 10), (10, 10)]
    calls = iter([False, True])
    with pytest.raises(Cancelled):
        embedder.embed_documents(texts, batch_size=4, should_cancel=lambda: next(calls))


def test_count_tokens_matches_the_model_tokenizer(embedder: Embedder) -> None:
    text = "Photosynthesis converts light energy; 光合作用把光能转化为化学能。"
    ids = embedder._model.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert embedder.count_tokens(text) == len(ids)
    assert embedder.count_tokens("") == 0


def test_query_does_not_wait_behind_document_batches(embedder: Embedder) -> None:
    """A query from another thread is answered while a document batch is in flight.

    Ordering, not wall time (bench/embedding_speed.py has the latency): if a query waited for
    the running batch (one lock around the forward pass, a queue on the worker), a batch would
    end during every query. Batches of 64 long texts take far longer than one short query, so
    with concurrent forward passes most queries see no batch end, on a busy machine too.
    """
    texts = long_text(500, words_each=150).split("\n\n")
    batches_done: list[int] = []
    done = threading.Event()
    stop = threading.Event()

    def ingest() -> None:
        try:
            embedder.embed_documents(
                texts,
                batch_size=64,
                on_progress=lambda d, t: batches_done.append(d),
                should_cancel=stop.is_set,
            )
        except Cancelled:
            return
        done.set()

    embedder.embed_query("warm-up")
    worker = threading.Thread(target=ingest)
    worker.start()
    guard = time.monotonic() + 120  # a hang guard, not a performance bound
    while not batches_done and time.monotonic() < guard:
        time.sleep(0.01)
    assert batches_done, "the first batch never finished"
    crossed = []
    for _ in range(5):
        before = len(batches_done)
        embedder.embed_query("valve pressure inspection report")
        crossed.append(len(batches_done) - before)
    assert not done.is_set(), "the ingestion finished too early to prove anything"
    stop.set()
    worker.join(120)
    assert sum(n == 0 for n in crossed) >= 3, f"batches ended during the queries: {crossed}"
