"""The real ``qwen-desk`` in a subprocess prints its own progress, never a library's.

(And the embedder silences the libraries only while it loads: their settings come back.)

``add`` on a terminal (stderr is a pseudo-terminal here, as in a user's shell: tqdm draws its
bars there) shows its own rewritten line "[n/m] ... passages"; ``add --json``, ``search --json``
and ``doctor --json`` print valid JSON on stdout and nothing of sentence-transformers,
transformers or tqdm ("Loading weights", "it/s]") on stderr.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS, make_md, make_pdf
from tests.support.ollama_standin import OllamaStandIn

REPO = Path(__file__).resolve().parent.parent
LIBRARY_NOISE = re.compile(r"Loading weights|it/s\]|s/it\]|\d+%\|[█▏▎▍▌▋▊▉ #]*\|")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "QWEN_DESK_HOME": str(home), "HF_HUB_OFFLINE": "1", **extra}
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)  # as a user's shell has it: bars enabled
    env.pop("TRANSFORMERS_VERBOSITY", None)
    return env


def run_on_terminal(home: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """``qwen-desk ARGS`` with stderr on a pseudo-terminal: (exit code, stdout, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qwen_desk", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        env=_env(home, **env),
        cwd=REPO,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    stdout, _ = proc.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, stdout.decode(), b"".join(chunks).decode(errors="replace")


def run_piped(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qwen_desk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(home, **env),
        cwd=REPO,
        timeout=300,
    )


def test_quiet_loading_restores_the_libraries_settings() -> None:
    """Silenced while the model loads only: the user's process keeps its own settings."""
    import logging

    from transformers.utils import logging as hf_logging

    from qwen_desk.core.embedding import quiet_model_loading

    before = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    st_logger = logging.getLogger("sentence_transformers")
    with quiet_model_loading():
        assert not hf_logging.is_progress_bar_enabled()
        assert hf_logging.get_verbosity() == logging.ERROR
        assert st_logger.level == logging.ERROR
    assert (hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()) == before
    assert st_logger.level == logging.NOTSET


@pytest.mark.slow
def test_add_search_and_doctor_show_no_library_progress(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pdf = make_pdf(tmp_path / "nature.pdf", EN_PAGES)
    md = make_md(tmp_path / "熊猫.md", "大熊猫", ZH_PARAGRAPHS)

    code, out, err = run_on_terminal(home, "add", str(pdf), str(md))
    assert code == 0, err
    assert not LIBRARY_NOISE.search(err), err
    assert "\r" in err and "[1/2]" in err and "[2/2]" in err and "passages" in err  # its own
    assert "nature.pdf (3 pages)" in err
    assert "2 files: 2 indexed" in out
    assert re.search(r"熊猫\.md \(\d+ chunks\)", out), out  # Markdown: no page count

    extra = make_md(tmp_path / "notes.md", "Notes", ["Penguins huddle against the wind."])
    code, out, err = run_on_terminal(home, "add", str(extra), "--json")
    assert code == 0, err
    assert err.strip() == "", err  # --json: no progress at all
    (row,) = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert row["status"] == "indexed"

    proc = run_piped(home, "search", "How long is the egg kept warm?", "--json")
    assert proc.returncode == 0, proc.stderr
    assert not LIBRARY_NOISE.search(proc.stderr), proc.stderr
    hits = json.loads(proc.stdout)
    assert hits and any(h["path"].endswith("nature.pdf") for h in hits)

    with OllamaStandIn() as server:
        proc = run_piped(home, "doctor", "--json", OLLAMA_HOST=server.url)
    assert not LIBRARY_NOISE.search(proc.stderr), proc.stderr
    report = json.loads(proc.stdout)
    embedder = next(c for c in report["checks"] if c["name"] == "embedder")
    assert embedder["status"] == "ok"  # the model was really loaded
