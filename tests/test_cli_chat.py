"""``qwen-desk ask/models/chats/export/doctor`` as a user runs them: real subprocesses, the
Ollama stand-in (or a dead port) through ``OLLAMA_HOST``, data in ``QWEN_DESK_HOME``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_desk.core import paths
from tests.support.kb import EN_PAGES, PENGUIN_PAGES, shared_embedder
from tests.support.ollama_standin import OllamaStandIn, free_port
from tests.support.rag_kb import add_document

REPO_ROOT = Path(__file__).resolve().parent.parent


def qwen_desk(*args: str, host: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OLLAMA_HOST=host, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "qwen_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


@pytest.fixture
def standin():
    with OllamaStandIn(models=["qwen2.5:7b"], tokens_per_second=5000) as server:
        yield server


@pytest.mark.slow
def test_ask_json_cites_indexed_passages_and_is_listed_and_exported(
    standin: OllamaStandIn, tmp_path: Path
) -> None:
    from qwen_desk.core.store import KnowledgeStore

    embedder = shared_embedder()
    root = paths.knowledge_base_dir()
    with KnowledgeStore(root, embed_model_id=embedder.model_id, dim=embedder.dim) as store:
        doc = add_document(store, embedder, "default", "/docs/nature.pdf", EN_PAGES)
        store.maintain()
    question = "How long does the male emperor penguin keep the egg warm?"
    out = qwen_desk("ask", question, "--json", host=standin.url)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"answer", "citations", "stats", "conversation_id", "trimmed"}
    assert data["answer"] and data["citations"]
    first = data["citations"][0]
    assert set(first) == {
        "n", "chunk_id", "doc_id", "path", "page", "char_start", "char_end", "text"
    }  # fmt: skip
    assert first["n"] == 1 and first["path"] == "/docs/nature.pdf" and first["page"] == 1
    assert doc.text[first["char_start"] : first["char_end"]] == first["text"]
    assert first["chunk_id"] in {c.chunk_id for c in doc.chunks}
    assert data["stats"]["eval_tokens"] > 0 and data["stats"]["model"] == "qwen2.5:7b"
    assert data["trimmed"] == {"sources_dropped": 0, "history_turns_dropped": 0}
    assert data["not_in_documents"] is False
    assert standin.last_request("/api/chat").body["options"]["num_ctx"] == 8192

    chats = qwen_desk("chats", "--json", host=standin.url)
    listed = json.loads(chats.stdout)
    assert [c["id"] for c in listed] == [data["conversation_id"]]
    assert listed[0]["title"] == question and listed[0]["collection"] == "default"
    target = tmp_path / "chat.md"
    export = qwen_desk("export", str(data["conversation_id"]), "-o", str(target), host=standin.url)
    assert export.returncode == 0, export.stderr
    markdown = target.read_text(encoding="utf-8")
    assert question in markdown and "[1] nature.pdf, p. 1" in markdown


@pytest.mark.slow
def test_ask_reports_the_sources_of_chinese_and_range_markers(standin: OllamaStandIn) -> None:
    from qwen_desk.core.store import KnowledgeStore

    embedder = shared_embedder()
    root = paths.knowledge_base_dir()
    with KnowledgeStore(root, embed_model_id=embedder.model_id, dim=embedder.dim) as store:
        add_document(store, embedder, "default", "/docs/penguins.pdf", PENGUIN_PAGES)
        store.maintain()
    question = "How do emperor penguins raise their chicks?"
    standin.set_answer("Two months of incubation [1-2]; code `x[3]` is not a citation.")
    out = qwen_desk("ask", question, "--json", host=standin.url)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [c["n"] for c in data["citations"]] == [1, 2]
    assert data["dropped_citations"] == 0 and "`x[3]`" in data["answer"]
    standin.set_answer("雄企鹅孵蛋约两个月【2】，雌企鹅喂养幼鸟［１］，另见[9]。")
    out = qwen_desk("ask", question, host=standin.url)
    assert out.returncode == 0, out.stderr
    answer, sources = out.stdout.split("\nSources:\n")
    assert "【2】" in answer and "［１］" in answer  # streamed as written ([9] names no source)
    listed = [line.split("]")[0] + "]" for line in sources.splitlines() if line.startswith("[")]
    assert listed == ["[1]", "[2]"]  # by number, as the window lists them


def test_ask_plain_text_streams_answer(standin: OllamaStandIn) -> None:
    out = qwen_desk("ask", "--no-collection", "Say hello", host=standin.url)
    assert out.returncode == 0, out.stderr
    assert "stand-in's answer to: Say hello" in out.stdout


def test_ask_in_an_empty_knowledge_base_says_how_to_add_documents(standin: OllamaStandIn) -> None:
    from qwen_desk.cli import EXIT_NO_DOCUMENTS
    from qwen_desk.cli.chat import NO_DOCUMENTS

    out = qwen_desk("ask", "How long does the male penguin keep the egg warm?", host=standin.url)
    assert out.returncode == EXIT_NO_DOCUMENTS == 5, out.stderr
    assert out.stdout.strip() == ""  # no answer, and not the "not in your documents" reply
    sentence = NO_DOCUMENTS["en"].format(name="default", add="qwen-desk add PATH")
    assert out.stderr.strip().splitlines() == [sentence]
    zh = qwen_desk("ask", "企鹅吃什么？", "--collection", "default", "--json", host=standin.url)
    assert zh.returncode == 5, zh.stderr
    data = json.loads(zh.stdout)
    assert data["no_documents"] is True and data["not_in_documents"] is False
    assert data["citations"] == [] and data["without_documents"] is False
    assert zh.stderr.strip() == NO_DOCUMENTS["zh"].format(name="default", add="qwen-desk add PATH")
    assert "知识库“default”里还没有文档" in zh.stderr
    assert standin.requests_for("/api/chat") == []  # the model was not asked


def test_ask_exit_codes_daemon_down_and_model_missing(standin: OllamaStandIn) -> None:
    dead = f"127.0.0.1:{free_port()}"
    down = qwen_desk("ask", "What is in my files?", host=dead)
    assert down.returncode == 3
    assert "error: llm_unreachable" in down.stderr and dead in down.stderr
    missing = qwen_desk("ask", "What is in my files?", "--model", "qwen2.5:72b", host=standin.url)
    assert missing.returncode == 4
    assert "error: model_not_found" in missing.stderr
    assert "qwen-desk pull qwen2.5:72b" in missing.stderr
    assert standin.requests_for("/api/chat") == []
    # nothing half-done was saved
    assert json.loads(qwen_desk("chats", "--json", host=dead).stdout) == []


def test_models_json_and_doctor(standin: OllamaStandIn) -> None:
    models = qwen_desk("models", "--json", host=standin.url)
    assert models.returncode == 0, models.stderr
    [row] = json.loads(models.stdout)
    assert row["name"] == "qwen2.5:7b" and row["default"] is True
    doctor = qwen_desk("doctor", "--json", "--no-embedder", host=standin.url)
    report = json.loads(doctor.stdout)
    assert doctor.returncode == 0 and report["ok"] is True
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["ollama"]["status"] == "ok"
    assert by_name["model"]["details"]["context_length"] == 32768
    assert by_name["gpu"]["status"] == "warn"  # nothing loaded yet
    down = qwen_desk("doctor", "--json", "--no-embedder", host=f"127.0.0.1:{free_port()}")
    report = json.loads(down.stdout)
    assert down.returncode == 1 and report["ok"] is False
    ollama = next(c for c in report["checks"] if c["name"] == "ollama")
    assert ollama["status"] == "fail" and "Start Ollama" in ollama["fix"]
