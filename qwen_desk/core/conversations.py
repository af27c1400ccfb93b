"""Core layer: conversations and their messages in SQLite (stdlib), crash-safe while streaming.

One file, ``paths.conversations_db()``, in WAL mode with foreign keys on; message text has a
trigram full-text index (FTS5) for search. The schema evolves by
numbered migrations (``MIGRATIONS``, recorded in ``schema_migrations``); a file written by a newer
Qwen Desk is refused with ``SchemaTooNew`` rather than damaged.

An answer is saved while it streams: ``StreamingSaver`` writes the accumulated text at least once
a second with state ``streaming``. WAL with ``synchronous=NORMAL`` makes every commit survive a
killed process (not a power cut), so after a crash the partial answer is there; opening the store
turns any message left ``streaming`` into ``stopped`` with error code ``stream_interrupted``.

Thread safety: one connection per thread (opened on a thread's first call), so a slow read on a
worker thread (searching thousands of conversations) never holds up a write on another: WAL lets
readers and the one writer run side by side, and writers wait for each other (busy timeout).
The window calls the store off the GUI thread (``controllers/chat_controller.py``); the RAG
service writes its messages from the event loop in short transactions (one flush a second while
streaming).
"""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qwen_desk.core import paths
from qwen_desk.core.citations import cited_only
from qwen_desk.core.errors import (
    ConversationError,
    ConversationNotFound,
    ExportFailed,
    ExportNotPermitted,
    SchemaTooNew,
    StreamInterrupted,
)
from qwen_desk.core.naming import document_name
from qwen_desk.core.types import (
    NO_DOCUMENTS,
    Citation,
    ConversationRecord,
    MessageRecord,
    MessageState,
)

TITLE_MAX_CHARS = 60
FLUSH_INTERVAL_S = 1.0
ROLES = ("user", "assistant")
# States whose text may be re-sent to the model as history.
HISTORY_STATES = (MessageState.DONE, MessageState.STOPPED)


def _resendable(message: MessageRecord) -> bool:
    """Whether an answer may be re-sent to the model as history."""
    return (
        message.state in HISTORY_STATES
        and bool(message.text.strip())
        and message.stats.get("done_reason") != NO_DOCUMENTS
    )


# --- schema -----------------------------------------------------------------------------------

_SCHEMA_V1 = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    collection TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'done'
        CHECK (state IN ('streaming', 'done', 'stopped', 'failed')),
    citations TEXT NOT NULL DEFAULT '[]',
    model TEXT NOT NULL DEFAULT '',
    stats TEXT NOT NULL DEFAULT '{}',
    error_code TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX conversations_by_update ON conversations(updated_at DESC, id DESC);
"""

_SCHEMA_V2 = """
ALTER TABLE messages ADD COLUMN trimmed TEXT NOT NULL DEFAULT '{}';
CREATE INDEX messages_by_state ON messages(state) WHERE state = 'streaming';
"""


# A trigram full-text index over message text, kept in step by triggers (plain SQL: any tool
# that writes the file keeps it right). Trigram matching is substring matching, case-folded,
# for every script (Chinese has no word boundaries); queries under 3 characters cannot use it.
_SCHEMA_V3 = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "text, content='messages', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]
FTS_MIN_CHARS = 3  # the trigram index finds substrings of at least this many characters


def _run_statements(statements: list[str]) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


def _run_script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(statement)

    return apply


# (version, name, apply). Append only; never edit a released step.
MIGRATIONS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (1, "conversations and messages", _run_script(_SCHEMA_V1)),
    (2, "trimmed column, streaming index", _run_script(_SCHEMA_V2)),
    (3, "trigram full-text index of message text", _run_statements(_SCHEMA_V3)),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def migrate(
    conn: sqlite3.Connection, migrations: Sequence[tuple[int, str, Any]] = MIGRATIONS
) -> list[int]:
    """Apply the missing migrations, each in its own transaction; return the versions applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    known = {version for version, _, _ in migrations}
    newer = sorted(done - known)
    if newer and newer[-1] > max(known):
        raise SchemaTooNew(
            f"conversations database has schema version {newer[-1]}, "
            f"this Qwen Desk knows up to {max(known)}",
            version=newer[-1],
        )
    applied = []
    for version, name, apply in migrations:
        if version in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute(  # another process may have applied it since we looked
                "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
            ).fetchone():
                conn.execute("ROLLBACK")
                continue
            apply(conn)
            conn.execute(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, time.time()),
            )
            conn.execute(f"PRAGMA user_version = {int(version)}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


# --- helpers ----------------------------------------------------------------------------------


def title_from_question(question: str, max_chars: int = TITLE_MAX_CHARS) -> str:
    """The first non-empty line of ``question``, whitespace collapsed, cut at ``max_chars``."""
    line = next((ln for ln in question.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if len(line) <= max_chars:
        return line
    cut = line[: max_chars - 1]
    # Prefer a word boundary for spaced scripts; CJK text has none, so cut anywhere.
    space = cut.rfind(" ")
    if space >= max_chars // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _fold(value: str | None) -> str:
    return (value or "").casefold()


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _message_from_row(row: sqlite3.Row) -> MessageRecord:
    return MessageRecord(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        text=row["text"],
        state=MessageState(row["state"]),
        citations=[Citation.from_json(c) for c in json.loads(row["citations"] or "[]")],
        model=row["model"],
        stats=json.loads(row["stats"] or "{}"),
        error_code=row["error_code"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        trimmed=json.loads(row["trimmed"] or "{}"),
    )


def _conversation_from_row(row: sqlite3.Row) -> ConversationRecord:
    return ConversationRecord(
        id=row["id"],
        title=row["title"],
        collection=row["collection"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        n_messages=row["n_messages"],
    )


_CONVERSATION_SELECT = (
    "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS n_messages "
    "FROM conversations c"
)


class _Unset:
    pass


_UNSET: Any = _Unset()


# --- the store --------------------------------------------------------------------------------


class ConversationStore:
    """Conversations and messages in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else paths.conversations_db()
        paths.ensure(self.path.parent)
        self._local = threading.local()  # .conn: this thread's connection
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        conn = self._connection()
        migrate(conn)
        self.recovered = self._recover_streaming()

    # --- plumbing -----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (never shared between threads)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise ConversationError(f"{self.path} is closed")
        try:
            # check_same_thread=False only so that close() can close every thread's connection;
            # each connection is used by the thread that opened it alone.
            conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=10.0
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise ConversationError(f"cannot open {self.path}: {exc}") from exc
        # Unicode-aware case folding for search (SQLite's own LIKE folds ASCII only).
        conn.create_function("qd_fold", 1, _fold, deterministic=True)
        with self._conns_lock:
            self._conns.append(conn)
        self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._connection().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every thread's connection (call when no thread uses the store any more)."""
        with self._conns_lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        return int(self._query("PRAGMA user_version")[0][0])

    def _recover_streaming(self) -> int:
        """Messages left ``streaming`` by a crash become ``stopped`` (interrupted)."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE messages SET state = ?, error_code = ?, updated_at = ? WHERE state = ?",
                (
                    MessageState.STOPPED.value,
                    StreamInterrupted.code,
                    time.time(),
                    MessageState.STREAMING.value,
                ),
            )
            return cur.rowcount

    # --- conversations ------------------------------------------------------------------------

    def create(self, title: str = "", collection: str | None = None) -> ConversationRecord:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO conversations(title, collection, created_at, updated_at) "
                "VALUES (?, ?, ?, ?)",
                (title, collection, now, now),
            )
            conversation_id = int(cur.lastrowid or 0)
        return self.get(conversation_id)

    def get(self, conversation_id: int) -> ConversationRecord:
        rows = self._query(f"{_CONVERSATION_SELECT} WHERE c.id = ?", (conversation_id,))
        if not rows:
            raise ConversationNotFound(
                f"no conversation with id {conversation_id}", conversation_id=conversation_id
            )
        return _conversation_from_row(rows[0])

    def list(self, limit: int | None = None) -> list[ConversationRecord]:
        """All conversations, most recently active first."""
        sql = f"{_CONVERSATION_SELECT} ORDER BY c.updated_at DESC, c.id DESC"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (int(limit),)
        return [_conversation_from_row(r) for r in self._query(sql, params)]

    def rename(self, conversation_id: int, title: str) -> ConversationRecord:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conversation_id)
            )
            if cur.rowcount == 0:
                raise ConversationNotFound(f"no conversation with id {conversation_id}")
        return self.get(conversation_id)

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation and (by cascade) its messages."""
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if cur.rowcount == 0:
                raise ConversationNotFound(f"no conversation with id {conversation_id}")

    def search(self, query: str, limit: int = 50) -> list[ConversationRecord]:
        """Conversations whose title or any message contains ``query`` (case-insensitive).

        Substring matching, so it works for Chinese (no word boundaries). Message text is
        searched through the trigram index for queries of 3 or more characters (milliseconds
        over 10,000 conversations); shorter ones (a 2-character Chinese word) scan the text,
        case-folded only when the query has letters with a case. Titles are always scanned
        with Unicode case folding (one short string per conversation).
        """
        needle = query.strip()
        folded = _fold(needle)
        if not needle:
            return self.list(limit)
        if len(needle) >= FTS_MIN_CHARS:
            phrase = '"' + needle.replace('"', '""') + '"'
            in_messages = (
                "c.id IN (SELECT m.conversation_id FROM messages_fts f "
                "JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ?)"
            )
            params: tuple[Any, ...] = (folded, phrase, limit)
        else:
            has_case = folded != needle or needle.upper() != needle
            text = "qd_fold(m.text)" if has_case else "m.text"
            in_messages = (
                "EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id "
                f"AND instr({text}, ?) > 0)"
            )
            params = (folded, folded if has_case else needle, limit)
        sql = (
            f"{_CONVERSATION_SELECT} WHERE instr(qd_fold(c.title), ?) > 0 OR {in_messages} "
            "ORDER BY c.updated_at DESC, c.id DESC LIMIT ?"
        )
        return [_conversation_from_row(r) for r in self._query(sql, params)]

    # --- messages -----------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        text: str,
        *,
        state: MessageState = MessageState.DONE,
        model: str = "",
    ) -> MessageRecord:
        """Append a message; the first user message names an untitled conversation."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        now = time.time()
        with self._tx() as conn:
            row = conn.execute(
                "SELECT title FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None:
                raise ConversationNotFound(f"no conversation with id {conversation_id}")
            cur = conn.execute(
                "INSERT INTO messages(conversation_id, role, text, state, model, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, text, MessageState(state).value, model, now, now),
            )
            message_id = int(cur.lastrowid or 0)
            if role == "user" and not row["title"]:
                conn.execute(
                    "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                    (title_from_question(text), now, conversation_id),
                )
            else:
                conn.execute(
                    "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
                )
        return self.message(message_id)

    def update_message(
        self,
        message_id: int,
        *,
        text: str | None = None,
        state: MessageState | None = None,
        citations: Sequence[Citation] | None = None,
        stats: dict[str, Any] | None = None,
        model: str | None = None,
        error_code: str | None = None,
        trimmed: dict[str, int] | None = None,
    ) -> None:
        """Change the given fields of a message (``None`` leaves a field as it is)."""
        changes: dict[str, Any] = {}
        if text is not None:
            changes["text"] = text
        if state is not None:
            changes["state"] = MessageState(state).value
        if citations is not None:
            changes["citations"] = _json_dumps([c.to_json() for c in citations])
        if stats is not None:
            changes["stats"] = _json_dumps(stats)
        if model is not None:
            changes["model"] = model
        if error_code is not None:
            changes["error_code"] = error_code
        if trimmed is not None:
            changes["trimmed"] = _json_dumps(trimmed)
        now = time.time()
        changes["updated_at"] = now
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with self._tx() as conn:
            cur = conn.execute(
                f"UPDATE messages SET {assignments} WHERE id = ?", (*changes.values(), message_id)
            )
            if cur.rowcount == 0:
                raise ConversationError(f"no message with id {message_id}")
            conn.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = "
                "(SELECT conversation_id FROM messages WHERE id = ?)",
                (now, message_id),
            )

    def message(self, message_id: int) -> MessageRecord:
        rows = self._query("SELECT * FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise ConversationError(f"no message with id {message_id}")
        return _message_from_row(rows[0])

    def messages(self, conversation_id: int) -> list[MessageRecord]:
        """Every message of a conversation, oldest first."""
        self.get(conversation_id)  # raises ConversationNotFound
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [_message_from_row(r) for r in rows]

    def history(
        self, conversation_id: int, *, before_message_id: int | None = None
    ) -> list[tuple[MessageRecord, MessageRecord]]:
        """The (question, answer) pairs to re-send to the model, oldest first, as stored.

        Only answers that are ``done`` or ``stopped`` and not empty count, and never the fixed
        "no documents yet" reply; a question whose answer failed is left out with it, so user
        and assistant turns alternate. The rule depends only
        on stored rows, so the same conversation always yields the same history (which keeps the
        daemon's prefix cache valid from one turn to the next).
        """
        pairs: list[tuple[MessageRecord, MessageRecord]] = []
        pending: MessageRecord | None = None
        for message in self.messages(conversation_id):
            if before_message_id is not None and message.id >= before_message_id:
                break
            if message.role == "user":
                pending = message
            elif pending is not None and _resendable(message):
                pairs.append((pending, message))
                pending = None
            else:
                pending = None
        return pairs

    # --- export -------------------------------------------------------------------------------

    def export_markdown_to(self, conversation_id: int, path: Path) -> Path:
        """Write the conversation as Markdown to ``path`` (see ``write_export``); return it."""
        write_export(self.export_markdown(conversation_id), Path(path))
        return Path(path)

    def export_markdown(self, conversation_id: int) -> str:
        """The conversation as Markdown, each answer followed by the numbered sources it cites
        (``core.citations``: ``[1-2]``, ``【1】``... as the chat view reads them)."""
        conversation = self.get(conversation_id)
        lines = [f"# {conversation.title or 'Conversation'}", ""]
        meta = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.created_at))
        if conversation.collection:
            meta += f" · knowledge base: {conversation.collection}"
        lines += [f"_{meta}_", ""]
        for message in self.messages(conversation_id):
            if message.role == "user":
                lines += ["## Question", "", message.text.strip(), ""]
                continue
            heading = "## Answer"
            if message.state is MessageState.STOPPED:
                heading += " (stopped)"
            elif message.state is MessageState.FAILED:
                heading += f" (failed: {message.error_code or 'error'})"
            elif message.state is MessageState.STREAMING:
                heading += " (incomplete)"
            lines += [heading, "", message.text.strip() or "_(no text)_", ""]
            cited = cited_only(message.text, message.citations)  # the markers the view makes chips
            if cited:
                lines += ["**Sources**", ""]
                lines += [format_citation_line(c) for c in cited]
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def write_export(text: str, path: Path) -> None:
    """Write an export to ``path`` (via a temporary file beside it: never half a file).

    Raises ``ExportNotPermitted`` when the folder or file may not be written, ``ExportFailed``
    (with the system's reason) for anything else (a full disk, a missing folder).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise ExportNotPermitted(f"cannot write {path}: {reason}", path=str(path)) from exc
        raise ExportFailed(f"cannot write {path}: {reason}", path=str(path)) from exc


def citation_snippet(text: str, max_chars: int = 160) -> str:
    """One line of a passage for lists of sources."""
    flat = " ".join(text.split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 1].rstrip() + "…"


def citation_label(citation: Citation) -> str:
    """``file name, p. 3`` (the page is omitted when unknown)."""
    name = document_name(citation.path, citation.title).name or citation.doc_id
    return f"{name}, p. {citation.page}" if citation.page > 0 else name


def format_citation_line(citation: Citation) -> str:
    """``[n] file name, p. 3 — "snippet"``: one numbered source, Markdown-safe enough."""
    return f'[{citation.n}] {citation_label(citation)} — "{citation_snippet(citation.text)}"  '


# --- streaming ------------------------------------------------------------------------------


class StreamingSaver:
    """Saves an answer as it streams: the accumulated text at least every ``interval_s``.

    ``append`` is called per token; it writes only when ``interval_s`` has passed since the last
    write, so the cost is one short transaction per second whatever the token rate. ``finish``
    writes the final text and state.
    """

    def __init__(
        self,
        store: ConversationStore,
        message_id: int,
        *,
        interval_s: float = FLUSH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.message_id = message_id
        self.interval_s = interval_s
        self._clock = clock
        self._parts: list[str] = []
        self._last_flush = clock()
        self._dirty = False
        self.flushes = 0
        self.finished = False  # set by ``finish``: the final state is written

    @property
    def text(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def append(self, delta: str) -> bool:
        """Add a piece of the answer; write it out if the interval has passed. True if written."""
        if delta:
            self._parts.append(delta)
            self._dirty = True
        if self._dirty and self._clock() - self._last_flush >= self.interval_s:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        self.store.update_message(self.message_id, text=self.text, state=MessageState.STREAMING)
        self._last_flush = self._clock()
        self._dirty = False
        self.flushes += 1

    def finish(
        self,
        state: MessageState,
        *,
        text: str | None = None,
        citations: Sequence[Citation] | None = None,
        stats: dict[str, Any] | None = None,
        model: str | None = None,
        error_code: str | None = None,
        trimmed: dict[str, int] | None = None,
    ) -> None:
        """Write the final text (the accumulated one unless given) and state."""
        self.store.update_message(
            self.message_id,
            text=self.text if text is None else text,
            state=state,
            citations=citations,
            stats=stats,
            model=model,
            error_code=error_code,
            trimmed=trimmed,
        )
        self._dirty = False
        self.finished = True
