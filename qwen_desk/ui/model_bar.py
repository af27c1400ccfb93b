"""UI layer: ``ModelBar``, the strip above the chat: Ollama state, model selector, VRAM.

The state pill shows connected + version, not running, wrong host or model missing (with a
"Download…" button that opens ``PullDialog``). The selector lists the daemon's installed models;
choosing one makes it the model for answers. VRAM comes from ``/api/ps`` (with the share on the
GPU; shown here only, not again in the status bar); the speed is that of the open conversation's
last answer (the chat controller's statistics, then the stored ones when a conversation is
opened; nothing for a new chat).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QLocale, Qt
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from qwen_desk.controllers.ollama_controller import (
    CONNECTED,
    MODEL_MISSING,
    UNREACHABLE,
    WRONG_HOST,
    same_model,
)
from qwen_desk.core.types import LoadedModel, ModelInfo, StreamStats
from qwen_desk.ui.pull_dialog import PullDialog, format_bytes

_DOT = {
    CONNECTED: "#2da44e",
    UNREACHABLE: "#cf222e",
    WRONG_HOST: "#cf222e",
    MODEL_MISSING: "#d29922",
}


class ModelBar(QFrame):
    """State pill, model selector, VRAM and speed."""

    def __init__(self, ollama: Any, chat: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelBar")
        self._ollama = ollama
        self._dialog: PullDialog | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(10)
        self.pill = QLabel(self)
        self.pill.setObjectName("ollamaStatePill")
        self.pill.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.pill)
        self.model_label = QLabel(self)
        layout.addWidget(self.model_label)
        self.selector = QComboBox(self)
        self.selector.setObjectName("modelSelector")
        self.selector.setMinimumContentsLength(16)
        self.selector.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.selector.activated.connect(self._on_selected)
        layout.addWidget(self.selector)
        self.pull_button = QPushButton(self)
        self.pull_button.clicked.connect(self.open_pull_dialog)
        self.pull_button.hide()
        layout.addWidget(self.pull_button)
        layout.addStretch(1)
        self.speed = QLabel(self)
        layout.addWidget(self.speed)
        self.vram = QLabel(self)
        self.vram.setObjectName("vramLabel")
        layout.addWidget(self.vram)
        ollama.sig_state_changed.connect(self.on_state)
        ollama.sig_models_changed.connect(self.on_models)
        ollama.sig_loaded_models.connect(self.on_loaded)
        ollama.sig_model_missing.connect(lambda _m: self.open_pull_dialog())
        ollama.sig_current_model_changed.connect(lambda _m: self.on_models(ollama.models))
        self._chat = chat
        if chat is not None and hasattr(chat, "sig_stats"):
            chat.sig_stats.connect(self.on_stats)
            chat.sig_error.connect(self.on_chat_error)
            chat.sig_conversation_changed.connect(self.on_conversation_changed)
        self._state, self._detail = ollama.state, ollama.detail
        self.retranslate()
        self.on_models(ollama.models)
        self.on_loaded(ollama.loaded)

    def retranslate(self) -> None:
        self.model_label.setText(self.tr("Model:"))
        self.pull_button.setText(self.tr("Download…"))
        self.on_state(self._state, self._detail)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # --- reactions --------------------------------------------------------------------------

    def on_state(self, state: str, detail: str) -> None:
        self._state, self._detail = state, detail
        if state == CONNECTED:
            text = self.tr("Ollama %1").replace("%1", detail)
        elif state == UNREACHABLE:
            text = self.tr("Ollama not running")
        elif state == WRONG_HOST:
            text = self.tr("Wrong host: %1").replace("%1", detail)
        elif state == MODEL_MISSING:
            text = self.tr("Model missing: %1").replace("%1", detail)
        else:
            text = self.tr("Looking for Ollama…")
        color = _DOT.get(state, "#8c959f")
        self.pill.setText(f'<span style="color:{color};">●</span>&nbsp;{text}')
        self.pull_button.setVisible(state == MODEL_MISSING)
        if state != CONNECTED:
            self.vram.setText("")  # what /api/ps said no longer holds
        self.selector.setEnabled(state in (CONNECTED, MODEL_MISSING))

    def on_models(self, models: list[ModelInfo]) -> None:
        current = self._ollama.current_model
        names = [m.name for m in models]
        self.selector.blockSignals(True)
        self.selector.clear()
        for info in models:
            facts = ", ".join(f for f in (info.parameter_size, info.quantization) if f)
            label = f"{info.name}  ({facts})" if facts else info.name
            self.selector.addItem(label, info.name)
        if not any(same_model(n, current) for n in names):
            self.selector.addItem(self.tr("%1 (not installed)").replace("%1", current), current)
        index = next(
            (
                i
                for i in range(self.selector.count())
                if same_model(self.selector.itemData(i), current)
            ),
            0,
        )
        self.selector.setCurrentIndex(index)
        self.selector.blockSignals(False)

    def on_loaded(self, loaded: list[LoadedModel]) -> None:
        current = self._ollama.current_model
        model = next((m for m in loaded if same_model(m.name, current)), None)
        if model is None:
            self.vram.setText(self.tr("Not loaded") if self._state == CONNECTED else "")
            return
        text = self.tr("VRAM %1").replace("%1", format_bytes(model.size_vram))
        if model.size:
            share = model.size_vram / model.size * 100
            text += " · " + self.tr("%1% on GPU").replace("%1", QLocale().toString(share, "f", 0))
        self.vram.setText(text)

    def on_stats(self, stats: StreamStats) -> None:
        self.show_speed(stats.tokens_per_s)

    def show_speed(self, tokens_per_s: float | None) -> None:
        """``151 tokens/s``; nothing for ``None`` or 0."""
        if not tokens_per_s:
            self.speed.clear()
            return
        self.speed.setText(
            self.tr("%1 tokens/s").replace("%1", QLocale().toString(float(tokens_per_s), "f", 0))
        )

    def on_conversation_changed(self, _conversation_id: int) -> None:
        """Another conversation (or a new chat): the speed of its last answer, or nothing."""
        model = getattr(self._chat, "model", None)
        row = model.last_row("assistant") if model is not None else -1
        stats = model.record(row).stats if row >= 0 else {}
        value = stats.get("tokens_per_s") if isinstance(stats, dict) else None
        self.show_speed(value if isinstance(value, (int, float)) else None)

    def on_chat_error(self, code: str, _detail: str) -> None:
        """An answer failed because of the daemon: check it now; a missing model: offer a pull."""
        if code == "model_not_found":
            self.open_pull_dialog()
        if code in ("llm_unreachable", "model_not_found", "stream_interrupted"):
            self._ollama.retry_now()

    def _on_selected(self, index: int) -> None:
        name = self.selector.itemData(index)
        if isinstance(name, str):
            self._ollama.set_model(name)

    def open_pull_dialog(self) -> PullDialog:
        """Offer to download the configured model (one dialog at a time)."""
        if self._dialog is None:
            self._dialog = PullDialog(self._ollama, self._ollama.current_model, self.window())
            self._dialog.finished.connect(self._forget_dialog)
            self._dialog.open()
        return self._dialog

    def _forget_dialog(self) -> None:
        if self._dialog is not None:
            self._dialog.deleteLater()
        self._dialog = None

    @property
    def pull_dialog(self) -> PullDialog | None:
        return self._dialog
