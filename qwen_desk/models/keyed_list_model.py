"""Models layer: ``KeyedListModel``, the one base of the app's Qt list models.

A thin adapter over plain Python rows (napari's ``_BaseItemModel`` habit) with an O(1)
key -> row map, so that a model updated once per ingestion event or per conversation change
never scans its rows. Subclasses give the key of a row (``_key``) and their ``data`` roles; the
base owns ``rowCount``, ``flags``, ``row_of``, ``record(s)`` and the row changes, each emitting
the matching Qt signals (one ``beginInsertRows`` per run of new rows).

Rows can be added at either end in O(1) per row: rows put on top live in ``_front`` (stored
reversed), rows added at the bottom in ``_back``, and the map holds each key's position relative
to the boundary (``-1, -2, …`` on top, ``0, 1, …`` below), so neither kind of insertion moves
another row's entry. Removing rows is rarer (a cancelled file, a deleted conversation): it
flattens the rows and marks the map stale; the next lookup rebuilds it once, whatever the number
of rows removed in between.

The row count lives in C++: the base is ``QStringListModel`` holding one empty string per row
(its data is never shown: every model answers ``data`` itself) and ``rowCount`` is not
overridden in Python. ``QListView`` lays out every row again after each insertion, calling
``model->index(row)`` (hence ``rowCount``) about twice per row; with a Python ``rowCount`` that
was ~10,000 calls into Python per insertion at 5,000 rows (and as many GIL hand-overs while a
worker thread runs Python), so a folder drop cost O(N²) on the GUI thread. Now that walk stays in
C++. A change runs the C++ one (``insertRows``/``removeRows``/``setStringList``, which signal the
views) and changes the Python rows in a slot connected first to ``rowsInserted``,
``rowsRemoved`` and ``modelReset``: views see the old rows in the *about to* signals and the new
ones in the done signals, as with ``begin…``/``end…`` around a Python change.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QStringListModel,
    Qt,
)

from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)

Index = QModelIndex | QPersistentModelIndex
T = TypeVar("T")


class KeyedListModel(QStringListModel, Generic[T]):
    """Rows of type ``T``, each with a unique key (``_key``); O(1) ``row_of(key)``."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._front: list[T] = []  # rows above the boundary, the top row last
        self._back: list[T] = []  # rows below it, in order
        self._pos: dict[Hashable, int] = {}
        self._stale = False
        self._pending: Callable[[], None] | None = None  # the Python side of a change
        # Connected before any view can connect: runs first (slots run in connection order).
        self.rowsInserted.connect(self._apply_pending)
        self.rowsRemoved.connect(self._apply_pending)
        self.modelReset.connect(self._apply_pending)

    # --- for subclasses ----------------------------------------------------------------------

    def _key(self, row: T) -> Hashable:
        """The unique key of a row (a path, an id, a name)."""
        raise NotImplementedError

    # --- Qt interface --------------------------------------------------------------------------

    # ``rowCount``, ``index`` and ``sibling`` are QStringListModel's (C++): see the module.

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def itemData(self, index: Index) -> dict[int, Any]:
        """Every role's data (QAbstractItemModel's, not the placeholder strings)."""
        return QAbstractItemModel.itemData(self, index)

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        return False  # read-only: rows change through the methods below

    def setItemData(self, index: Index, roles: dict[int, Any]) -> bool:
        return False

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        pass  # the order is the subclass's

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.IgnoreAction

    def _count(self) -> int:
        return len(self._front) + len(self._back)

    def _row_at(self, index: Index) -> T | None:
        """The row behind a valid index of this model, else ``None`` (for ``data``)."""
        if not index.isValid() or not 0 <= index.row() < self._count():
            return None
        return self.record(index.row())

    # --- reading -------------------------------------------------------------------------------

    def record(self, row: int) -> T:
        """The row at display position ``row`` (IndexError outside)."""
        n_front = len(self._front)
        if row < 0:
            raise IndexError(row)
        if row < n_front:
            return self._front[n_front - 1 - row]
        return self._back[row - n_front]

    def records(self) -> list[T]:
        """A shallow copy of the rows, in display order."""
        return self._front[::-1] + self._back

    def row_of(self, key: Hashable) -> int:
        """Display row of the row with this key, or -1 (O(1))."""
        if self._stale:
            self._reindex()
        pos = self._pos.get(key)
        return -1 if pos is None else pos + len(self._front)

    def __contains__(self, key: object) -> bool:
        return self.row_of(key) >= 0  # type: ignore[arg-type]

    # --- writing -------------------------------------------------------------------------------

    def set_records(self, rows: Iterable[T]) -> None:
        """Replace every row (one model reset)."""
        new = list(rows)

        def apply() -> None:
            self._front, self._back = [], new
            self._reindex()

        self._change(lambda: self.setStringList([""] * len(new)), apply)

    def append_records(self, rows: Iterable[T]) -> None:
        """Add rows at the bottom, in order: one insertion run."""
        new = list(rows)
        if not new:
            return

        def apply() -> None:
            for row in new:
                self._pos[self._key(row)] = len(self._back)
                self._back.append(row)

        self._change(lambda: QStringListModel.insertRows(self, self._count(), len(new)), apply)

    def prepend_records(self, rows: Iterable[T]) -> None:
        """Put rows on top, keeping their order (the first of ``rows`` becomes row 0)."""
        new = list(rows)
        if not new:
            return

        def apply() -> None:
            for row in reversed(new):
                self._front.append(row)
                self._pos[self._key(row)] = -len(self._front)

        self._change(lambda: QStringListModel.insertRows(self, 0, len(new)), apply)

    def replace_record(self, row: int, value: T, roles: list[int] | None = None) -> None:
        """Put ``value`` at ``row`` and signal the change (its key may differ: a saved row)."""
        n_front = len(self._front)
        if row < n_front:
            old, self._front[n_front - 1 - row] = self._front[n_front - 1 - row], value
        else:
            old, self._back[row - n_front] = self._back[row - n_front], value
        old_key, new_key = self._key(old), self._key(value)
        if old_key != new_key and not self._stale:
            self._pos[new_key] = self._pos.pop(old_key)
        self.changed(row, roles)

    def changed(self, row: int, roles: list[int] | None = None) -> None:
        """Tell views that the row at ``row`` changed (its object was updated in place)."""
        index = self.index(row, 0)
        self.dataChanged.emit(index, index, [int(r) for r in roles or []])

    def remove_rows(self, rows: Iterable[int]) -> None:
        """Remove the rows at these display positions (one removal per contiguous run)."""
        wanted = sorted({r for r in rows if 0 <= r < self._count()}, reverse=True)
        if not wanted:
            return
        self._flatten()
        runs: list[tuple[int, int]] = []
        for row in wanted:  # descending: earlier runs' rows do not move
            if runs and runs[-1][0] == row + 1:
                runs[-1] = (row, runs[-1][1])
            else:
                runs.append((row, row))
        for first, last in runs:

            def apply(first: int = first, last: int = last) -> None:
                del self._back[first : last + 1]
                self._stale = True

            self._change(
                lambda first=first, last=last: QStringListModel.removeRows(
                    self, first, last - first + 1
                ),
                apply,
            )

    def remove_key(self, key: Hashable) -> None:
        row = self.row_of(key)
        if row >= 0:
            self.remove_rows([row])

    def clear(self) -> None:
        self.set_records([])

    # --- plumbing ------------------------------------------------------------------------------

    def _change(self, qt_change: Callable[[], object], rows_change: Callable[[], None]) -> None:
        """Run the C++ change (it signals the views); the rows change when it is done."""
        self._pending = rows_change
        qt_change()
        self._apply_pending()  # normally done by the slot already (unless signals were blocked)

    def _apply_pending(self, *_: object) -> None:
        change, self._pending = self._pending, None
        if change is not None:
            change()

    def _flatten(self) -> None:
        if self._front:
            self._back = self._front[::-1] + self._back
            self._front = []
            self._stale = True

    def _reindex(self) -> None:
        self._flatten()
        self._pos = {self._key(row): i for i, row in enumerate(self._back)}
        self._stale = False
