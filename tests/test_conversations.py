"""Conversation store: migrations, CRUD, search (Chinese too), export, crash-safe streaming."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from qwen_desk.core import paths
from qwen_desk.core.conversations import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ConversationStore,
    StreamingSaver,
    migrate,
    title_from_question,
)
from qwen_desk.core.errors import ConversationNotFound, SchemaTooNew
from qwen_desk.core.types import Citation, MessageState

REPO_ROOT = Path(__file__).resolve().parent.parent


def _citation(n: int, page: int = 3) -> Citation:
    return Citation(
        n=n,
        chunk_id=f"c{n}",
        doc_id="d1",
        path="/docs/核电 guide.pdf",
        title="Guide",
        page=page,
        char_start=10,
        char_end=50,
        text="The reactor   must be\ninspected every ten years.",
        rects=[(1.0, 2.0, 3.0, 4.0)],
        collection="default",
    )


def test_migrations_create_schema_and_are_recorded() -> None:
    store = ConversationStore()
    assert store.path == paths.conversations_db()
    assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [v for v, _, _ in MIGRATIONS]
    columns = {r[1] for r in conn.execute("PRAGMA table_info(messages)")}
    assert {"trimmed", "citations", "stats", "error_code", "state"} <= columns
    conn.close()
    store.close()
    # re-opening applies nothing
    store = ConversationStore()
    conn = sqlite3.connect(store.path)
    assert migrate(conn) == []
    conn.close()


def test_migration_upgrades_a_version_one_file(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:1]) == [1]
    now = time.time()
    conn.execute(
        "INSERT INTO conversations(title, created_at, updated_at) VALUES ('t', ?, ?)", (now, now)
    )
    conn.execute(
        "INSERT INTO messages(conversation_id, role, text, created_at, updated_at) "
        "VALUES (1, 'user', 'old question', ?, ?)",
        (now, now),
    )
    conn.close()
    store = ConversationStore(db)
    assert store.schema_version() == SCHEMA_VERSION
    [message] = store.messages(1)
    assert message.text == "old question" and message.trimmed == {}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite3"
    ConversationStore(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)")
    conn.close()
    with pytest.raises(SchemaTooNew):
        ConversationStore(db)


def test_crud_title_order_and_cascade() -> None:
    store = ConversationStore()
    a = store.create(collection="default")
    assert a.title == "" and a.collection == "default"
    store.add_message(a.id, "user", "  What does the guide say\nabout inspections?")
    assert store.get(a.id).title == "What does the guide say"
    store.add_message(a.id, "user", "second question does not rename")
    assert store.get(a.id).title == "What does the guide say"
    time.sleep(0.01)
    b = store.create(title="general", collection=None)
    assert [c.id for c in store.list()] == [b.id, a.id]
    time.sleep(0.01)
    store.add_message(a.id, "assistant", "answer")  # activity moves a to the top
    assert [c.id for c in store.list()] == [a.id, b.id]
    assert store.get(a.id).n_messages == 3
    store.rename(b.id, "  Renamed ")
    assert store.get(b.id).title == "Renamed"
    store.delete(a.id)
    with pytest.raises(ConversationNotFound):
        store.get(a.id)
    with pytest.raises(ConversationNotFound):
        store.messages(a.id)
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    with pytest.raises(ConversationNotFound):
        store.delete(a.id)
    with pytest.raises(ConversationNotFound):
        store.add_message(12345, "user", "x")
    with pytest.raises(ValueError):
        store.add_message(b.id, "system", "x")


def test_title_is_truncated() -> None:
    long_en = "word " * 40
    title = title_from_question(long_en)
    assert len(title) <= 60 and title.endswith("…") and " wor…" not in title
    zh = "核电厂定期安全审查指南的通用要求是什么" * 5
    title = title_from_question(zh)
    assert len(title) == 60 and title.startswith("核电厂定期") and title.endswith("…")


def test_update_message_round_trips_citations_stats_and_trimmed() -> None:
    store = ConversationStore()
    conv = store.create()
    msg = store.add_message(conv.id, "assistant", "", state=MessageState.STREAMING)
    store.update_message(
        msg.id,
        text="Every ten years [1].",
        state=MessageState.DONE,
        citations=[_citation(1)],
        stats={"eval_tokens": 7, "tokens_per_s": 150.0},
        model="qwen2.5:7b",
        trimmed={"sources_dropped": 2, "history_turns_dropped": 0},
    )
    got = store.message(msg.id)
    assert got.state is MessageState.DONE
    assert got.citations == [_citation(1)]
    assert got.stats == {"eval_tokens": 7, "tokens_per_s": 150.0}
    assert got.model == "qwen2.5:7b" and got.error_code == ""
    assert got.trimmed == {"sources_dropped": 2, "history_turns_dropped": 0}
    store.update_message(msg.id, state=MessageState.FAILED, error_code="llm_unreachable")
    got = store.message(msg.id)
    assert got.text == "Every ten years [1]." and got.error_code == "llm_unreachable"


def test_search_titles_and_text_case_insensitive_including_chinese() -> None:
    store = ConversationStore()
    zh = store.create()
    store.add_message(zh.id, "user", "核电厂定期安全审查的周期是多久？")
    store.add_message(zh.id, "assistant", "根据指南，审查周期为十年[1]。")
    en = store.create()
    store.add_message(en.id, "user", "How often is the Reactor inspected?")
    store.add_message(en.id, "assistant", "Every ÉTÉ season.")
    other = store.create(title="Budget 2024")
    assert [c.id for c in store.search("审查")] == [zh.id]  # 2-character Chinese query
    assert [c.id for c in store.search("十年")] == [zh.id]  # only in the answer
    assert [c.id for c in store.search("reactor")] == [en.id]
    assert [c.id for c in store.search("REACTOR INSPECTED")] == [en.id]
    assert [c.id for c in store.search("été")] == [en.id]  # non-ASCII case folding
    assert [c.id for c in store.search("budget")] == [other.id]
    assert store.search("%") == []  # no LIKE wildcards
    assert store.search("nothing like this") == []
    assert len(store.search("")) == 3


def test_the_search_index_follows_edits_deletes_and_upgrades(tmp_path: Path) -> None:
    store = ConversationStore()
    a = store.create()
    answer = store.add_message(a.id, "assistant", "", state=MessageState.STREAMING)
    store.update_message(answer.id, text="企业所得税的税率")  # a streaming flush
    assert [c.id for c in store.search("所得税")] == [a.id]
    store.update_message(answer.id, text="增值税")
    assert store.search("所得税") == [] and [c.id for c in store.search("增值税")] == [a.id]
    store.delete(a.id)  # the cascade removes its messages from the index too
    assert store.search("增值税") == []
    # a file written before the index existed is indexed when it is upgraded
    db = tmp_path / "v2.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, MIGRATIONS[:2])
    now = time.time()
    conn.execute(
        "INSERT INTO conversations(title, created_at, updated_at) VALUES ('', ?, ?)", (now, now)
    )
    conn.execute(
        "INSERT INTO messages(conversation_id, role, text, created_at, updated_at) "
        "VALUES (1, 'user', 'Where is the Penguin colony?', ?, ?)",
        (now, now),
    )
    conn.close()
    with ConversationStore(db) as upgraded:
        assert [c.id for c in upgraded.search("penguin COLONY")] == [1]


def test_history_keeps_done_and_stopped_pairs_as_stored() -> None:
    store = ConversationStore()
    conv = store.create()
    q1 = store.add_message(conv.id, "user", "q1")
    a1 = store.add_message(conv.id, "assistant", "a1 [1]")
    store.add_message(conv.id, "user", "q2 failed")
    store.add_message(conv.id, "assistant", "partial", state=MessageState.FAILED)
    q3 = store.add_message(conv.id, "user", "q3")
    a3 = store.add_message(conv.id, "assistant", "a3 partial", state=MessageState.STOPPED)
    store.add_message(conv.id, "user", "q4 stopped before any text")
    store.add_message(conv.id, "assistant", "", state=MessageState.STOPPED)
    q5 = store.add_message(conv.id, "user", "q5 (current)")
    pairs = store.history(conv.id, before_message_id=q5.id)
    assert [(q.id, a.id) for q, a in pairs] == [(q1.id, a1.id), (q3.id, a3.id)]
    assert pairs[0][1].text == "a1 [1]"
    assert store.history(conv.id) == pairs  # the unanswered q5 never counts


def test_export_markdown_lists_numbered_sources_under_each_answer() -> None:
    store = ConversationStore()
    conv = store.create(collection="plant")
    store.add_message(conv.id, "user", "How often?")
    answer = store.add_message(conv.id, "assistant", "", state=MessageState.STREAMING)
    store.update_message(
        answer.id,
        text="Every ten years [1][2].",
        state=MessageState.DONE,
        citations=[_citation(1), _citation(2, page=0)],
    )
    store.add_message(conv.id, "user", "And then?")
    failed = store.add_message(conv.id, "assistant", "Partial", state=MessageState.FAILED)
    store.update_message(failed.id, error_code="llm_unreachable")
    md = store.export_markdown(conv.id)
    assert md.startswith("# How often?\n")
    assert "knowledge base: plant" in md
    assert "## Answer\n\nEvery ten years [1][2].\n\n**Sources**" in md
    assert '[1] 核电 guide.pdf, p. 3 — "The reactor must be inspected every ten years."' in md
    assert '[2] 核电 guide.pdf — "The reactor' in md  # no page for page 0
    assert "## Answer (failed: llm_unreachable)\n\nPartial" in md
    assert md.index("[1] 核电") < md.index("And then?")


def test_export_lists_the_sources_its_chinese_markers_cite() -> None:
    store = ConversationStore()
    conv = store.create()
    store.add_message(conv.id, "user", "检查周期？")
    one = store.add_message(conv.id, "assistant", "", state=MessageState.STREAMING)
    store.update_message(
        one.id,
        text="每十年检查一次【1】，代码 `a[2]` 不是引用。",
        state=MessageState.DONE,
        citations=[_citation(1), _citation(2, page=7)],
    )
    store.add_message(conv.id, "user", "然后？")
    both = store.add_message(conv.id, "assistant", "", state=MessageState.STREAMING)
    store.update_message(
        both.id,
        text="见［１－２］。",
        state=MessageState.DONE,
        citations=[_citation(2, page=7), _citation(1)],
    )
    md = store.export_markdown(conv.id)
    first, second = md.split("## Answer")[1:]
    assert "每十年检查一次【1】" in first  # the answer's text as written
    assert "[1] 核电 guide.pdf, p. 3" in first and "p. 7" not in first
    assert second.index("[1] 核电 guide.pdf, p. 3") < second.index("[2] 核电 guide.pdf, p. 7")


def test_streaming_saver_flushes_on_time_not_per_token() -> None:
    store = ConversationStore()
    conv = store.create()
    msg = store.add_message(conv.id, "assistant", "", state=MessageState.STREAMING)
    now = [100.0]
    saver = StreamingSaver(store, msg.id, interval_s=1.0, clock=lambda: now[0])
    for i in range(50):
        now[0] += 0.01
        saver.append(f"t{i} ")
    assert saver.flushes == 0 and store.message(msg.id).text == ""
    now[0] += 0.6
    assert saver.append("x")
    assert store.message(msg.id).text.startswith("t0 t1 ") and saver.flushes == 1
    assert store.message(msg.id).state is MessageState.STREAMING
    now[0] += 5
    assert not saver.append("")  # nothing new: no write
    saver.finish(MessageState.DONE, stats={"eval_tokens": 51})
    got = store.message(msg.id)
    assert got.state is MessageState.DONE and got.text == saver.text and got.text.endswith("x")


_CRASH_CHILD = textwrap.dedent(
    """
    import sys, time
    from qwen_desk.core.conversations import ConversationStore, StreamingSaver
    from qwen_desk.core.types import MessageState
    store = ConversationStore()
    conv = store.create(collection="default")
    store.add_message(conv.id, "user", "Explain the review")
    msg = store.add_message(conv.id, "assistant", "", state=MessageState.STREAMING)
    saver = StreamingSaver(store, msg.id, interval_s=0.2)
    i = 0
    while True:
        saver.append(f"token{i} ")
        if i == 30:
            print("STREAMING", conv.id, msg.id, flush=True)
        i += 1
        time.sleep(0.01)
    """
)


def test_killed_process_keeps_partial_answer_and_reopen_marks_it_stopped() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", _CRASH_CHILD], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line.startswith("STREAMING"), line
        time.sleep(0.5)  # a couple more flushes
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    _, conversation_id, message_id = line.split()
    store = ConversationStore()
    assert store.recovered == 1
    message = store.message(int(message_id))
    assert message.state is MessageState.STOPPED
    assert message.error_code == "stream_interrupted"
    assert message.text.startswith("token0 token1 ") and "token30 " in message.text
    assert [m.role for m in store.messages(int(conversation_id))] == ["user", "assistant"]
    # the interrupted answer is usable history
    assert len(store.history(int(conversation_id))) == 1
