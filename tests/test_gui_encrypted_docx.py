"""A password-protected .docx from the corpus, end to end: the window asks for the password,
says when it is wrong, indexes the file with the right one (decrypted in the parser child) and
finds it; the CLI does the same with ``add --password``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_desk.core.types import Hit, IngestState
from qwen_desk.ui.main_window import MainWindow
from tests.support.window import open_window, window  # noqa: F401  (fixture)

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCKED = "tika__testWORD_protected_passtika.docx"
PASSWORD = "tika"
TIMEOUT_MS = 90_000


@pytest.fixture
def locked(corpus: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(corpus / "docx" / LOCKED, tmp_path / "locked.docx")).resolve()


def _error_code(win: MainWindow, path: Path) -> str:
    model = win.knowledge.document_model
    row = model.row_of_path(str(path))
    if row < 0:
        return ""
    item = model.item(row)
    return "ready" if item.state is IngestState.READY else (item.error.code if item.error else "")


def _type_password(qtbot, win: MainWindow, path: Path, password: str) -> str:
    """Open the password prompt as a double-click does, type ``password``; return its label."""
    sidebar = win.knowledge_sidebar
    sidebar.ask_password(str(path))
    dialog = sidebar.password_dialog
    qtbot.waitUntil(dialog.isVisible)
    label = dialog.labelText()
    dialog.setTextValue(password)
    dialog.accept()
    return label


@pytest.mark.gui
@pytest.mark.slow
def test_window_asks_for_the_password_and_indexes_the_file(
    qtbot,
    window: MainWindow,  # noqa: F811  (the fixture imported above)
    locked: Path,
) -> None:
    window.knowledge.add_paths([locked])
    qtbot.waitUntil(lambda: _error_code(window, locked) == "password_required", timeout=TIMEOUT_MS)
    assert "password" in window.knowledge_sidebar.status_of(str(locked)).lower()

    _type_password(qtbot, window, locked, "not-the-password")
    qtbot.waitUntil(lambda: _error_code(window, locked) == "wrong_password", timeout=TIMEOUT_MS)
    assert "Wrong password" in window.knowledge_sidebar.status_of(str(locked))

    label = _type_password(qtbot, window, locked, PASSWORD)
    assert "not correct" in label  # the second prompt says the first password was wrong
    qtbot.waitUntil(lambda: _error_code(window, locked) == "ready", timeout=TIMEOUT_MS)

    found: list[list[Hit]] = []
    window.knowledge.search("encrypted Word 2007 File", found.append, k=3)
    qtbot.waitUntil(lambda: bool(found), timeout=30_000)
    assert any(h.path == str(locked) and "encrypted Word 2007" in h.text for h in found[0])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "qwen_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.slow
def test_cli_add_with_password(locked: Path) -> None:
    wrong = _cli("add", str(locked), "--password", "nope", "--json")
    assert wrong.returncode != 0
    assert "wrong_password" in wrong.stdout + wrong.stderr
    right = _cli("add", str(locked), "--password", PASSWORD, "--json")
    assert right.returncode == 0, right.stderr
    listed = json.loads(_cli("list", "--json").stdout)
    assert [d["status"] for d in listed if d["path"] == str(locked)] == ["ready"]


def _batch(qtbot, win: MainWindow, paths: list[Path]) -> tuple[int, int, int]:
    with qtbot.waitSignal(win.knowledge.sig_batch_finished, timeout=TIMEOUT_MS) as blocker:
        win.knowledge.add_paths(paths)
    indexed, failed, skipped = blocker.args
    return indexed, failed, skipped


@pytest.mark.gui
@pytest.mark.slow
def test_status_bar_counts_passwords_apart_per_collection_until_resolved(
    qtbot, locked: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.docx"
    broken.write_text("not a word file")
    good = tmp_path / "notes.md"
    good.write_text("# Notes\n\nEmperor penguins keep the egg warm for sixty days.\n")
    win = open_window(qtbot)
    status = win.status
    assert not status.problems_label.isVisible()
    # one batch: the locked file is not a failure, it needs the user
    assert _batch(qtbot, win, [locked, broken, good]) == (1, 1, 0)
    qtbot.waitUntil(lambda: status.problems == (1, 1))
    assert status.problems_label.isVisible()
    text = status.problems_label.text()
    assert "1 file needs a password" in text and "1 file failed" in text
    # the next batch does not reset them
    other = tmp_path / "other.md"
    other.write_text("# Other\n\nPandas eat bamboo.\n")
    assert _batch(qtbot, win, [other]) == (1, 0, 0)
    assert status.problems == (1, 1)
    # clicking the count selects that file in the sidebar
    status.problems_label.linkActivated.emit("password")
    current = win.knowledge_sidebar.list_view.currentIndex()
    assert current.data(win.knowledge.document_model.PathRole) == str(locked)
    # kept across a restart (from the stored rows), per collection
    win.close()
    win.services.close()
    win = open_window(qtbot)
    status = win.status
    qtbot.waitUntil(lambda: status.problems == (1, 1), timeout=30_000)
    win.knowledge.create_collection("empty")
    qtbot.waitUntil(lambda: win.knowledge.current_collection == "empty")
    qtbot.waitUntil(lambda: status.problems == (0, 0) and not status.problems_label.isVisible())
    win.knowledge.set_current_collection("default")
    qtbot.waitUntil(lambda: status.problems == (1, 1), timeout=30_000)
    # resolved: the right password, and the broken file removed
    win.knowledge.retry_with_password(str(locked), PASSWORD)
    qtbot.waitUntil(lambda: status.problems == (0, 1), timeout=TIMEOUT_MS)
    win.knowledge.remove_document(str(broken.resolve()))
    assert status.problems == (0, 0) and not status.problems_label.isVisible()
    win.close()
    win.services.close()
