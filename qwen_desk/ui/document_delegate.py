"""UI layer: how one document row of the sidebar looks, and the text of each state.

Each row shows a small coloured badge with the file type, the title, and a status line:
queued, reading, embedding n/m (with a thin progress bar), ready with passages (and the pages of
a PDF: Word, Markdown and text reflow, so they show no page count; and scanned pages without
text), or the translated reason of a failure. ``status_text`` is the one place that words a
``DocumentItem``'s state; the sidebar's tooltips reuse it.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from qwen_desk.core.types import IngestState, is_paginated
from qwen_desk.models.document_model import DocumentItem, DocumentModel
from qwen_desk.ui.messages import message_for

translate = QCoreApplication.translate

_BADGE_COLORS = {
    "pdf": "#d9534f",
    "docx": "#2b6cb0",
    "md": "#6b46c1",
    "txt": "#4a5568",
}
_FAILED_COLOR = {"light": "#cf222e", "dark": "#ff7b72"}
PADDING = 8
BADGE_W = 34
BADGE_H = 22


def status_text(item: DocumentItem) -> str:
    """What the status line says about ``item``, in the UI language."""
    state = item.state
    if state is IngestState.QUEUED:
        return translate("DocumentDelegate", "Waiting…")
    if state is IngestState.PARSING:
        return translate("DocumentDelegate", "Reading…")
    if state is IngestState.EMBEDDING:
        return (
            translate("DocumentDelegate", "Indexing %1/%2")
            .replace("%1", str(item.done))
            .replace("%2", str(item.total))
        )
    if state in (IngestState.READY, IngestState.UNCHANGED):
        passages = (
            translate("DocumentDelegate", "1 passage")
            if item.chunks == 1
            else translate("DocumentDelegate", "%1 passages").replace("%1", str(item.chunks))
        )
        text = passages
        if is_paginated(item.kind):  # Word, Markdown and text reflow: no page count
            pages = (
                translate("DocumentDelegate", "1 page")
                if item.pages == 1
                else translate("DocumentDelegate", "%1 pages").replace("%1", str(item.pages))
            )
            text = f"{pages} · {passages}"
        if item.scanned_pages:
            scanned = translate("DocumentDelegate", "%1 scanned pages without text")
            text += " · " + scanned.replace("%1", str(item.scanned_pages))
        return text
    if state is IngestState.SKIPPED:
        return translate("DocumentDelegate", "Skipped: %1").replace(
            "%1", message_for("unsupported_type")
        )
    if state is IngestState.CANCELLED:
        return translate("DocumentDelegate", "Cancelled")
    code = item.error.code if item.error else "document_error"
    if code == "password_required":
        return translate("DocumentDelegate", "Protected by a password — double-click to open it")
    if code == "wrong_password":
        return translate("DocumentDelegate", "Wrong password — double-click to try again")
    return message_for(code)


def is_problem(item: DocumentItem) -> bool:
    return item.state in (IngestState.FAILED, IngestState.SKIPPED)


def tooltip_text(item: DocumentItem) -> str:
    """The whole story of a row: name and title, path, and the full status (the row may elide
    them)."""
    return f"{item.name.label()}\n{item.path}\n{status_text(item)}"


class DocumentDelegate(QStyledItemDelegate):
    """Paints a document row: badge, title, status line, progress bar while embedding."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        item = index.data(DocumentModel.ItemRole)
        if event.type() == QEvent.Type.ToolTip and isinstance(item, DocumentItem):
            QToolTip.showText(event.globalPos(), tooltip_text(item), view)
            return True
        return super().helpEvent(event, view, option, index)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        fm = QFontMetrics(option.font)
        small = QFontMetrics(_small_font(option.font))
        return QSize(200, PADDING * 2 + fm.height() + small.height() + 8)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        item = index.data(DocumentModel.ItemRole)
        if not isinstance(item, DocumentItem):
            super().paint(painter, option, index)
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 2, -4, -2)
        pal: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            bg = QColor(pal.color(QPalette.ColorRole.Highlight))
            bg.setAlpha(60 if selected else 25)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bg)
            painter.drawRoundedRect(rect, 6, 6)
        # badge
        badge = QRect(rect.left() + PADDING, rect.top() + PADDING + 1, BADGE_W, BADGE_H)
        color = QColor(_BADGE_COLORS.get(item.kind, "#718096"))
        if item.state is IngestState.SKIPPED:
            color = QColor("#a0aec0")
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(badge, 4, 4)
        badge_font = _small_font(option.font)
        badge_font.setBold(True)
        painter.setFont(badge_font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, (item.kind or "?").upper()[:4])
        # title
        text_left = badge.right() + PADDING
        text_w = rect.right() - PADDING - text_left
        fm = QFontMetrics(option.font)
        painter.setFont(option.font)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        title_rect = QRect(text_left, rect.top() + PADDING - 2, text_w, fm.height())
        name = item.name
        shown = fm.elidedText(name.name, Qt.TextElideMode.ElideMiddle, text_w)
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown
        )
        rest = text_w - fm.horizontalAdvance(shown)
        if name.title and rest > 40:  # the metadata title, secondary, in what is left
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            extra = fm.elidedText(" — " + name.title, Qt.TextElideMode.ElideRight, rest)
            painter.drawText(
                title_rect.adjusted(text_w - rest, 0, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                extra,
            )
        # status line
        small = _small_font(option.font)
        sfm = QFontMetrics(small)
        status_rect = QRect(text_left, title_rect.bottom() + 3, text_w, sfm.height())
        painter.setFont(small)
        if item.state is IngestState.FAILED:
            scheme = "dark" if pal.color(QPalette.ColorRole.Base).lightness() < 128 else "light"
            painter.setPen(QColor(_FAILED_COLOR[scheme]))
        else:
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        progress = item.progress
        if progress is not None:
            label_w = min(text_w // 2, sfm.horizontalAdvance(status_text(item)) + 6)
            painter.drawText(
                QRect(status_rect.left(), status_rect.top(), label_w, sfm.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                sfm.elidedText(status_text(item), Qt.TextElideMode.ElideRight, label_w),
            )
            bar = QRect(
                status_rect.left() + label_w + 4,
                status_rect.center().y() - 2,
                max(10, text_w - label_w - 4),
                5,
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Mid))
            painter.drawRoundedRect(bar, 2.5, 2.5)
            filled = QRect(bar)
            filled.setWidth(max(5, int(bar.width() * progress)))
            painter.setBrush(pal.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(filled, 2.5, 2.5)
        else:
            text = sfm.elidedText(status_text(item), Qt.TextElideMode.ElideRight, text_w)
            painter.drawText(
                status_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
            )
        painter.restore()


def _small_font(font: QFont) -> QFont:
    small = QFont(font)
    size = font.pointSizeF()
    if size > 0:
        small.setPointSizeF(max(7.0, size - 1.5))
    else:
        small.setPixelSize(max(9, font.pixelSize() - 2))
    return small
