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
from pathlib import Path

from tests.support.concurrent_add import CliRun, make_pdf_set

HANG_GUARD_S = 1800  # a generous guard against a hang, not a time limit


def test_two_add_runs_at_once_index_everything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sets = [make_pdf_set(tmp_path / f"set{n}", n) for n in (0, 1)]
    adds = [CliRun(home, "add", *map(str, files), "--json") for files in sets]

    # A search while they write: once the first file of the 20 is reported.
    while not any(run.first_line.wait(0.2) for run in adds):
        pass
    adds_running = [run.running for run in adds]
    search = CliRun(home, "search", "glacier lighthouse report", "-k", "5", "--json")
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
