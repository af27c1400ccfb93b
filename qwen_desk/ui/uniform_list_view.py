"""UI layer: ``UniformListView``, a ``QListView`` whose row updates cost O(1), not O(rows).

``QListView.dataChanged`` (PySide6/Qt 6.12) walks every row of the model before it repaints the
changed one: measured, one ``dataChanged`` of one row in a 5,000-row list makes Qt call the
Python ``rowCount`` about 10,000 times (~10 ms of GUI thread), so a folder being indexed costs
O(rows) per progress event. In list mode with uniform item sizes a changed row cannot move or
resize any other row, so this view hands the change straight to ``QAbstractItemView`` (editors,
accessibility, the repaint of the changed rows' rectangles) and skips the walk. Views that may
have rows of different sizes keep using ``QListView``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

_Index = QModelIndex | QPersistentModelIndex


class UniformListView(QListView):
    """A list-mode ``QListView`` with uniform item sizes and O(1) ``dataChanged``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setUniformItemSizes(True)

    def dataChanged(self, topLeft: _Index, bottomRight: _Index, roles: Sequence[int] = ()) -> None:
        if self.viewMode() is not QListView.ViewMode.ListMode or not self.uniformItemSizes():
            super().dataChanged(topLeft, bottomRight, list(roles))
            return
        QAbstractItemView.dataChanged(self, topLeft, bottomRight, list(roles))
