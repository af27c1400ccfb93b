"""Qt item models of the knowledge side, checked by pytest-qt's qtmodeltester on real rows."""

from __future__ import annotations

import pytest

from qwen_desk.core.types import (
    CollectionInfo,
    DocumentRecord,
    DocumentStatus,
    ErrorInfo,
    IngestEvent,
    IngestState,
)
from qwen_desk.models.collection_model import CollectionModel
from qwen_desk.models.document_model import DocumentModel

pytestmark = pytest.mark.gui


def record(name: str, collection: str = "default", **changes: object) -> DocumentRecord:
    values: dict[str, object] = dict(
        doc_id=f"{name}-id" * 4,
        collection=collection,
        path=f"/docs/{name}.pdf",
        title=name,
        kind="pdf",
        size=1000,
        mtime=1.0,
        pages=12,
        n_chunks=30,
        embed_model="m",
    )
    values.update(changes)
    return DocumentRecord(**values)  # type: ignore[arg-type]


def test_document_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = DocumentModel()
    failed = record(
        "locked",
        status=DocumentStatus.FAILED,
        error_code="password_required",
        error_message="needs a password",
    )
    model.set_documents("default", [record("b"), record("a"), failed])
    qtmodeltester.check(model)
    assert [model.item(r).title for r in range(3)] == ["a", "b", "locked"]
    assert model.item(2).needs_password
    assert model.data(model.index(2, 0), DocumentModel.ErrorCodeRole) == "password_required"


def test_events_move_a_new_file_through_its_states(qtmodeltester) -> None:
    model = DocumentModel()
    model.set_documents("default", [record("a")])
    qtmodeltester.check(model)
    path = "/docs/new.docx"
    model.apply_event(IngestEvent(path, "default", IngestState.QUEUED, job_id=7))
    assert model.row_of_path(path) == 0 and model.item(0).active
    model.apply_event(
        IngestEvent(path, "default", IngestState.EMBEDDING, job_id=7, done=5, total=20)
    )
    assert model.data(model.index(0, 0), DocumentModel.ProgressRole) == pytest.approx(0.25)
    model.apply_event(
        IngestEvent(path, "default", IngestState.READY, job_id=7, doc_id="d", pages=3, chunks=20)
    )
    item = model.item(0)
    assert (item.state, item.pages, item.chunks, item.active) == (IngestState.READY, 3, 20, False)
    # another collection's events do not show here
    model.apply_event(IngestEvent("/x.pdf", "other", IngestState.QUEUED, job_id=8))
    assert model.rowCount() == 2


def test_reset_keeps_files_still_being_indexed() -> None:
    model = DocumentModel()
    model.set_documents("default", [])
    model.apply_event(IngestEvent("/docs/big.pdf", "default", IngestState.PARSING, job_id=1))
    model.set_documents("default", [record("a")])
    assert {i.path for i in model.items()} == {"/docs/big.pdf", "/docs/a.pdf"}
    model.set_documents("other", [])
    assert model.rowCount() == 0


def test_failed_then_cancelled_events() -> None:
    model = DocumentModel()
    model.set_documents("default", [])
    error = ErrorInfo("corrupt_file", "bad xref")
    model.apply_event(IngestEvent("/d/x.pdf", "default", IngestState.FAILED, job_id=1, error=error))
    assert model.item(0).error == error
    model.apply_event(IngestEvent("/d/y.pdf", "default", IngestState.QUEUED, job_id=2))
    model.apply_event(IngestEvent("/d/y.pdf", "default", IngestState.CANCELLED, job_id=2))
    assert [i.path for i in model.items()] == ["/d/x.pdf"]


def test_collection_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = CollectionModel()
    model.set_collections(
        [CollectionInfo("zeta", 1.0, 3, 40), CollectionInfo("Alpha", 2.0), CollectionInfo("b", 3)]
    )
    qtmodeltester.check(model)
    assert model.names() == ["Alpha", "b", "zeta"]
    assert model.info("zeta").n_documents == 3  # type: ignore[union-attr]
    assert model.row_of("missing") == -1
