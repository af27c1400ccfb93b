"""Test support: a faithful stand-in for the Ollama daemon (and an OpenAI-compatible server).

A stdlib ``ThreadingHTTPServer`` in a background thread that speaks the HTTP API of the real
daemon closely enough for the official ``ollama`` client and our back-ends: NDJSON streaming with
chunked transfer encoding (so a dropped connection looks like the real daemon dying), headers sent
with the first token (as gin does: nothing reaches the client before the first token), the real
final-chunk fields (nanoseconds), real error bodies and status codes, ``/api/ps`` driven by
``keep_alive`` and ``num_ctx``, resumable pulls, and the OpenAI surface (``/v1/models``,
``/v1/chat/completions`` with SSE). See ``docs`` in the class docstring for the knobs.

Token counts, answer pieces and the default "echo" answer (citing the prompt's numbered sources)
come from ``standin_answers``.

Usage::

    with OllamaStandIn(models=["qwen2.5:7b"], tokens_per_second=150, ttft_s=0.08) as server:
        client = ollama.AsyncClient(server.url)
        ...
        server.requests_for("/api/chat")[-1].body["options"]["num_ctx"]

Run on its own: ``python -m tests.support.ollama_standin --port 11434 --tokens-per-second 150``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import math
import random
import re
import select
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.standin_answers import (
    approx_tokens,
    default_answer,
    prompt_tokens,
    split_pieces,
)

__all__ = [
    "Fault",
    "Generation",
    "OllamaStandIn",
    "RecordedRequest",
    "StandInModel",
    "approx_tokens",
    "default_answer",
    "free_port",
    "split_pieces",
]

DAEMON_VERSION = "0.30.2"
DEFAULT_NUM_CTX = 4096  # what the daemon loads when a request names no num_ctx (< 23 GiB VRAM)
DEFAULT_KEEP_ALIVE_S = 300.0
KV_BYTES_PER_TOKEN = 57_344  # qwen2.5-7B: 28 layers x 4 KV heads x 128 dims x 2 (K, V) x fp16
CHAT_PATHS = ("/api/chat", "/api/generate", "/v1/chat/completions")
OOM_ERROR = (
    "llama runner process has terminated: cudaMalloc failed: out of memory; "
    "CUDA error: out of memory"
)
OFFLINE_PULL_ERROR = (
    'pull model manifest: Get "https://registry.ollama.ai/v2/library/{repo}/manifests/{tag}": '
    "dial tcp: lookup registry.ollama.ai: no such host"
)
UNKNOWN_PULL_ERROR = "pull model manifest: file does not exist"


def parse_keep_alive(value: Any) -> float | None:
    """Seconds a model stays loaded; ``None`` = forever (negative), 0 = unload now."""
    if value is None or value == "":
        return DEFAULT_KEEP_ALIVE_S
    if isinstance(value, (int, float)):
        return None if value < 0 else float(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        seconds = float(text)
        return None if seconds < 0 else seconds
    if text.startswith("-"):
        return None
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError(f"time: invalid duration {text!r}")
    return sum(float(a) * units[b] for a, b in parts)


def _now_iso(offset_s: float = 0.0) -> str:
    moment = dt.datetime.now(dt.timezone.utc).astimezone() + dt.timedelta(seconds=offset_s)
    return moment.isoformat()


def free_port() -> int:
    """A TCP port with nothing listening on it (to stand for a daemon that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


@dataclass
class StandInModel:
    """A model the stand-in has "installed"; names alone get qwen2.5:7b's facts."""

    name: str
    family: str = "qwen2"
    parameter_size: str = "7.6B"
    quantization: str = "Q4_K_M"
    context_length: int = 32768
    size: int = 4_683_087_332
    embedding_length: int = 3584
    capabilities: tuple[str, ...] = ("completion", "tools")

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.name.encode()).hexdigest()


@dataclass
class RecordedRequest:
    """One request as the stand-in received it."""

    method: str
    path: str
    body: Any  # parsed JSON (dict/list), None when empty, or the raw text when not JSON
    headers: dict[str, str]  # names lower-cased
    time: float


@dataclass
class Generation:
    """One streamed answer or pull: how it ended and how far it got."""

    path: str
    model: str
    started: float
    tokens_sent: int = 0
    outcome: str = "running"  # done, disconnected, error, dropped, stalled
    ended: float | None = None


@dataclass
class Fault:
    """A one-shot failure consumed by the next request whose path is in ``paths``."""

    kind: str  # "status", "break", "drop", "stall", "pull_interrupt"
    paths: tuple[str, ...] = CHAT_PATHS
    status: int = 500
    error: str = ""
    after: int | None = 0  # tokens (or pull bytes) before the fault strikes; None = before headers
    seconds: float = 0.0
    reset: bool = False


@dataclass
class _Loaded:
    name: str
    num_ctx: int
    size: int
    size_vram: int
    expires_at: float | None  # monotonic deadline; None = forever
    expires_iso: str


class _ClientGone(Exception):
    """The client closed the connection (broken pipe, reset, or EOF seen while idle)."""


class _Dropped(Exception):
    """The stand-in dropped the connection on purpose (the daemon "died")."""


Answer = str | Sequence[str] | Callable[[dict[str, Any]], str] | None


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


class OllamaStandIn:
    """The stand-in daemon. Every knob is a constructor argument or a method.

    Constructor: ``models`` (names or ``StandInModel``), ``tokens_per_second``, ``ttft_s`` (delay
    before the first token, i.e. prompt evaluation), ``load_s`` (extra delay when a model loads or
    reloads because ``num_ctx`` changed), ``answer`` (a string, a list used in turn, or
    ``callable(request_body) -> str``; default: ``default_answer``), ``pull_bytes_per_s``,
    ``registry`` (pullable model -> layer sizes), ``vram_bytes`` (what fits on the "GPU"),
    ``embed_dim``, ``host``/``port`` (0 = any free port; kept across ``stop``/``start``).

    Failure injection (one-shot, first matching request): ``fail_next_chat``,
    ``break_stream_after``, ``drop_connection_after``, ``stall_next``, ``simulate_oom``,
    ``interrupt_next_pull``; ``set_offline`` for pulls; ``stop()`` to be "down".

    Records: ``requests`` (every request), ``generations`` (every stream and how it ended),
    ``disconnects`` and the ``disconnected`` event (a client closed a stream early),
    ``load_count`` (model loads, including reloads caused by a ``num_ctx`` change).
    """

    def __init__(
        self,
        models: Iterable[str | StandInModel] = ("qwen2.5:7b",),
        *,
        tokens_per_second: float = 200.0,
        ttft_s: float = 0.0,
        load_s: float = 0.0,
        answer: Answer = None,
        pull_bytes_per_s: float = 1e10,
        registry: dict[str, Sequence[int]] | None = None,
        vram_bytes: int = 24 * 1024**3,
        embed_dim: int = 768,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = DAEMON_VERSION,
    ) -> None:
        self._lock = threading.RLock()
        self.models: dict[str, StandInModel] = {}
        for m in models:
            self.add_model(m)
        self.tokens_per_second = float(tokens_per_second)
        self.ttft_s = float(ttft_s)
        self.load_s = float(load_s)
        self.pull_bytes_per_s = float(pull_bytes_per_s)
        self.registry: dict[str, list[int]] = {
            k: list(v)
            for k, v in (
                registry
                or {
                    "qwen2.5:7b": [4_683_073_184, 11_343, 1_398, 487],
                    "qwen2.5:0.5b": [397_807_936, 11_343, 1_398, 487],
                    "nomic-embed-text": [274_290_656, 11_357, 420],
                }
            ).items()
        }
        self.vram_bytes = vram_bytes
        self.embed_dim = embed_dim
        self.version = version
        self.host = host
        self.port = port
        self.offline = False
        self.requests: list[RecordedRequest] = []
        self.generations: list[Generation] = []
        self.disconnected = threading.Event()
        self.load_count = 0
        self._answer: Answer = answer
        self._answer_index = 0
        self._faults: list[Fault] = []
        self._loaded: dict[str, _Loaded] = {}
        self._blobs: dict[str, int] = {}  # layer digest -> bytes "downloaded" (resume)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> OllamaStandIn:
        """Listen (again) on ``port`` and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"standin": self})
        server = _Server((self.host, self.port), handler)
        server.standin = self
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"ollama-standin-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection (the daemon is down)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> OllamaStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- configuration --------------------------------------------------------------------

    def add_model(self, model: str | StandInModel) -> StandInModel:
        spec = model if isinstance(model, StandInModel) else _spec_for(model)
        with self._lock:
            self.models[spec.name] = spec
        return spec

    def remove_model(self, name: str) -> None:
        """Uninstall ``name`` (its layers go too: a later pull downloads them again)."""
        with self._lock:
            self.models.pop(name, None)
            self._loaded.pop(name, None)
            for i in range(len(self.registry.get(name, ()))):
                self._blobs.pop(_layer_digest(name, i), None)

    def set_answer(self, answer: Answer) -> None:
        """Script the next answers: a string, a list used in turn, or ``callable(body) -> str``."""
        with self._lock:
            self._answer, self._answer_index = answer, 0

    def set_offline(self, offline: bool = True) -> None:
        """Pulls fail as they do without internet (after "pulling manifest")."""
        self.offline = offline

    # --- failure injection ----------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def fail_next_chat(self, status: int = 500, error: str = "an unknown error occurred") -> None:
        """The next chat answers ``status`` with ``{"error": error}`` before any content."""
        self.inject(Fault("status", status=status, error=error))

    def break_stream_after(self, n_tokens: int, error: str = "an error was encountered") -> None:
        """The next chat streams ``n_tokens`` pieces, then an ``{"error": ...}`` line, then ends."""
        self.inject(Fault("break", after=n_tokens, error=error))

    def drop_connection_after(self, n_tokens: int, *, reset: bool = False) -> None:
        """The next chat streams ``n_tokens`` pieces, then the socket closes mid-body (daemon died);
        ``reset=True`` sends a TCP RST instead of a FIN."""
        self.inject(Fault("drop", after=n_tokens, reset=reset))

    def stall_next(
        self, seconds: float, *, after_tokens: int | None = None, paths: Sequence[str] = CHAT_PATHS
    ) -> None:
        """The next matching request sends nothing for ``seconds``: before the headers
        (``after_tokens=None``) or after that many pieces. Ends early if the client leaves."""
        self.inject(Fault("stall", paths=tuple(paths), after=after_tokens, seconds=seconds))

    def simulate_oom(self, error: str = OOM_ERROR) -> None:
        """The next chat fails to load the model: 500 with the daemon's out-of-memory text."""
        self.fail_next_chat(500, error)

    def interrupt_next_pull(self, after_bytes: int, error: str | None = None) -> None:
        """The next pull stops after ``after_bytes`` of the current pull: with an error line when
        ``error`` is given, else by dropping the connection. What came is kept (resume)."""
        self.inject(
            Fault("pull_interrupt", paths=("/api/pull",), after=after_bytes, error=error or "")
        )

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if path in fault.paths:
                    return self._faults.pop(i)
        return None

    # --- records --------------------------------------------------------------------------

    def requests_for(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == path and (method is None or r.method == method)
            ]

    def last_request(self, path: str) -> RecordedRequest:
        found = self.requests_for(path)
        if not found:
            raise AssertionError(f"no request to {path}; got {[r.path for r in self.requests]}")
        return found[-1]

    @property
    def disconnects(self) -> list[Generation]:
        with self._lock:
            return [g for g in self.generations if g.outcome == "disconnected"]

    def wait_for_disconnect(self, timeout: float = 2.0) -> bool:
        return self.disconnected.wait(timeout)

    def wait_until_streaming(self, path: str = "/api/chat", timeout: float = 5.0) -> Generation:
        """Block until a stream on ``path`` has sent at least one piece; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for g in reversed(self.generations):
                    if g.path == path and g.tokens_sent > 0:
                        return g
            time.sleep(0.005)
        raise AssertionError(f"no stream on {path} within {timeout} s")

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.generations.clear()
            self.disconnected.clear()

    @property
    def loaded(self) -> dict[str, int]:
        """Loaded model -> its num_ctx (expired models are removed first)."""
        with self._lock:
            self._expire()
            return {name: entry.num_ctx for name, entry in self._loaded.items()}

    @property
    def downloaded(self) -> dict[str, int]:
        """Layer digest -> bytes downloaded so far (partial pulls included)."""
        with self._lock:
            return dict(self._blobs)

    # --- model state ----------------------------------------------------------------------

    def _expire(self) -> None:
        now = time.monotonic()
        for name in [n for n, e in self._loaded.items() if e.expires_at and e.expires_at <= now]:
            del self._loaded[name]

    def _ensure_loaded(self, spec: StandInModel, num_ctx: int | None, keep_alive: Any) -> float:
        """Load (or reload for a new num_ctx); return the load time in seconds."""
        keep = parse_keep_alive(keep_alive)
        with self._lock:
            self._expire()
            entry = self._loaded.get(spec.name)
            wanted = num_ctx or (entry.num_ctx if entry else DEFAULT_NUM_CTX)
            reload = entry is None or entry.num_ctx != wanted
            if reload:
                self.load_count += 1
            size = spec.size + wanted * KV_BYTES_PER_TOKEN
            deadline = None if keep is None else time.monotonic() + keep
            expires_iso = _now_iso(keep) if keep is not None else "2318-01-01T00:00:00Z"
            self._loaded[spec.name] = _Loaded(
                spec.name, wanted, size, min(size, self.vram_bytes), deadline, expires_iso
            )
            if keep == 0:
                del self._loaded[spec.name]
        return self.load_s if reload else 0.0

    def _next_answer(self, body: dict[str, Any]) -> str:
        with self._lock:
            answer = self._answer
            if answer is None:
                return default_answer(body)
            if isinstance(answer, str):
                return answer
            if callable(answer):
                return answer(body)
            items = list(answer)
            text = items[min(self._answer_index, len(items) - 1)]
            self._answer_index += 1
            return text

    def _start_generation(self, path: str, model: str) -> Generation:
        gen = Generation(path=path, model=model, started=time.monotonic())
        with self._lock:
            self.generations.append(gen)
        return gen

    def _end_generation(self, gen: Generation, outcome: str) -> None:
        with self._lock:
            gen.outcome, gen.ended = outcome, time.monotonic()
        if outcome == "disconnected":
            self.disconnected.set()


def _layer_digest(model: str, index: int) -> str:
    return "sha256:" + hashlib.sha256(f"{model}/{index}".encode()).hexdigest()


def _spec_for(name: str) -> StandInModel:
    if "embed" in name:
        return StandInModel(
            name,
            family="nomic-bert",
            parameter_size="137M",
            quantization="F16",
            context_length=2048,
            size=274_302_450,
            embedding_length=768,
            capabilities=("embedding",),
        )
    if "0.5b" in name:
        return StandInModel(name, parameter_size="494.03M", size=397_821_319)
    return StandInModel(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: OllamaStandIn

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.standin._lock:
            self.standin._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.standin._lock:
            self.standin._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:  # keep test output quiet
        pass


# ---------------------------------------------------------------------------------------------
# The request handler
# ---------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ollama-standin"
    standin: OllamaStandIn

    def setup(self) -> None:
        super().setup()
        # Small writes must leave at once (Nagle + delayed ACK would add ~40 ms per token).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing ---------------------------------------------------------------------------

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _send_json(self, status: int, payload: Any, *, newline: bool = False) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode() + (b"\n" if newline else b"")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _begin_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            raise _ClientGone from exc

    def _end_stream(self) -> None:
        with contextlib.suppress(OSError):
            self.wfile.write(b"0\r\n\r\n")

    def _client_gone(self) -> bool:
        """True when the client closed its end (EOF is readable while we owe it a response)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _sleep(self, seconds: float) -> None:
        """Sleep while watching for the client leaving or the server stopping."""
        deadline = time.perf_counter() + seconds
        while True:
            if self._client_gone():
                raise _ClientGone
            if self.standin._stopping.is_set():
                raise _Dropped
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            time.sleep(min(left, 0.02))

    def _drop(self, reset: bool) -> None:
        if reset:
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _record(self, body: Any) -> None:
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        rec = RecordedRequest(self.command, path, body, headers, time.time())
        with self.standin._lock:
            self.standin.requests.append(rec)

    def _dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._read_body()
        self._record(body)
        routes: dict[tuple[str, str], Callable[[Any], None]] = {
            ("GET", "/"): lambda b: self._send_text(200, "Ollama is running"),
            ("HEAD", "/"): lambda b: self._send_text(200, ""),
            ("GET", "/api/version"): lambda b: self._send_json(
                200, {"version": self.standin.version}
            ),
            ("GET", "/api/tags"): self._tags,
            ("POST", "/api/show"): self._show,
            ("GET", "/api/ps"): self._ps,
            ("POST", "/api/chat"): self._chat,
            ("POST", "/api/generate"): self._chat,
            ("POST", "/api/pull"): self._pull,
            ("DELETE", "/api/delete"): self._delete,
            ("POST", "/api/embed"): self._embed,
            ("GET", "/v1/models"): self._v1_models,
            ("POST", "/v1/chat/completions"): self._chat,
        }
        route = routes.get((self.command, path))
        if route is None:
            known_path = any(p == path for _, p in routes)
            status = 405 if known_path else 404
            self._send_text(
                status, "405 method not allowed" if known_path else "404 page not found"
            )
            return
        if self.command == "POST" or self.command == "DELETE":
            problem = self._bad_request(path, body)
            if problem and path.startswith("/v1/"):
                self._openai_error(400, problem, "invalid_request_error", None)
                return
            if problem:
                self._send_json(400, {"error": problem})
                return
        fault = self.standin._take_fault(path)
        if fault and fault.kind == "stall" and fault.after is None:
            try:
                self._sleep(fault.seconds)
            except (_ClientGone, _Dropped):
                self.close_connection = True
                return
            fault = None
        try:
            if route in (self._chat, self._pull):
                route((body if isinstance(body, dict) else {}, fault))  # type: ignore[arg-type]
            else:
                route(body if isinstance(body, dict) else {})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_HEAD = _dispatch

    def _bad_request(self, path: str, body: Any) -> str:
        """The daemon's 400 text for a body it cannot use."""
        if not isinstance(body, dict):
            return "missing request body" if body is None else "invalid character in request body"
        if not self._model_name(body):
            return "model is required"
        return ""

    # --- model endpoints --------------------------------------------------------------------

    def _model_name(self, body: dict[str, Any]) -> str:
        return str(body.get("model") or body.get("name") or "")

    def _find_model(self, name: str) -> StandInModel | None:
        models = self.standin.models
        if name in models:
            return models[name]
        if ":" not in name and f"{name}:latest" in models:
            return models[f"{name}:latest"]
        return None

    def _details(self, spec: StandInModel) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": spec.family,
            "families": [spec.family],
            "parameter_size": spec.parameter_size,
            "quantization_level": spec.quantization,
        }

    def _tags(self, body: dict[str, Any]) -> None:
        with self.standin._lock:
            specs = list(self.standin.models.values())
        models = [
            {
                "name": s.name,
                "model": s.name,
                "modified_at": "2026-10-01T10:00:00.000000+00:00",
                "size": s.size,
                "digest": s.digest,
                "details": self._details(s),
            }
            for s in specs
        ]
        self._send_json(200, {"models": models})

    def _not_found(self, name: str) -> None:
        self._send_json(404, {"error": f"model '{name}' not found"})

    def _show(self, body: dict[str, Any]) -> None:
        name = self._model_name(body)
        spec = self._find_model(name)
        if spec is None:
            self._not_found(name)
            return
        arch = spec.family
        info = {
            "general.architecture": arch,
            "general.basename": spec.name.split(":")[0],
            "general.file_type": 15,
            "general.parameter_count": 7_615_616_512,
            "general.quantization_version": 2,
            f"{arch}.attention.head_count": 28,
            f"{arch}.attention.head_count_kv": 4,
            f"{arch}.block_count": 28,
            f"{arch}.context_length": spec.context_length,
            f"{arch}.embedding_length": spec.embedding_length,
        }
        self._send_json(
            200,
            {
                "license": "Apache License 2.0",
                "modelfile": f"FROM {spec.name}\n",
                "parameters": 'stop "<|im_start|>"\nstop "<|im_end|>"',
                "template": "{{- range .Messages }}<|im_start|>{{ .Role }}\n"
                "{{ .Content }}<|im_end|>\n{{ end }}",
                "details": self._details(spec),
                "model_info": info,
                "capabilities": list(spec.capabilities),
                "modified_at": "2026-10-01T10:00:00.000000+00:00",
            },
        )

    def _ps(self, body: dict[str, Any]) -> None:
        st = self.standin
        with st._lock:
            st._expire()
            entries = list(st._loaded.values())
            specs = dict(st.models)
        models = []
        for e in entries:
            spec = specs.get(e.name) or _spec_for(e.name)
            models.append(
                {
                    "name": e.name,
                    "model": e.name,
                    "size": e.size,
                    "digest": spec.digest,
                    "details": self._details(spec),
                    "expires_at": e.expires_iso,
                    "size_vram": e.size_vram,
                    "context_length": e.num_ctx,
                }
            )
        self._send_json(200, {"models": models})

    def _delete(self, body: dict[str, Any]) -> None:
        name = self._model_name(body)
        if self._find_model(name) is None:
            self._not_found(name)
            return
        self.standin.remove_model(name)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _embed(self, body: dict[str, Any]) -> None:
        name = self._model_name(body)
        if self._find_model(name) is None:
            self._not_found(name)
            return
        inputs = body.get("input", "")
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        dim = int(body.get("dimensions") or self.standin.embed_dim)
        vectors = [_embed_vector(t, dim) for t in texts]
        self._send_json(
            200,
            {
                "model": name,
                "embeddings": vectors,
                "total_duration": 1_000_000 * len(texts),
                "load_duration": 100_000,
                "prompt_eval_count": sum(approx_tokens(t) for t in texts),
            },
        )

    def _v1_models(self, body: dict[str, Any]) -> None:
        with self.standin._lock:
            specs = list(self.standin.models.values())
        data = [
            {
                "id": s.name,
                "object": "model",
                "created": 1_759_312_800,
                "owned_by": "library",
                "max_model_len": s.context_length,
            }
            for s in specs
        ]
        self._send_json(200, {"object": "list", "data": data})

    # --- pull ---------------------------------------------------------------------------------

    def _pull(self, args: tuple[dict[str, Any], Fault | None]) -> None:
        body, fault = args
        st = self.standin
        name = self._model_name(body)
        stream = body.get("stream", True) is not False
        gen = st._start_generation("/api/pull", name)
        lines: list[dict[str, Any]] = []

        def emit(payload: dict[str, Any]) -> None:
            if stream:
                self._chunk(json.dumps(payload).encode() + b"\n")
            else:
                lines.append(payload)

        if stream:
            self._begin_stream("application/x-ndjson")
        try:
            emit({"status": "pulling manifest"})
            layers = st.registry.get(name) or st.registry.get(f"{name}:latest")
            error = None
            if st.offline:
                repo, _, tag = name.partition(":")
                error = OFFLINE_PULL_ERROR.format(repo=repo, tag=tag or "latest")
            elif layers is None:
                error = UNKNOWN_PULL_ERROR
            if error:
                self._finish_pull_error(stream, emit, error, gen)
                return
            budget = fault.after if fault and fault.kind == "pull_interrupt" else None
            sent = 0
            for i, total in enumerate(layers):
                digest = _layer_digest(name, i)
                status = f"pulling {digest[7:19]}"
                with st._lock:
                    installed = name in st.models  # re-pulling an installed model: all present
                    done = total if installed else st._blobs.get(digest, 0)
                emit({"status": status, "digest": digest, "total": total, "completed": done})
                last = time.perf_counter()
                while done < total:
                    self._sleep(0.02)
                    now = time.perf_counter()
                    step = max(1, int(st.pull_bytes_per_s * (now - last)))
                    last = now
                    if budget is not None:
                        step = min(step, budget - sent)
                    done = min(total, done + step)
                    sent += step
                    with st._lock:
                        st._blobs[digest] = done
                    emit({"status": status, "digest": digest, "total": total, "completed": done})
                    gen.tokens_sent = sent
                    if budget is not None and sent >= budget:
                        assert fault is not None
                        if fault.error:
                            self._finish_pull_error(stream, emit, fault.error, gen)
                        else:
                            st._end_generation(gen, "dropped")
                            self._drop(reset=False)
                        return
            for status in ("verifying sha256 digest", "writing manifest", "success"):
                emit({"status": status})
            st.add_model(name)
            st._end_generation(gen, "done")
            if stream:
                self._end_stream()
            else:
                self._send_json(200, lines[-1])
        except _ClientGone:
            st._end_generation(gen, "disconnected")
            self.close_connection = True
        except _Dropped:
            st._end_generation(gen, "dropped")
            self._drop(reset=False)

    def _finish_pull_error(
        self, stream: bool, emit: Callable[[dict[str, Any]], None], error: str, gen: Generation
    ) -> None:
        self.standin._end_generation(gen, "error")
        if stream:
            emit({"error": error})
            self._end_stream()
        else:
            self._send_json(500, {"error": error})

    # --- chat, generate and OpenAI chat completions -------------------------------------------

    def _chat(self, args: tuple[dict[str, Any], Fault | None]) -> None:
        body, fault = args
        st = self.standin
        path = self.path.split("?", 1)[0]
        openai = path.startswith("/v1/")
        t_start = time.perf_counter()
        name = self._model_name(body)
        spec = self._find_model(name)
        if spec is None:
            if openai:
                self._openai_error(
                    404, f"model '{name}' not found", "invalid_request_error", "model_not_found"
                )
            else:
                self._not_found(name)
            return
        if fault and fault.kind == "status":
            if openai:
                self._openai_error(fault.status, fault.error, "api_error", None)
            else:
                self._send_json(fault.status, {"error": fault.error})
            return
        options = body.get("options") or {}
        if not isinstance(options, dict):
            options = {}
        num_ctx = options.get("num_ctx")
        try:
            load_s = st._ensure_loaded(
                spec, int(num_ctx) if num_ctx else None, body.get("keep_alive")
            )
        except ValueError as exc:
            self._send_json(400, {"error": str(exc)})
            return
        if path == "/api/chat" and not body.get("messages"):
            if load_s:
                time.sleep(load_s)
            self._send_json(
                200,
                {
                    "model": name,
                    "created_at": _now_iso(),
                    "message": {"role": "assistant", "content": ""},
                    "done_reason": "load",
                    "done": True,
                },
            )
            return
        n_prompt = prompt_tokens(body)
        ctx_limit = (
            spec.context_length if openai else int(num_ctx or st.loaded.get(name, DEFAULT_NUM_CTX))
        )
        if openai and n_prompt > ctx_limit:
            self._openai_error(
                400,
                f"This model's maximum context length is {ctx_limit} tokens. However, you "
                f"requested {n_prompt} tokens in the messages. Please reduce the length of "
                "the messages.",
                "invalid_request_error",
                "context_length_exceeded",
            )
            return
        if not openai and body.get("truncate") is False and n_prompt > ctx_limit:
            self._send_json(
                400,
                {
                    "error": f"request ({n_prompt} tokens) exceeds the available context "
                    f"size ({ctx_limit} tokens), try increasing it"
                },
            )
            return
        limit = (
            options.get("num_predict")
            if not openai
            else (body.get("max_completion_tokens") or body.get("max_tokens"))
        )
        pieces = split_pieces(st._next_answer(body))
        done_reason = "stop"
        if limit is not None and int(limit) >= 0 and len(pieces) > int(limit):
            pieces, done_reason = pieces[: int(limit)], "length"
        stream = body.get("stream", not openai) is not False
        writer = (
            _OpenAIWriter(self, body, n_prompt)
            if openai
            else _OllamaWriter(self, body, path, n_prompt)
        )
        gen = st._start_generation(path, name)
        tps = max(st.tokens_per_second, 1e-3)
        try:
            self._sleep(load_s + st.ttft_s)
            t_first = time.perf_counter()
            parts: list[str] = []
            for i, piece in enumerate(pieces):
                if fault and fault.after == i and fault.kind in ("break", "drop", "stall"):
                    if fault.kind == "break":
                        writer.error(fault.error, stream)
                        st._end_generation(gen, "error")
                        return
                    if fault.kind == "drop":
                        writer.flush_headers(stream)
                        st._end_generation(gen, "dropped")
                        self._drop(fault.reset)
                        return
                    self._sleep(fault.seconds)
                self._sleep(t_first + i / tps - time.perf_counter())
                parts.append(piece)
                if stream:
                    writer.piece(piece)
                gen.tokens_sent = i + 1
            now = time.perf_counter()
            stats = {
                "total_duration": int((now - t_start) * 1e9),
                "load_duration": int(load_s * 1e9) + 1_000_000,
                "prompt_eval_count": n_prompt,
                "prompt_eval_duration": int(max(st.ttft_s, 0.001) * 1e9),
                "eval_count": len(parts),
                "eval_duration": int(max(now - t_first, len(parts) / tps) * 1e9),
            }
            writer.done("".join(parts), done_reason, stats, stream)
            st._end_generation(gen, "done")
        except _ClientGone:
            st._end_generation(gen, "disconnected")
            self.close_connection = True
        except _Dropped:
            st._end_generation(gen, "dropped")
            self._drop(reset=False)

    def _openai_error(self, status: int, message: str, kind: str, code: str | None) -> None:
        self._send_json(
            status, {"error": {"message": message, "type": kind, "param": None, "code": code}}
        )


class _OllamaWriter:
    """Writes /api/chat and /api/generate answers: NDJSON chunks, or one JSON object."""

    def __init__(self, h: _Handler, body: dict[str, Any], path: str, prompt_tokens: int) -> None:
        self.h, self.body, self.prompt_tokens = h, body, prompt_tokens
        self.generate = path == "/api/generate"
        self.started = False

    def _base(self, text: str, done: bool) -> dict[str, Any]:
        base: dict[str, Any] = {"model": self.h._model_name(self.body), "created_at": _now_iso()}
        if self.generate:
            base["response"] = text
        else:
            base["message"] = {"role": "assistant", "content": text}
        base["done"] = done
        return base

    def flush_headers(self, stream: bool) -> None:
        if not self.started:
            self.h._begin_stream("application/x-ndjson" if stream else "application/json")
            self.started = True

    def piece(self, text: str) -> None:
        self.flush_headers(True)
        self.h._chunk(json.dumps(self._base(text, False), ensure_ascii=False).encode() + b"\n")

    def error(self, message: str, stream: bool) -> None:
        if self.started:
            self.h._chunk(json.dumps({"error": message}).encode() + b"\n")
            self.h._end_stream()
        else:
            status = 500
            self.h._send_json(status, {"error": message})

    def done(self, text: str, reason: str, stats: dict[str, Any], stream: bool) -> None:
        final = self._base("" if stream else text, True)
        final["done_reason"] = reason
        final.update(stats)
        if self.generate:
            final["context"] = [1, 2, 3]
        if stream:
            self.flush_headers(True)
            self.h._chunk(json.dumps(final, ensure_ascii=False).encode() + b"\n")
            self.h._end_stream()
        else:
            self.h._send_json(200, final)


class _OpenAIWriter:
    """Writes /v1/chat/completions answers: SSE ``data:`` events, or one JSON object."""

    def __init__(self, h: _Handler, body: dict[str, Any], prompt_tokens: int) -> None:
        self.h, self.body, self.prompt_tokens = h, body, prompt_tokens
        self.id = f"chatcmpl-{random.randint(100, 999)}"
        self.created = int(time.time())
        self.model = h._model_name(body)
        self.started = False

    def _event(self, payload: Any) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self.h._chunk(f"data: {data}\n\n".encode())

    def _chunk(self, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_ollama",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def flush_headers(self, stream: bool) -> None:
        if not self.started:
            self.h._begin_stream("text/event-stream")
            self.started = True
            self._event(self._chunk({"role": "assistant", "content": ""}, None))

    def piece(self, text: str) -> None:
        self.flush_headers(True)
        self._event(self._chunk({"role": "assistant", "content": text}, None))

    def error(self, message: str, stream: bool) -> None:
        if stream:  # accepted streams report failures as an SSE event (vLLM, Ollama's /v1)
            self.flush_headers(True)
            self._event({"error": {"message": message, "type": "api_error", "code": None}})
            self.h._end_stream()
        else:
            self.h._openai_error(500, message, "api_error", None)

    def done(self, text: str, reason: str, stats: dict[str, Any], stream: bool) -> None:
        usage = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": stats["eval_count"],
            "total_tokens": self.prompt_tokens + stats["eval_count"],
        }
        if not stream:
            self.h._send_json(
                200,
                {
                    "id": self.id,
                    "object": "chat.completion",
                    "created": self.created,
                    "model": self.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": reason,
                        }
                    ],
                    "usage": usage,
                },
            )
            return
        self.flush_headers(True)
        self._event(self._chunk({}, reason))
        if (self.body.get("stream_options") or {}).get("include_usage"):
            final = self._chunk({}, None)
            final["choices"] = []
            final["usage"] = usage
            self._event(final)
        self._event("[DONE]")
        self.h._end_stream()


def _embed_vector(text: str, dim: int) -> list[float]:
    """A deterministic unit vector for ``text``."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    vec = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM, then stop (cutting open streams) and return 0.

    The signals are blocked in this thread before any other thread exists, so every server
    thread inherits the block and the only way they arrive is ``sigwait`` here, once the URL line
    is out. That holds whatever the parent left behind: a SIGINT disposition of "ignore" (a job
    started in the background by a non-interactive shell, as CI runners and ``cmd &`` do, passes
    SIG_IGN on and Python then never raises KeyboardInterrupt), or a signal that the kernel would
    otherwise hand to a server thread, where it would only set a flag that the main thread,
    asleep in C, never looks at. A signal sent before the URL line waits, blocked, and ends the
    server as soon as it is up.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    for signum in STOP_SIGNALS:  # not SIG_IGN: an ignored signal may be discarded, not queued
        signal.signal(signum, signal.SIG_DFL)
    parser = argparse.ArgumentParser(description="Serve the Ollama stand-in until Ctrl+C.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--tokens-per-second", type=float, default=150.0)
    parser.add_argument("--ttft-ms", type=float, default=80.0)
    parser.add_argument("--load-ms", type=float, default=0.0)
    parser.add_argument("--pull-bytes-per-s", type=float, default=200e6)
    parser.add_argument("--model", action="append", help="installed model (repeatable)")
    parser.add_argument("--answer", help="answer every chat with this text")
    args = parser.parse_args(argv)
    server = OllamaStandIn(
        models=args.model or ["qwen2.5:7b"],
        tokens_per_second=args.tokens_per_second,
        ttft_s=args.ttft_ms / 1000,
        load_s=args.load_ms / 1000,
        pull_bytes_per_s=args.pull_bytes_per_s,
        answer=args.answer,
        host=args.host,
        port=args.port,
    )
    with server:  # stop() on the way out: no new connections, open streams cut
        print(server.url, flush=True)
        signal.sigwait(STOP_SIGNALS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
