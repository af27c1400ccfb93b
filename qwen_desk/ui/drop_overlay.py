"""UI layer: file drops anywhere on the main window, with a clear highlight while dragging.

``DropOverlay`` is a translucent, dashed-border layer over the whole window with a sentence
saying where the files will go. ``DropWatcher``, an application event filter, notices a drag of
local files entering any widget of the window (even one that accepts drops itself, such as the
question box), raises the overlay, and takes the drop if it lands before the overlay got it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from qwen_desk.models.collection_model import display_name


def local_paths(mime: QMimeData | None) -> list[str]:
    """The local files and folders carried by a drag, in order."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class DropOverlay(QWidget):
    """A highlight over the whole window while files are dragged over it."""

    sig_dropped = Signal(list)
    """The local paths (files and folders) dropped on the window."""
    sig_revealed = Signal()
    """Files are being dragged over the window (the highlight just appeared)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("DropOverlay")
        self.setAcceptDrops(True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._label = QLabel(self)
        self._label.setObjectName("DropOverlayText")
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addStretch(1)
        layout.addWidget(self._label, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        self._collection = ""
        self.hide()

    def set_collection(self, name: str) -> None:
        self._collection = name

    def reveal(self) -> None:
        """Cover the parent window and show where the files will go."""
        name = display_name(self._collection) if self._collection else ""
        text = self.tr("Drop files or folders to add them to “%1”").replace(
            "%1", name or self.tr("the knowledge base")
        )
        self._label.setText(text)
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
            # a wrapped label needs its height for the width it gets
            width = max(240, min(560, parent.width() - 80))
            self._label.setFixedWidth(width)
            self._label.setFixedHeight(self._label.heightForWidth(width))
        self.raise_()
        self.show()
        self.sig_revealed.emit()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QEvent) -> None:
        self.hide()

    def dropEvent(self, event: QDropEvent) -> None:
        self.hide()
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.sig_dropped.emit(paths)


class DropWatcher(QObject):
    """Application event filter: a file drag entering any widget of ``window`` shows ``overlay``."""

    def __init__(self, window: QWidget, overlay: DropOverlay) -> None:
        super().__init__(window)
        self._window = window
        self._overlay = overlay
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return False
        if watched is self._overlay or not isinstance(watched, QWidget):
            return False
        if watched.window() is not self._window:
            return False
        assert isinstance(event, QDropEvent)  # DragEnter and DragMove derive from it
        paths = local_paths(event.mimeData())
        if not paths:
            return False
        if kind == QEvent.Type.Drop:
            self._overlay.hide()
            event.acceptProposedAction()
            self._overlay.sig_dropped.emit(paths)
            return True
        if not self._overlay.isVisible():
            self._overlay.reveal()
        event.acceptProposedAction()
        return True

    def detach(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
