"""``qwen-desk --self-test``: the report's contract, and a full run from the source tree."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_desk import selftest

REPO = Path(__file__).resolve().parent.parent
REQUIRED = {"qt", "translations", "embedding", "lancedb", "ingest_search"}


def test_failed_check_is_reported_not_raised() -> None:
    checks: list[selftest.Check] = []

    def broken() -> str:
        raise RuntimeError("plugin missing")

    assert selftest._timed("qt", True, broken, checks) is False
    assert checks[0].ok is False and checks[0].required is True
    assert "RuntimeError: plugin missing" in checks[0].detail


def test_unreachable_ollama_is_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    # A port nothing listens on: the check reports the state and passes.
    (home / "config" / "settings.toml").write_text('ollama_host = "http://127.0.0.1:9"\n')
    monkeypatch.setenv("QWEN_DESK_HOME", str(home))
    ctx = selftest.Context(home)
    detail = selftest.check_ollama(ctx)
    assert detail.startswith("unreachable at http://127.0.0.1:9")


def test_report_has_the_contract_fields(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    code = selftest.run(["--self-test", "--only", "ollama", "--report", str(report_file)])
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert code == 0 and report["ok"] is True
    assert {"ok", "checks", "version", "python", "platform", "frozen"} <= set(report)
    assert report["frozen"] is False
    assert selftest.NON_ASCII_DIR in report["home"]
    assert not Path(report["home"]).exists()  # the temporary data folder is removed
    (check,) = report["checks"]
    assert set(check) == {"name", "ok", "required", "detail", "seconds"}
    assert check["name"] == "ollama" and check["required"] is False


def test_first_translated_message_skips_unfinished(tmp_path: Path) -> None:
    ts = tmp_path / "x_zh_CN.ts"
    ts.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS><TS version="2.1" language="zh_CN">
<context><name>MainWindow</name>
<message><source>Ask</source><translation type="unfinished"></translation></message>
<message><source>Send</source><translation>发送</translation></message>
</context></TS>""",
        encoding="utf-8",
    )
    assert selftest.first_translated_message(ts) == ("MainWindow", "Send", "发送")


def _entry_command() -> list[str]:
    """``python -m qwen_desk --self-test`` once the app routes the flag, else the module."""
    if "selftest" in (REPO / "qwen_desk" / "app.py").read_text(encoding="utf-8"):
        return [sys.executable, "-m", "qwen_desk", "--self-test"]
    return [sys.executable, "-m", "qwen_desk.selftest", "--self-test"]


# Modules the ingestion pipeline loads lazily: a missing one (moved, renamed) is a failure here,
# never a skip, or the self-test would silently stop being run.
PIPELINE = ("qwen_desk.core.chunking", "qwen_desk.core.documents.sandbox")


@pytest.mark.slow
def test_self_test_passes_from_the_source_tree(tmp_path: Path) -> None:
    """The whole self-test in a subprocess: Qt, translations, model, LanceDB, ingest, search."""
    missing = [name for name in PIPELINE if importlib.util.find_spec(name) is None]
    assert not missing, f"the ingestion pipeline's modules are gone: {missing}"
    report_file = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "QWEN_DESK_HOME"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    run = subprocess.run(
        [*_entry_command(), "--report", str(report_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert report_file.is_file(), run.stderr[-3000:]
    report = json.loads(report_file.read_text(encoding="utf-8"))
    failed = [c for c in report["checks"] if c["required"] and not c["ok"]]
    assert run.returncode == 0 and report["ok"], json.dumps(failed, ensure_ascii=False)
    assert REQUIRED | {"ollama"} == {c["name"] for c in report["checks"]}
