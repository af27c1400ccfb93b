"""``OLLAMA_HOST`` wins over the saved host in the window and in the CLI (one rule in core)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_desk.controllers.ollama_controller import CONNECTED, OllamaController
from qwen_desk.controllers.services import AppServices
from qwen_desk.core.ollama_host import resolve_ollama_host
from qwen_desk.core.settings import Settings
from qwen_desk.ui.model_bar import ModelBar
from qwen_desk.ui.settings_dialog import SettingsDialog
from tests.support.ollama_standin import OllamaStandIn, free_port
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_the_variable_wins_and_is_normalised() -> None:
    saved = "http://10.0.0.5:11434"
    assert resolve_ollama_host(saved, {}).host == saved
    assert not resolve_ollama_host(saved, {"OLLAMA_HOST": "  "}).from_env
    choice = resolve_ollama_host(saved, {"OLLAMA_HOST": "127.0.0.1:5555"})
    assert choice.from_env and choice.host == "http://127.0.0.1:5555"
    assert resolve_ollama_host(saved, {"OLLAMA_HOST": "gpu-box"}).host == "http://gpu-box:11434"


@pytest.fixture
def dead_saved_host() -> str:
    """The saved setting points at a port where nothing listens."""
    dead = f"http://127.0.0.1:{free_port()}"
    Settings(ollama_host=dead, request_timeout_s=30.0).save()
    return dead


@pytest.mark.gui
@pytest.mark.usefixtures("async_loop")
def test_window_connects_to_the_host_given_only_by_the_variable(
    qtbot, monkeypatch, dead_saved_host: str
) -> None:
    with OllamaStandIn() as server:
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{server.port}")  # no scheme, as users do
        services = AppServices(Settings.load())
        try:
            assert services.host == server.url
            ollama = OllamaController(services)
            bar = ModelBar(ollama)
            qtbot.addWidget(bar)
            bar.show()
            qtbot.waitUntil(lambda: ollama.state == CONNECTED, timeout=60_000)
            assert server.version in bar.pill.text()

            dialog = SettingsDialog(services)
            qtbot.addWidget(dialog)
            dialog.show()
            assert dialog.host_edit.isReadOnly() and dialog.host_edit.text() == server.url
            assert "OLLAMA_HOST" in dialog.host_edit.toolTip()
            dialog.temperature_spin.setValue(0.5)
            dialog.accept()
            saved = Settings.load()
            assert saved.temperature == 0.5
            assert saved.ollama_host == dead_saved_host  # the variable is never saved
        finally:
            services.close()


def test_cli_uses_the_variable_over_the_saved_host(dead_saved_host: str) -> None:
    with OllamaStandIn(models=["qwen2.5:7b", "qwen2.5:3b"]) as server:
        env = dict(os.environ, OLLAMA_HOST=f"127.0.0.1:{server.port}", PYTHONPATH=str(REPO_ROOT))
        out = subprocess.run(
            [sys.executable, "-m", "qwen_desk", "models"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert out.returncode == 0, out.stderr
    assert "qwen2.5:3b" in out.stdout
