"""Benchmark: cost of one streaming flush in the real ChatPanel, early vs late in a long answer.

After an earlier exchange that fills the view, streams a synthetic Markdown answer (paragraphs
with citations, lists, a table, code) into a ``ChatModel`` shown by a ``ChatPanel`` (offscreen),
10 tokens per flush as at 300 tokens/s and 30 Hz, and times each flush including the repaint it
causes. Prints JSON: median flush time over the flushes around 200 tokens and around 4,000
tokens, and their ratio (the target: the cost per flush does not grow with the answer's length).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/chat_flush.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKENS_PER_FLUSH = 10


def synthetic_tokens(n_tokens: int) -> list[str]:
    """Markdown answer pieces of about one token each, in a repeating varied structure."""
    blocks = [
        "## Findings\n\n",
        "The contract states that the supplier must deliver within thirty days of the order "
        "date [1]. Late delivery triggers a penalty of two percent per week [2], capped at ten "
        "percent of the order value [2, 3].\n\n",
        "- The notice period is **sixty days** [1].\n- Either party may terminate for cause [4].\n"
        "- Disputes go to arbitration in Shanghai [3].\n\n",
        "| Clause | Period | Source |\n|---|---|---|\n| Delivery | 30 days | [1] |\n"
        "| Notice | 60 days | [4] |\n\n",
        "```python\ndef penalty(weeks: int, value: float) -> float:\n"
        "    return min(0.02 * weeks, 0.10) * value\n```\n\n",
        "根据合同第五条，供应商应在订单日期后三十天内交货[1]。逾期交货每周罚款百分之二[2]。\n\n",
    ]
    tokens: list[str] = []
    i = 0
    while len(tokens) < n_tokens:
        text = blocks[i % len(blocks)]
        i += 1
        word = ""
        for ch in text:
            word += ch
            if ch in " \n" or "\u4e00" <= ch <= "\u9fff":
                tokens.append(word)
                word = ""
        if word:
            tokens.append(word)
    return tokens[:n_tokens]


def measure(
    n_tokens: int = 4200, clock: Callable[[], float] = time.perf_counter
) -> dict[str, float]:
    """Flush times by ``clock``: wall time here; the test passes ``time.thread_time`` (CPU time
    of the GUI thread), which other processes on a busy machine do not inflate."""
    from PySide6.QtWidgets import QApplication

    from qwen_desk.core.types import MessageRecord
    from qwen_desk.models.chat_model import ChatModel
    from qwen_desk.ui.chat_panel import ChatPanel

    app = QApplication.instance() or QApplication([])
    model = ChatModel()
    panel = ChatPanel(model=model)
    panel.resize(900, 700)
    panel.show()
    # An earlier exchange fills the view, so that every flush repaints the same area (with an
    # empty view the first flushes paint less, which is not what the length of the answer costs).
    model.append(MessageRecord(id=1, conversation_id=1, role="user", text="Summarise the lease."))
    earlier = "".join(synthetic_tokens(600))
    model.append(MessageRecord(id=2, conversation_id=1, role="assistant", text=earlier))
    model.append(MessageRecord(id=3, conversation_id=1, role="user", text="What are the terms?"))
    row = model.append_streaming(1, "qwen2.5:7b")
    app.processEvents()
    tokens = synthetic_tokens(n_tokens)
    times: list[tuple[int, float]] = []
    for start in range(0, len(tokens), TOKENS_PER_FLUSH):
        batch = "".join(tokens[start : start + TOKENS_PER_FLUSH])
        t0 = clock()
        model.append_text(row, batch)
        app.processEvents()  # layout + the one repaint of this flush
        times.append((start + TOKENS_PER_FLUSH, clock() - t0))

    def around(n: int, span: int = 200) -> float:
        sample = [t for count, t in times if n - span <= count <= n + span]
        return statistics.median(sample) * 1000

    early, late = around(200), around(4000)
    all_ms = sorted(t * 1000 for _, t in times)
    result = {
        "tokens": n_tokens,
        "tokens_per_flush": TOKENS_PER_FLUSH,
        "flush_ms_median_at_200_tokens": round(early, 3),
        "flush_ms_median_at_4000_tokens": round(late, 3),
        "ratio_4000_vs_200": round(late / early, 2) if early else None,
        "flush_ms_p99": round(all_ms[int(len(all_ms) * 0.99) - 1], 3),
        "flush_ms_max": round(all_ms[-1], 3),
        "answer_chars": len(model.record(row).text),
    }
    panel.close()
    return result


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
