"""Benchmark: conversation search over 10,000 conversations, off the GUI thread (JSON).

The real ``ConversationStore`` (its schema, its search) holds 10,000 conversations of 2-12
messages each, questions and answers stitched from real Chinese news and English Wikipedia
sentences of the shared corpus (``bench/search.py``'s pool; generated sentences without it).
Queries are Chinese and English words and phrases, some frequent, some rare, some absent (the
worst case: every message is read). Two measures:

- ``search``: latency of ``store.search(q)`` on a worker thread, as the window runs it
  (target p95 <= 50 ms);
- ``gui``: the real ``ChatController`` searching through its background runner while a 10 ms
  Qt timer on the GUI thread notes how late it fires (target max <= 50 ms), and how long a
  streaming-answer flush (``update_message``, what ``StreamingSaver`` writes once a second on
  the event loop) takes on the GUI thread while searches run.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/conversation_search.py [--conversations N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = [
    "经济", "北京", "发展", "记者", "合同的违约责任", "量子纠缠",  # Chinese: frequent ... absent
    "the", "football", "river", "album released", "notice period", "zebra crossing",
    "Paris", "中国", "公司", "temperature", "熊猫", "qzxv",
]  # fmt: skip


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "max_ms": round(max(values), 2),
    }


def build(path: Path, n_conversations: int, seed: int = 7) -> int:
    """Fill a fresh store at ``path`` (bulk insert into the store's own schema)."""
    from bench.search import sentences
    from qwen_desk.core.conversations import ConversationStore

    rng = random.Random(seed)
    pool = sentences(seed)
    store = ConversationStore(path)
    store.close()
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    n_messages = 0
    now = time.time() - n_conversations * 60
    for cid in range(1, n_conversations + 1):
        t = now + cid * 60
        question = rng.choice(pool)
        conn.execute(
            "INSERT INTO conversations(id, title, collection, created_at, updated_at) "
            "VALUES (?, ?, 'default', ?, ?)",
            (cid, question[:60], t, t),
        )
        for turn in range(rng.randint(1, 6)):
            q = question if turn == 0 else rng.choice(pool)
            answer = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 6)))
            for role, text in (("user", q), ("assistant", answer)):
                conn.execute(
                    "INSERT INTO messages(conversation_id, role, text, state, created_at, "
                    "updated_at) VALUES (?, ?, ?, 'done', ?, ?)",
                    (cid, role, text, t, t),
                )
                n_messages += 1
    conn.execute("COMMIT")
    conn.close()
    return n_messages


def search_latency(path: Path, rounds: int) -> dict[str, object]:
    """``store.search`` timed on a worker thread (as the window's runner calls it)."""
    from qwen_desk.core.conversations import ConversationStore

    store = ConversationStore(path)
    timings: list[float] = []
    per_query: dict[str, float] = {}
    hits: dict[str, int] = {}

    def work() -> None:
        store.search("warm-up")
        for _ in range(rounds):
            for query in QUERIES:
                t0 = time.perf_counter()
                found = store.search(query)
                ms = (time.perf_counter() - t0) * 1000
                timings.append(ms)
                per_query[query] = max(per_query.get(query, 0.0), ms)
                hits[query] = len(found)

    thread = threading.Thread(target=work, name="bench-search")
    thread.start()
    thread.join()
    store.close()
    slowest = sorted(per_query.items(), key=lambda kv: -kv[1])[:4]
    return {
        **summary(timings),
        "slowest_queries_ms": {q: round(ms, 1) for q, ms in slowest},
        "hits_of_slowest": {q: hits[q] for q, _ in slowest},
    }


def gui_phase(path: Path, rounds: int) -> dict[str, object]:
    """The real controller searches off-thread; a 10 ms probe and saver flushes on the GUI."""
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    from bench.ui_stall import LatenessProbe
    from qwen_desk.controllers.chat_controller import ChatController
    from qwen_desk.controllers.services import AppServices
    from qwen_desk.core.conversations import ConversationStore
    from qwen_desk.core.settings import Settings
    from qwen_desk.core.types import MessageState
    from qwen_desk.models import pyside_none_fix  # noqa: F401

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    store = ConversationStore(path)
    services = AppServices(Settings(), conversations=store)
    chat = ChatController(services)
    target = store.add_message(1, "assistant", "", state=MessageState.STREAMING)
    flushes: list[float] = []

    async def run() -> dict[str, object]:
        while chat.conversations.rowCount() == 0:  # the list loads off-thread at start
            await asyncio.sleep(0.05)
        probe = LatenessProbe()
        probe.start()
        t0 = time.perf_counter()
        text = ""
        for _ in range(rounds):
            for query in QUERIES:
                done = asyncio.get_running_loop().create_future()

                def finished(_text: str, done: asyncio.Future[None] = done) -> None:
                    if not done.done():
                        done.set_result(None)

                chat.sig_search_finished.connect(finished)
                chat.search_conversations(query)
                # while it searches, a streaming answer flushes its text on the GUI thread
                text += "一段正在生成的回答 streaming answer text. " * 4
                f0 = time.perf_counter()
                store.update_message(target.id, text=text, state=MessageState.STREAMING)
                flushes.append((time.perf_counter() - f0) * 1000)
                await done
                chat.sig_search_finished.disconnect(finished)
        seconds = time.perf_counter() - t0
        return {
            "lateness": probe.stop(),
            "searches": rounds * len(QUERIES),
            "seconds": round(seconds, 2),
            "saver_flush_on_gui": summary(flushes),
        }

    with loop:
        result = loop.run_until_complete(run())
    services.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query list")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="qwen-desk-conv-bench-"))
    os.environ["QWEN_DESK_HOME"] = str(home)
    path = home / "conversations.db"
    t0 = time.perf_counter()
    n_messages = build(path, args.conversations)
    result: dict[str, object] = {
        "conversations": args.conversations,
        "messages": n_messages,
        "db_mb": round(path.stat().st_size / 1e6, 1),
        "build_s": round(time.perf_counter() - t0, 1),
        "cpus": os.cpu_count(),
        "loadavg_at_start": round(os.getloadavg()[0], 2),
        "queries": len(QUERIES),
    }
    result["search"] = search_latency(path, args.rounds)
    result["gui"] = gui_phase(path, args.rounds)
    result["loadavg_at_end"] = round(os.getloadavg()[0], 2)
    result["targets"] = {"search_p95_ms": 50, "gui_lateness_max_ms": 50}
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
