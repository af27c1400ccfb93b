"""Core layer: the environment check behind ``qwen-desk doctor`` (and the app's diagnostics).

Each check returns a ``Check``: ok, warn or fail, a one-line summary, and for anything not ok a
fix in plain words. Checks: Python version; Ollama reachable and its version; the configured
model installed and its context length; GPU offload of the loaded model (``size_vram / size``
from ``/api/ps``); free disk in the data folder; the embedding model loads and embeds a
sentence; the knowledge base opens (counts, index state) and the conversation database opens.
A check never raises: an unexpected error becomes a failed check.
"""

from __future__ import annotations

import asyncio
import enum
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_desk.core import paths
from qwen_desk.core.errors import (
    DaemonUnreachable,
    DiskFull,
    EmbedderMismatch,
    ModelNotFound,
    QwenDeskError,
)
from qwen_desk.core.settings import Settings

MIN_PYTHON = (3, 10)
DISK_FAIL_BYTES = 500 * 1024**2
DISK_WARN_BYTES = 5 * 1024**3


class Status(str, enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass
class Check:
    name: str
    status: Status
    summary: str
    fix: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "summary": self.summary,
            "fix": self.fix,
            "details": self.details,
        }


def ok(name: str, summary: str, **details: Any) -> Check:
    return Check(name, Status.OK, summary, details=details)


def warn(name: str, summary: str, fix: str, **details: Any) -> Check:
    return Check(name, Status.WARN, summary, fix, details)


def fail(name: str, summary: str, fix: str, **details: Any) -> Check:
    return Check(name, Status.FAIL, summary, fix, details)


# --- individual checks ------------------------------------------------------------------------


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return fail(
            "python",
            f"Python {version} is too old",
            f"Install Python {'.'.join(map(str, MIN_PYTHON))} or newer.",
            version=version,
        )
    return ok("python", f"Python {version}", version=version, executable=sys.executable)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(
    data_dir: Path, fail_below: int = DISK_FAIL_BYTES, warn_below: int = DISK_WARN_BYTES
) -> Check:
    """FAIL under ``fail_below`` free bytes, WARN under ``warn_below`` (parameters for tests)."""
    usage = shutil.disk_usage(_nearest_existing(data_dir))
    free_gb = usage.free / 1024**3
    details = {"path": str(data_dir), "free_bytes": usage.free, "total_bytes": usage.total}
    summary = f"{free_gb:.1f} GB free for {data_dir}"
    if usage.free < fail_below:
        return fail(
            "disk", summary, "Free some disk space or move the data folder in the settings.",
            **details,
        )  # fmt: skip
    if usage.free < warn_below:
        return warn("disk", summary, "Less than 5 GB free: large documents may not fit.", **details)
    return ok("disk", summary, **details)


# A batch clearly does not fit when the disk has less than half its bytes free, plus a margin
# (text files take 2-4 times their size in the store, PDFs a tenth to a half: scans nothing).
STORE_SHARE = 0.5
STORE_MARGIN_BYTES = 64 * 1024**2


def space_shortage(items: Iterable[str | os.PathLike[str]], data_dir: Path) -> DiskFull | None:
    """A ``DiskFull`` (with the space needed) when the files under ``items`` clearly cannot
    fit in the free space of ``data_dir``'s disk, else None. A rough, generous estimate, for a
    warning before a large batch starts; the store write itself stays the real check."""
    from qwen_desk.core.documents import kind_for_path
    from qwen_desk.core.file_scan import expand_paths

    total = 0
    for found in expand_paths(items, lambda p: kind_for_path(p) is not None):
        if found.supported:
            try:
                total += found.path.stat().st_size
            except OSError:
                continue
    try:
        free = shutil.disk_usage(_nearest_existing(data_dir)).free
    except OSError:
        return None
    needed = int(STORE_SHARE * total) + STORE_MARGIN_BYTES
    if free >= needed:
        return None
    return DiskFull.needing("these files", needed, free)


async def check_ollama(backend: Any) -> Check:
    try:
        version = await backend.version()
    except DaemonUnreachable as exc:
        return fail(
            "ollama",
            f"Ollama is not reachable at {backend.host}",
            "Start Ollama (the Ollama app, or `ollama serve`), or set OLLAMA_HOST / the host "
            "in the settings to where it runs.",
            host=backend.host,
            error=exc.message,
        )
    return ok("ollama", f"Ollama {version} at {backend.host}", host=backend.host, version=version)


async def check_model(backend: Any, settings: Settings) -> Check:
    model = settings.model
    try:
        info = await backend.show(model)
    except ModelNotFound:
        return fail(
            "model",
            f"{model} is not installed",
            f"Download it: `qwen-desk pull {model}` (or `ollama pull {model}`).",
            model=model,
        )
    ctx = info.context_length
    details = {"model": model, "context_length": ctx, "num_ctx": settings.num_ctx}
    summary = f"{model} installed ({info.parameter_size or '?'} {info.quantization}".rstrip()
    summary += f", context {ctx})" if ctx else ")"
    if ctx and settings.num_ctx > ctx:
        return warn(
            "model",
            summary,
            f"The context length setting ({settings.num_ctx}) is above what the model supports; "
            f"{ctx} is used.",
            **details,
        )
    return ok("model", summary, **details)


async def check_gpu(backend: Any, settings: Settings) -> Check:
    loaded = await backend.loaded_models()
    entry = next((m for m in loaded if m.name == settings.model), None)
    if entry is None:
        names = ", ".join(m.name for m in loaded) or "none"
        return warn(
            "gpu",
            f"{settings.model} is not loaded (loaded: {names}); GPU use is unknown",
            "Ask one question (or open the app, which preloads it) and run doctor again.",
            loaded=[m.name for m in loaded],
        )
    fraction = entry.gpu_fraction
    details = {
        "model": entry.name,
        "size": entry.size,
        "size_vram": entry.size_vram,
        "gpu_fraction": round(fraction, 3),
        "context_length": entry.context_length,
    }
    if fraction >= 0.999:
        return ok("gpu", f"{entry.name} runs fully on the GPU", **details)
    if fraction <= 0.0:
        return warn(
            "gpu",
            f"{entry.name} runs on the CPU only (slow)",
            "Install the GPU driver Ollama needs (NVIDIA CUDA or AMD ROCm), or use a smaller "
            "model.",
            **details,
        )
    return warn(
        "gpu",
        f"{entry.name} is {fraction:.0%} on the GPU, the rest on the CPU (slower)",
        "Lower the context length in the settings, use a smaller model or quantisation, or "
        "close other programs that use the GPU.",
        **details,
    )


def check_embedder(settings: Settings) -> tuple[Check, Any]:
    from qwen_desk.core.embedding import Embedder

    try:
        embedder = Embedder(
            model_path=settings.embed_model_path or None, threads=settings.embed_threads or None
        )
        started = time.perf_counter()
        embedder.load()
        loaded_s = time.perf_counter() - started
        started = time.perf_counter()
        vector = embedder.embed_query("Where is the nearest hospital?")
        embed_ms = (time.perf_counter() - started) * 1000
    except QwenDeskError as exc:
        return (
            fail(
                "embedder",
                f"the embedding model cannot be loaded: {exc.message}",
                "Reinstall Qwen Desk, or point the embedding model setting at a "
                "sentence-transformers folder.",
            ),
            None,
        )
    return (
        ok(
            "embedder",
            f"{embedder.model_id} ({vector.shape[0]}-d) loaded in {loaded_s:.1f} s, "
            f"one sentence in {embed_ms:.0f} ms",
            model_id=embedder.model_id,
            dim=int(vector.shape[0]),
            load_s=round(loaded_s, 2),
            embed_ms=round(embed_ms, 1),
        ),
        embedder,
    )


def check_knowledge(settings: Settings, embedder: Any) -> Check:
    root = paths.knowledge_base_dir(settings.resolved_data_dir)
    if not root.exists():
        return ok("knowledge", "no knowledge base yet (add documents to create it)", root=str(root))
    if embedder is None:
        return warn(
            "knowledge",
            "not checked: the embedding model did not load",
            "Fix the embedding model first.",
        )
    from qwen_desk.core.store import KnowledgeStore

    try:
        store = KnowledgeStore(root, embed_model_id=embedder.model_id, dim=embedder.dim)
    except EmbedderMismatch as exc:
        return warn(
            "knowledge",
            f"built with another embedding model: {exc.message}",
            "Re-index the documents (the app offers it) or switch back to the previous model.",
        )
    try:
        stats = store.stats()
    finally:
        store.close()
    unindexed = sum(ix.get("unindexed_rows", 0) for ix in stats.get("indices", {}).values())
    summary = (
        f"{stats.get('collections', 0)} collections, {stats.get('documents_ready', 0)} documents, "
        f"{stats.get('chunks', 0)} passages"
    )
    failed = stats.get("documents", 0) - stats.get("documents_ready", 0)
    if failed > 0:
        return warn(
            "knowledge",
            summary + f"; {failed} documents failed",
            "See `qwen-desk list` for the reasons; fix or remove those files.",
            **stats,
        )
    if stats.get("chunks", 0) and "search_text" not in stats.get("indices", {}):
        return warn(
            "knowledge",
            summary + "; the full-text index is missing",
            "Open the app or add a document: the index is rebuilt after writes.",
            **stats,
        )
    if unindexed:
        summary += f" ({unindexed} rows not yet in an index; searched anyway)"
    return ok("knowledge", summary, **stats)


def check_conversations(settings: Settings) -> Check:
    from qwen_desk.core.conversations import ConversationStore

    path = paths.conversations_db(settings.resolved_data_dir)
    if not path.exists():
        return ok("conversations", "no conversations yet", path=str(path))
    with ConversationStore(path) as store:
        count = len(store.list())
        version = store.schema_version()
    return ok(
        "conversations",
        f"{count} conversations (schema {version})",
        path=str(path),
        count=count,
        schema_version=version,
    )


# --- running them -----------------------------------------------------------------------------


async def _guard(name: str, step: Callable[[], Awaitable[Check]]) -> Check:
    try:
        return await step()
    except QwenDeskError as exc:
        return fail(name, f"{exc.code}: {exc.message}", "See the message above.")
    except Exception as exc:  # a check must never crash the report
        return fail(name, f"unexpected {type(exc).__name__}: {exc}", "Report this problem.")


async def run_checks(
    settings: Settings, backend: Any, *, with_embedder: bool = True
) -> list[Check]:
    """Every check, in a stable order. Blocking ones run in a worker thread."""
    checks = [check_python()]
    checks.append(
        await _guard("disk", lambda: asyncio.to_thread(check_disk, settings.resolved_data_dir))
    )
    ollama = await _guard("ollama", lambda: check_ollama(backend))
    checks.append(ollama)
    if ollama.status is Status.FAIL:
        skip = "Fix Ollama first."
        checks.append(warn("model", "not checked: Ollama is not reachable", skip))
        checks.append(warn("gpu", "not checked: Ollama is not reachable", skip))
    else:
        checks.append(await _guard("model", lambda: check_model(backend, settings)))
        checks.append(await _guard("gpu", lambda: check_gpu(backend, settings)))
    embedder = None
    if with_embedder:
        try:
            embedder_check, embedder = await asyncio.to_thread(check_embedder, settings)
        except Exception as exc:
            embedder_check = fail("embedder", f"{type(exc).__name__}: {exc}", "Report this.")
        checks.append(embedder_check)
        checks.append(
            await _guard(
                "knowledge", lambda: asyncio.to_thread(check_knowledge, settings, embedder)
            )
        )
    checks.append(
        await _guard("conversations", lambda: asyncio.to_thread(check_conversations, settings))
    )
    return checks


def all_passed(checks: list[Check]) -> bool:
    """True when no check failed (warnings allowed)."""
    return all(c.status is not Status.FAIL for c in checks)
