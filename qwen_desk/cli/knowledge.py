"""CLI layer: ``add``, ``search``, ``list``, ``remove`` and ``collections`` over the knowledge base.

Contract (scripts rely on it):

- ``add PATH... [--collection NAME] [--password PW] [--json]``: with ``--json``, one JSON object
  per file on stdout as it finishes (JSON Lines): ``{"path", "status": "indexed" | "unchanged" |
  "failed", "doc_id", "pages", "chunks", "error": {"code", "message"} | null}``. Unsupported
  files found inside a folder are left out (they are not the user's files to index); an
  unsupported file named explicitly is ``failed`` with ``unsupported_type``. Without ``--json``,
  progress goes to stderr (on a terminal one line rewritten in place, "[2/5] embedding 12/40
  passages · name"; else a line per step) and one line per file plus a summary to stdout. No
  library's progress bar or log ever reaches stderr (the embedder loads quietly). Exit 0 when every
  file was indexed or unchanged, 1 when any failed (or was cancelled with Ctrl-C), 2 on usage
  errors.
- ``search QUERY [--collection NAME] [-k N] [--mode hybrid|vector|fts] [--json]``: a JSON list
  of hits (``Hit.to_json``). ``QUERY`` ``-`` reads one query per line from stdin and prints one
  JSON list per line, loading the model once.
- ``reindex [DOC_ID_OR_PATH]``: index documents again (same output as ``add``); without an
  argument, rebuild everything for the current embedding model (the way out of
  ``embedder_mismatch``).
- ``list``, ``remove DOC_ID_OR_PATH``, ``collections [create|rename|delete]``: see ``--help``.

Errors print ``error: <code>: <message>`` on stderr, and with ``--json`` also one object
``{"error": {"code", "message"}}`` on stdout; never a traceback (those go to ``cli.log`` in the
log folder). The data folder follows ``QWEN_DESK_HOME``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from qwen_desk.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from qwen_desk.cli._common import load_settings
from qwen_desk.cli.progress import ProgressLine
from qwen_desk.core.errors import DocumentNotFound, QwenDeskError
from qwen_desk.core.knowledge import DEFAULT_COLLECTION, KnowledgeBase
from qwen_desk.core.naming import document_name
from qwen_desk.core.types import DocumentRecord, Hit, IngestEvent, IngestState, is_paginated

_STATUS = {
    IngestState.READY: "indexed",
    IngestState.UNCHANGED: "unchanged",
    IngestState.FAILED: "failed",
    IngestState.CANCELLED: "failed",
}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the knowledge-base commands to ``qwen-desk``."""
    add = subparsers.add_parser("add", help="index files and folders into a collection")
    add.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    _collection_arg(add, default=DEFAULT_COLLECTION)
    add.add_argument("--password", help="password of encrypted files")
    _json_arg(add)
    add.set_defaults(handler=cmd_add)

    search = subparsers.add_parser("search", help="search the indexed documents")
    search.add_argument("query", metavar="QUERY", help="the question; '-' reads one per line")
    _collection_arg(search, default=None)
    search.add_argument("-k", type=int, default=10, help="number of passages (default 10)")
    search.add_argument("--mode", choices=("hybrid", "vector", "fts"), default="hybrid")
    _json_arg(search)
    search.set_defaults(handler=cmd_search)

    reindex = subparsers.add_parser(
        "reindex",
        help="index a document again; without DOC_ID_OR_PATH, rebuild the whole knowledge base "
        "for the current embedding model (after it changed)",
    )
    reindex.add_argument("key", nargs="?", metavar="DOC_ID_OR_PATH")
    _collection_arg(reindex, default=None)
    _json_arg(reindex)
    reindex.set_defaults(handler=cmd_reindex)

    lst = subparsers.add_parser("list", help="list indexed documents")
    _collection_arg(lst, default=None)
    _json_arg(lst)
    lst.set_defaults(handler=cmd_list)

    remove = subparsers.add_parser("remove", help="remove a document from the knowledge base")
    remove.add_argument("key", metavar="DOC_ID_OR_PATH", help="document id, id prefix or path")
    _collection_arg(remove, default=None)
    _json_arg(remove)
    remove.set_defaults(handler=cmd_remove)

    cols = subparsers.add_parser("collections", help="list, create, rename or delete collections")
    _json_arg(cols)
    cols.set_defaults(handler=cmd_collections, action=None)
    actions = cols.add_subparsers(dest="action", metavar="ACTION")
    create = actions.add_parser("create", help="create an empty collection")
    create.add_argument("name")
    rename = actions.add_parser("rename", help="rename a collection")
    rename.add_argument("name")
    rename.add_argument("new_name")
    delete = actions.add_parser("delete", help="delete a collection and its documents")
    delete.add_argument("name")
    for sub in (create, rename, delete):
        _json_arg(sub)


def _collection_arg(parser: argparse.ArgumentParser, default: str | None) -> None:
    where = f"default: {default}" if default else "default: all"
    parser.add_argument("--collection", "-c", default=default, help=f"collection ({where})")


def _json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _knowledge_base() -> KnowledgeBase:
    # The embedder loads quietly by itself (core/embedding.py): no library progress bars here.
    return KnowledgeBase(load_settings())  # says on stderr when the settings file was repaired


def _error(exc: QwenDeskError, args: argparse.Namespace | None = None) -> int:
    if args is not None and getattr(args, "json", False):
        _print_json({"error": exc.to_dict()})  # and the usual line on stderr, for people
    print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
    if exc.code == "embedder_mismatch":
        print("hint: run `qwen-desk reindex` to rebuild it for this model", file=sys.stderr)
    return EXIT_FAILED


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)


# --- add ---------------------------------------------------------------------------------------


def file_result(event: IngestEvent) -> dict[str, Any]:
    """The JSON object ``add`` prints for a finished file."""
    return {
        "path": event.path,
        "status": _STATUS[event.state],
        "doc_id": event.doc_id,
        "pages": event.pages,
        "chunks": event.chunks,
        "error": event.error.to_json() if event.error else None,
    }


def cmd_add(args: argparse.Namespace) -> int:
    with _knowledge_base() as kb:
        try:
            kb.store.ensure_collection(args.collection)
        except QwenDeskError as exc:
            return _error(exc, args)
        return _run_jobs(
            kb, args, lambda: kb.ingest.add_paths(args.paths, args.collection, args.password)
        )


def cmd_reindex(args: argparse.Namespace) -> int:
    with _knowledge_base() as kb:
        try:
            if args.key is None:
                return _run_jobs(kb, args, kb.reindex_all_for_new_embedder)
            matches = kb.find_documents(args.key, args.collection)
            if not matches:
                raise DocumentNotFound(f"no document matches {args.key!r}")
            return _run_jobs(
                kb, args, lambda: [kb.reindex(m.collection, m.doc_id) for m in matches]
            )
        except QwenDeskError as exc:
            return _error(exc, args)


def _run_jobs(kb: KnowledgeBase, args: argparse.Namespace, submit: Callable[[], list[int]]) -> int:
    """Start jobs, report them (JSON Lines or progress + summary), return the exit code.

    Jobs a killed earlier run left in the queue run first (the queue resumes); only this
    command's own files are reported.
    """
    finished: dict[int, IngestEvent] = {}
    done = threading.Condition()
    line = ProgressLine(sys.stderr) if not args.json and sys.stderr.isatty() else None

    def on_event(event: IngestEvent) -> None:  # on the worker thread
        if args.json:
            pass  # no progress: the JSON lines are the output
        elif event.state is IngestState.SKIPPED:
            if line is not None:
                line.close()
            print(f"skipped (unsupported): {event.path}", file=sys.stderr, flush=True)
        elif line is not None:
            line.update(event)
        else:
            _print_progress(event)
        if event.finished:
            with done:
                finished[event.job_id] = event
                done.notify_all()

    kb.ingest.subscribe(on_event)
    started = time.monotonic()
    wanted = submit()
    if line is not None:
        line.set_files(len(wanted))
    kb.ingest.start()
    reported: list[IngestEvent] = []
    try:
        for job_id in wanted:
            with done:
                while job_id not in finished:
                    done.wait(0.5)
                event = finished[job_id]
            if event.state is IngestState.SKIPPED:
                continue
            reported.append(event)
            if args.json:
                _print_json(file_result(event))
    except KeyboardInterrupt:
        if line is not None:
            line.close()
        kb.ingest.cancel_all()
        kb.ingest.wait_idle(30)
        print("interrupted: cancelled", file=sys.stderr)
        return EXIT_FAILED
    if line is not None:
        line.close()
    if not args.json:
        _print_summary(reported, time.monotonic() - started)
    return EXIT_FAILED if any(_STATUS[e.state] == "failed" for e in reported) else EXIT_OK


def _print_progress(event: IngestEvent) -> None:
    state = event.state
    if state is IngestState.EMBEDDING:
        line = f"embedding {event.done}/{event.total}: {event.path}"
    elif state is IngestState.FAILED and event.error:
        line = f"failed ({event.error.code}: {event.error.message}): {event.path}"
    else:
        line = f"{state.value}: {event.path}"
    print(line, file=sys.stderr, flush=True)


def _size_text(path: str, pages: int, chunks: int) -> str:
    """``12 pages, 40 chunks`` for a PDF; ``40 chunks`` for documents that reflow."""
    return f"{pages} pages, {chunks} chunks" if is_paginated(path) else f"{chunks} chunks"


def _print_summary(files: list[IngestEvent], seconds: float) -> None:
    for event in files:
        status = _STATUS[event.state]
        extra = (
            f"{event.error.code}: {event.error.message}"
            if event.error
            else _size_text(event.path, event.pages, event.chunks)
        )
        print(f"{status:9} {event.path} ({extra})")
    counts = {s: sum(_STATUS[e.state] == s for e in files) for s in ("indexed", "unchanged")}
    failed = len(files) - sum(counts.values())
    print(
        f"{len(files)} files: {counts['indexed']} indexed, {counts['unchanged']} unchanged, "
        f"{failed} failed in {seconds:.1f} s"
    )


# --- search ------------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        print("error: -k must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    with _knowledge_base() as kb:
        try:
            if args.query == "-":
                for line in sys.stdin:
                    query = line.strip()
                    hits = kb.search(query, args.collection, args.k, args.mode) if query else []
                    _print_json([h.to_json() for h in hits])
                return EXIT_OK
            hits = kb.search(args.query, args.collection, args.k, args.mode)
        except QwenDeskError as exc:
            return _error(exc, args)
    if args.json:
        _print_json([h.to_json() for h in hits])
    else:
        _print_hits(hits)
    return EXIT_OK


def _print_hits(hits: list[Hit]) -> None:
    if not hits:
        print("no results")
    for n, hit in enumerate(hits, 1):
        snippet = " ".join(hit.text.split())
        snippet = snippet[:240] + ("…" if len(snippet) > 240 else "")
        name = document_name(hit.path, hit.title).label()
        where = f" — page {hit.page}" if hit.page > 0 and is_paginated(hit.path) else ""
        print(f"{n:2}. {name}{where} (score {hit.score:.4f})")
        print(f"    {hit.path}")
        print(f"    {snippet}")


# --- list, remove, collections -----------------------------------------------------------------


def document_json(record: DocumentRecord) -> dict[str, Any]:
    status = getattr(record.status, "value", record.status)
    name = document_name(record.path, record.title)
    return {
        "doc_id": record.doc_id,
        "collection": record.collection,
        "path": record.path,
        "title": record.title,
        "name": name.name,  # what the window shows (core.naming)
        "display_title": name.title,  # the title when meaningful, else ""
        "kind": record.kind,
        "size": record.size,
        "pages": record.pages,
        "chunks": record.n_chunks,
        "scanned_pages": record.scanned_pages,
        "status": status,
        "error": (
            {"code": record.error_code, "message": record.error_message}
            if record.error_code
            else None
        ),
        "embed_model": record.embed_model,
        "added_at": record.added_at,
    }


def cmd_list(args: argparse.Namespace) -> int:
    with _knowledge_base() as kb:
        try:
            records = list(kb.store.list_documents(args.collection))
        except QwenDeskError as exc:
            return _error(exc, args)
    if args.json:
        _print_json([document_json(r) for r in records])
        return EXIT_OK
    if not records:
        print("no documents")
    for r in records:
        status = getattr(r.status, "value", r.status)
        what = _size_text(r.path, r.pages, r.n_chunks) if status == "ready" else r.error_code
        name = document_name(r.path, r.title)
        titled = f" — {name.title}" if name.title else ""
        print(f"{r.doc_id[:12]}  {r.collection:12}  {status:6}  {r.path}{titled} ({what})")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    with _knowledge_base() as kb:
        try:
            matches = kb.find_documents(args.key, args.collection)
            if not matches:
                raise DocumentNotFound(f"no document matches {args.key!r}")
            if len({(m.collection, m.doc_id) for m in matches}) > 1 and not _exact(
                args.key, matches
            ):
                listing = ", ".join(f"{m.collection}/{m.doc_id[:12]}" for m in matches)
                print(f"error: ambiguous: {args.key!r} matches {listing}", file=sys.stderr)
                return EXIT_USAGE
            for m in matches:
                kb.remove(m.collection, m.doc_id)
        except QwenDeskError as exc:
            return _error(exc, args)
    removed = [{"doc_id": m.doc_id, "collection": m.collection, "path": m.path} for m in matches]
    if args.json:
        _print_json({"removed": removed})
    else:
        for m in matches:
            print(f"removed {m.collection}/{m.doc_id[:12]} {m.path}")
    return EXIT_OK


def _exact(key: str, matches: list[DocumentRecord]) -> bool:
    """A full id or a path names every one of its matches on purpose (one per collection)."""
    return all(m.doc_id == key or m.path == key for m in matches) or all(
        m.path == matches[0].path for m in matches
    )


def cmd_collections(args: argparse.Namespace) -> int:
    with _knowledge_base() as kb:
        try:
            store = kb.store
            if args.action == "create":
                store.create_collection(args.name)
            elif args.action == "rename":
                store.rename_collection(args.name, args.new_name)
            elif args.action == "delete":
                store.delete_collection(args.name)
            infos = list(store.list_collections())
        except QwenDeskError as exc:
            return _error(exc, args)
    if args.action and not args.json:
        print(f"{args.action}: ok")
        return EXIT_OK
    if args.json:
        _print_json(
            [
                {
                    "name": c.name,
                    "documents": c.n_documents,
                    "chunks": c.n_chunks,
                    "created_at": c.created_at,
                }
                for c in infos
            ]
        )
    else:
        for c in infos:
            print(f"{c.name:20} {c.n_documents:5} documents {c.n_chunks:7} chunks")
    return EXIT_OK
