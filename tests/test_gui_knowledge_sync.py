"""The window and other processes: documents added by ``qwen-desk add`` while the window is open
appear in the sidebar (with their counts), named by the one naming rule of ``core.naming``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_desk.core.naming import document_name, meaningful_title
from qwen_desk.core.types import IngestState
from qwen_desk.models.document_model import DocumentModel
from qwen_desk.ui.document_delegate import tooltip_text
from qwen_desk.ui.main_window import MainWindow
from tests.support.kb import EN_PAGES, ZH_PARAGRAPHS
from tests.support.window import window  # noqa: F401  (fixture)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("title", "path", "shown"),
    [
        ("标准名称", "/d/gb-2018.pdf", ""),
        ("Untitled", "/d/a.pdf", ""),
        ("Microsoft Word - report.doc", "/d/report.pdf", ""),
        ("report.docx", "/d/x.docx", ""),
        ("annual_report-2018", "/d/Annual Report 2018.pdf", ""),  # the file name again
        ("", "/d/a.pdf", ""),
        ("%!\" $#", "/d/a.pdf", ""),
        ("x" * 400, "/d/a.pdf", ""),
        ("东北电气2018年第一季度报告", "/d/q1.pdf", "东北电气2018年第一季度报告"),
        ("  Emperor   penguins ", "/d/notes.pdf", "Emperor penguins"),
    ],
)  # fmt: skip
def test_a_title_is_shown_only_when_it_says_something(title: str, path: str, shown: str) -> None:
    assert meaningful_title(title, path) == shown
    name = document_name(path, title)
    assert name.name == Path(path).name and name.title == shown


def _pdf_with_title(path: Path, title: str) -> Path:
    import pymupdf

    doc = pymupdf.open()
    for text in EN_PAGES:
        doc.new_page().insert_textbox(pymupdf.Rect(56, 56, 540, 790), text, fontsize=11)
    doc.set_metadata({"title": title})
    doc.save(path)
    doc.close()
    return path


def _docx_with_title(path: Path, title: str) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for text in ZH_PARAGRAPHS:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def _row(win: MainWindow, path: Path) -> int:
    return win.knowledge.document_model.row_of_path(str(path.resolve()))


@pytest.mark.gui
@pytest.mark.slow
def test_documents_added_by_the_cli_appear_in_the_open_window(
    qtbot,
    window: MainWindow,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    pdf = _pdf_with_title(tmp_path / "penguins.pdf", "Emperor Penguins Field Notes")
    docx = _docx_with_title(tmp_path / "熊猫.docx", "标准名称")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1")
    log = tmp_path / "cli.log"
    with log.open("w") as output:  # a file, not a pipe: the child never blocks on output
        cli = subprocess.Popen(
            [sys.executable, "-m", "qwen_desk", "add", str(pdf), str(docx)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            qtbot.waitUntil(lambda: cli.poll() is not None, timeout=180_000)  # window lives on
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait()
    assert cli.returncode == 0, log.read_text()

    qtbot.waitUntil(lambda: _row(window, pdf) >= 0 and _row(window, docx) >= 0, timeout=30_000)
    model = window.knowledge.document_model
    for path in (pdf, docx):
        item = model.item(_row(window, path))
        assert item.state is IngestState.READY and item.chunks > 0
        index = model.index(_row(window, path))
        assert index.data() == path.name  # the file name, as while indexing
    assert model.item(_row(window, pdf)).name.title == "Emperor Penguins Field Notes"
    assert model.item(_row(window, docx)).name.title == ""  # the placeholder is not shown
    assert tooltip_text(model.item(_row(window, pdf))).startswith(
        "penguins.pdf — Emperor Penguins Field Notes"
    )
    info = window.knowledge.collection_model.info(window.knowledge.current_collection)
    assert info is not None and info.n_documents == 2  # the counts follow
    sidebar = window.knowledge_sidebar
    assert sidebar.stack.currentIndex() == sidebar.PAGE_LIST
    assert sidebar.list_view.model().index(0).data(DocumentModel.PathRole)
