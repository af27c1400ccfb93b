"""Tests of the ONNX Runtime embedder backend with the real packaged model and real corpus text.

The graph is exported once per test module from the packaged weights (needs the ``onnx``
package; skipped where it or onnxruntime is not installed). Tolerance against torch: max abs
difference per component < 1e-4 and cosine > 0.9999 (measured: ~3e-7, float noise).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qwen_desk.core import embedding_onnx
from qwen_desk.core.embedding import Embedder, default_model_path
from qwen_desk.core.errors import Cancelled, EmbedModelMissing
from tests.support.kb import shared_embedder

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

MAX_ABS = 1e-4
MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("onnx")
    return embedding_onnx.export_onnx(default_model_path(), folder / embedding_onnx.FP32_FILE)


@pytest.fixture(scope="module")
def onnx_embedder(graph: Path) -> Embedder:
    embedder = Embedder(threads=2, backend="onnx", onnx_file=graph)
    embedder.load()
    return embedder


def real_texts(corpus: Path) -> list[str]:
    """Paragraphs of the HotpotQA sample: short and long, titles included."""
    data = json.loads((corpus / "qa/hotpotqa_sample100/hotpotqa_dev_sample100.json").read_text())
    texts = []
    for item in data[:12]:
        texts.append(item["title_a"] + "\n" + "".join(item["para_a"]))
        texts.append(item["title_b"] + "\n" + " ".join(item["para_b"] * 6))  # past 256 tokens
    return texts


def test_onnx_vectors_match_torch_and_rank_the_same(onnx_embedder: Embedder, corpus: Path) -> None:
    torch_embedder = shared_embedder()
    assert torch_embedder.runtime == "torch" and onnx_embedder.runtime.endswith("model.onnx")
    assert onnx_embedder.model_id == torch_embedder.model_id  # same vectors: no re-index
    texts = [*real_texts(corpus), "", "大熊猫生活在四川。"]
    ours = onnx_embedder.embed_documents(texts, batch_size=5)
    reference = torch_embedder.embed_documents(texts, batch_size=7)
    assert ours.shape == reference.shape and ours.dtype == np.float32
    assert np.abs(ours - reference).max() < MAX_ABS
    assert (ours * reference).sum(axis=1).min() > MIN_COSINE
    data = json.loads((corpus / "qa/hotpotqa_sample100/hotpotqa_dev_sample100.json").read_text())
    for item in data[:6]:
        q_onnx = onnx_embedder.embed_query(item["question"])
        q_torch = torch_embedder.embed_query(item["question"])
        assert float(q_onnx @ q_torch) > MIN_COSINE
        assert int(np.argmax(ours @ q_onnx)) == int(np.argmax(reference @ q_torch))


def test_onnx_progress_and_cancel(onnx_embedder: Embedder) -> None:
    texts = [f"sentence number {i}" for i in range(10)]
    progress: list[tuple[int, int]] = []
    onnx_embedder.embed_documents(
        texts, batch_size=4, on_progress=lambda d, t: progress.append((d, t))
    )
    assert progress == [(4, 10), (8, 10), (10, 10)]
    calls = iter([False, True])
    with pytest.raises(Cancelled) as info:
        onnx_embedder.embed_documents(texts, batch_size=4, should_cancel=lambda: next(calls))
    assert info.value.details == {"done": 4, "total": 10}
    assert onnx_embedder.embed_documents([]).shape == (0, 384)


def test_auto_uses_a_graph_beside_the_weights(graph: Path, tmp_path: Path) -> None:
    """A packaged build puts ``onnx/model.onnx`` in the model folder: ``auto`` runs it."""
    copy = tmp_path / "bundled-model"
    shutil.copytree(default_model_path(), copy)
    plain = Embedder(copy)
    plain.load()
    assert plain.runtime == "torch"  # no graph: torch, and nothing exported
    assert not (tmp_path / "home" / "cache").exists() or not any(
        (tmp_path / "home" / "cache").rglob("*.onnx")
    )
    (copy / "onnx").mkdir()
    shutil.copy(graph, copy / "onnx" / embedding_onnx.FP32_FILE)
    packaged = Embedder(copy)
    packaged.load()
    assert packaged.runtime == str(copy / "onnx" / embedding_onnx.FP32_FILE)
    assert packaged.model_id == plain.model_id
    text = "The Eiffel Tower is a wrought-iron lattice tower in Paris."
    assert np.abs(packaged.embed_query(text) - plain.embed_query(text)).max() < MAX_ABS


def test_int8_has_its_own_model_id_and_missing_graph_fails(tmp_path: Path) -> None:
    """int8 vectors differ from fp32 ones, so the store must see another model id."""
    fp32 = Embedder(backend="onnx")
    int8 = Embedder(backend="onnx-int8")
    assert int8.model_id == fp32.model_id + "-int8"
    assert Embedder(backend="torch").model_id == fp32.model_id
    with pytest.raises(EmbedModelMissing):
        Embedder(backend="onnx", onnx_file=tmp_path / "absent.onnx").load()
    with pytest.raises(ValueError):
        Embedder(backend="tensorrt")
