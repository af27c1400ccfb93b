"""Controllers layer: ``OllamaController``, the health, models, VRAM and pulls of the daemon.

A polling task on the GUI loop asks the back-end for its version: when it answers, the model
list and ``/api/ps`` follow and the configured model is preloaded once (same ``num_ctx`` as the
chats, so the first question does not reload it; ``keep_alive`` from the settings). When it does
not, the state says why (not running, or something else answers at that host) and the next check
comes after a growing pause (1, 2, 4, 8, then every 15 s); ``retry_now`` checks at once. A missing
model is announced once (``sig_model_missing``) so the view can offer a pull; ``pull`` streams
progress (bytes, speed, ETA) and ``cancel_pull`` is ``task.cancel()``.

States (strings, shared with the status bar): checking, connected, unreachable, wrong_host,
model_missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from qwen_desk.core.errors import DaemonUnreachable, QwenDeskError
from qwen_desk.core.types import LoadedModel, ModelInfo

log = logging.getLogger(__name__)

CHECKING = "checking"
CONNECTED = "connected"
UNREACHABLE = "unreachable"
WRONG_HOST = "wrong_host"
MODEL_MISSING = "model_missing"

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0)
HEALTHY_INTERVAL_S = 20.0  # each check builds an HTTP client (TLS context): not too often


def same_model(a: str, b: str) -> bool:
    """``qwen2.5:7b`` == ``qwen2.5:7b``; ``llama3`` == ``llama3:latest``."""

    def norm(name: str) -> str:
        name = name.strip()
        return name if ":" in name else f"{name}:latest"

    return norm(a) == norm(b)


class OllamaController(QObject):
    """Watches the daemon and manages its models."""

    sig_state_changed = Signal(str, str)
    """(state, detail): detail is the version (connected), the host, or the missing model."""
    sig_models_changed = Signal(list)
    """The installed models (``list[ModelInfo]``)."""
    sig_loaded_models = Signal(list)
    """Models in memory with their VRAM (``list[LoadedModel]``, from ``/api/ps``)."""
    sig_retry_scheduled = Signal(float)
    """The daemon did not answer: the next check comes in this many seconds."""
    sig_model_missing = Signal(str)
    """The configured model is not installed (emitted once per model and host)."""
    sig_current_model_changed = Signal(str)
    """The model used for answers changed."""
    sig_pull_progress = Signal(object)
    """A ``PullProgress`` of the running pull."""
    sig_pull_finished = Signal(str)
    """The model was pulled."""
    sig_pull_failed = Signal(str, str)
    """(error code, English detail): the pull failed."""
    sig_pull_cancelled = Signal(str)
    """The pull was cancelled by the user."""

    def __init__(self, services: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.state = CHECKING
        self.detail = ""
        self.version = ""
        self.models: list[ModelInfo] = []
        self.loaded: list[LoadedModel] = []
        self._poll_task: asyncio.Task[None] | None = None
        self._pull_task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._failures = 0
        self._announced_missing: set[tuple[str, str]] = set()
        self._preloaded: set[tuple[str, str]] = set()
        self.next_check_s = 0.0
        self.preload_enabled = True
        if hasattr(services, "sig_backend_changed"):
            services.sig_backend_changed.connect(self._on_backend_changed)
        # Start once the event loop runs (the window is built before the loop exists).
        QTimer.singleShot(0, self, self.start)

    # --- properties -------------------------------------------------------------------------

    @property
    def backend(self) -> Any:
        return self._services.backend

    @property
    def current_model(self) -> str:
        return str(self._services.settings.model)

    @property
    def host(self) -> str:
        return self._services.host

    @property
    def pulling(self) -> bool:
        return self._pull_task is not None and not self._pull_task.done()

    # --- polling ----------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Start watching the daemon (idempotent; needs the running asyncio loop)."""
        if self._poll_task is not None and not self._poll_task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            QTimer.singleShot(50, self, self.start)  # the loop is not running yet
            return
        self._wake = asyncio.Event()
        self._poll_task = loop.create_task(self._poll())

    @Slot()
    def retry_now(self) -> None:
        """Check the daemon now instead of waiting for the next retry."""
        if self._wake is not None:
            self._wake.set()
        else:
            self.start()

    async def aclose(self) -> None:
        """Stop polling and any pull."""
        tasks = [t for t in (self._poll_task, self._pull_task) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _poll(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()  # a retry_now() during the check below still wakes the wait
            healthy = await self.check()
            if healthy:
                self._failures = 0
                delay = HEALTHY_INTERVAL_S
            else:
                delay = BACKOFF_S[min(self._failures, len(BACKOFF_S) - 1)]
                self._failures += 1
                self.next_check_s = delay
                self.sig_retry_scheduled.emit(delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def check(self) -> bool:
        """One health check; True when the daemon answered (model present or not)."""
        backend = self.backend
        try:
            version = await backend.version()
        except DaemonUnreachable as exc:
            state = WRONG_HOST if exc.details.get("status") else UNREACHABLE
            self._set_state(state, self.host)
            return False
        except QwenDeskError as exc:
            log.info("health check failed: %s", exc)
            self._set_state(WRONG_HOST, self.host)
            return False
        self.version = version
        try:
            models = await backend.list_models()
        except QwenDeskError as exc:
            log.info("listing models failed: %s", exc)
            self._set_state(UNREACHABLE, self.host)
            return False
        self.models = models
        self.sig_models_changed.emit(list(models))
        model = self.current_model
        if not any(same_model(m.name, model) for m in models) and backend.kind == "ollama":
            self._set_state(MODEL_MISSING, model)
            key = (self.host, model)
            if key not in self._announced_missing and not self.pulling:
                self._announced_missing.add(key)
                self.sig_model_missing.emit(model)
            return True
        self._set_state(CONNECTED, version)
        if self.preload_enabled and (self.host, model) not in self._preloaded:
            self._preloaded.add((self.host, model))
            await self._preload(model)
        await self.refresh_loaded()
        return True

    async def refresh_loaded(self) -> None:
        """Ask ``/api/ps`` what is in memory (VRAM)."""
        try:
            self.loaded = await self.backend.loaded_models()
        except QwenDeskError:
            return
        self.sig_loaded_models.emit(list(self.loaded))

    async def _preload(self, model: str) -> None:
        from qwen_desk.core.llm.base import GenerationOptions, effective_num_ctx

        settings = self._services.settings
        options = GenerationOptions.from_settings(settings)
        try:
            info = await self.backend.show(model)
            options.num_ctx = effective_num_ctx(settings.num_ctx, info.context_length)
            await self.backend.preload(model, options)
        except QwenDeskError as exc:
            log.info("preloading %s failed: %s", model, exc)

    def _set_state(self, state: str, detail: str) -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self.sig_state_changed.emit(state, detail)

    def _on_backend_changed(self) -> None:
        self._set_state(CHECKING, "")
        self._failures = 0
        self.retry_now()

    # --- models -----------------------------------------------------------------------------

    @Slot(str)
    def set_model(self, name: str) -> None:
        """Use ``name`` for answers (saved in the settings)."""
        if not name or name == self.current_model:
            return
        services = self._services
        try:
            services.apply_settings(services.settings.replace(model=name))
        except QwenDeskError as exc:
            log.warning("could not select model %s: %s", name, exc)
            return
        self.sig_current_model_changed.emit(name)
        self.retry_now()

    # --- pulls ------------------------------------------------------------------------------

    @Slot()
    def pull(self, model: str = "") -> None:
        """Download ``model`` (default: the configured one); progress via ``sig_pull_progress``."""
        if self.pulling:
            return
        model = model or self.current_model
        self._pull_task = asyncio.get_running_loop().create_task(self._pull(model))

    @Slot()
    def cancel_pull(self) -> None:
        """Stop the download (Ollama keeps the finished layers: a new pull resumes)."""
        if self._pull_task is not None and not self._pull_task.done():
            self._pull_task.cancel()

    async def _pull(self, model: str) -> None:
        try:
            stream = self.backend.pull(model)
            async with contextlib.aclosing(stream):
                async for progress in stream:
                    self.sig_pull_progress.emit(progress)
        except asyncio.CancelledError:
            self.sig_pull_cancelled.emit(model)
            raise
        except QwenDeskError as exc:
            self.sig_pull_failed.emit(exc.code, exc.message)
            return
        self.sig_pull_finished.emit(model)
        self.retry_now()
