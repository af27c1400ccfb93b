"""``expand_paths`` on folders with symlink loops, FIFOs and devices: the walk ends, and only
regular files (or links to them) are listed; an explicit looping link is kept for the caller to
report (it fails with ``file_unreadable``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qwen_desk.core.file_scan import expand_paths


def everything(_path: Path) -> bool:
    return True


def test_a_folder_that_links_to_itself_is_walked_once(tmp_path: Path) -> None:
    root = tmp_path / "loop"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "note.txt").write_text("a note")
    (root / "sub" / "back").symlink_to("..")
    (root / "self").symlink_to(".")
    (root / "a.txt").symlink_to("b.txt")
    (root / "b.txt").symlink_to("a.txt")
    (root / "dangling.txt").symlink_to("missing.txt")
    (root / "real.txt").write_text("real")
    (root / "link.txt").symlink_to("real.txt")
    found = expand_paths([root], everything)
    assert [f.path.name for f in found] == ["real.txt", "note.txt"]  # link.txt -> real.txt
    assert not any(f.explicit for f in found)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifos_and_devices_inside_a_folder_are_left_out(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "zero.txt").symlink_to(os.devnull)
    (tmp_path / "text.txt").write_text("text")
    assert [f.path.name for f in expand_paths([tmp_path], everything)] == ["text.txt"]


def test_an_explicit_looping_link_is_kept_as_given(tmp_path: Path) -> None:
    (tmp_path / "a.txt").symlink_to("b.txt")
    (tmp_path / "b.txt").symlink_to("a.txt")
    (found,) = expand_paths([tmp_path / "a.txt"], everything)
    assert found.explicit and found.path == tmp_path / "a.txt"
