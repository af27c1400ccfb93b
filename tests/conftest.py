"""Shared fixtures: every test gets its own ``QWEN_DESK_HOME``; corpus paths skip when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def qwen_desk_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Relocate all user data into a fresh folder for each test (as simonw/llm does)."""
    home = tmp_path_factory.mktemp("qwen_desk_home")
    monkeypatch.setenv("QWEN_DESK_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus``; tests that need it skip with a reason on a fresh clone."""
    if not CORPUS.is_dir():
        pytest.skip(f"real-world corpus not present at {CORPUS} (only in the developers' checkout)")
    return CORPUS
