"""The knowledge side of the real main window, with the real ingestion service underneath.

Files are generated (pymupdf, python-docx), dropped on the window as QMimeData URLs, parsed in
the real sandboxed child process, embedded with the packaged model (loaded once per process)
and stored in a real LanceDB folder under the test's ``QWEN_DESK_HOME``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from qwen_desk.controllers.services import AppServices
from qwen_desk.core.settings import Settings
from qwen_desk.core.types import IngestState
from qwen_desk.models.collection_model import display_name
from qwen_desk.ui.main_window import MainWindow
from qwen_desk.ui.messages import message_for
from tests.support.kb import EN_PAGES, make_docx, make_pdf, shared_embedder

pytestmark = [
    pytest.mark.gui,
    pytest.mark.slow,
    # QDragEnterEvent has no QPointF constructor in PySide6 6.12 yet
    pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning"),
]

READY_TIMEOUT_MS = 90_000


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    services = AppServices(Settings(), embedder=shared_embedder())
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    services.start_knowledge()
    qtbot.waitUntil(lambda: win.knowledge.ready, timeout=60_000)
    qtbot.waitUntil(
        lambda: win.knowledge_sidebar.stack.currentIndex() != win.knowledge_sidebar.PAGE_LOADING
    )
    yield win
    win.close()
    services.close()


def drop(win: MainWindow, paths: list[Path]) -> None:
    """Drag local files over a widget in the middle of the window and drop them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    target = win.chat_panel
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, enter)
    assert win.drop_overlay.isVisible(), "the drop highlight shows while dragging"
    # it says where the files go
    shown = display_name(win.knowledge.current_collection)
    assert f"“{shown}”" in win.drop_overlay._label.text()
    dropped = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(win.drop_overlay, dropped)
    assert not win.drop_overlay.isVisible()


def item_state(win: MainWindow, path: Path) -> IngestState | None:
    model = win.knowledge.document_model
    row = model.row_of_path(str(path.resolve()))
    return model.item(row).state if row >= 0 else None


def wait_state(qtbot, win: MainWindow, path: Path, state: IngestState) -> None:
    qtbot.waitUntil(lambda: item_state(win, path) is state, timeout=READY_TIMEOUT_MS)


def test_dropped_pdf_and_docx_become_ready(qtbot, window: MainWindow, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "penguins.pdf", EN_PAGES)
    docx = make_docx(tmp_path / "notes.docx", "Notes", EN_PAGES[:2])
    sidebar = window.knowledge_sidebar
    assert sidebar.stack.currentIndex() == sidebar.PAGE_EMPTY  # first run: the friendly view
    progress: list[tuple[int, int]] = []
    window.knowledge.sig_progress.connect(lambda a, b: progress.append((a, b)))
    drop(window, [pdf, docx])
    wait_state(qtbot, window, pdf, IngestState.READY)
    wait_state(qtbot, window, docx, IngestState.READY)
    assert sidebar.stack.currentIndex() == sidebar.PAGE_LIST
    assert sidebar.status_of(str(pdf.resolve())).startswith("3 pages · 3 passages")
    assert (0, 2) in progress or (1, 2) in progress, progress
    qtbot.waitUntil(lambda: not sidebar.progress_row.isVisible())
    assert window.status.ingest_label.text() == "2 files indexed"
    # the status line of each row is what the delegate paints
    assert window.knowledge_sidebar.list_view.model().rowCount() == 2


def test_corrupt_encrypted_and_unsupported_files(qtbot, window: MainWindow, tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    locked = make_pdf(tmp_path / "locked.pdf", EN_PAGES[:1], password="s3cret")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "table.xlsx").write_bytes(b"PK\x03\x04 not really")
    make_pdf(folder / "inside.pdf", EN_PAGES[1:2])
    drop(window, [corrupt, locked, folder])
    wait_state(qtbot, window, corrupt, IngestState.FAILED)
    wait_state(qtbot, window, locked, IngestState.FAILED)
    wait_state(qtbot, window, folder / "inside.pdf", IngestState.READY)
    wait_state(qtbot, window, folder / "table.xlsx", IngestState.SKIPPED)
    qtbot.waitUntil(
        lambda: window.status.ingest_label.text() == "1 file indexed · 1 failed · 1 skipped",
        timeout=READY_TIMEOUT_MS,
    )  # the locked file is not a failure: it waits for its password, counted apart
    assert window.status.problems == (1, 1)
    sidebar = window.knowledge_sidebar
    assert sidebar.status_of(str(corrupt.resolve())) == message_for("corrupt_file")
    assert "double-click" in sidebar.status_of(str(locked.resolve()))
    assert "Skipped" in sidebar.status_of(str((folder / "table.xlsx").resolve()))

    model = window.knowledge.document_model
    item = model.item(model.row_of_path(str(locked.resolve())))
    menu_texts = [a.text() for a in sidebar.context_menu_for(item).actions()]
    assert "Enter password…" in menu_texts
    # double-clicking the row asks for the password; a wrong one says so, the right one indexes
    view = sidebar.list_view
    index = view.model().index(model.row_of_path(item.path), 0)
    view.scrollTo(index)
    center = view.visualRect(index).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    dialog = sidebar.password_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue("nope")
    dialog.accept()
    qtbot.waitUntil(
        lambda: (
            model.item(model.row_of_path(item.path)).error is not None
            and model.item(model.row_of_path(item.path)).error.code == "wrong_password"
        ),
        timeout=READY_TIMEOUT_MS,
    )
    assert sidebar.status_of(item.path).startswith("Wrong password")
    sidebar.ask_password(item.path)
    dialog = sidebar.password_dialog
    assert "not correct" in dialog.labelText()
    dialog.setTextValue("s3cret")
    dialog.accept()
    wait_state(qtbot, window, locked, IngestState.READY)


def test_remove_and_reindex(qtbot, window: MainWindow, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", EN_PAGES)
    other = make_pdf(tmp_path / "b.pdf", EN_PAGES[:1])
    drop(window, [pdf, other])
    wait_state(qtbot, window, pdf, IngestState.READY)
    wait_state(qtbot, window, other, IngestState.READY)
    controller = window.knowledge
    seen: list[IngestState] = []
    controller.sig_event.connect(lambda e: seen.append(e.state))
    controller.reindex_document(str(pdf.resolve()))
    qtbot.waitUntil(lambda: IngestState.EMBEDDING in seen, timeout=READY_TIMEOUT_MS)
    wait_state(qtbot, window, pdf, IngestState.READY)
    assert seen[-1] is IngestState.READY
    # select the row and press Delete
    view = window.knowledge_sidebar.list_view
    view.setCurrentIndex(
        view.model().index(controller.document_model.row_of_path(str(other.resolve())), 0)
    )
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert item_state(window, other) is None
    kb = window.services.knowledge
    assert kb is not None
    qtbot.waitUntil(
        lambda: [d.path for d in kb.store.list_documents("default")] == [str(pdf.resolve())],
        timeout=60_000,
    )
    # after a reload from the store only the remaining document is listed
    controller.refresh()
    qtbot.waitUntil(lambda: controller.document_model.rowCount() == 1)


def test_collections_create_rename_delete(qtbot, window: MainWindow, tmp_path: Path) -> None:
    sidebar = window.knowledge_sidebar
    controller = window.knowledge
    sidebar.ask_new_collection()
    sidebar.name_dialog.setTextValue("Client A")
    sidebar.name_dialog.accept()
    qtbot.waitUntil(lambda: controller.current_collection == "Client A", timeout=60_000)
    qtbot.waitUntil(lambda: sidebar.collection_combo.currentText() == "Client A")
    assert set(controller.collection_model.names()) == {"Client A", "default"}
    drop(window, [make_pdf(tmp_path / "c.pdf", EN_PAGES[:1])])
    wait_state(qtbot, window, tmp_path / "c.pdf", IngestState.READY)

    sidebar.ask_rename_collection()
    sidebar.name_dialog.setTextValue("Client B")
    sidebar.name_dialog.accept()
    qtbot.waitUntil(lambda: controller.current_collection == "Client B", timeout=60_000)
    qtbot.waitUntil(lambda: "Client B" in controller.collection_model.names())
    qtbot.waitUntil(lambda: controller.document_model.rowCount() == 1, timeout=60_000)

    # switching shows the other collection's (empty) list
    controller.set_current_collection("default")
    qtbot.waitUntil(lambda: sidebar.stack.currentIndex() == sidebar.PAGE_EMPTY, timeout=60_000)
    controller.set_current_collection("Client B")
    qtbot.waitUntil(lambda: controller.document_model.rowCount() == 1, timeout=60_000)

    # deleting asks first; Cancel keeps it
    sidebar.ask_delete_collection()
    box = sidebar.confirm_dialog
    assert isinstance(box, QMessageBox) and "Client B" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert "Client B" in controller.collection_model.names()
    sidebar.ask_delete_collection()
    box = sidebar.confirm_dialog
    delete = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    delete.click()
    qtbot.waitUntil(lambda: controller.collection_model.names() == ["default"], timeout=60_000)
    assert controller.current_collection == "default"


def test_cancel_running_ingestion(qtbot, window: MainWindow, tmp_path: Path) -> None:
    files = [make_pdf(tmp_path / f"doc{i}.pdf", EN_PAGES * 3) for i in range(6)]
    drop(window, files)
    sidebar = window.knowledge_sidebar
    qtbot.waitUntil(sidebar.progress_row.isVisible, timeout=60_000)
    sidebar.cancel_button.click()
    qtbot.waitUntil(lambda: not sidebar.progress_row.isVisible(), timeout=READY_TIMEOUT_MS)
    model = window.knowledge.document_model
    assert not any(item.active for item in model.items())
    assert model.rowCount() < len(files)  # cancelled files do not stay listed


def test_new_embedding_model_offers_a_reindex(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Settings -> another embedding model folder -> the mismatch is explained, Re-index works."""
    import json
    import shutil

    from qwen_desk.core.embedding import default_model_path
    from qwen_desk.ui.settings_dialog import SettingsDialog

    doc = tmp_path / "note.md"
    doc.write_text("# Note\n\n" + EN_PAGES[0] + "\n", encoding="utf-8")
    drop(window, [doc])
    wait_state(qtbot, window, doc, IngestState.READY)
    old_model = window.services.knowledge.embedder.model_id  # type: ignore[union-attr]

    # "another" model: the packaged one with a changed config (so its id differs)
    other = tmp_path / "other-model"
    shutil.copytree(default_model_path(), other)
    config = json.loads((other / "config.json").read_text(encoding="utf-8"))
    config["qwen_desk_test_variant"] = 2
    (other / "config.json").write_text(json.dumps(config), encoding="utf-8")

    dialog = SettingsDialog(window.services, window)
    qtbot.addWidget(dialog)
    dialog.embed_edit.setText(str(other))
    dialog.accept()
    sidebar = window.knowledge_sidebar
    qtbot.waitUntil(lambda: window.knowledge_error_box is not None, timeout=60_000)
    box = window.knowledge_error_box
    assert box is not None and "different embedding model" in box.text()
    assert sidebar.stack.currentIndex() == sidebar.PAGE_LOADING
    reindex = next(b for b in box.buttons() if b.text() == "Re-index now")
    reindex.click()
    qtbot.waitUntil(lambda: window.knowledge.ready, timeout=60_000)
    kb = window.services.knowledge
    assert kb is not None and kb.embedder.model_id != old_model
    qtbot.waitUntil(
        lambda: (
            [d.embed_model for d in kb.store.list_documents("default")] == [kb.embedder.model_id]
        ),
        timeout=READY_TIMEOUT_MS,
    )
    wait_state(qtbot, window, doc, IngestState.READY)


def test_collection_counts_reload_once_per_burst(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """A burst of finished files (as the worker reports a big folder) reloads the counts once,
    off the GUI thread, instead of once per file."""
    import threading

    from qwen_desk.core.types import IngestEvent

    ingest = window.services.ingest
    collection = "notes"
    window.knowledge.create_collection(collection)  # the store exists: counts can be read
    qtbot.waitUntil(lambda: window.knowledge.document_model.collection == collection)
    qtbot.wait(1000)
    reloads: list[int] = []
    window.knowledge.sig_collections_changed.connect(lambda: reloads.append(1))
    events = [
        IngestEvent(str(tmp_path / f"note{i}.txt"), collection, IngestState.READY, job_id=i + 1)
        for i in range(400)
    ]
    worker = threading.Thread(target=lambda: [ingest._emit(e) for e in events])
    worker.start()
    worker.join()
    model = window.knowledge.document_model
    qtbot.waitUntil(lambda: model.row_of_path(events[-1].path) == 0)
    qtbot.waitUntil(lambda: len(reloads) >= 1, timeout=60_000)
    qtbot.wait(1000)  # more than the debounce interval: no further reload is pending
    assert 1 <= len(reloads) <= 2  # one per drain pass at worst, never one per file


def test_a_big_burst_is_drained_in_slices_in_order(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    """Thousands of QUEUED events (a dropped folder) reach the list over several passes with the
    event loop running in between, the last queued on top, every file counted once."""
    import threading

    from PySide6.QtCore import QTimer

    from qwen_desk.core.types import IngestEvent

    ingest = window.services.ingest
    collection = window.knowledge.current_collection
    model = window.knowledge.document_model
    n = 3000
    events = [
        IngestEvent(str(tmp_path / f"n{i:04}.txt"), collection, IngestState.QUEUED, job_id=i + 1)
        for i in range(n)
    ]
    ticks = {"n": 0}
    ticker = QTimer()
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: ticks.__setitem__("n", ticks["n"] + 1))
    ticks_at_insert: list[int] = []
    model.rowsInserted.connect(lambda *_: ticks_at_insert.append(ticks["n"]))
    rows_before = model.rowCount()
    ticker.start()
    worker = threading.Thread(target=lambda: [ingest._emit(e) for e in events])
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: model.row_of_path(events[-1].path) == 0, timeout=60_000)
    ticker.stop()
    assert model.rowCount() == rows_before + n
    assert [model.item(r).path for r in range(n)] == [e.path for e in reversed(events)]
    assert len(ticks_at_insert) > 1  # applied in slices, not in one go
    assert ticks_at_insert[-1] > ticks_at_insert[0]  # the event loop ran between them
    sidebar = window.knowledge_sidebar
    assert sidebar.stack.currentIndex() == sidebar.PAGE_LIST and sidebar.buttons_row.isVisible()
