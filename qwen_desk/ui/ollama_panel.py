"""UI layer: ``OllamaPanel``, the friendly explanation shown while Ollama cannot be reached.

Visible only in the ``unreachable`` and ``wrong_host`` states. It says what to do in the user's
language (install, start, pull the model), shows the download address as plain text (the app is
offline: nothing here opens a browser), counts down to the next automatic check with a "Retry
now" button, and reminds that documents and search keep working meanwhile.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from qwen_desk.controllers.ollama_controller import UNREACHABLE, WRONG_HOST

DOWNLOAD_ADDRESS = "https://ollama.com/download"


class OllamaPanel(QFrame):
    """Explains how to get Ollama running; retries by itself."""

    def __init__(self, ollama: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ollamaPanel")
        self._ollama = ollama
        self._remaining = 0
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        layout.addWidget(self.title)
        self.body = QLabel(self)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.body)
        row = QHBoxLayout()
        self.countdown = QLabel(self)
        row.addWidget(self.countdown, 1)
        self.retry_button = QPushButton(self)
        self.retry_button.clicked.connect(self._retry)
        row.addWidget(self.retry_button)
        layout.addLayout(row)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        ollama.sig_state_changed.connect(self.on_state)
        ollama.sig_retry_scheduled.connect(self.on_retry_scheduled)
        self.on_state(ollama.state, ollama.detail)

    def on_state(self, state: str, detail: str) -> None:
        self._state, self._detail = state, detail
        self.setVisible(state in (UNREACHABLE, WRONG_HOST))
        self.retranslate()

    def retranslate(self) -> None:
        state, host = self._state, self._detail or self._ollama.host
        model = self._ollama.current_model
        if state == WRONG_HOST:
            self.title.setText(self.tr("No Ollama answers at %1").replace("%1", host))
            steps = [
                self.tr("Something else answers at this address, or the address is wrong."),
                self.tr("Check the Ollama host in Settings (usually %1).").replace(
                    "%1", "http://127.0.0.1:11434"
                ),
            ]
        else:
            self.title.setText(self.tr("Ollama is not running"))
            steps = [
                self.tr(
                    "Install Ollama from %1 (type the address on a computer with internet "
                    "access and copy the installer here)."
                ).replace("%1", f"<code>{DOWNLOAD_ADDRESS}</code>"),
                self.tr("Start it: open the Ollama app, or run %1 in a terminal.").replace(
                    "%1", "<code>ollama serve</code>"
                ),
                self.tr("Qwen Desk looks for it at %1 (change it in Settings).").replace(
                    "%1", f"<code>{host}</code>"
                ),
                self.tr("The model %1 can then be downloaded from here with one click.").replace(
                    "%1", f"<code>{model}</code>"
                ),
            ]
        items = "".join(f"<li>{s}</li>" for s in steps)
        note = self.tr("Your documents and search keep working meanwhile.")
        self.body.setText(f"<ol style='margin-left:0'>{items}</ol><i>{note}</i>")
        self.retry_button.setText(self.tr("Retry now"))
        self._show_countdown()

    def on_retry_scheduled(self, seconds: float) -> None:
        self._remaining = round(seconds)
        self._show_countdown()
        self._tick.start()

    def _on_tick(self) -> None:
        self._remaining = max(0, self._remaining - 1)
        self._show_countdown()
        if self._remaining == 0:
            self._tick.stop()

    def _show_countdown(self) -> None:
        if self._remaining > 0:
            self.countdown.setText(self.tr("Retrying in %1 s…").replace("%1", str(self._remaining)))
        else:
            self.countdown.setText(self.tr("Checking…"))

    def _retry(self) -> None:
        self._remaining = 0
        self._show_countdown()
        self._ollama.retry_now()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "_state"):
            self.retranslate()
        super().changeEvent(event)
