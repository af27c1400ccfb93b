"""Any number of processes, one knowledge base: two ``qwen-desk add`` runs at once.

Two real CLI subprocesses add 10 different generated PDFs each to one ``QWEN_DESK_HOME``,
started together; a ``search`` starts as soon as the first file is reported. Every write of
each process (documents, chunks, collections, index creation and upkeep) goes through the
knowledge base's process write lock, and each process runs its own queued jobs only, so: both
exit 0, all 20 documents end indexed, no output holds a traceback, and the search answers while
they run. Timings are measured by ``bench/concurrent_add.py``, not asserted here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.concurrent_add import CliRun, make_pdf_set

HANG_GUARD_S = 900  # a generous guard against a hang (each run), not a time limit
pytestmark = pytest.mark.timeout(3 * HANG_GUARD_S)


@pytest.fixture
def runs() -> Iterator[list[CliRun]]:
    """The CLI processes a test starts; any still running at its end is killed."""
    started: list[CliRun] = []
    yield started
    for run in started:
        if run.running:
            run.proc.kill()
            run.finish(HANG_GUARD_S)


def test_two_add_runs_at_once_index_everything(tmp_path: Path, runs: list[CliRun]) -> None:
    home = tmp_path / "home"
    sets = [make_pdf_set(tmp_path / f"set{n}", n) for n in (0, 1)]
    adds = [CliRun(home, "add", *map(str, files), "--json") for files in sets]
    runs.extend(adds)

    # A search while they write: once the first file of the 20 is reported.
    while not any(run.first_line.wait(0.2) for run in adds):
        pass
    adds_running = [run.running for run in adds]
    search = CliRun(home, "search", "glacier lighthouse report", "-k", "5", "--json")
    runs.append(search)
    search_code, search_out, search_err = search.finish(HANG_GUARD_S)

    results = [run.finish(HANG_GUARD_S) for run in adds]
    for code, out, err in results:
        assert "Traceback" not in out + err, err
        assert code == 0, err
    assert "Traceback" not in search_out + search_err, search_err
    assert search_code == 0, search_err
    assert any(adds_running)  # the search really ran beside an unfinished add
    hits = json.loads(search_out)
    assert hits, "the search found nothing although a document was already indexed"

    for (_, out, _), files in zip(results, sets, strict=True):
        reported = [json.loads(line) for line in out.splitlines() if line.strip()]
        assert sorted(r["path"] for r in reported) == sorted(str(f) for f in files)
        assert {r["status"] for r in reported} == {"indexed"}

    listing = CliRun(home, "list", "--json")
    code, out, err = listing.finish(HANG_GUARD_S)
    assert code == 0, err
    documents = json.loads(out)
    assert len(documents) == 20
    assert {d["status"] for d in documents} == {"ready"}
    assert {d["path"] for d in documents} == {str(f) for files in sets for f in files}


# --- the parts, one by one -------------------------------------------------------------------


def test_a_live_owners_jobs_are_never_taken_a_dead_ones_are(tmp_path: Path) -> None:
    from qwen_desk.core.ingest_queue import IngestQueue, JobKind, JobState

    db = tmp_path / "ingest_queue.sqlite3"
    first = IngestQueue(db)
    ids = first.add([("/a.pdf", "default", JobKind.INDEX), ("/b.pdf", "default", JobKind.INDEX)])
    running = first.next_queued()
    assert running is not None and running.id == ids[0]

    second = IngestQueue(db)  # opening it used to reset the running job and take both
    assert second.next_queued() is None
    assert second.pending_count() == 0 and second.cancel_queued() == []
    assert [j.state for j in first.jobs()] == [JobState.RUNNING, JobState.QUEUED]
    assert second.reclaim() == 0

    first.close()  # as if its process died: its unfinished jobs are free again
    assert second.reclaim() == 2
    assert [(j.id, j.state) for j in second.jobs()] == [
        (ids[0], JobState.QUEUED),
        (ids[1], JobState.QUEUED),
    ]
    assert [second.next_queued().id, second.next_queued().id] == ids  # type: ignore[union-attr]
    third = IngestQueue(db)
    assert third.reclaim() == 0 and third.next_queued() is None
    third.close()
    second.close()


def test_a_retryable_lance_conflict_is_retried_on_the_latest_version(tmp_path: Path) -> None:
    import lancedb
    import pyarrow as pa
    from lancedb.index import FTS

    from qwen_desk.core.store.conflicts import is_retryable_conflict, retry_conflicts

    lancedb.connect(str(tmp_path)).create_table(
        "t", pa.table({"id": list(range(200)), "s": [f"w{i} x" for i in range(200)]})
    )
    first, stale, also_stale = (lancedb.connect(str(tmp_path)).open_table("t") for _ in range(3))
    first.create_index("s", config=FTS(), replace=True)
    with pytest.raises(RuntimeError) as raised:  # what the two `add` runs died of
        stale.create_index("s", config=FTS(), replace=True)
    assert is_retryable_conflict(raised.value)
    assert not is_retryable_conflict(RuntimeError("lance error: Invalid user input"))

    calls = []

    def create() -> None:
        calls.append(also_stale.version)
        also_stale.create_index("s", config=FTS(), replace=True)

    retry_conflicts(create, also_stale.checkout_latest)
    assert calls == [1, 2]  # lost the race on version 1, then succeeded on the latest
    assert [next(iter(ix.columns)) for ix in also_stale.list_indices()] == ["s"]


def test_two_stores_on_one_folder_see_each_others_writes_and_indexes(tmp_path: Path) -> None:
    import numpy as np

    from qwen_desk.core.store import KnowledgeStore
    from qwen_desk.core.store.knowledge import READ_CONSISTENCY
    from qwen_desk.core.types import Chunk, DocumentRecord, make_chunk_id

    def doc(doc_id: str, text: str) -> tuple[DocumentRecord, list[Chunk], np.ndarray]:
        record = DocumentRecord(
            doc_id=doc_id, collection="default", path=f"/docs/{doc_id}.pdf", title=doc_id,
            kind="pdf", size=1, mtime=1.0, pages=1, n_chunks=1, embed_model="m",
        )  # fmt: skip
        chunk = Chunk(
            chunk_id=make_chunk_id("default", doc_id, 0), doc_id=doc_id, collection="default",
            ord=0, page=1, char_start=0, char_end=len(text), text=text,
        )  # fmt: skip
        return record, [chunk], np.ones((1, 4), dtype=np.float32) / 2

    first = KnowledgeStore(tmp_path, embed_model_id="m", dim=4)
    second = KnowledgeStore(tmp_path, embed_model_id="m", dim=4)  # its handles are stale now
    first.replace_document(*doc("aaaa", "glacier ice"))  # builds the full-text index
    second.replace_document(*doc("bbbb", "lighthouse lamp"))  # sees it: no second CreateIndex
    second.maintain(force=True)
    assert [ix.name for ix in second._chunks.list_indices()] == ["search_text_idx"]
    # The writer saw the other's document when it wrote; the other sees it after
    # READ_CONSISTENCY, as it sees any process's commits.
    time.sleep(READ_CONSISTENCY.total_seconds() * 1.5)
    for store in (second, first):
        hits = store.search("glacier lighthouse", None, collection="default", mode="fts")
        assert sorted(h.doc_id for h in hits) == ["aaaa", "bbbb"]
        store.close()


_OPEN_CONVERSATIONS = """
import sys
from pathlib import Path
from qwen_desk.core.conversations import ConversationStore
store = ConversationStore(Path(sys.argv[1]))
store.create("from process " + sys.argv[2])
store.close()
"""


def test_processes_opening_a_new_conversations_file_at_once_all_succeed(tmp_path: Path) -> None:
    import subprocess
    import sys

    from qwen_desk.core.conversations import ConversationStore
    from tests.support.concurrent_add import REPO

    db = tmp_path / "conversations.sqlite3"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_CONVERSATIONS, str(db), str(n)],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=HANG_GUARD_S)
        assert proc.returncode == 0, err
    store = ConversationStore(db)
    assert len(store.list()) == 4
    store.close()
