"""UI layer: ``PullDialog``, the one-click download of a missing model with real progress.

Shows the model name and size-independent facts, a progress bar over the whole model (the
bytes of every layer seen, summed as Ollama's CLI does: "1.2 GB of 4.7 GB"), the speed and the
time left (from ``PullProgress``), and Cancel. Errors (no network, unknown model) are explained in
the user's language; Ollama keeps the finished layers, so "Try again" resumes. Once the model is
installed the heading says so and only Done is left.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.core.types import PullProgress
from qwen_desk.ui.messages import error_text


def format_bytes(n: float) -> str:
    return QLocale().formattedDataSize(int(n), 1, QLocale.DataSizeFormat.DataSizeSIFormat)


class PullDialog(QDialog):
    """Offers, runs and reports the download of one model."""

    def __init__(self, ollama: Any, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ollama = ollama
        self.model = model
        self.setWindowTitle(self.tr("Download model"))
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.title)
        self.explain = QLabel(
            self.tr(
                "Qwen Desk answers with this model on your own computer. Ollama downloads it "
                "once (several GB); an interrupted download resumes where it stopped."
            ),
            self,
        )
        self.explain.setWordWrap(True)
        layout.addWidget(self.explain)
        self.status = QLabel(self)
        layout.addWidget(self.status)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)  # the percentage is in the detail line
        layout.addWidget(self.bar)
        self.detail = QLabel(self)
        layout.addWidget(self.detail)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(self)
        self.download_button = QPushButton(self.tr("Download"), self)
        self.download_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel download"), self)
        self.close_button = QPushButton(self.tr("Close"), self)
        self.buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.download_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._ollama.cancel_pull)
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        ollama.sig_pull_progress.connect(self.on_progress)
        ollama.sig_pull_finished.connect(self.on_finished)
        ollama.sig_pull_failed.connect(self.on_failed)
        ollama.sig_pull_cancelled.connect(self.on_cancelled)
        self._set_heading(self.tr("The model %1 is not installed in Ollama."))
        self._set_running(ollama.pulling)
        self.status.setText(self.tr("Ready to download."))

    def start(self) -> None:
        """Start (or resume) the download."""
        self.error.hide()
        self.status.setText(self.tr("Starting…"))
        self._ollama.pull(self.model)
        self._set_running(True)

    def _set_heading(self, text: str) -> None:
        """``text`` with ``%1`` the model name, in bold."""
        name = self.model.replace("&", "&amp;").replace("<", "&lt;")
        self.title.setText("<b>" + text.replace("%1", name) + "</b>")

    def _set_running(self, running: bool) -> None:
        self.download_button.setVisible(not running)
        self.cancel_button.setVisible(running)
        self.close_button.setVisible(not running)
        self.bar.setVisible(running or self.bar.value() > 0)

    def on_progress(self, progress: PullProgress) -> None:
        status = progress.status
        if status.startswith("pulling ") and progress.total:
            self.status.setText(self.tr("Downloading %1…").replace("%1", self.model))
        elif status.startswith("verifying"):
            self.status.setText(self.tr("Verifying the download…"))
        elif status.startswith("writing"):
            self.status.setText(self.tr("Installing…"))
        elif status == "success":
            self.status.setText(self.tr("Done."))
        else:
            self.status.setText(self.tr("Contacting the model library…"))
        # the whole model's bytes (every layer seen), not the layer being pulled
        done, total = progress.model_completed, progress.model_total
        if not total:
            done, total = progress.completed, progress.total
        if total:
            fraction = min(1.0, done / total)
            self.bar.setValue(int(fraction * 1000))
            self.bar.setFormat(f"{fraction * 100:.0f}%")
            parts = [
                f"{fraction * 100:.0f}%",
                self.tr("%1 of %2")
                .replace("%1", format_bytes(done))
                .replace("%2", format_bytes(total)),
            ]
            if progress.bytes_per_s and done < total:
                parts.append(self.tr("%1/s").replace("%1", format_bytes(progress.bytes_per_s)))
            if progress.eta_s is not None and done < total:
                parts.append(self.tr("%1 left").replace("%1", self.duration(progress.eta_s)))
            self.detail.setText(" · ".join(parts))

    def duration(self, seconds: float) -> str:
        """``42 s``, ``3 min 05 s``, ``1 h 20 min`` (translated)."""
        seconds = max(0, round(seconds))
        if seconds < 60:
            return self.tr("%1 s").replace("%1", str(seconds))
        minutes, secs = divmod(seconds, 60)
        if minutes < 60:
            return self.tr("%1 min %2 s").replace("%1", str(minutes)).replace("%2", f"{secs:02d}")
        hours, minutes = divmod(minutes, 60)
        return self.tr("%1 h %2 min").replace("%1", str(hours)).replace("%2", f"{minutes:02d}")

    def on_finished(self, model: str) -> None:
        self.bar.setValue(1000)
        self.bar.setFormat("100%")
        self.status.setText(
            self.tr("%1 is installed. You can ask questions now.").replace("%1", model)
        )
        self._set_heading(self.tr("The model %1 is installed."))
        self.explain.hide()
        self.error.hide()
        self._set_running(False)
        self.download_button.hide()  # nothing left to download
        self.close_button.setText(self.tr("Done"))
        self.close_button.setDefault(True)

    def on_failed(self, code: str, detail: str) -> None:
        self._set_running(False)
        self.download_button.setText(self.tr("Try again"))
        text = error_text(code, detail, with_detail=True)
        if (
            "network" in detail.lower()
            or "dial tcp" in detail.lower()
            or "lookup" in detail.lower()
        ):
            text += "\n" + self.tr(
                "Ollama could not reach the model library: this computer seems to be offline. "
                "Connect it to the internet, or copy the model from another computer "
                "(the folder ~/.ollama/models)."
            )
        self.error.setText(text)
        self.error.show()
        self.status.setText(self.tr("The download stopped."))

    def on_cancelled(self, model: str) -> None:
        self._set_running(False)
        self.download_button.setText(self.tr("Resume download"))
        self.status.setText(self.tr("Cancelled. The part already downloaded is kept."))
