"""The knowledge base's write lock excludes writers in other processes, not only threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from qwen_desk.core.store.write_lock import ProcessWriteLock

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from qwen_desk.core.store.write_lock import ProcessWriteLock
    lock = ProcessWriteLock(Path(sys.argv[1]))
    log = Path(sys.argv[2])
    for _ in range(20):
        with lock:
            with log.open("a") as f:
                f.write("B\\n"); f.flush()
                time.sleep(0.005)
                f.write("E\\n")
    """
)


def test_two_processes_never_hold_it_at_once(tmp_path: Path) -> None:
    lock_path, log = tmp_path / "k" / ".write.lock", tmp_path / "log"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(lock_path), str(log)])
        for _ in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=600) == 0
    lines = log.read_text().split()
    assert len(lines) == 80
    assert lines == ["B", "E"] * 40  # every begin is followed by its own end


def test_released_after_an_error_and_reusable(tmp_path: Path) -> None:
    lock = ProcessWriteLock(tmp_path / ".write.lock")
    try:
        with lock:
            raise ValueError("x")
    except ValueError:
        pass
    with lock:
        pass
