"""Crash safety: SIGKILL a real ingesting process at random points, then reopen and resume.

After every kill, every visible (ready) document has exactly ``n_chunks`` chunks, search only
returns passages of ready documents, and the persisted queue resumes and finishes the rest.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qwen_desk.core.ingest_queue import JobState
from qwen_desk.core.knowledge import KnowledgeBase
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import DocumentStatus, make_chunk_id
from tests.support.kb import EN_PAGES, long_text, make_pdf, shared_embedder

CHILD = Path(__file__).parent / "support" / "ingest_child.py"
C = "crash"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def check_visible_documents(kb: KnowledgeBase) -> int:
    """Every ready document is whole; returns how many are ready."""
    store = kb.store
    ready = [r for r in store.list_documents(C) if r.status is DocumentStatus.READY]
    for record in ready:
        ids = [make_chunk_id(C, record.doc_id, i) for i in range(record.n_chunks + 1)]
        chunks = store.get_chunks(ids)
        assert len(chunks) == record.n_chunks > 0, record
        assert [c.ord for c in chunks] == list(range(record.n_chunks))
    if ready:  # (the collection row comes with the first write)
        hits = kb.search("maintenance inspection of the turbine", C, k=10)
        assert hits and {h.doc_id for h in hits} <= {r.doc_id for r in ready}
    return len(ready)


@pytest.mark.slow
def test_sigkill_mid_ingestion_never_shows_half_a_document(
    tmp_path: Path, qwen_desk_home: Path
) -> None:
    files = [str(make_pdf(tmp_path / "pages.pdf", EN_PAGES * 3))]
    for i in range(6):
        md = tmp_path / f"doc{i}.md"
        md.write_text(f"# Document {i}\n\n" + long_text(30, seed=10 + i), encoding="utf-8")
        files.append(str(md))
    env = {**os.environ, "QWEN_DESK_HOME": str(qwen_desk_home), "HF_HUB_OFFLINE": "1"}
    rng = random.Random(20261124)
    kills = 0
    for round_ in range(3):
        args = [C, *files] if round_ == 0 else [C]
        child = subprocess.Popen(
            [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "started"
            time.sleep(rng.uniform(0.3, 3.0))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                kills += 1
        finally:
            child.kill()
            child.wait(30)
        kb = KnowledgeBase(Settings(), embedder=shared_embedder())
        try:
            check_visible_documents(kb)
        finally:
            kb.close()
    assert kills >= 2  # the kills really landed mid-way

    kb = KnowledgeBase(Settings(), embedder=shared_embedder())
    try:
        kb.ingest.start()
        assert kb.ingest.wait_idle(240)
        jobs = kb.ingest._queue.jobs()
        assert {j.state for j in jobs} == {JobState.DONE}
        assert check_visible_documents(kb) == len(files)
        assert {r.path for r in kb.store.list_documents(C)} == set(files)
    finally:
        kb.close()
