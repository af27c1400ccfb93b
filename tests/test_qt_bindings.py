"""The Qt bindings in use do not leak references to ``None`` (or the workaround is active)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject

from qwen_desk.models import pyside_none_fix


def test_void_calls_do_not_drain_none_or_the_workaround_covers_it() -> None:
    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(2000):
        obj.setObjectName("probe")
    leaked = before - sys.getrefcount(None)
    if leaked < 1000:
        return  # these bindings are sound (PySide6 6.11, or Python 3.12+)
    # A leaking build (6.12.0 on 3.11) is only safe with the immortal-None workaround applied.
    import shiboken6

    assert shiboken6.__version__ in pyside_none_fix.LEAKING_SHIBOKEN_VERSIONS
    assert sys.getrefcount(None) > 1 << 30, "None would be deallocated after a few thousand calls"
