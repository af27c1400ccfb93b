"""Core layer: the embedding model as an ONNX Runtime session (export, int8 variant, encode).

``export_onnx`` turns a local sentence-transformers folder (a BERT-like transformer followed by
mean pooling, as all-MiniLM-L6-v2) into one ONNX graph that takes ``input_ids``,
``attention_mask`` and ``token_type_ids`` and returns the L2-normalised sentence vector; nothing is
downloaded. Exporting needs torch, transformers and the ``onnx`` package (build time, or first use
where they are installed); running needs only ``onnxruntime`` and ``tokenizers``.
``quantize_int8`` makes the dynamically quantised variant (int8 weights).

``OnnxEncoder`` tokenises like sentence-transformers (stripped text, truncation to the model's
``max_seq_length``, padding to the longest text of the batch) and runs the graph; its ``run`` is
safe to call from several threads at once (ONNX Runtime sessions are).

    python -m qwen_desk.core.embedding_onnx MODEL_DIR OUT.onnx [--int8]
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ONNX_SUBDIR = "onnx"
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def supported(model_path: Path) -> bool:
    """Whether the folder is a transformer + mean pooling model (what the graph reproduces)."""
    modules_file = model_path / "modules.json"
    if not modules_file.is_file():
        return False
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    return modes == ["pooling_mode_mean_tokens"]


def export_onnx(model_path: str | Path, out_file: str | Path, opset: int = 17) -> Path:
    """Export transformer + mean pooling + normalisation to ``out_file`` (written atomically)."""
    import torch
    from transformers import AutoModel

    model_path, out_file = Path(model_path), Path(out_file)
    if not supported(model_path):
        raise ValueError(f"{model_path}: only transformer + mean pooling models can be exported")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = AutoModel.from_pretrained(
        str(model_path), local_files_only=True, attn_implementation="eager"
    ).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    sample = tuple(torch.ones(2, 8, dtype=torch.long) for _ in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".part")
    with torch.inference_mode():
        torch.onnx.export(
            Pooled(model), sample, str(tmp), input_names=list(_INPUTS),
            output_names=["sentence_embedding"],
            dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
            opset_version=opset, dynamo=False,
        )  # fmt: skip
    os.replace(tmp, out_file)
    return out_file


def quantize_int8(fp32_file: str | Path, out_file: str | Path) -> Path:
    """Dynamic quantisation (int8 weights, activations quantised per batch at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_file = Path(out_file)
    tmp = out_file.with_name(out_file.name + ".part")
    quantize_dynamic(str(fp32_file), str(tmp), weight_type=QuantType.QInt8)
    os.replace(tmp, out_file)
    return out_file


class OnnxEncoder:
    """An ONNX Runtime session of an exported model plus its tokenizer; vectors float32 (n, dim)."""

    def __init__(self, onnx_file: str | Path, model_path: str | Path, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path = Path(model_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.file = Path(onnx_file)
        self.session = ort.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        max_tokens = 512
        config = model_path / "sentence_bert_config.json"
        if config.is_file():
            max_tokens = int(json.loads(config.read_text()).get("max_seq_length") or max_tokens)
        tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_tokens)
        pad_id = tokenizer.token_to_id("[PAD]")
        tokenizer.enable_padding(pad_id=pad_id if pad_id is not None else 0)
        self.tokenizer = tokenizer
        self._names = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()

    def run(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:  # the tokenizer's padding/truncation state is shared
            encodings = self.tokenizer.encode_batch([str(t).strip() for t in texts])
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        feeds = {k: v for k, v in feeds.items() if k in self._names}
        (vectors,) = self.session.run(None, feeds)
        return np.asarray(vectors, dtype=np.float32)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--int8", action="store_true", help="also write the int8 variant beside")
    args = parser.parse_args()
    export_onnx(args.model, args.out)
    print(args.out)
    if args.int8:
        print(quantize_int8(args.out, args.out.with_name(INT8_FILE)))


if __name__ == "__main__":
    main()
