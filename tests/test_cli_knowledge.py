"""The knowledge-base CLI: add, search, list, remove, collections.

One data folder per module (``QWEN_DESK_HOME``) indexed once by the ``indexed`` fixture; tests
that change it use their own collection. The contract-level checks (JSON Lines and exit codes of
``add``, unchanged re-add, ``search -``, usage errors) run ``python -m qwen_desk`` in a real
subprocess; the rest call ``qwen_desk.cli.main`` in this process (same code, no second import
of torch and LanceDB per command, which costs seconds on 2 cores).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS, make_docx, make_md, make_pdf

REPO = Path(__file__).resolve().parent.parent


def run(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QWEN_DESK_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "qwen_desk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=REPO,
        timeout=240,
    )


def call(home: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """``qwen-desk ARGS`` in this process: (exit code, stdout, stderr)."""
    from qwen_desk.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("QWEN_DESK_HOME"), sys.stdin
    os.environ["QWEN_DESK_HOME"] = str(home)
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.environ["QWEN_DESK_HOME"], sys.stdin = saved[0] or "", saved[1]
    return code, out.getvalue(), err.getvalue()


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli_home")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli_files")
    return {
        "pdf": make_pdf(folder / "nature.pdf", EN_PAGES),
        "docx": make_docx(folder / "notes.docx", "Field notes", EN_PAGES[::-1]),
        "md": make_md(folder / "熊猫.md", "大熊猫", ZH_PARAGRAPHS),
        "broken": (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage")
        and folder / "broken.pdf",
    }


# Wall time of the first ``add`` (parse, model load, embedding), for relative checks only.
FIRST_ADD_S: list[float] = []


@pytest.fixture(scope="module")
def indexed(home: Path, files: dict[str, Path]) -> list[dict[str, Any]]:
    order = ["pdf", "docx", "md", "broken"]
    started = time.monotonic()
    proc = run(home, "add", *(str(files[k]) for k in order), "--collection", "kb", "--json")
    FIRST_ADD_S.append(time.monotonic() - started)
    assert proc.returncode == 1, proc.stderr  # the broken PDF failed, the others did not
    return json_lines(proc.stdout)


def test_usage_errors_exit_2(home: Path) -> None:
    proc = run(home, "add")
    assert proc.returncode == 2 and "PATH" in proc.stderr
    assert call(home, "add", "x.pdf", "--bogus")[0] == 2
    assert call(home, "search")[0] == 2
    assert call(home, "search", "q", "--mode", "magic")[0] == 2
    assert call(home, "search", "q", "-k", "0")[0] == 2


def test_add_prints_one_json_object_per_file(
    indexed: list[dict[str, Any]], files: dict[str, Path]
) -> None:
    assert [Path(r["path"]).name for r in indexed] == [
        "nature.pdf",
        "notes.docx",
        "熊猫.md",
        "broken.pdf",
    ]
    for row in indexed:
        assert set(row) == {"path", "status", "doc_id", "pages", "chunks", "error"}
    good, broken = indexed[:3], indexed[3]
    assert [r["status"] for r in good] == ["indexed"] * 3
    assert all(r["error"] is None and r["chunks"] >= 1 and len(r["doc_id"]) == 64 for r in good)
    assert good[0]["pages"] == 3
    assert broken["status"] == "failed" and broken["error"]["code"] == "corrupt_file"
    assert broken["error"]["message"]


def test_readding_is_unchanged_and_fast(
    home: Path, files: dict[str, Path], indexed: list[dict[str, Any]]
) -> None:
    started = time.monotonic()
    proc = run(home, "add", str(files["pdf"]), str(files["md"]), "-c", "kb", "--json")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    rows = json_lines(proc.stdout)
    assert [r["status"] for r in rows] == ["unchanged", "unchanged"]
    assert rows[0]["doc_id"] == indexed[0]["doc_id"] and rows[0]["chunks"] == indexed[0]["chunks"]
    # No parse, no embedding, no model load: faster than the first add, which did all three
    # (relative, so it holds on a busy machine; the CLI's own start-up is in both).
    assert FIRST_ADD_S and elapsed < FIRST_ADD_S[0], (elapsed, FIRST_ADD_S)


def test_search_finds_chinese_with_a_chinese_query(home: Path, indexed: list[Any]) -> None:
    code, out, err = call(home, "search", "大熊猫每天吃多少竹子", "-c", "kb", "-k", "3", "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert 1 <= len(hits) <= 3
    assert set(hits[0]) == {
        "chunk_id",
        "doc_id",
        "path",
        "title",
        "page",
        "char_start",
        "char_end",
        "text",
        "score",
    }
    assert Path(hits[0]["path"]).name == "熊猫.md" and "竹子" in hits[0]["text"]

    code, out, _ = call(home, "search", "penguin egg", "-c", "kb")
    assert code == 0 and "nature" in out and "page 1" in out


@pytest.mark.slow
def test_search_dash_reads_one_query_per_line(home: Path, indexed: list[Any]) -> None:
    proc = run(home, "search", "-", "-c", "kb", "-k", "2", stdin="长江有多长\nJurassic cliffs\n\n")
    assert proc.returncode == 0, proc.stderr
    answers = json_lines(proc.stdout)
    assert len(answers) == 3 and answers[2] == []
    assert "长江" in answers[0][0]["text"]
    assert "Jurassic" in answers[1][0]["text"]


def test_list_remove_and_collections(home: Path, files: dict[str, Path], indexed: list) -> None:
    listed = json.loads(call(home, "list", "-c", "kb", "--json")[1])
    by_name = {Path(d["path"]).name: d for d in listed}
    assert by_name["nature.pdf"]["status"] == "ready"
    assert by_name["nature.pdf"]["chunks"] == indexed[0]["chunks"]
    assert by_name["broken.pdf"]["status"] == "failed"
    assert by_name["broken.pdf"]["error"]["code"] == "corrupt_file"
    cols = {c["name"]: c for c in json.loads(call(home, "collections", "--json")[1])}
    assert cols["kb"]["documents"] == 3

    code, out, err = call(home, "remove", str(files["docx"]), "-c", "kb", "--json")
    assert code == 0, err
    assert json.loads(out)["removed"][0]["doc_id"] == indexed[1]["doc_id"]
    after = {Path(d["path"]).name for d in json.loads(call(home, "list", "--json")[1])}
    assert "notes.docx" not in after and "nature.pdf" in after
    code, _, err = call(home, "remove", "0" * 64, "--json")
    assert code == 1 and "document_not_found" in err

    assert call(home, "collections", "create", "matter-1")[0] == 0
    code, _, err = call(home, "collections", "create", "matter-1")
    assert code == 1 and "collection_exists" in err
    assert call(home, "collections", "rename", "matter-1", "matter-2")[0] == 0
    names = [c["name"] for c in json.loads(call(home, "collections", "--json")[1])]
    assert "matter-2" in names and "matter-1" not in names
    assert call(home, "collections", "delete", "matter-2")[0] == 0


def test_changed_file_replaces_the_old_version(home: Path, tmp_path: Path) -> None:
    md = make_md(tmp_path / "policy.md", "Policy", ["Visitors must sign in at the front desk."])
    first = json_lines(call(home, "add", str(md), "-c", "changes", "--json")[1])
    make_md(md, "Policy", ["Visitors must wear a badge at all times on site."])
    code, out, err = call(home, "add", str(md), "-c", "changes")
    assert code == 0, err
    assert "indexed" in out and "1 files: 1 indexed" in out
    assert "embedding 1/1" in err  # readable progress goes to stderr
    docs = json.loads(call(home, "list", "-c", "changes", "--json")[1])
    assert len(docs) == 1 and docs[0]["doc_id"] != first[0]["doc_id"]
    hits = json.loads(call(home, "search", "badge", "-c", "changes", "--json")[1])
    assert hits and "badge" in hits[0]["text"]
    code, out, err = call(home, "reindex", str(md), "--json")
    assert code == 0, err
    (row,) = json_lines(out)
    assert row["status"] == "indexed" and row["doc_id"] == docs[0]["doc_id"]
    code, out, _ = call(home, "reindex", "--json")  # the embedder did not change: nothing to do
    assert code == 0 and out == ""
