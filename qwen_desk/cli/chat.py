"""CLI layer: ``ask``, ``models``, ``pull``, ``chats`` and ``export``: the chat side headless.

Contract (scripts rely on it):

- ``ask QUESTION [--collection NAME | --no-collection] [--model M] [--conversation ID]
  [--json]`` streams the answer to stdout, then the sources it cites, by number (file, page,
  snippet); every marker form counts (``[1-2]``, ``【1】``, ``［１］``: ``core.citations``).
  ``--json`` prints one object at the end: ``{"answer", "citations": [{"n", "chunk_id",
  "doc_id", "path", "page", "char_start", "char_end", "text"}] (the cited sources, in order of
  first citation), "stats": {...},
  "conversation_id", "message_id", "trimmed": {"sources_dropped", "history_turns_dropped"},
  "not_in_documents", "no_documents", "without_documents", "dropped_citations"}``. Exit 0
  answered, 3 Ollama unreachable, 4 model missing, 5 the knowledge base has no documents yet
  (one sentence on stderr, in the question's language, says how to add some or to ask with
  ``--no-collection``; nothing on stdout but the ``--json`` object), 1 any other error
  (``error: <code>: <message>`` on stderr). Ctrl-C stops the answer and keeps the partial text
  in the conversation.
- ``models [--json]``: installed models (name, size, parameters, quantisation, loaded).
- ``pull MODEL``: a progress bar with bytes, speed and time left; Ctrl-C cancels (a later pull
  resumes).
- ``chats [--json]``: conversations, newest first. ``export ID [-o FILE]``: Markdown.

The Ollama host comes from the settings; ``OLLAMA_HOST`` overrides it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from qwen_desk.cli import EXIT_FAILED, EXIT_NO_DOCUMENTS, EXIT_OK
from qwen_desk.cli._common import load_settings, print_json, report_error
from qwen_desk.core import paths
from qwen_desk.core.citations import cited_only
from qwen_desk.core.conversations import ConversationStore, citation_label, citation_snippet
from qwen_desk.core.errors import QwenDeskError
from qwen_desk.core.prompts import detect_language
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import Citation, PullProgress, TokenDelta

DEFAULT_COLLECTION = "default"

# ``ask`` in a knowledge base without documents, in the question's language ({add}: the command).
NO_DOCUMENTS = {
    "en": "The knowledge base “{name}” has no documents yet: add files or folders with `{add}`, "
    "or ask without documents with --no-collection.",
    "zh": "知识库“{name}”里还没有文档：请用 `{add}` 添加文件或文件夹，"
    "或者加上 --no-collection 不使用文档直接提问。",
}


def no_documents_sentence(question: str, collection: str) -> str:
    """What ``ask`` says when ``collection`` holds no documents."""
    add = "qwen-desk add PATH"
    if collection != DEFAULT_COLLECTION:
        add += f" --collection {collection}"
    return NO_DOCUMENTS[detect_language(question)].format(name=collection, add=add)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the chat commands to ``qwen-desk``."""
    ask = subparsers.add_parser("ask", help="ask a question about your documents")
    ask.add_argument("question", metavar="QUESTION")
    where = ask.add_mutually_exclusive_group()
    where.add_argument(
        "--collection", "-c", default=DEFAULT_COLLECTION, help="knowledge base (default: default)"
    )
    where.add_argument("--no-collection", action="store_true", help="plain chat, without documents")
    ask.add_argument("--model", "-m", help="Ollama model (default: from the settings)")
    ask.add_argument("--conversation", type=int, metavar="ID", help="continue a conversation")
    _json_arg(ask)
    ask.set_defaults(handler=cmd_ask)

    models = subparsers.add_parser("models", help="list the models installed in Ollama")
    _json_arg(models)
    models.set_defaults(handler=cmd_models)

    pull = subparsers.add_parser("pull", help="download a model into Ollama")
    pull.add_argument("model", metavar="MODEL")
    pull.set_defaults(handler=cmd_pull)

    chats = subparsers.add_parser("chats", help="list conversations, newest first")
    _json_arg(chats)
    chats.set_defaults(handler=cmd_chats)

    export = subparsers.add_parser("export", help="export a conversation as Markdown")
    export.add_argument("conversation_id", type=int, metavar="CONVERSATION_ID")
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")
    export.set_defaults(handler=cmd_export)


def _json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _conversations(settings: Settings) -> ConversationStore:
    return ConversationStore(paths.conversations_db(settings.resolved_data_dir))


def _backend(settings: Settings) -> Any:
    from qwen_desk.core.llm import make_backend  # type: ignore[attr-defined]

    return make_backend(settings)


# --- ask -------------------------------------------------------------------------------------


def citation_json(citation: Citation) -> dict[str, Any]:
    return {
        "n": citation.n,
        "chunk_id": citation.chunk_id,
        "doc_id": citation.doc_id,
        "path": citation.path,
        "page": citation.page,
        "char_start": citation.char_start,
        "char_end": citation.char_end,
        "text": citation.text,
    }


def cmd_ask(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        return asyncio.run(_ask(args, settings))
    except KeyboardInterrupt:
        print("\ninterrupted: the partial answer is kept in the conversation", file=sys.stderr)
        return EXIT_FAILED
    except (QwenDeskError, OSError) as exc:
        return report_error(exc, settings, args.model)


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from qwen_desk.core.rag import AnswerDone, RagService, SourcesFound

    collection = None if args.no_collection else args.collection
    conversations = _conversations(settings)
    if args.conversation is not None:
        collection = conversations.get(args.conversation).collection
    backend = _backend(settings)
    kb = None
    done: AnswerDone | None = None
    quiet = args.json  # no tokens on stdout (JSON, or the fixed "no documents" reply)
    try:
        # Ask the daemon about the model first: down or missing fails in milliseconds, before
        # the embedding model loads (seconds), and leaves no unanswered question behind.
        rag = RagService(None, None, backend, settings, conversations)
        await rag.generation_options(args.model or settings.model)
        if collection is not None:
            from qwen_desk.core.knowledge import KnowledgeBase

            kb = KnowledgeBase(settings)
            rag.store, rag.embedder = kb.store, kb.embedder
        async for event in rag.answer(
            args.question,
            conversation_id=args.conversation,
            collection=collection,
            model=args.model,
        ):
            if isinstance(event, SourcesFound) and event.no_documents:
                quiet = True
            elif isinstance(event, TokenDelta) and not quiet:
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, AnswerDone):
                done = event
    finally:
        await _close(backend)
        if kb is not None:
            kb.close()
        conversations.close()
    assert done is not None
    if done.no_documents:
        print(no_documents_sentence(args.question, collection or ""), file=sys.stderr)
    if args.json:
        print_json(
            {
                "answer": done.text,
                "citations": [citation_json(c) for c in done.citations],
                "stats": done.stats.to_json(),
                "conversation_id": done.conversation_id,
                "message_id": done.message_id,
                "trimmed": done.trimmed.to_json(),
                "not_in_documents": done.not_in_documents,
                "no_documents": done.no_documents,
                "without_documents": done.without_documents,
                "dropped_citations": done.dropped_citations,
            }
        )
        return EXIT_NO_DOCUMENTS if done.no_documents else EXIT_OK
    if done.no_documents:
        return EXIT_NO_DOCUMENTS
    print()
    listed = cited_only(done.text, done.citations)  # by number, as the window lists them
    if listed:
        print("\nSources:")
        for c in listed:
            print(f"[{c.n}] {citation_label(c)}\n    {citation_snippet(c.text, 200)}")
    stats = done.stats
    if stats.eval_tokens:
        rate = f", {stats.tokens_per_s:.1f} tokens/s" if stats.tokens_per_s else ""
        print(
            f"\n({stats.eval_tokens} tokens{rate}; conversation {done.conversation_id})",
            file=sys.stderr,
        )
    return EXIT_OK


async def _close(backend: Any) -> None:
    close = getattr(backend, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:  # closing must not hide the real outcome
            pass


# --- models and pull -------------------------------------------------------------------------


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02}:{s:02}" if h else f"{m:02}:{s:02}"


def cmd_models(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def run() -> tuple[list[Any], list[Any]]:
        backend = _backend(settings)
        try:
            models = await backend.list_models()
            loaded = await backend.loaded_models()
        finally:
            await _close(backend)
        return models, loaded

    try:
        models, loaded = asyncio.run(run())
    except QwenDeskError as exc:
        return report_error(exc, settings)
    in_memory = {m.name: m for m in loaded}
    rows = [
        {
            "name": m.name,
            "size": m.size,
            "family": m.family,
            "parameter_size": m.parameter_size,
            "quantization": m.quantization,
            "context_length": m.context_length,
            "modified_at": m.modified_at,
            "loaded": m.name in in_memory,
            "default": m.name == settings.model,
        }
        for m in models
    ]
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print(f"no models installed; try `qwen-desk pull {settings.model}`")
    for r in rows:
        flags = " ".join(f for f, on in (("default", r["default"]), ("loaded", r["loaded"])) if on)
        print(
            f"{r['name']:28} {human_bytes(r['size']):>9}  {r['parameter_size']:>6} "
            f"{r['quantization']:8} {flags}"
        )
    return EXIT_OK


def progress_line(p: PullProgress, width: int = 30) -> str:
    """``pulling 1a2b3c…  [#####-----]  45%  1.2 GB / 4.4 GB  35.0 MB/s  ETA 01:32``."""
    status = p.status if len(p.status) <= 24 else p.status[:23] + "…"
    # the whole model's bytes (all layers seen), not the layer being pulled
    done, total = (p.model_completed, p.model_total) if p.model_total else (p.completed, p.total)
    if not total:
        return status
    fraction = min(max(done / total, 0.0), 1.0)
    filled = round(fraction * width)
    bar = "#" * filled + "-" * (width - filled)
    speed = f"{human_bytes(p.bytes_per_s)}/s" if p.bytes_per_s else "--"
    return (
        f"{status:24} [{bar}] {fraction * 100:5.1f}%  {human_bytes(done)} / "
        f"{human_bytes(total)}  {speed}  ETA {human_duration(p.eta_s)}"
    )


def cmd_pull(args: argparse.Namespace) -> int:
    settings = load_settings()
    tty = sys.stderr.isatty()

    async def run() -> None:
        backend = _backend(settings)
        last = ""
        last_print = 0.0
        try:
            async for progress in backend.pull(args.model):
                line = progress_line(progress)
                now = time.monotonic()
                if tty:
                    sys.stderr.write("\r" + line.ljust(len(last)))
                    sys.stderr.flush()
                elif (
                    progress.status != last.split(" [")[0].strip()
                    or now - last_print > 2
                    or (progress.total and progress.completed >= progress.total)
                ):
                    print(line, file=sys.stderr, flush=True)
                    last_print = now
                last = line
        finally:
            if tty:
                sys.stderr.write("\n")
            await _close(backend)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        print("cancelled: run the same command again to resume", file=sys.stderr)
        return EXIT_FAILED
    except QwenDeskError as exc:
        return report_error(exc, settings, args.model)
    print(f"{args.model}: ready")
    return EXIT_OK


# --- conversations ---------------------------------------------------------------------------


def cmd_chats(args: argparse.Namespace) -> int:
    settings = load_settings()
    with _conversations(settings) as store:
        records = store.list()
    if args.json:
        print_json(
            [
                {
                    "id": c.id,
                    "title": c.title,
                    "collection": c.collection,
                    "messages": c.n_messages,
                    "created_at": c.created_at,
                    "updated_at": c.updated_at,
                }
                for c in records
            ]
        )
        return EXIT_OK
    if not records:
        print("no conversations")
    for c in records:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated_at))
        print(f"{c.id:5}  {when}  {c.collection or '-':12} {c.n_messages:3} msgs  {c.title}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        with _conversations(settings) as store:
            markdown = store.export_markdown(args.conversation_id)
    except QwenDeskError as exc:
        return report_error(exc, settings)
    if args.output:
        args.output.write_text(markdown, encoding="utf-8")
        print(f"written: {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(markdown)
    return EXIT_OK
