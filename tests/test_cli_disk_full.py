"""A full disk while ``add`` writes: the file fails with ``disk_full`` and the space needed.

The disk is a real 32 MB tmpfs mounted in a private mount namespace (``unshare -rm``: no root
needed where user namespaces are allowed, nothing visible outside the test), so LanceDB and
SQLite meet a real ENOSPC. Skipped with the reason where such a mount cannot be made.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PROBE = REPO / "tests" / "support" / "disk_full_probe.py"
WORDS = [
    "archive",
    "letter",
    "office",
    "harbour",
    "ledger",
    "invoice",
    "river",
    "station",
    "council",
    "bridge",
    "market",
]


def _can_mount(where: Path) -> str:
    """ "" when a private tmpfs can be mounted at ``where``, else why not."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {where}"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"cannot mount a private tmpfs: {probe.stderr.strip() or probe.returncode}"
    return ""


@pytest.fixture
def probe(tmp_path: Path) -> dict[str, Any]:
    mount, docs = tmp_path / "disk", tmp_path / "docs"
    mount.mkdir()
    docs.mkdir()
    reason = _can_mount(mount)
    if reason:
        pytest.skip(reason)
    rng = random.Random(1)
    (docs / "small.txt").write_text("A short note about the harbour office.\n")
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(400)]
    (docs / "big.txt").write_text("\n\n".join(paragraphs))
    script = (
        f"mount -t tmpfs -o size=32m tmpfs {mount} && exec {sys.executable} {PROBE} {mount} {docs}"
    )
    out = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1500,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_full_disk_fails_the_file_with_disk_full_and_the_store_opens_afterwards(
    probe: dict[str, Any],
) -> None:
    assert not any(step["traceback"] for step in probe.values()), probe
    assert probe["first"]["exit"] == 0 and probe["first"]["json"][0]["status"] == "indexed"

    full = probe["full"]
    assert full["exit"] == 1
    (result,) = full["json"]
    assert result["status"] == "failed" and result["error"]["code"] == "disk_full"
    assert "needs about" in result["error"]["message"] and "MB" in result["error"]["message"]
    plain = probe["full_plain"]
    assert plain["exit"] == 1 and "disk_full" in plain["stdout_or_stderr"]

    listed = probe["list_full"]  # the store opens; nothing of big.txt is half there
    assert listed["exit"] == 0
    rows = {Path(r["path"]).name: r for r in listed["json"][0]}
    assert rows["small.txt"]["status"] == "ready"
    assert rows.get("big.txt", {}).get("status", "failed") == "failed"
    assert rows.get("big.txt", {}).get("chunks", 0) == 0

    queue_full = probe["queue_full"]  # not even the queue can be written: still an answer
    assert queue_full["exit"] == 1
    codes = [r.get("error", {}).get("code") for r in queue_full["json"]]
    assert codes and all(code == "disk_full" for code in codes), queue_full

    again = probe["again"]  # room again: the same file indexes
    assert again["exit"] == 0, again
    assert again["json"][-1]["status"] == "indexed" and again["json"][-1]["chunks"] > 0
    after = {Path(r["path"]).name: r for r in probe["list_after"]["json"][0]}
    assert after["big.txt"]["status"] == "ready" and after["small.txt"]["status"] == "ready"
