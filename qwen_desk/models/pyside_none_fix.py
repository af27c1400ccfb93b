"""Models layer: works around PySide6 6.12.0's ``None`` reference leak on Python 3.11.

Measured here (PySide6-Essentials 6.12.0, CPython 3.11.7): every call of a C++ method that
returns ``void`` (``QObject.setObjectName``, ``QLabel.setText``, ``QTextCursor.setPosition``...)
drops one reference to ``None`` that it never took. ``None`` starts with a few thousand
references, so after a few thousand such calls the interpreter aborts with "Fatal Python error:
none_dealloc: deallocating None" (a streaming answer makes that many calls in seconds). Python
3.12 made ``None`` immortal (PEP 683), which hides the bug there; 6.11 does not leak, and
pyproject.toml excludes 6.12.0. Where 6.12.0 is present anyway (a frozen build, a hand-made
environment) the fix does what 3.12 does: it gives ``None`` a huge reference count once, so it
can never reach zero (``True``/``False`` too: a leak of those aborted a process at exit).

It is idempotent and a no-op on 3.12+, on non-CPython and on other bindings. It runs on import:
every module that uses Qt imports it (models, hence controllers and ui), and so does the
composition root, first.
"""

from __future__ import annotations

import ctypes
import platform
import sys

# Bindings known to leak: pyproject.toml excludes them, but a frozen build or a hand-made
# environment may still carry one.
LEAKING_SHIBOKEN_VERSIONS = ("6.12.0",)

_EXTRA_REFERENCES = 1 << 40  # ~1e12 leaked calls before it could matter


def make_none_immortal() -> bool:
    """Raise the reference counts of ``None``, ``True`` and ``False`` far out of reach.

    True when it was needed and done (``True``/``False`` leak the same way in some bindings).
    """
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    import shiboken6

    if shiboken6.__version__ not in LEAKING_SHIBOKEN_VERSIONS:
        return False
    if sys.getrefcount(None) > _EXTRA_REFERENCES // 2:
        return False  # already done in this process
    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))
        refcount.value += _EXTRA_REFERENCES
    return True


make_none_immortal()
