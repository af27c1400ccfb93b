"""The environment check in-process: every check against the stand-in, a real knowledge base,
the real embedding model and the conversation database; failures come with a fix."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from qwen_desk.core import paths
from qwen_desk.core.conversations import ConversationStore
from qwen_desk.core.doctor import Status, all_passed, check_disk, run_checks
from qwen_desk.core.llm import make_backend
from qwen_desk.core.llm.base import GenerationOptions
from qwen_desk.core.settings import Settings
from tests.support.kb import EN_PAGES, shared_embedder
from tests.support.ollama_standin import OllamaStandIn, StandInModel
from tests.support.rag_kb import add_document

pytestmark = pytest.mark.timeout(120)


def _checks(settings: Settings, *, preload: bool = False, **kwargs: Any) -> dict[str, Any]:
    async def run() -> list[Any]:
        backend = make_backend(settings)
        try:
            if preload:
                await backend.preload(settings.model, GenerationOptions.from_settings(settings))
            return await run_checks(settings, backend, **kwargs)
        finally:
            await backend.aclose()

    return {c.name: c for c in asyncio.run(run())}


def test_all_checks_pass_with_a_healthy_setup() -> None:
    embedder = shared_embedder()
    from qwen_desk.core.store import KnowledgeStore

    with KnowledgeStore(
        paths.knowledge_base_dir(), embed_model_id=embedder.model_id, dim=embedder.dim
    ) as store:
        add_document(store, embedder, "default", "/docs/nature.pdf", EN_PAGES)
        store.maintain()
    conversations = ConversationStore()
    conversations.create(title="one")
    conversations.close()
    with OllamaStandIn() as standin:
        checks = _checks(Settings().replace(ollama_host=standin.url), preload=True)
    assert list(checks) == [
        "python", "disk", "ollama", "model", "gpu", "embedder", "knowledge", "conversations"
    ]  # fmt: skip
    assert all(c.status is Status.OK for c in checks.values()), {
        n: c.summary for n, c in checks.items() if c.status is not Status.OK
    }
    assert all_passed(list(checks.values()))
    assert checks["ollama"].details["version"] == "0.30.2"
    assert checks["model"].details["context_length"] == 32768
    assert checks["gpu"].details["gpu_fraction"] == 1.0
    assert checks["embedder"].details["dim"] == embedder.dim
    assert checks["knowledge"].details["chunks"] == 3
    assert "1 conversations" in checks["conversations"].summary


def test_partial_gpu_offload_and_small_context_are_warnings() -> None:
    small = StandInModel("qwen2.5:7b", context_length=4096)
    with OllamaStandIn(models=[small], vram_bytes=2 * 1024**3) as standin:
        settings = Settings().replace(ollama_host=standin.url, num_ctx=8192)
        checks = _checks(settings, preload=True, with_embedder=False)
    assert checks["model"].status is Status.WARN and "4096" in checks["model"].fix
    gpu = checks["gpu"]
    assert gpu.status is Status.WARN and 0 < gpu.details["gpu_fraction"] < 1
    assert "on the GPU" in gpu.summary and gpu.fix
    assert all_passed(list(checks.values()))  # warnings do not fail


def test_missing_model_fails_with_a_pull_hint() -> None:
    with OllamaStandIn(models=["other:1b"]) as standin:
        checks = _checks(Settings().replace(ollama_host=standin.url), with_embedder=False)
    assert checks["model"].status is Status.FAIL
    assert "qwen-desk pull qwen2.5:7b" in checks["model"].fix
    assert not all_passed(list(checks.values()))


def test_disk_thresholds(tmp_path: Any) -> None:
    """The real free space against thresholds set around it: each branch is reached."""
    folder = tmp_path / "not" / "yet"
    default = check_disk(folder)
    assert default.status in (Status.OK, Status.WARN, Status.FAIL)
    free = default.details["free_bytes"]
    assert free > 0
    above = 2 * free + 1024**3  # out of reach whatever else writes to this disk meanwhile
    ok_check = check_disk(folder, fail_below=1, warn_below=1)
    assert ok_check.status is Status.OK, ok_check
    warn_check = check_disk(folder, fail_below=1, warn_below=above)
    assert warn_check.status is Status.WARN and "5 GB" in warn_check.fix, warn_check
    fail_check = check_disk(folder, fail_below=above, warn_below=above)
    assert fail_check.status is Status.FAIL and "Free some disk space" in fail_check.fix
    assert fail_check.details["path"] == str(folder)
