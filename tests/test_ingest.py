"""Ingestion: queue, worker, events, unchanged/changed files, failures, cancel, resume, search.

Real parts throughout: the packaged embedding model (loaded once per process), LanceDB in the
test's data folder, the parser child process, SQLite for the queue, files made by pymupdf and
python-docx.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from qwen_desk.core import paths
from qwen_desk.core.file_scan import expand_paths, file_sha256
from qwen_desk.core.ingest_queue import IngestQueue, JobKind, JobState
from qwen_desk.core.knowledge import KnowledgeBase
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import IngestEvent, IngestState
from tests.support.kb import (
    EN_PAGES,
    ZH_PARAGRAPHS,
    long_text,
    make_docx,
    make_md,
    make_pdf,
    shared_embedder,
)

C = "test"


class Recorder:
    """Collects events (called on the worker thread) and waits for jobs to finish."""

    def __init__(self) -> None:
        self.events: list[IngestEvent] = []
        self.threads: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, event: IngestEvent) -> None:
        with self._cond:
            self.events.append(event)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def final(self, job_id: int) -> IngestEvent:
        return next(e for e in reversed(self.events) if e.job_id == job_id and e.finished)

    def states(self, job_id: int) -> list[IngestState]:
        return [e.state for e in self.events if e.job_id == job_id]

    def wait(self, job_ids: list[int], timeout: float = 120.0) -> list[IngestEvent]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not all(any(e.job_id == j and e.finished for e in self.events) for j in job_ids):
                left = deadline - time.monotonic()
                assert left > 0, f"jobs {job_ids} did not finish: {self.events[-5:]}"
                self._cond.wait(left)
        return [self.final(j) for j in job_ids]

    def wait_for(self, predicate, timeout: float = 60.0) -> IngestEvent:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self.events:
                    if predicate(e):
                        return e
                left = deadline - time.monotonic()
                assert left > 0, f"no such event: {self.events[-5:]}"
                self._cond.wait(left)


@pytest.fixture
def kb():
    base = KnowledgeBase(Settings(), embedder=shared_embedder())
    yield base
    base.close()


@pytest.fixture
def rec(kb: KnowledgeBase) -> Recorder:
    recorder = Recorder()
    kb.ingest.subscribe(recorder)
    return recorder


# --- pieces without the model ------------------------------------------------------------------


def test_expand_paths_walks_folders_and_ignores_hidden_and_temp_files(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / ".git").mkdir()
    for name in ("b.md", "a.pdf", "sub/c.txt", "x.png", "~$a.docx", ".hidden.md", ".git/h.txt"):
        (tmp_path / "d" / name).write_text("x")
    supported = lambda p: p.suffix in (".md", ".pdf", ".txt")  # noqa: E731
    found = expand_paths(
        [tmp_path / "d", tmp_path / "d" / "x.png", tmp_path / "nope.md"], supported
    )
    rel = [(f.path.relative_to(tmp_path).as_posix(), f.explicit, f.supported) for f in found]
    assert rel == [
        ("d/a.pdf", False, True),
        ("d/b.md", False, True),
        ("d/sub/c.txt", False, True),
        ("d/x.png", True, False),  # found in the folder, then named: explicit wins
        ("nope.md", True, True),  # missing but named: kept so that it fails visibly
    ]


def test_file_sha256_streams_and_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    data = bytes(range(256)) * 9000  # > 2 blocks
    (tmp_path / "f").write_bytes(data)
    assert file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_queue_resumes_running_jobs_and_never_stores_passwords(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    queue = IngestQueue(db)
    ids = queue.add([("/a.pdf", C, JobKind.INDEX), ("/b.pdf", C, JobKind.INDEX)])
    assert queue.next_queued().id == ids[0]  # type: ignore[union-attr]
    assert queue.get(ids[0]).state is JobState.RUNNING  # type: ignore[union-attr]
    queue.close()  # as if the process died here
    queue = IngestQueue(db)
    assert [j.state for j in queue.jobs()] == [JobState.QUEUED, JobState.QUEUED]
    assert [j.id for j in queue.cancel_queued([ids[1]])] == [ids[1]]
    assert [j.id for j in queue.jobs((JobState.QUEUED,))] == [ids[0]]
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    queue.close()


# --- the worker ----------------------------------------------------------------------------------


def test_add_indexes_then_unchanged_then_replaced(
    kb: KnowledgeBase, rec: Recorder, tmp_path: Path
) -> None:
    md = make_md(tmp_path / "熊猫.md", "大熊猫", ZH_PARAGRAPHS)
    pdf = make_pdf(tmp_path / "nature.pdf", EN_PAGES)
    docx = make_docx(tmp_path / "notes.docx", "Notes", EN_PAGES[:2])
    ids = kb.ingest.add_paths([tmp_path], C)
    assert len(ids) == 3
    events = {Path(e.path).name: e for e in rec.wait(ids)}
    assert {e.state for e in events.values()} == {IngestState.READY}
    assert events["nature.pdf"].pages == 3 and events["nature.pdf"].chunks >= 3
    assert events["熊猫.md"].doc_id == file_sha256(md)
    assert sorted(Path(e.path) for e in events.values()) == sorted([docx, md, pdf])
    job = events["nature.pdf"].job_id
    states = rec.states(job)
    assert states[:2] == [IngestState.QUEUED, IngestState.PARSING]
    assert IngestState.EMBEDDING in states and states[-1] is IngestState.READY
    embedding = [e for e in rec.events if e.job_id == job and e.state is IngestState.EMBEDDING]
    assert embedding[-1].done == embedding[-1].total == events["nature.pdf"].chunks
    assert rec.threads == {"qwen-desk-ingest"}
    stored = {Path(r.path).name: r for r in kb.store.list_documents(C)}
    assert stored["nature.pdf"].n_chunks == events["nature.pdf"].chunks
    assert stored["nature.pdf"].embed_model == kb.embedder.model_id

    hits = kb.search("大熊猫吃什么", C, k=3)
    assert hits and Path(hits[0].path).name == "熊猫.md"
    assert any("竹子" in h.text for h in hits if Path(h.path).name == "熊猫.md")

    # Re-adding: unchanged, no parse, no embedding.
    before = len(rec.events)
    again = kb.ingest.add_paths([md, pdf], C)
    assert [e.state for e in rec.wait(again)] == [IngestState.UNCHANGED] * 2
    later = [e.state for e in rec.events[before:]]
    assert IngestState.PARSING not in later and IngestState.EMBEDDING not in later

    # A changed file replaces its old version.
    old_id = events["熊猫.md"].doc_id
    make_md(md, "大熊猫", [*ZH_PARAGRAPHS, "小熊猫不是大熊猫的近亲，它属于小熊猫科。"])
    (changed,) = rec.wait(kb.ingest.add_paths([md], C))
    assert changed.state is IngestState.READY and changed.doc_id != old_id
    same_path = [r for r in kb.store.list_documents(C) if r.path == str(md)]
    assert [r.doc_id for r in same_path] == [changed.doc_id]
    assert kb.store.get_document(C, old_id) is None
    assert any("小熊猫科" in h.text for h in kb.search("小熊猫科", C, k=5))
    assert kb.ingest.wait_idle(30)


def test_failures_are_reported_and_recorded(
    kb: KnowledgeBase, rec: Recorder, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    make_md(folder / "ok.md", "ok", ["Glaciers carve U-shaped valleys."])
    sheet = tmp_path / "table.xlsx"
    sheet.write_bytes(b"PK\x03\x04 not really")
    secret = make_pdf(tmp_path / "secret.pdf", ["Launch codes are kept in the blue folder."], "pw1")
    ids = kb.ingest.add_paths([folder, sheet, secret, tmp_path / "missing.txt"], C)
    by_name = {Path(e.path).name: e for e in rec.wait(ids)}
    assert by_name["ok.md"].state is IngestState.READY
    assert by_name["picture.png"].state is IngestState.SKIPPED
    codes = {
        n: e.error.code for n, e in by_name.items() if e.state is IngestState.FAILED and e.error
    }
    assert codes == {
        "broken.pdf": "corrupt_file",
        "table.xlsx": "unsupported_type",
        "secret.pdf": "password_required",
        "missing.txt": "file_unreadable",
    }
    failed = {Path(r.path).name: r for r in kb.store.list_documents(C) if r.status != "ready"}
    assert failed["secret.pdf"].error_code == "password_required"
    assert _status(failed["broken.pdf"]) == "failed"

    (ok,) = rec.wait(kb.ingest.add_paths([secret], C, password="pw1"))
    assert ok.state is IngestState.READY and ok.pages == 1
    record = kb.store.get_document(C, ok.doc_id)  # type: ignore[arg-type]
    assert _status(record) == "ready"  # the failure row was replaced
    (wrong,) = rec.wait(kb.ingest.add_paths([make_pdf(tmp_path / "s2.pdf", ["x"], "a")], C, "b"))
    assert wrong.error is not None and wrong.error.code == "wrong_password"
    raw = paths.ingest_queue_db(kb.data_dir).read_bytes()
    assert b"pw1" not in raw


def test_password_is_not_kept_across_restarts(tmp_path: Path) -> None:
    secret = make_pdf(tmp_path / "secret.pdf", ["The vault opens at dawn."], "hunter2")
    first = KnowledgeBase(Settings(), embedder=shared_embedder())
    queue = first.ingest._queue
    (job_id,) = queue.add([(str(secret), C, JobKind.INDEX)])  # queued, never run: "crash"
    first.close()
    second = KnowledgeBase(Settings(), embedder=shared_embedder())
    rec = Recorder()
    second.ingest.subscribe(rec)
    second.ingest.start()
    try:
        (event,) = rec.wait([job_id])
        assert event.error is not None and event.error.code == "password_required"
    finally:
        second.close()


def test_cancel_queued_and_running_jobs_write_nothing(
    kb: KnowledgeBase, rec: Recorder, tmp_path: Path
) -> None:
    big = tmp_path / "big.md"
    big.write_text(long_text(400), encoding="utf-8")
    small = make_md(tmp_path / "small.md", "small", ["Quartz is piezoelectric."])
    job, queued = kb.ingest.add_paths([big, small], C)
    rec.wait_for(lambda e: e.job_id == job and e.state is IngestState.EMBEDDING and e.done > 0)
    assert kb.ingest.cancel(queued)
    assert kb.ingest.cancel(job)
    assert [e.state for e in rec.wait([job, queued])] == [IngestState.CANCELLED] * 2
    assert IngestState.PARSING not in rec.states(queued)
    assert kb.ingest.wait_idle(30)
    assert kb.store.list_documents(C) == []
    assert not kb.ingest.cancel(job)  # finished: nothing to cancel


@pytest.mark.slow
def test_search_stays_fast_while_indexing(kb: KnowledgeBase, rec: Recorder, tmp_path: Path) -> None:
    make_md(tmp_path / "seed.md", "seed", EN_PAGES)
    rec.wait(kb.ingest.add_paths([tmp_path / "seed.md"], C))
    assert kb.ingest.wait_idle(60)
    kb.search("warm-up: first use opens the full-text index", C, k=5)
    big = tmp_path / "big.md"
    big.write_text(long_text(340, seed=1, words_each=150), encoding="utf-8")
    (job,) = kb.ingest.add_paths([big], C)
    first = rec.wait_for(lambda e: e.job_id == job and e.state is IngestState.EMBEDDING)
    assert first.total >= 300
    # Ordering, not wall time (bench/search.py has the latency): a search that waited for the
    # running embedding batch would see a batch end during every call; most searches see none.
    crossed = []
    while len(crossed) < 12 and not any(e.job_id == job and e.finished for e in rec.events):
        before = len(rec.events)
        hits = kb.search("penguins keep the egg warm", C, k=5)
        crossed.append(sum(e.job_id == job for e in rec.events[before:]))
        assert hits and "penguin" in hits[0].text.lower()
        time.sleep(0.2)
    progress = [e for e in rec.events if e.job_id == job and e.state is IngestState.EMBEDDING]
    assert len(crossed) >= 5 and progress[-1].done < progress[-1].total  # overlapped
    assert sum(n == 0 for n in crossed) > len(crossed) // 2, crossed
    kb.ingest.cancel(job)
    rec.wait([job])


@pytest.mark.slow
def test_close_interrupts_and_the_next_start_resumes(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    big.write_text(long_text(60, seed=2), encoding="utf-8")
    first = KnowledgeBase(Settings(), embedder=shared_embedder())
    rec = Recorder()
    first.ingest.subscribe(rec)
    (job,) = first.ingest.add_paths([big], C)
    rec.wait_for(lambda e: e.job_id == job and e.state is IngestState.EMBEDDING)
    first.close()
    assert not any(e.job_id == job and e.finished for e in rec.events)
    second = KnowledgeBase(Settings(), embedder=shared_embedder())
    try:
        assert [j.id for j in second.ingest.pending()] == [job]
        assert second.store.list_documents(C) == []
        rec2 = Recorder()
        second.ingest.subscribe(rec2)
        second.ingest.start()
        (event,) = rec2.wait([job])
        assert rec2.states(job)[0] is IngestState.QUEUED  # announced to a fresh listener
        assert event.state is IngestState.READY and event.chunks > 10
        (record,) = second.store.list_documents(C)
        assert record.n_chunks == event.chunks
    finally:
        second.close()


def test_a_walk_stopped_by_quitting_leaves_its_folder_queued_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    for i in range(3):
        make_md(folder / "sub" / f"n{i}.md", f"Note {i}", [f"Basalt column number {i}."])
    first = KnowledgeBase(Settings(), embedder=shared_embedder())
    first.ingest.request_stop()  # the window is closing: the walk stops at its first entry
    assert first.ingest.add_paths([folder], C) == []
    (left,) = first.ingest.pending()
    assert left.kind is JobKind.FOLDER and left.state is JobState.QUEUED
    assert left.path == str(folder.absolute())
    first.close()
    second = KnowledgeBase(Settings(), embedder=shared_embedder())
    try:
        rec = Recorder()
        second.ingest.subscribe(rec)
        second.ingest.start()  # walks the folder again, then indexes what it found
        assert second.ingest.wait_idle(120)
        assert [e.state for e in rec.events if e.finished] == [IngestState.READY] * 3
        assert sorted(Path(r.path).name for r in second.store.list_documents(C)) == [
            "n0.md",
            "n1.md",
            "n2.md",
        ]
        assert [j.state for j in second.ingest._queue.jobs() if j.id == left.id] == [JobState.DONE]
    finally:
        second.close()


@pytest.mark.slow
def test_a_quick_close_leaves_the_running_batch_and_nothing_is_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window's quit: the worker gets a moment (none here, so that the worker is surely
    left inside its embedding batch), kept from writing by the write lock; it puts its job back
    and closes the queue itself; the next start indexes the file in full."""
    import qwen_desk.core.knowledge as knowledge_module

    monkeypatch.setattr(knowledge_module, "QUICK_STOP_S", 0.0)
    big = tmp_path / "big.md"
    big.write_text(long_text(120, seed=3, words_each=120), encoding="utf-8")
    first = KnowledgeBase(Settings(), embedder=shared_embedder())
    rec = Recorder()
    first.ingest.subscribe(rec)
    (job,) = first.ingest.add_paths([big], C)
    rec.wait_for(lambda e: e.job_id == job and e.state is IngestState.EMBEDDING and e.done > 0)
    first.close(quick=True)
    assert first.write_lock.held  # the worker was left in its batch: it may not write now
    worker = first.ingest._thread
    assert worker is not None
    worker.join(120)  # it ends by itself at its next check
    assert not worker.is_alive()
    assert not any(e.job_id == job and e.finished for e in rec.events)
    first.write_lock.release()  # kept for the process exit, which a test does not do
    second = KnowledgeBase(Settings(), embedder=shared_embedder())
    try:
        assert second.store.list_documents(C) == []  # nothing of it is visible
        assert [j.id for j in second.ingest.pending()] == [job]
        rec2 = Recorder()
        second.ingest.subscribe(rec2)
        second.ingest.start()
        (event,) = rec2.wait([job])
        assert event.state is IngestState.READY
        (record,) = second.store.list_documents(C)
        assert record.n_chunks == event.chunks > 10
    finally:
        second.close()


def test_remove_and_reindex(kb: KnowledgeBase, rec: Recorder, tmp_path: Path) -> None:
    md = make_md(tmp_path / "geo.md", "Geology", EN_PAGES[1:2])
    (ready,) = rec.wait(kb.ingest.add_paths([md], C))
    doc_id = ready.doc_id
    assert doc_id is not None
    (again,) = rec.wait([kb.reindex(C, doc_id)])
    assert again.state is IngestState.READY  # re-index parses and embeds even when unchanged
    assert IngestState.EMBEDDING in rec.states(again.job_id)
    assert [r.doc_id for r in kb.store.list_documents(C)] == [doc_id]
    kb.remove(C, doc_id)
    assert kb.store.list_documents(C) == []
    assert all(h.doc_id != doc_id for h in kb.search("Jurassic Coast cliffs", C, k=5))
    from qwen_desk.core.errors import DocumentNotFound

    with pytest.raises(DocumentNotFound):
        kb.remove(C, doc_id)


def _status(record) -> str:  # type: ignore[no-untyped-def]
    return getattr(record.status, "value", record.status)


def test_new_embedder_is_refused_then_everything_is_reindexed(tmp_path: Path) -> None:
    from qwen_desk.core.embedding import Embedder
    from qwen_desk.core.errors import EmbedderMismatch

    first = KnowledgeBase(Settings(), embedder=shared_embedder())
    rec = Recorder()
    first.ingest.subscribe(rec)
    md = make_md(tmp_path / "volcano.md", "Volcanoes", ["Basalt lava flows are runny."])
    (ready,) = rec.wait(first.ingest.add_paths([md], C))
    first.close()

    # The same weights in another folder count as another model (another id).
    other_dir = tmp_path / "other-model"
    source = shared_embedder().path
    for item in source.rglob("*"):
        target = other_dir / item.relative_to(source)
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(item)
    other = Embedder(other_dir)
    assert other.model_id != shared_embedder().model_id

    second = KnowledgeBase(Settings(), embedder=other)
    try:
        with pytest.raises(EmbedderMismatch):
            _ = second.store
        rec2 = Recorder()
        second.ingest.subscribe(rec2)
        jobs = second.reindex_all_for_new_embedder()
        assert len(jobs) == 1
        (again,) = rec2.wait(jobs)
        assert again.state is IngestState.READY and again.doc_id == ready.doc_id
        (record,) = second.store.list_documents(C)
        assert record.embed_model == other.model_id
        assert second.search("runny lava", C, k=1)[0].doc_id == ready.doc_id
        assert second.reindex_all_for_new_embedder() == []  # nothing stale is left
    finally:
        second.close()


# --- the real-world corpus -----------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_folder_with_corrupt_and_encrypted_files(
    kb: KnowledgeBase, rec: Recorder, corpus: Path, tmp_path: Path
) -> None:
    picks = {
        "pdf/pdfplumber__issue-336-example-zh.pdf": "ready",
        "docx/unstructured__docx-tables.docx": "ready",
        "pdf/pdfjs__poppler-742-0-fuzzed.pdf": "corrupt_file",
        "pdf/pdfplumber__empty.pdf": "empty_file",
        "docx/tika__testWORD_truncated.docx": "corrupt_file",
        "pdf/pysamples__libreoffice-writer-password.pdf": "password_required",
    }
    folder = tmp_path / "drop"
    folder.mkdir()
    for rel in picks:  # links, not copies: the corpus stays where it is
        (folder / Path(rel).name).symlink_to(corpus / rel)
    (folder / "notes.xlsx").symlink_to(corpus / "pdf" / "MANIFEST.tsv")
    ids = kb.ingest.add_paths([folder], C)
    events = {Path(e.path).name: e for e in rec.wait(ids, timeout=240)}
    assert events.pop("MANIFEST.tsv").state is IngestState.SKIPPED  # resolved link target
    outcome = {name: (e.error.code if e.error else e.state.value) for name, e in events.items()}
    assert outcome == {Path(rel).name: want for rel, want in picks.items()}
    encrypted = corpus / "pdf/pysamples__libreoffice-writer-password.pdf"
    (opened,) = rec.wait(kb.ingest.add_paths([encrypted], C, password="openpassword"))
    assert opened.state is IngestState.READY
    hits = kb.search("土地利用", C, k=3)
    assert hits and hits[0].path.endswith("issue-336-example-zh.pdf")


@pytest.mark.corpus
@pytest.mark.slow
def test_huge_pdf_streams_with_progress_and_cancels(
    kb: KnowledgeBase, rec: Recorder, corpus: Path
) -> None:
    huge = corpus / "pdf" / "unstructured__DA-619p.pdf"
    (job,) = kb.ingest.add_paths([huge], C)
    progress = rec.wait_for(
        lambda e: e.job_id == job and e.state is IngestState.EMBEDDING and e.done > 0, 180
    )
    assert progress.pages == 619 and progress.total > 1000
    kb.ingest.cancel(job)
    (final,) = rec.wait([job], timeout=120)  # a hang guard
    assert final.state is IngestState.CANCELLED
    last = max(e.done for e in rec.events if e.job_id == job and e.state is IngestState.EMBEDDING)
    assert last < progress.total  # stopped after the current batch, not at the end
    assert kb.store.get_document(C, progress.doc_id or "") is None


def test_failed_new_version_keeps_the_old_one_until_the_file_is_fixed(
    kb: KnowledgeBase, rec: Recorder, tmp_path: Path
) -> None:
    md = make_md(tmp_path / "memo.md", "Memo", ["The audit is due on the first of March."])
    original = md.read_bytes()
    (v1,) = rec.wait(kb.ingest.add_paths([md], C))
    md.write_bytes(bytes(range(256)) * 64)  # overwritten with binary junk
    (v2,) = rec.wait(kb.ingest.add_paths([md], C))
    assert v2.state is IngestState.FAILED
    rows = {r.doc_id: _status(r) for r in kb.store.list_documents(C)}
    assert rows == {v1.doc_id: "ready", v2.doc_id: "failed"}  # the old text stays searchable
    md.write_bytes(original)  # fixed: back to the indexed content
    (v3,) = rec.wait(kb.ingest.add_paths([md], C))
    assert v3.state is IngestState.UNCHANGED and v3.doc_id == v1.doc_id
    assert [r.doc_id for r in kb.store.list_documents(C)] == [v1.doc_id]
