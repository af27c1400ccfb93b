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
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from qwen_desk.models import pyside_none_fix  # noqa: F401  (first: see its docstring)

Index = QModelIndex | QPersistentModelIndex
T = TypeVar("T")


class KeyedListModel(QAbstractListModel, Generic[T]):
    """Rows of type ``T``, each with a unique key (``_key``); O(1) ``row_of(key)``."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._front: list[T] = []  # rows above the boundary, the top row last
        self._back: list[T] = []  # rows below it, in order
        self._pos: dict[Hashable, int] = {}
        self._stale = False

    # --- for subclasses ----------------------------------------------------------------------

    def _key(self, row: T) -> Hashable:
        """The unique key of a row (a path, an id, a name)."""
        raise NotImplementedError

    # --- Qt interface --------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._front) + len(self._back)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _row_at(self, index: Index) -> T | None:
        """The row behind a valid index of this model, else ``None`` (for ``data``)."""
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
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
        self.beginResetModel()
        self._front, self._back = [], list(rows)
        self._reindex()
        self.endResetModel()

    def append_records(self, rows: Iterable[T]) -> None:
        """Add rows at the bottom, in order: one insertion run."""
        new = list(rows)
        if not new:
            return
        first = self.rowCount()
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for row in new:
            self._pos[self._key(row)] = len(self._back)
            self._back.append(row)
        self.endInsertRows()

    def prepend_records(self, rows: Iterable[T]) -> None:
        """Put rows on top, keeping their order (the first of ``rows`` becomes row 0)."""
        new = list(rows)
        if not new:
            return
        self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
        for row in reversed(new):
            self._front.append(row)
            self._pos[self._key(row)] = -len(self._front)
        self.endInsertRows()

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
        wanted = sorted({r for r in rows if 0 <= r < self.rowCount()}, reverse=True)
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
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._back[first : last + 1]
            self._stale = True
            self.endRemoveRows()

    def remove_key(self, key: Hashable) -> None:
        row = self.row_of(key)
        if row >= 0:
            self.remove_rows([row])

    def clear(self) -> None:
        self.set_records([])

    # --- plumbing ------------------------------------------------------------------------------

    def _flatten(self) -> None:
        if self._front:
            self._back = self._front[::-1] + self._back
            self._front = []
            self._stale = True

    def _reindex(self) -> None:
        self._flatten()
        self._pos = {self._key(row): i for i, row in enumerate(self._back)}
        self._stale = False
