"""Controllers layer: one running Qwen Desk per data folder; a second launch hands over its files.

"Open with Qwen Desk" on a file while the app runs starts a second process. Two processes must
not both write the same knowledge base and ingestion queue, so the second one connects to the
first through a local socket (``QLocalServer``, named after the data folder), sends the paths
it was given, and exits; the first raises its window and adds the files.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 300


def server_name(data_dir: Path) -> str:
    """The local socket's name for a data folder (short: socket paths have a length limit)."""
    digest = hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return f"qwen-desk-{digest}"


class SingleInstance(QObject):
    """The first process listens; later ones ``forward`` their files to it."""

    sig_files_received = Signal(list)
    """Paths sent by a second launch (possibly empty: it only asked to show the window)."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None

    def forward(self, files: list[str]) -> bool:
        """Send ``files`` to a running instance; False when none is running."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        payload = json.dumps({"files": [str(Path(f).absolute()) for f in files]}).encode()
        socket.write(payload + b"\n")
        socket.flush()
        socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return True

    def listen(self) -> bool:
        """Become the running instance (removing a socket left by a crashed one)."""
        server = QLocalServer(self)
        if not server.listen(self.name):
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single-instance socket unavailable: %s", server.errorString())
                return False
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            # The sender writes one short line right after connecting: read it here (bounded
            # wait) rather than keeping per-connection state alive across events.
            data = bytearray()
            while not data.endswith(b"\n") and (
                socket.bytesAvailable() or socket.waitForReadyRead(CONNECT_TIMEOUT_MS)
            ):
                data.extend(bytes(socket.readAll().data()))
            socket.disconnectFromServer()
            socket.deleteLater()
            if data:
                self._deliver(bytes(data))

    def _deliver(self, data: bytes) -> None:
        try:
            files = [str(f) for f in json.loads(data.decode("utf-8")).get("files", [])]
        except (ValueError, AttributeError):
            log.warning("ignored a malformed message from a second launch")
            return
        self.sig_files_received.emit(files)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
