"""Huge and hostile inputs through ``qwen-desk add`` in a real subprocess: each file ends
indexed or failed with its code, and no output ever holds a Python traceback.

The cheap sizes of ``bench/input_memory.py`` (which measures memory and time on the full ones):
a 300-page blank PDF, 300 pages of blank scans, a .docx whose document.xml inflates to 64 MB
(~1000 times: a zip bomb), a FIFO and a character device named .txt, a folder with symlink
loops, and a sparse text file larger than ``MAX_TEXT_BYTES`` (refused before it is read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qwen_desk.core.documents import MAX_TEXT_BYTES
from tests.support.hostile_inputs import inputs

REPO = Path(__file__).resolve().parent.parent


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QWEN_DESK_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "qwen_desk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=REPO,
        timeout=600,
    )


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    bench = inputs()
    folder = tmp_path_factory.mktemp("probes")
    made: dict[str, Path] = {}
    for name in ("blank_pdf", "blank_scan_pdf", "docx_bomb", "fifo_txt", "device_txt"):
        (folder / name).mkdir()
        make, _full, small = bench.INPUTS[name]
        made[name] = make(folder / name, small)
    made["symlink_loop"] = bench.symlink_loop(folder, 0)
    huge = folder / "huge.txt"
    with open(huge, "wb") as fh:  # sparse: no disk used, and never read
        fh.write(b"text")
        fh.truncate(MAX_TEXT_BYTES + 1024)
    made["huge_txt"] = huge
    return made


def by_name(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(line["path"]).name: line for line in lines}


def test_every_probe_ends_with_a_status_or_a_code_and_no_traceback(
    probes: dict[str, Path], tmp_path: Path
) -> None:
    proc = run(tmp_path, "add", "--json", *map(str, probes.values()))
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr  # some failed, none crashed
    results = by_name([json.loads(line) for line in proc.stdout.splitlines() if line.strip()])
    assert results["blank.pdf"]["error"]["code"] == "no_text"
    assert results["blank_scan.pdf"]["error"]["code"] == "no_text"
    bomb = results["bomb.docx"]["error"]
    assert bomb["code"] == "file_too_large" and "times" in bomb["message"]
    assert results["pipe.txt"]["error"]["code"] == "file_unreadable"
    assert results["zero"]["error"]["code"] == "file_unreadable"  # /dev/zero, behind zero.txt
    assert results["huge.txt"]["error"]["code"] == "file_too_large"
    assert results["note.txt"]["status"] == "indexed"  # the one real file in the looped folder
    assert all(r["status"] in ("indexed", "failed") for r in results.values())


def test_plain_output_is_one_line_per_file_and_errors_are_json_with_json(
    probes: dict[str, Path], tmp_path: Path
) -> None:
    proc = run(tmp_path, "add", str(probes["docx_bomb"]), str(probes["fifo_txt"]))
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 1
    failed = [line for line in proc.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 2 and "file_too_large" in failed[0] and "file_unreadable" in failed[1]

    bad = run(tmp_path, "add", "--json", "--collection", "bad\x07name", str(probes["fifo_txt"]))
    assert "Traceback" not in bad.stdout + bad.stderr
    assert bad.returncode == 1
    error = json.loads(bad.stdout)["error"]
    assert error["code"] == "invalid_collection_name" and error["message"]
    plain = run(tmp_path, "add", "--collection", "bad\x07name", str(probes["fifo_txt"]))
    assert plain.returncode == 1 and plain.stdout == ""
    assert plain.stderr.strip().splitlines() == [
        "error: invalid_collection_name: a collection name cannot hold control characters"
    ]
