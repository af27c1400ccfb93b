"""Controllers layer: ``ViewerController``, renders PDF pages and reads texts for the viewer.

Both jobs run in the core's ``ParserProcess`` (a child process: MuPDF is not thread-safe and a
malformed file must not take the app down), called through ``asyncio.to_thread`` so the GUI
thread only waits on an awaitable. Only the newest request matters: a new one cancels the task
of the previous one (its result, if it still arrives, is dropped). Extracted texts are kept for
the last few files, so moving between citations of one document is instant.

Encrypted PDFs and Word files open with the password that opened them this session
(``session_passwords``, memory only: kept by ingestion, or by an earlier successful
``request_page``/``request_text`` with a typed password). When none is known or it no longer
works, ``sig_password_needed`` asks the viewer for one (never ``sig_failed``: that is not an
error to show).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from qwen_desk.core.documents.passwords import PasswordMemory, session_passwords
from qwen_desk.core.errors import PasswordRequired, QwenDeskError, WrongPassword

log = logging.getLogger(__name__)

TEXT_CACHE_FILES = 4
DEFAULT_ZOOM = 2.0


@dataclass
class RenderedPage:
    """A PDF page as PNG bytes, with its size in points and the zoom used (pixels per point)."""

    path: str
    page: int
    png: bytes
    width_pt: float
    height_pt: float
    zoom: float


class ViewerController(QObject):
    """Off-thread page rendering and text extraction for ``SourceViewer``."""

    sig_page_ready = Signal(object)
    """A ``RenderedPage`` for the last ``request_page``."""
    sig_text_ready = Signal(str, str)
    """(path, whole extracted text) for the last ``request_text``."""
    sig_failed = Signal(str, str, str)
    """(path, error code, English detail): the page or text could not be read."""
    sig_busy_changed = Signal(bool)
    """A request started (True) or ended (False)."""
    sig_password_needed = Signal(str, int, bool)
    """(path, page, wrong): the file is encrypted and no known password opens it; ``page`` is 0
    for a text request; ``wrong`` when the password given with the request was not correct."""

    def __init__(
        self, parent: QObject | None = None, passwords: PasswordMemory | None = None
    ) -> None:
        super().__init__(parent)
        self.passwords = passwords or session_passwords()
        self._parser: Any = None
        self._task: asyncio.Task[None] | None = None
        self._texts: OrderedDict[str, str] = OrderedDict()

    @property
    def parser(self) -> Any:
        if self._parser is None:
            from qwen_desk.core.documents.sandbox import ParserProcess

            self._parser = ParserProcess()
        return self._parser

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def request_page(
        self, path: str, page: int, zoom: float = DEFAULT_ZOOM, password: str | None = None
    ) -> None:
        """Render ``page`` (1-based) of the PDF at ``path``; answers with ``sig_page_ready``
        (``sig_password_needed`` for an encrypted file). ``password``: one the user just typed
        (remembered for the session when it opens the file); else the known one is used."""
        self._run(self._page(path, page, zoom, password))

    def request_text(self, path: str, password: str | None = None) -> None:
        """Extract the text of ``path``; answers with ``sig_text_ready`` (``sig_password_needed``
        for an encrypted file). ``password`` as for ``request_page``."""
        cached = self._texts.get(path)
        if cached is not None:
            self._texts.move_to_end(path)
            self.sig_text_ready.emit(path, cached)
            return
        self._run(self._text(path, password))

    def _run(self, coro: Any) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(coro)

    async def _opened(
        self, path: str, page: int, typed: str | None, call: Any, *args: Any
    ) -> tuple[bool, Any]:
        """``call(path, *args, password)`` in a worker thread with the typed or the known
        password: (True, its result), or (False, None) once the failure was signalled."""
        password = typed if typed is not None else self.passwords.get(path)
        self.sig_busy_changed.emit(True)
        try:
            result = await asyncio.to_thread(call, path, *args, password)
        except (PasswordRequired, WrongPassword):
            if typed is None and password is not None:
                self.passwords.forget(path)  # the file changed since: ask afresh
            self.sig_password_needed.emit(path, page, typed is not None)
            return False, None
        except QwenDeskError as exc:
            self.sig_failed.emit(path, exc.code, exc.message)
            return False, None
        finally:
            self.sig_busy_changed.emit(False)
        if typed:
            self.passwords.remember(path, typed)
        return True, result

    async def _page(self, path: str, page: int, zoom: float, typed: str | None) -> None:
        ok, result = await self._opened(path, page, typed, self.parser.render_page, page, zoom)
        if ok:
            png, width, height = result
            self.sig_page_ready.emit(RenderedPage(path, page, png, width, height, zoom))

    async def _text(self, path: str, typed: str | None) -> None:
        ok, parsed = await self._opened(path, 0, typed, self.parser.parse)
        if not ok:
            return
        self._texts[path] = parsed.text
        while len(self._texts) > TEXT_CACHE_FILES:
            self._texts.popitem(last=False)
        self.sig_text_ready.emit(path, parsed.text)

    def close(self) -> None:
        """Stop the child process (at exit)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._parser is not None:
            self._parser.close()
            self._parser = None
