"""The window refuses a batch that clearly cannot fit on the disk, saying how much it needs.

The batch is a sparse text file whose size is larger than the whole free space (it takes no
room, and it is never read: the check looks at sizes only). The real window, controller and
knowledge base; the message box is the sidebar's, in the test's (English) locale.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from qwen_desk.ui.main_window import MainWindow
from qwen_desk.ui.messages import error_text, message_for
from tests.support.window import window  # noqa: F401  (fixture)

pytestmark = [pytest.mark.gui]


def test_a_batch_larger_than_the_free_space_is_refused_with_the_space_needed(
    qtbot,
    window: MainWindow,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    free = shutil.disk_usage(tmp_path).free
    huge = tmp_path / "huge.txt"
    try:
        with open(huge, "wb") as fh:
            fh.truncate(4 * free)  # sparse: the size is only a number in the inode
    except OSError as exc:
        pytest.skip(f"cannot make a sparse file this large here: {exc}")
    errors: list[tuple[str, str]] = []
    window.knowledge.sig_error.connect(lambda code, detail: errors.append((code, detail)))
    window.knowledge.add_paths([huge])
    qtbot.waitUntil(lambda: bool(errors), timeout=30_000)
    code, detail = errors[0]
    assert code == "disk_full"
    needed = re.search(r"needs about ([0-9.]+) MB", detail)
    assert needed is not None and float(needed.group(1)) * 1024**2 > free
    box = window.knowledge_sidebar.confirm_dialog
    assert isinstance(box, QMessageBox)
    assert box.text() == error_text(code, detail)
    assert needed.group(1) in box.text() and box.text() != message_for("disk_full")
    assert window.knowledge.document_model.row_of_path(str(huge)) < 0  # nothing queued
