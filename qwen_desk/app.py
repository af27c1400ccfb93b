"""Composition root: builds the QApplication and the main window (placeholder for now)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication([sys.argv[0], *(argv or [])])
    label = QLabel(
        "Qwen Desk — the desktop window is being built. Use the qwen-desk CLI meanwhile."
    )
    label.resize(640, 200)
    label.show()
    return app.exec()
