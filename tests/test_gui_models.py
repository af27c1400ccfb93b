"""Qt item models, checked by pytest-qt's qtmodeltester on real rows, and the cost of an update
counted in executed lines of model code (not seconds): it must not grow with the rows."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from qwen_desk.core.types import (
    CollectionInfo,
    ConversationRecord,
    DocumentRecord,
    DocumentStatus,
    ErrorInfo,
    IngestEvent,
    IngestState,
    MessageRecord,
)
from qwen_desk.models import chat_model, document_model, keyed_list_model
from qwen_desk.models.chat_model import ChatModel
from qwen_desk.models.collection_model import CollectionModel
from qwen_desk.models.conversation_model import ConversationListModel
from qwen_desk.models.document_model import DocumentItem, DocumentModel
from qwen_desk.ui.document_delegate import DocumentDelegate
from qwen_desk.ui.uniform_list_view import UniformListView

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


def test_a_burst_of_events_keeps_the_order_one_at_a_time_gives(qtmodeltester) -> None:
    one_by_one, burst = DocumentModel(), DocumentModel()
    for model in (one_by_one, burst):
        model.set_documents("default", [record("a"), record("b")])
    qtmodeltester.check(burst)
    events = [
        IngestEvent(f"/new/{i}.txt", "default", IngestState.QUEUED, job_id=i) for i in range(5)
    ]
    events += [
        IngestEvent("/new/1.txt", "default", IngestState.CANCELLED, job_id=1),  # never shown
        IngestEvent("/docs/a.pdf", "default", IngestState.PARSING, job_id=9),
        IngestEvent("/new/3.txt", "default", IngestState.READY, job_id=3, doc_id="d3"),
    ]
    for event in events:
        one_by_one.apply_event(event)
    burst.apply_events(events)
    assert [i.path for i in burst.items()] == [i.path for i in one_by_one.items()]
    assert [i.path for i in burst.items()][:4] == [f"/new/{i}.txt" for i in (4, 3, 2, 0)]
    assert burst.item(burst.row_of_path("/new/3.txt")).state is IngestState.READY
    # cancelling shown rows removes them (one removal per run) and lookups stay right
    burst.apply_events(
        [
            IngestEvent(f"/new/{i}.txt", "default", IngestState.CANCELLED, job_id=i)
            for i in (4, 2, 0)
        ]
    )
    assert [i.path for i in burst.items()] == ["/new/3.txt", "/docs/a.pdf", "/docs/b.pdf"]
    assert [burst.row_of_path(i.path) for i in burst.items()] == [0, 1, 2]


def test_conversation_and_chat_models_pass_qtmodeltester(qtmodeltester) -> None:
    conversations = ConversationListModel()
    conversations.set_conversations(
        [ConversationRecord(i, f"c{i}", None, 0.0, 0.0) for i in (3, 2)]
    )
    qtmodeltester.check(conversations)
    conversations.upsert(ConversationRecord(4, "new", None, 0.0, 0.0))
    conversations.upsert(ConversationRecord(2, "renamed", None, 0.0, 0.0))
    conversations.remove(3)
    assert [(r.id, r.title) for r in conversations.records()] == [(4, "new"), (2, "renamed")]
    conversations.set_filter("ren")
    assert [r.id for r in conversations.records()] == [2]
    conversations.set_filter("")
    assert [r.id for r in conversations.all_records()] == [4, 2]
    chat = ChatModel()
    chat.set_messages([MessageRecord(1, 1, "user", "q"), MessageRecord(2, 1, "assistant", "a")])
    qtmodeltester.check(chat)
    row = chat.append_streaming(1)
    temp_id = chat.record(row).id
    chat.update_record(row, id=10, text="saved")  # the store's id replaces the temporary one
    assert chat.row_of(temp_id) == -1 and chat.row_of(10) == row
    chat.remove_rows_from(1)
    assert [r.id for r in chat.records()] == [1] and chat.row_of(10) == -1


# --- cost of an update, in lines executed (no clock) ------------------------------------------

_MODEL_FILES = {Path(m.__file__).resolve() for m in (document_model, keyed_list_model, chat_model)}


def _lines_run(action: Callable[[], None]) -> int:
    """How many lines of the models' code ``action`` executes (traced, so no timing involved)."""
    count = 0

    def tracer(frame, event, _arg):  # type: ignore[no-untyped-def]
        nonlocal count
        if Path(frame.f_code.co_filename).resolve() not in _MODEL_FILES:
            return None
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        action()
    finally:
        sys.settrace(previous)
    return count


def _document_model(n: int) -> DocumentModel:
    model = DocumentModel()
    model.set_documents("default", [record(f"doc{i:05}") for i in range(n)])
    return model


def _updates(model: DocumentModel, n_rows: int) -> Callable[[], None]:
    """100 events for existing rows spread over the model, then 100 new files, one at a time."""

    def run() -> None:
        for i in range(100):
            path = f"/docs/doc{(i * n_rows // 100):05}.pdf"
            model.apply_event(IngestEvent(path, "default", IngestState.PARSING, job_id=i + 1))
        for i in range(100):
            model.apply_event(IngestEvent(f"/new/{i}.txt", "default", IngestState.QUEUED, job_id=i))

    return run


def test_document_updates_cost_the_same_at_100_and_10000_rows() -> None:
    small, large = _document_model(100), _document_model(10_000)
    cost_small = _lines_run(_updates(small, 100))
    cost_large = _lines_run(_updates(large, 10_000))
    assert cost_small > 1000  # the tracer saw the model's code run
    # a scan of the rows per event would cost ~100x more at 10,000 rows; a map costs the same
    assert cost_large <= cost_small * 1.05, (cost_small, cost_large)
    assert large.row_of_path("/new/99.txt") == 0 and large.rowCount() == 10_100
    assert large.item(large.row_of_path("/docs/doc05000.pdf")).state is IngestState.PARSING


# --- the view side: one row's change in a shown list ------------------------------------------


class _CountingModel(DocumentModel):
    """The real model, counting how often Qt asks for its row count (test-side subclass)."""

    calls = 0

    def rowCount(self, parent=None) -> int:  # type: ignore[no-untyped-def,override]
        type(self).calls += 1
        return super().rowCount() if parent is None else super().rowCount(parent)


class _PaintRecorder(DocumentDelegate):
    def __init__(self, parent) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.painted: list[int] = []

    def paint(self, painter, option, index) -> None:  # type: ignore[no-untyped-def,override]
        self.painted.append(index.row())
        super().paint(painter, option, index)


def _row_update_cost(qtbot, n_rows: int) -> tuple[int, list[int]]:
    model = _CountingModel()
    model.set_documents("default", [record(f"doc{i:05}") for i in range(n_rows)])
    view = UniformListView()
    delegate = _PaintRecorder(view)
    view.setItemDelegate(delegate)
    view.setModel(model)
    view.resize(300, 400)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(50)
    _CountingModel.calls, delegate.painted = 0, []
    model.apply_event(IngestEvent("/docs/doc00000.pdf", "default", IngestState.PARSING, job_id=1))
    qtbot.waitUntil(lambda: 0 in delegate.painted)  # the changed (visible) row is repainted
    qtbot.wait(50)
    return _CountingModel.calls, delegate.painted


def test_a_row_update_in_a_shown_list_costs_the_same_at_100_and_5000_rows(qtbot) -> None:
    small, painted = _row_update_cost(qtbot, 100)
    large, _ = _row_update_cost(qtbot, 5000)
    assert painted == [0] or 0 in painted  # only what changed needs painting
    # QListView would walk every row (~2 rowCount calls per row: ~10,000 at 5,000 rows)
    assert large <= small + 50, (small, large)


# --- insertions into a shown list: Qt's relayout stays in C++ ---------------------------------


def _insert_cost(qtbot, n_rows: int) -> tuple[int, DocumentModel]:
    """Python lines of model code run while 20 bursts of 50 new files go on top of a shown list
    of ``n_rows`` (QListView lays every row out again after each insertion)."""
    model = _document_model(n_rows)
    view = UniformListView()
    view.setItemDelegate(DocumentDelegate(view))
    view.setModel(model)
    view.resize(300, 400)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)

    def run() -> None:
        for burst in range(20):
            model.apply_events(
                [
                    IngestEvent(f"/new/{burst}-{i}.txt", "default", IngestState.QUEUED, job_id=i)
                    for i in range(50)
                ]
            )
            view.doItemsLayout()  # what the delayed layout does after each pass
            view.viewport().repaint()

    return _lines_run(run), model


def test_inserting_into_a_shown_list_costs_the_same_at_100_and_5000_rows(qtbot) -> None:
    cost_small, small = _insert_cost(qtbot, 100)
    cost_large, large = _insert_cost(qtbot, 5000)
    assert cost_small > 1000  # the tracer saw the model's code run
    # a Python rowCount made the layout walk call into the model ~2x per row: ~10,000 calls
    # per insertion at 5,000 rows; the row count in C++ keeps the Python side per new row
    assert cost_large <= cost_small * 1.1, (cost_small, cost_large)
    for model, n in ((small, 100), (large, 5000)):
        assert model.rowCount() == n + 1000 == len(model.records())
        assert model.item(0).path == "/new/19-49.txt"  # the newest on top, each burst in order
        assert model.row_of_path("/new/0-0.txt") == 999
        assert model.item(1000).path == "/docs/doc00000.pdf"


def test_bulk_changes_keep_the_qt_row_count_and_the_rows_together(qtmodeltester) -> None:
    """The row count Qt sees (the C++ placeholder list) follows every kind of change, and the
    placeholders never leak out as data."""
    model = DocumentModel()
    qtmodeltester.check(model)
    model.set_documents("default", [record(f"doc{i:03}") for i in range(30)])
    model.apply_events(
        [IngestEvent(f"/new/{i}.txt", "default", IngestState.QUEUED, job_id=i) for i in range(10)]
    )
    model.append_records([DocumentItem.from_record(record("zzz"))])
    assert model.rowCount() == 41 == len(model.records())
    model.apply_events(
        [
            IngestEvent(f"/new/{i}.txt", "default", IngestState.CANCELLED, job_id=i)
            for i in (2, 3, 7)
        ]
    )
    model.remove_path("/docs/doc010.pdf")
    assert model.rowCount() == 37 == len(model.records())
    assert [model.row_of_path(i.path) for i in model.records()] == list(range(37))
    index = model.index(0, 0)
    assert model.itemData(index)[Qt.ItemDataRole.DisplayRole] == model.item(0).name.name
    assert not model.setData(index, "edited") and model.item(0).path == "/new/9.txt"
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable
    model.clear()
    assert model.rowCount() == 0 and model.records() == [] and model.row_of_path("/new/9.txt") < 0
