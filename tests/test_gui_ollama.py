"""The daemon side of the window on the stand-in: down at start then up, wrong host, model
missing -> pull dialog -> pulled (progress, speed), pull errors and cancel; real AppServices."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qwen_desk.controllers.ollama_controller import (
    CONNECTED,
    MODEL_MISSING,
    UNREACHABLE,
    WRONG_HOST,
    OllamaController,
)
from qwen_desk.ui.model_bar import ModelBar
from qwen_desk.ui.ollama_panel import OllamaPanel
from qwen_desk.ui.pull_dialog import format_bytes
from tests.support.chat_side import open_services
from tests.support.ollama_standin import OllamaStandIn, free_port
from tests.support.qt_async import async_loop  # noqa: F401  (fixture)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("async_loop")]


def _watch(qtbot, url: str) -> tuple[OllamaController, ModelBar, OllamaPanel]:
    services = open_services(qtbot, url, knowledge=False)
    ollama = OllamaController(services)
    bar = ModelBar(ollama)
    panel = OllamaPanel(ollama)
    for widget in (bar, panel):
        qtbot.addWidget(widget)
        widget.show()
    return ollama, bar, panel


def test_down_at_start_then_coming_up_connects_by_itself(qtbot) -> None:
    port = free_port()
    ollama, bar, panel = _watch(qtbot, f"http://127.0.0.1:{port}")
    qtbot.waitUntil(lambda: ollama.state == UNREACHABLE, timeout=60_000)
    assert panel.isVisible() and "Ollama is not running" in panel.title.text()
    assert "ollama.com/download" in panel.body.text() and "<a " not in panel.body.text()
    qtbot.waitUntil(lambda: "Retrying in" in panel.countdown.text(), timeout=60_000)
    assert "not running" in bar.pill.text()
    with OllamaStandIn(port=port) as server:  # the daemon starts on the same port
        qtbot.waitUntil(lambda: ollama.state == CONNECTED, timeout=60_000)
        assert not panel.isVisible()
        assert server.version in bar.pill.text()
        assert bar.selector.currentData() == "qwen2.5:7b"
        # preloaded with the chats' num_ctx, VRAM shown from /api/ps
        qtbot.waitUntil(lambda: "VRAM" in bar.vram.text(), timeout=60_000)
        assert server.loaded.get("qwen2.5:7b") == 8192
        qtbot.waitUntil(lambda: ollama._poll_task is not None)


class _NotOllama(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()
        self.wfile.write(b"not here")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_something_else_at_the_host_is_a_wrong_host(qtbot, other_server: str) -> None:
    ollama, bar, panel = _watch(qtbot, other_server)
    qtbot.waitUntil(lambda: ollama.state == WRONG_HOST, timeout=60_000)
    assert panel.isVisible() and other_server in panel.title.text()
    assert "Wrong host" in bar.pill.text()


def test_model_missing_offers_a_pull_with_progress(qtbot) -> None:
    with OllamaStandIn(models=(), pull_bytes_per_s=4e9) as server:
        ollama, bar, _panel = _watch(qtbot, server.url)
        qtbot.waitUntil(lambda: bar.pull_dialog is not None, timeout=60_000)
        assert ollama.state == MODEL_MISSING and bar.pull_button.isVisible()
        dialog = bar.pull_dialog
        assert dialog is not None and "qwen2.5:7b" in dialog.title.text()
        details: list[str] = []
        ollama.sig_pull_progress.connect(lambda _p: details.append(dialog.detail.text()))
        with qtbot.waitSignal(ollama.sig_pull_finished, timeout=30_000):
            dialog.download_button.click()
        assert dialog.bar.value() == 1000
        assert any(" of " in d and "/s" in d for d in details), details[-3:]
        assert any("left" in d for d in details)
        # the whole model's bytes, also while its last, small layers are pulled
        whole = format_bytes(sum(server.registry["qwen2.5:7b"]))
        assert dialog.detail.text().startswith("100%") and dialog.detail.text().endswith(whole)
        assert all(" of 4.7 GB" in d for d in details if d), details[-3:]
        # done: the heading says so and only Done is left
        assert "is installed" in dialog.title.text() and "not installed" not in dialog.title.text()
        assert not dialog.download_button.isVisible() and not dialog.cancel_button.isVisible()
        assert dialog.close_button.isVisible() and dialog.close_button.text() == "Done"
        qtbot.waitUntil(lambda: ollama.state == CONNECTED, timeout=60_000)
        assert "qwen2.5:7b" in server.models


def test_pull_offline_is_explained_and_cancel_keeps_the_part(qtbot) -> None:
    with OllamaStandIn(models=(), pull_bytes_per_s=2e8) as server:
        ollama, bar, _panel = _watch(qtbot, server.url)
        qtbot.waitUntil(lambda: bar.pull_dialog is not None, timeout=60_000)
        dialog = bar.pull_dialog
        assert dialog is not None
        server.set_offline(True)
        with qtbot.waitSignal(ollama.sig_pull_failed, timeout=60_000):
            dialog.download_button.click()
        assert dialog.error.isVisible() and "offline" in dialog.error.text()
        assert dialog.download_button.text() == "Try again"
        server.set_offline(False)
        dialog.download_button.click()
        qtbot.waitUntil(lambda: dialog.bar.value() > 0, timeout=60_000)
        with qtbot.waitSignal(ollama.sig_pull_cancelled, timeout=60_000):
            dialog.cancel_button.click()
        assert "Cancelled" in dialog.status.text()
        assert sum(server.downloaded.values()) > 0  # the part already downloaded is kept


def test_choosing_a_model_saves_it_and_preloads_it(qtbot) -> None:
    from qwen_desk.core.settings import Settings

    with OllamaStandIn(models=("qwen2.5:7b", "qwen2.5:0.5b")) as server:
        ollama, bar, _panel = _watch(qtbot, server.url)
        qtbot.waitUntil(lambda: bar.selector.count() == 2, timeout=60_000)
        index = bar.selector.findData("qwen2.5:0.5b")
        bar.selector.setCurrentIndex(index)
        bar.selector.activated.emit(index)  # what a user's choice emits
        assert ollama.current_model == "qwen2.5:0.5b"
        assert Settings.load().model == "qwen2.5:0.5b"  # saved
        qtbot.waitUntil(lambda: "qwen2.5:0.5b" in server.loaded, timeout=60_000)
