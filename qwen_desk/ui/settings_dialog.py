"""UI layer: the settings dialog.

Three tabs (model, knowledge base, appearance) over the fields of ``core.settings.Settings``.
Every edit is checked at once with ``Settings.validate()`` (plus the checks the form can add:
the host must be an http(s) address, keep-alive a duration); the first problem is shown in
words under the field it concerns and OK stays disabled until it is fixed. Saving goes through
``AppServices.apply_settings``: a new host rebuilds the back-end, a new embedding model folder
reopens the knowledge base (which then offers to re-index), a new theme applies at once, the
language and the data folder after a restart (the dialog says so).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from qwen_desk.controllers.services import AppServices
from qwen_desk.core.errors import SettingsError
from qwen_desk.core.ollama_host import ENV_VAR, resolve_ollama_host
from qwen_desk.core.settings import Settings

_KEEP_ALIVE = re.compile(r"^-?\d+(\.\d+)?(ms|s|m|h)?$")
_HOST = re.compile(r"^https?://[^\s/]+(:\d+)?/?$")


class SettingsDialog(QDialog):
    """Edit, validate and save the settings."""

    sig_saved = Signal(object)
    """The new ``Settings``, after they were applied and saved."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsDialog")
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(600)
        self._services = services
        self._original = services.settings
        self._host_choice = resolve_ollama_host(self._original.ollama_host)
        self._errors: dict[str, QLabel] = {}
        self.restart_note = QLabel(self)
        self.restart_note.setProperty("muted", True)
        self.restart_note.setWordWrap(True)
        tabs = QTabWidget(self)
        tabs.addTab(self._model_tab(), self.tr("Model"))
        tabs.addTab(self._knowledge_tab(), self.tr("Knowledge base"))
        tabs.addTab(self._appearance_tab(), self.tr("Appearance"))
        self.tabs = tabs
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults
        )
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.restart_note)
        layout.addWidget(self.buttons)
        self.load(self._original)
        self._watch()
        self.validate()

    # --- tabs ----------------------------------------------------------------------------------

    def _form(self) -> tuple[QWidget, QFormLayout]:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        return page, form

    def _row(
        self, form: QFormLayout, label: str, field: str, widget: QWidget, hint: str = ""
    ) -> None:
        widget.setSizePolicy(QSizePolicy.Policy.Expanding, widget.sizePolicy().verticalPolicy())
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        if hint:
            note = QLabel(hint, box)
            note.setProperty("muted", True)
            note.setWordWrap(True)
            column.addWidget(note)
        error = QLabel(box)
        error.setObjectName("FieldError")
        error.setWordWrap(True)
        error.hide()
        column.addWidget(error)
        self._errors[field] = error
        form.addRow(label, box)

    def _model_tab(self) -> QWidget:
        page, form = self._form()
        self.host_edit = QLineEdit(page)
        self.host_edit.setPlaceholderText("http://127.0.0.1:11434")
        self.model_edit = QComboBox(page)
        self.model_edit.setEditable(True)
        self.temperature_spin = _double(page, 0.0, 2.0, 0.05, 2)
        self.top_p_spin = _double(page, 0.0, 1.0, 0.05, 2)
        self.max_tokens_spin = _int(page, 16, 32768, 128)
        self.num_ctx_spin = _int(page, 512, 131072, 1024)
        self.keep_alive_edit = QLineEdit(page)
        self.keep_alive_edit.setPlaceholderText("30m")
        host_note = ""
        if self._host_choice.from_env:
            # the variable wins: show what is used, read-only; the saved value stays as it is
            self.host_edit.setReadOnly(True)
            host_note = self.tr(
                "Set by the %1 environment variable, which overrides this setting."
            ).replace("%1", ENV_VAR)
            self.host_edit.setToolTip(host_note)
        self._row(form, self.tr("Ollama address:"), "ollama_host", self.host_edit, host_note)
        self._row(form, self.tr("Model:"), "model", self.model_edit)
        self._row(
            form,
            self.tr("Temperature:"),
            "temperature",
            self.temperature_spin,
            self.tr("Lower is more focused, higher more creative."),
        )
        self._row(form, self.tr("Top-p:"), "top_p", self.top_p_spin)
        self._row(form, self.tr("Max answer tokens:"), "max_tokens", self.max_tokens_spin)
        self._row(
            form,
            self.tr("Context length:"),
            "num_ctx",
            self.num_ctx_spin,
            self.tr("Tokens the model reads at once: question, sources and history."),
        )
        self._row(
            form,
            self.tr("Keep model loaded:"),
            "keep_alive",
            self.keep_alive_edit,
            self.tr("How long Ollama keeps the model in memory, e.g. 30m, 2h or -1."),
        )
        return page

    def _knowledge_tab(self) -> QWidget:
        page, form = self._form()
        self.top_k_spin = _int(page, 1, 50, 1)
        self.embed_edit = QLineEdit(page)
        self.embed_edit.setPlaceholderText(self.tr("Built-in (all-MiniLM-L6-v2)"))
        embed_row = _with_browse(
            page,
            self.embed_edit,
            self.tr("Browse…"),
            lambda: self._browse(self.embed_edit, self.tr("Embedding model folder")),
        )
        self._row(form, self.tr("Sources per answer:"), "sources_top_k", self.top_k_spin)
        self._row(
            form,
            self.tr("Embedding model folder:"),
            "embed_model_path",
            embed_row,
            self.tr("Changing the model asks to re-index your documents."),
        )
        return page

    def _appearance_tab(self) -> QWidget:
        page, form = self._form()
        self.language_combo = QComboBox(page)
        self.language_combo.addItem(self.tr("System default"), "")
        self.language_combo.addItem("English", "en")
        self.language_combo.addItem("简体中文", "zh_CN")
        self.theme_combo = QComboBox(page)
        self.theme_combo.addItem(self.tr("Follow system"), "system")
        self.theme_combo.addItem(self.tr("Light"), "light")
        self.theme_combo.addItem(self.tr("Dark"), "dark")
        self.data_edit = QLineEdit(page)
        self.data_edit.setPlaceholderText(self.tr("Default folder"))
        data_row = _with_browse(
            page,
            self.data_edit,
            self.tr("Browse…"),
            lambda: self._browse(self.data_edit, self.tr("Data folder")),
        )
        self._row(
            form,
            self.tr("Language:"),
            "ui_language",
            self.language_combo,
            self.tr("Takes effect after a restart."),
        )
        self._row(form, self.tr("Theme:"), "theme", self.theme_combo)
        self._row(
            form,
            self.tr("Data folder:"),
            "data_dir",
            data_row,
            self.tr("Knowledge bases and conversations. Takes effect after a restart."),
        )
        return page

    def _browse(self, edit: QLineEdit, title: str) -> None:
        dialog = QFileDialog(self, title, edit.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(edit.setText)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # --- values --------------------------------------------------------------------------------

    def load(self, s: Settings) -> None:
        """Show ``s`` in the form."""
        self.host_edit.setText(
            self._host_choice.host if self._host_choice.from_env else s.ollama_host
        )
        self.model_edit.setCurrentText(s.model)
        self.temperature_spin.setValue(s.temperature)
        self.top_p_spin.setValue(s.top_p)
        self.max_tokens_spin.setValue(s.max_tokens)
        self.num_ctx_spin.setValue(s.num_ctx)
        self.keep_alive_edit.setText(s.keep_alive)
        self.top_k_spin.setValue(s.sources_top_k)
        self.embed_edit.setText(s.embed_model_path)
        _select(self.language_combo, s.ui_language)
        _select(self.theme_combo, s.theme)
        self.data_edit.setText(s.data_dir)

    def values(self) -> dict[str, Any]:
        """The form's values, by settings field name."""
        return {
            "ollama_host": self._original.ollama_host
            if self._host_choice.from_env
            else self.host_edit.text().strip(),
            "model": self.model_edit.currentText().strip(),
            "temperature": round(self.temperature_spin.value(), 2),
            "top_p": round(self.top_p_spin.value(), 2),
            "max_tokens": self.max_tokens_spin.value(),
            "num_ctx": self.num_ctx_spin.value(),
            "keep_alive": self.keep_alive_edit.text().strip(),
            "sources_top_k": self.top_k_spin.value(),
            "embed_model_path": self.embed_edit.text().strip(),
            "ui_language": self.language_combo.currentData() or "",
            "theme": self.theme_combo.currentData() or "system",
            "data_dir": self.data_edit.text().strip(),
        }

    def candidate(self) -> Settings:
        new = dataclasses.replace(self._original, **self.values())
        new.problems = []
        return new

    def set_models(self, names: list[str]) -> None:
        """Offer the models installed in Ollama (the current value is kept)."""
        current = self.model_edit.currentText()
        self.model_edit.clear()
        self.model_edit.addItems(names)
        self.model_edit.setCurrentText(current)

    # --- validation ----------------------------------------------------------------------------

    def _watch(self) -> None:
        for edit in (self.host_edit, self.keep_alive_edit, self.embed_edit, self.data_edit):
            edit.textChanged.connect(self.validate)
        self.model_edit.currentTextChanged.connect(self.validate)
        for spin in (
            self.temperature_spin,
            self.top_p_spin,
            self.max_tokens_spin,
            self.num_ctx_spin,
            self.top_k_spin,
        ):
            spin.valueChanged.connect(self.validate)
        for combo in (self.language_combo, self.theme_combo):
            combo.currentIndexChanged.connect(self.validate)

    def problem(self) -> tuple[str, str] | None:
        """The first invalid field and what to say about it, or ``None``."""
        values = self.values()
        if not _HOST.match(values["ollama_host"]):
            return "ollama_host", self.tr("Enter an address like http://127.0.0.1:11434")
        if not _KEEP_ALIVE.match(values["keep_alive"]):
            return "keep_alive", self.tr("Enter a duration like 30m, 2h, 300 or -1 (forever)")
        try:
            self.candidate().validate()
        except SettingsError as exc:
            field = _field_of(exc.message)
            return field, self._explain(field, exc.message)
        return None

    def _explain(self, field: str, english: str) -> str:
        texts = {
            "temperature": self.tr("Must be between 0 and 2."),
            "top_p": self.tr("Must be more than 0 and at most 1."),
            "max_tokens": self.tr(
                "Must be between 16 and 32768, and smaller than the context length."
            ),
            "num_ctx": self.tr("Must be between 512 and 131072."),
            "sources_top_k": self.tr("Must be between 1 and 50."),
            "model": self.tr("Enter a model name, e.g. qwen2.5:7b."),
            "theme": self.tr("Choose light, dark or follow system."),
            "ui_language": self.tr("Choose a language from the list."),
        }
        return texts.get(field, english)

    def validate(self, *_: object) -> bool:
        """Show the first problem next to its field; enable OK when there is none."""
        found = self.problem()
        for field, label in self._errors.items():
            if found is not None and found[0] == field:
                label.setText(found[1])
                label.show()
            else:
                label.hide()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(found is None)
        values = self.values()
        restart = (
            values["ui_language"] != self._original.ui_language
            or values["data_dir"] != self._original.data_dir
        )
        self.restart_note.setText(
            self.tr("Some changes take effect after Qwen Desk is restarted.") if restart else ""
        )
        self.restart_note.setVisible(restart)
        return found is None

    def error_for(self, field: str) -> str:
        """The message shown under ``field`` (empty when it is valid)."""
        label = self._errors.get(field)
        return label.text() if label is not None and label.isVisibleTo(self) else ""

    # --- buttons -------------------------------------------------------------------------------

    def restore_defaults(self) -> None:
        defaults = Settings()
        defaults.data_dir = self._original.data_dir  # moving the data is never a "default"
        self.load(defaults)

    def accept(self) -> None:
        if not self.validate():
            return
        new = self.candidate()
        try:
            self._services.apply_settings(new)
        except SettingsError as exc:
            field = _field_of(exc.message)
            label = self._errors.get(field)
            if label is not None:
                label.setText(self._explain(field, exc.message))
                label.show()
            return
        self.sig_saved.emit(new)
        super().accept()


def _field_of(message: str) -> str:
    """Settings.validate() messages start with the field's name."""
    return message.split(" ", 1)[0] if message else ""


def _double(parent: QWidget, low: float, high: float, step: float, decimals: int) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    return spin


def _int(parent: QWidget, low: int, high: int, step: int) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(low, high)
    spin.setSingleStep(step)
    return spin


def _with_browse(parent: QWidget, edit: QLineEdit, text: str, on_click: Any) -> QWidget:
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    button = QPushButton(text, box)
    button.clicked.connect(on_click)
    row.addWidget(button)
    return box


def _select(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    combo.setCurrentIndex(max(0, index))
