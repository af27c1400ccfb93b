"""UI layer: the window's status bar: Ollama and ingestion progress.

Plain slots fed by the controllers (the main window wires them): ``set_ollama_state`` from the
Ollama controller, ``set_ingest_progress`` from the knowledge controller, ``set_problems``
from the knowledge controller's ``sig_problems_changed``: what waits for the user (passwords) and
what failed, in the current collection, kept until resolved (not per batch). Clicking either
part emits ``sig_show_problems`` with ``"password"`` or ``"failed"``. The VRAM of the model
and the speed of the last answer are in the model bar, next to the model they are about.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

SUMMARY_MS = 8000  # how long "4 files indexed · 1 failed" stays
OLLAMA_STATES = ("checking", "connected", "unreachable", "wrong_host", "model_missing")
_DOT = {
    "checking": "#a0aec0",
    "connected": "#2da44e",
    "unreachable": "#cf222e",
    "wrong_host": "#d29922",
    "model_missing": "#d29922",
}


class StatusBar(QStatusBar):
    """Ollama state and ingestion, each in its own label."""

    sig_show_problems = Signal(str)
    """``"password"`` or ``"failed"``: the user clicked that count (show those documents)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusBar")
        self.setSizeGripEnabled(True)
        self.ollama_label = QLabel(self)
        self.ingest_label = QLabel(self)
        self.problems_label = QLabel(self)
        self.problems_label.setObjectName("ingestProblems")
        self.problems_label.setTextFormat(Qt.TextFormat.RichText)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.problems_label.linkActivated.connect(self.sig_show_problems)
        self.problems_label.hide()
        self._problems = (0, 0)
        self.ingest_label.setProperty("muted", True)
        self.addWidget(self.ollama_label)
        self.addWidget(self.ingest_label, 1)
        self.addPermanentWidget(self.problems_label)
        self._state = "checking"
        self._detail = ""
        self.set_ollama_state("checking")
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(SUMMARY_MS)
        self._summary_timer.timeout.connect(self.ingest_label.clear)

    def set_ollama_state(self, state: str, detail: str = "") -> None:
        """``state`` is one of ``OLLAMA_STATES``; ``detail`` the version (connected) or host."""
        self._state, self._detail = state, detail
        if state == "connected":
            text = self.tr("Ollama %1").replace("%1", detail).strip()
        elif state == "unreachable":
            text = self.tr("Ollama is not running")
        elif state == "wrong_host":
            text = self.tr("No Ollama at %1").replace("%1", detail)
        elif state == "model_missing":
            text = self.tr("Model not installed: %1").replace("%1", detail)
        else:
            text = self.tr("Looking for Ollama…")
        color = _DOT.get(state, _DOT["checking"])
        self.ollama_label.setText(f'<span style="color:{color}">●</span> {text}')
        self.ollama_label.setToolTip(detail)

    @property
    def ollama_state(self) -> str:
        return self._state

    def set_ingest_progress(self, finished: int, total: int) -> None:
        if total <= 0:
            if not self._summary_timer.isActive():
                self.ingest_label.clear()
            return
        self._summary_timer.stop()
        text = self.tr("Indexing %1 of %2…").replace("%1", str(min(finished + 1, total)))
        self.ingest_label.setText(text.replace("%2", str(total)))

    def set_problems(self, needs_password: int, failed: int) -> None:
        """Documents of the current collection waiting for a password / failed (0, 0 hides)."""
        self._problems = (needs_password, failed)
        parts = []
        if needs_password:
            text = (
                self.tr("1 file needs a password")
                if needs_password == 1
                else self.tr("%1 files need a password").replace("%1", str(needs_password))
            )
            parts.append(f'<a href="password" style="text-decoration:none;">{text}</a>')
        if failed:
            text = (
                self.tr("1 file failed")
                if failed == 1
                else self.tr("%1 files failed").replace("%1", str(failed))
            )
            parts.append(f'<a href="failed" style="text-decoration:none;">⚠ {text}</a>')
        self.problems_label.setText(" · ".join(parts))
        self.problems_label.setToolTip(self.tr("Click to show these files in the list"))
        self.problems_label.setVisible(bool(parts))

    @property
    def problems(self) -> tuple[int, int]:
        return self._problems

    def set_batch_summary(self, indexed: int, failed: int, skipped: int) -> None:
        """After a batch of files: what became of them, for a few seconds."""
        parts = []
        if indexed:
            parts.append(
                self.tr("1 file indexed")
                if indexed == 1
                else self.tr("%1 files indexed").replace("%1", str(indexed))
            )
        if failed:
            parts.append(self.tr("%1 failed").replace("%1", str(failed)))
        if skipped:
            parts.append(self.tr("%1 skipped").replace("%1", str(skipped)))
        self.ingest_label.setText(" · ".join(parts))
        self._summary_timer.start()
