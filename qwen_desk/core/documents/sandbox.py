"""Core layer: documents are parsed in a persistent child process (spawn) with a timeout.

MuPDF is not thread-safe and a malformed file may hang or crash its reader; the child takes
that risk instead of the app. ``ParserProcess`` keeps one child alive across files (a fresh
spawn costs ~0.5 s of imports), talks to it over a ``Pipe`` (results are pickled: a 600-page
document is a few MB), kills and restarts it when a request runs out of time (ParseTimeout) or
when it dies (ParserCrashed). Errors raised in the child come back with their own class.

The timeout bounds silence, not size: while parsing, the child reports progress (pages read,
at most every ``PROGRESS_EVERY_S``) and each report restarts the wait, so a 600-page file that
keeps reading pages never runs out of time on a busy machine, while one page (or one step) that
hangs for ``timeout_s`` still stops the child. Steps after the last page (running text,
headings, building the text) are linear in the document's size.

The child imports only ``qwen_desk.core.documents`` and the parser it needs. A hidden request
that makes the child exit abruptly exists for tests, enabled only when the environment variable
``QWEN_DESK_PARSER_TEST_HOOKS`` is "1" in the child.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qwen_desk.core.errors import (
    Cancelled,
    DocumentError,
    ParserCrashed,
    ParseTimeout,
    QwenDeskError,
)
from qwen_desk.core.types import Block, BlockKind, LineSpan, ParsedDocument

TEST_HOOKS_ENV = "QWEN_DESK_PARSER_TEST_HOOKS"
DEFAULT_TIMEOUT_S = 120.0  # of silence: no reply and no progress report (see the docstring)
PROGRESS_EVERY_S = 1.0
CANCEL_POLL_S = 0.05  # how often a parse asks whether it should stop
START_TIMEOUT_S = 60.0  # spawning plus imports, on a busy machine


# pymupdf >= 1.27 imports these optional packages when installed (numpy, onnxruntime: ~2 s of
# start-up). The parser never uses them (see pdf.py: find_tables without the layout model).
OPTIONAL_PYMUPDF_ADDONS = ("pymupdf.layout", "pymupdf4llm")


def _child_main(conn: Any) -> None:
    """The child's loop: one request in, one reply out, until the pipe closes."""
    for name in OPTIONAL_PYMUPDF_ADDONS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # "import" -> ImportError
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        op, args = request
        try:
            reply = ("ok", _handle(op, args, _Progress(conn)))
        except QwenDeskError as exc:
            reply = ("error", exc)
        except MemoryError:
            reply = ("error", DocumentError("The document needs more memory than is available"))
        except Exception as exc:  # a parser bug: report it as a document error
            reply = (
                "error",
                DocumentError(f"Unexpected parser error: {type(exc).__name__}: {exc}"),
            )
        try:
            conn.send(reply)
        except Exception as exc:  # unpicklable result: say so rather than die
            conn.send(("error", DocumentError(f"Parser result could not be returned: {exc}")))


class _Progress:
    """Sends ("progress", pages read) to the parent, at most every ``PROGRESS_EVERY_S``."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self.conn.send(("progress", done))


def _handle(op: str, args: tuple[Any, ...], progress: _Progress) -> Any:
    if op == "parse":
        from qwen_desk.core.documents import parse_document

        return pack_document(parse_document(*args, on_page=progress))
    if op == "render":
        return _render_page(*args)
    if op == "ping":
        return os.getpid()
    if os.environ.get(TEST_HOOKS_ENV) == "1":
        if op == "test_exit":
            os._exit(int(args[0]) if args else 3)
        if op == "test_sleep":
            time.sleep(float(args[0]))
            return None
        if op == "test_progress":  # (steps, seconds each): reports progress while it works
            for step in range(int(args[0])):
                time.sleep(float(args[1]))
                progress.conn.send(("progress", step + 1))
            return int(args[0])
    raise DocumentError(f"Unknown parser request {op!r}")


def _render_page(
    path: str, page: int, zoom: float, password: str | None
) -> tuple[bytes, float, float]:
    from qwen_desk.core.documents.pdf import open_pdf

    doc = open_pdf(Path(path), password)
    try:
        if not 1 <= page <= doc.page_count:
            raise DocumentError(f"Page {page} does not exist (the document has {doc.page_count})")
        pg = doc.load_page(page - 1)
        import pymupdf

        pixmap = pg.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        return pixmap.tobytes("png"), pg.rect.width, pg.rect.height
    finally:
        doc.close()


def pack_document(doc: ParsedDocument) -> tuple[Any, ...]:
    """A ParsedDocument as plain tuples: ~3x faster to pickle, and block texts are not sent twice
    (each is a slice of ``doc.text``)."""
    blocks = [
        (
            b.kind.value,
            b.page,
            b.start,
            b.end,
            b.level,
            b.heading_path,
            [(line.start, line.end, line.rect) for line in b.lines],
        )
        for b in doc.blocks
    ]
    return (
        doc.path,
        doc.kind,
        doc.title,
        doc.text,
        blocks,
        doc.page_count,
        doc.scanned_pages,
        doc.page_sizes,
        doc.encoding,
        doc.warnings,
        doc.running_text,
    )


def unpack_document(data: tuple[Any, ...]) -> ParsedDocument:
    """The inverse of ``pack_document``."""
    path, kind, title, text, blocks, page_count, scanned, sizes, encoding, warnings, running = data
    kinds = {k.value: k for k in BlockKind}
    return ParsedDocument(
        path=path,
        kind=kind,
        title=title,
        text=text,
        blocks=[
            Block(
                text=text[start:end],
                kind=kinds[kind_value],
                page=page,
                start=start,
                end=end,
                level=level,
                heading_path=heading_path,
                lines=[LineSpan(a, b, rect) for a, b, rect in lines],
            )
            for kind_value, page, start, end, level, heading_path, lines in blocks
        ],
        page_count=page_count,
        scanned_pages=scanned,
        page_sizes=sizes,
        encoding=encoding,
        warnings=warnings,
        running_text=running,
    )


class ParserProcess:
    """A persistent spawn-context child process reused across files; restarted after a crash or
    timeout. Thread-safe (a lock: one request at a time)."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Any = None

    # --- public -------------------------------------------------------------------------

    def parse(
        self,
        path: str | Path,
        password: str | None = None,
        timeout_s: float | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> ParsedDocument:
        """Parse ``path`` in the child: DocumentError subclasses, ParseTimeout, ParserCrashed.

        ``should_cancel`` is asked every ``CANCEL_POLL_S`` while the child works; when it says
        so the child is stopped and ``Cancelled`` raised (a long PDF does not hold up a quit)."""
        return unpack_document(
            self.request("parse", (str(path), password), timeout_s, should_cancel)
        )

    def render_page(
        self, path: str | Path, page: int, zoom: float = 2.0, password: str | None = None
    ) -> tuple[bytes, float, float]:
        """PNG bytes of PDF page ``page`` (1-based) and the page's width and height in points."""
        return self.request("render", (str(path), page, zoom, password), None)

    @property
    def pid(self) -> int | None:
        """The child's process id, when one is running."""
        return self._process.pid if self._process is not None and self._process.is_alive() else None

    def close(self, kill: bool = False) -> None:
        """Stop the child: it exits by itself once the pipe closes, or is killed (``kill``:
        the app is quitting and a child exiting cleanly costs ~0.3 s for nothing)."""
        with self._lock:
            self._stop(kill=kill)

    def __enter__(self) -> ParserProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # best effort: never leave a child behind
        try:
            self._stop(kill=True)
        except Exception:
            pass

    # --- protocol -----------------------------------------------------------------------

    def request(
        self,
        op: str,
        args: tuple[Any, ...],
        timeout_s: float | None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> Any:
        """Send one request and wait for its reply (at most ``timeout_s`` without progress)."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        with self._lock:
            self._ensure_started()
            try:
                self._conn.send((op, args))
            except (OSError, EOFError) as exc:
                self._stop(kill=True)
                raise ParserCrashed(f"The document reader stopped unexpectedly ({exc})") from exc
            status = "progress"
            while status == "progress":  # each progress report restarts the wait
                if not self._wait_reply(timeout, should_cancel):
                    self._stop(kill=True)
                    raise ParseTimeout(
                        f"Reading {Path(str(args[0])).name if args else 'the file'} took longer "
                        f"than {timeout:g} s and was stopped"
                    )
                try:
                    status, payload = self._conn.recv()
                except (EOFError, OSError) as exc:
                    code = self._exit_code()
                    self._stop(kill=True)
                    raise ParserCrashed(
                        f"The document reader stopped unexpectedly (exit code {code})"
                    ) from exc
        if status == "error":
            raise payload
        return payload

    def _wait_reply(self, timeout: float, should_cancel: Callable[[], bool] | None) -> bool:
        """True when a reply came within ``timeout``; ``Cancelled`` (child stopped) on cancel."""
        if should_cancel is None:
            return bool(self._conn.poll(timeout))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if self._conn.poll(max(0.0, min(CANCEL_POLL_S, remaining))):
                return True
            if should_cancel():
                self._stop(kill=True)  # restarted by the next request
                raise Cancelled("parsing cancelled")
            if remaining <= 0:
                return False

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self._stop(kill=True)
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_child_main, args=(child_conn,), name="qwen-desk-parser", daemon=True
        )
        process.start()
        child_conn.close()
        self._process, self._conn = process, parent_conn

    def _exit_code(self) -> int | None:
        if self._process is None:
            return None
        self._process.join(1.0)
        return self._process.exitcode

    def _stop(self, kill: bool) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass
        if process is None:
            return
        if kill:
            process.kill()
        process.join(5.0)
        if process.is_alive():
            process.kill()
            process.join(5.0)


def parse_in_child(
    path: str | Path, password: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> ParsedDocument:
    """One-shot: parse ``path`` in a fresh child process, then stop it."""
    with ParserProcess(timeout_s) as parser:
        return parser.parse(path, password)
