"""Benchmark: the app's share of time-to-first-token, and prompt-prefix stability (prints JSON).

App overhead = from ``RagService.answer`` being called to the chat request reaching the Ollama
stand-in (its recorded arrival time), which covers saving the question, embedding it (real
all-MiniLM-L6-v2), hybrid search in a real LanceDB store, the relevance filter and the prompt
layout and budget. The stand-in answers with ``ttft_s=0``, so "first token" adds only the HTTP
round trip. Measured at 10k and 100k chunks: a few real documents (real embeddings) plus filler
rows with clustered random unit vectors and word-salad text (``tests.support.rag_kb``); at 100k
the store builds its vector index (IVF_HNSW_SQ) as it would in the app. Target: p95 <= 100 ms.

Prefix stability: over a 5-turn conversation, the share of each request's prompt (its messages
concatenated) that is an identical prefix of the next request's prompt. By design the reusable
part is everything but the previous turn's sources message; ``reusable_share`` reports that bound.

    .venv/bin/python bench/ttft.py [--sizes 10000 100000] [--questions 30]

Takes a few minutes on 2 cores (mostly writing 100k rows and building the indexes).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS  # noqa: E402
from tests.support.ollama_standin import OllamaStandIn  # noqa: E402
from tests.support.rag_kb import add_document, add_filler  # noqa: E402

COLLECTION = "bench"
QUESTIONS = [
    "How long does the male emperor penguin keep the egg warm?",
    "When do emperor penguins breed?",
    "How many years of geological history does the Jurassic Coast record?",
    "Which periods are recorded in the Dorset cliffs?",
    "What does photosynthesis convert light energy into?",
    "Which colours of light does chlorophyll absorb?",
    "Why are plants green?",
    "Where do emperor penguins feed?",
    "大熊猫主要生活在哪里？",
    "大熊猫每天吃多少竹子？",
    "长江全长多少公里？",
    "长江流经哪些省区？",
    "大熊猫每天花多少时间进食？",
    "What is stored in glucose?",
    "What happens to the female penguin during winter?",
]
TURNS = [
    "Where do emperor penguins breed?",
    "How long does the male keep the egg warm?",
    "What does the female do meanwhile?",
    "And what does chlorophyll absorb?",
    "长江全长多少公里？",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def prompt_text(body: dict[str, Any]) -> str:
    return "".join(f"<{m['role']}>{m['content']}" for m in body["messages"])


def common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


async def measure(rag: Any, standin: OllamaStandIn, questions: list[str]) -> dict[str, Any]:
    from qwen_desk.core.types import TokenDelta

    to_request: list[float] = []
    to_token: list[float] = []
    retrieval: list[float] = []
    own: list[float] = []
    not_found = 0
    for i, question in enumerate(questions):
        before = len(standin.requests_for("/api/chat"))
        started = time.time()
        first: float | None = None
        async for event in rag.answer(question, collection=COLLECTION):
            if first is None and isinstance(event, TokenDelta):
                first = time.time()
        chats = standin.requests_for("/api/chat")
        if i < 2:  # warm-up (the model's facts are asked once)
            continue
        if len(chats) == before:
            not_found += 1
            continue
        to_request.append((chats[-1].time - started) * 1000)
        to_token.append(((first or started) - started) * 1000)
        retrieval.append(rag.last_timings.get("retrieval_s", 0.0) * 1000)
        own.append(to_request[-1] - retrieval[-1])

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "max_ms": round(max(values), 1),
        }

    return {
        "questions": len(to_request),
        "question_to_request": summary(to_request),
        "question_to_first_token": summary(to_token),
        "retrieval_only": summary(retrieval),
        "without_retrieval": summary(own),
        "not_in_documents": not_found,
    }


async def prefix_stability(rag: Any, standin: OllamaStandIn) -> dict[str, Any]:
    conversation_id = None
    bodies = []
    for question in TURNS:
        async for event in rag.answer(
            question, conversation_id=conversation_id, collection=COLLECTION
        ):
            conversation_id = getattr(event, "conversation_id", conversation_id) or conversation_id
        body = standin.last_request("/api/chat").body
        if bodies and body is bodies[-1]:
            raise RuntimeError(f"no request for {question!r}: nothing relevant was found")
        bodies.append(body)
    shares, reusable = [], []
    for prev, nxt in itertools.pairwise(bodies):
        a, b = prompt_text(prev), prompt_text(nxt)
        shares.append(common_prefix(a, b) / len(a))
        without_sources = prompt_text({"messages": prev["messages"][:-1]})
        reusable.append(len(without_sources) / len(a))
    return {
        "turns": len(bodies),
        "identical_prefix_share": [round(s, 3) for s in shares],
        "reusable_share": [round(s, 3) for s in reusable],
        "mean_identical_prefix_share": round(statistics.mean(shares), 3),
        "history_prefix_identical": all(
            nxt["messages"][: len(prev["messages"]) - 1] == prev["messages"][:-1]
            for prev, nxt in itertools.pairwise(bodies)
        ),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from qwen_desk.core.conversations import ConversationStore
    from qwen_desk.core.embedding import Embedder
    from qwen_desk.core.llm import make_backend
    from qwen_desk.core.rag import RagService
    from qwen_desk.core.settings import Settings
    from qwen_desk.core.store import KnowledgeStore

    embedder = Embedder()
    embedder.load()
    store = KnowledgeStore(
        Path(os.environ["QWEN_DESK_HOME"]) / "kb",
        embed_model_id=embedder.model_id,
        dim=embedder.dim,
    )
    add_document(store, embedder, COLLECTION, "/docs/nature.pdf", EN_PAGES)
    add_document(store, embedder, COLLECTION, "/docs/中国.md", ["\n\n".join(ZH_PARAGRAPHS)])
    results: dict[str, Any] = {"sizes": {}}
    rows = store.stats()["chunks"]
    questions = (QUESTIONS * 10)[: args.questions + 2]
    with OllamaStandIn(ttft_s=0.0, tokens_per_second=1e6, answer="Noted [1].") as standin:
        settings = Settings().replace(ollama_host=standin.url)
        backend = make_backend(settings)
        conversations = ConversationStore()
        rag = RagService(store, embedder, backend, settings, conversations)
        for size in args.sizes:
            started = time.perf_counter()
            if size > rows:
                rows += add_filler(
                    store,
                    COLLECTION,
                    size - rows,
                    per_document=5000,
                    seed=size,
                    embedder=embedder,
                )
            store.maintain()
            build_s = time.perf_counter() - started
            stats = store.stats()
            entry = await measure(rag, standin, questions)
            entry["build_s"] = round(build_s, 1)
            entry["chunks"] = stats["chunks"]
            entry["indices"] = sorted(stats.get("indices", {}))
            results["sizes"][str(size)] = entry
            print(json.dumps({str(size): entry}), file=sys.stderr, flush=True)
        results["prefix_stability"] = await prefix_stability(rag, standin)
        await backend.aclose()
        conversations.close()
    store.close()
    results["target_p95_ms"] = 100
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--questions", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["QWEN_DESK_HOME"] = tempfile.mkdtemp(prefix="qd-ttft-")
    print(json.dumps(asyncio.run(run(args)), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
