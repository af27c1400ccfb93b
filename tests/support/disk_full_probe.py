"""Test helper: ``add`` on a nearly full filesystem, run inside a private tmpfs mount.

``python disk_full_probe.py MOUNT DOCS`` (MOUNT is a small, empty tmpfs; DOCS holds small.txt
and big.txt): indexes small.txt, fills the disk to ``FREE_LEFT`` bytes (room for the queue's
SQLite, not for big.txt's vectors), adds big.txt (it must fail with ``disk_full``, twice: JSON
and plain), lists the knowledge base, then fills the disk to ``BARELY_LEFT`` bytes (not even
the queue can be written) and adds it again, frees the disk and adds it once more. Prints one
JSON object with every command's exit code, parsed JSON output and whether any output held a
traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

FREE_LEFT = 320 * 1024
BARELY_LEFT = 16 * 1024


def run(home: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "QWEN_DESK_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "qwen_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    parsed = []
    for line in proc.stdout.splitlines():
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pass
    return {
        "exit": proc.returncode,
        "json": parsed,
        "traceback": "Traceback" in proc.stdout + proc.stderr,
        "stdout_or_stderr": (proc.stdout + proc.stderr)[-2000:],
    }


def fill(folder: Path, leave: int) -> Path:
    """Write a file until the disk is full, then shorten it to leave ``leave`` bytes free."""
    filler = folder / "filler.bin"
    block = b"\0" * (64 * 1024)
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError:
            pass
    size = filler.stat().st_size
    with open(filler, "r+b") as fh:
        fh.truncate(max(0, size - leave))
    return filler


def main() -> None:
    mount = Path(sys.argv[1])
    home, docs = mount / "home", Path(sys.argv[2])
    home.mkdir()
    small, big = docs / "small.txt", docs / "big.txt"
    result: dict[str, Any] = {"first": run(home, "add", "--json", str(small))}
    filler = fill(mount, FREE_LEFT)
    result["full"] = run(home, "add", "--json", str(big))
    result["full_plain"] = run(home, "add", str(big))
    result["list_full"] = run(home, "list", "--json")
    filler.unlink()
    filler = fill(mount, BARELY_LEFT)
    result["queue_full"] = run(home, "add", "--json", str(big))
    filler.unlink()
    result["again"] = run(home, "add", "--json", str(big))
    result["list_after"] = run(home, "list", "--json")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
