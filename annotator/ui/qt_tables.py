"""The one kind of table the window uses: read-only rows, chosen one at a time."""

from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QTableView

_SELECT = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows


class QtRowsModel(QAbstractTableModel):
    """A read-only table model over `rows`, one item per row, headed by `columns`; subclasses answer
    `data`."""

    columns: Sequence[str] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt name)
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def key(self, row) -> object:
        """What identifies a row across reloads (an id); None: rows have no identity, every new list
        resets the model."""
        return None

    def set_rows(self, rows: list) -> None:
        """Show `rows`. When they are the same rows as before (by `key`, in the same order), only those
        whose values changed are repainted; otherwise the model is reset."""
        rows = list(rows)
        keys = [self.key(r) for r in rows]
        if len(rows) == len(self.rows) and None not in keys and keys == [self.key(r) for r in self.rows]:
            changed = [i for i, (old, new) in enumerate(zip(self.rows, rows)) if old != new]
            self.rows = rows
            last = self.columnCount() - 1
            for i in changed:
                self.dataChanged.emit(self.index(i, 0), self.index(i, last))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()


class RowTable(QTableView):
    """A table whose unit is the row, which the program can also move (see `follow`)."""

    following = False  # true while the program moves the selection: row handlers leave it be

    def follow(self, index: QModelIndex) -> None:
        """Make `index`'s row the one selected and current row (an invalid index: none) because the
        program chose it, e.g. to follow the current span. The selection model keeps its signals, so
        the table repaints the row it leaves as well as the one it reaches (blocking them left old rows
        painted as selected); handlers of the user's choice check `following` and ignore it."""
        self.following = True
        try:
            if index.isValid():
                self.selectionModel().setCurrentIndex(index, _SELECT)
                self.scrollTo(index)
            else:
                self.selectionModel().clear()
        finally:
            self.following = False


def row_table(model: QAbstractItemModel, name: str = "") -> RowTable:
    """A table whose unit is the row: one row selected at a time, nothing edited in place, Tab leaves
    the table (it moves between spans in the article), no row numbers, no wrapping."""
    table = RowTable()
    if name:
        table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    return table

# keys typed in a search box that move the current row of its list: Up/Down a row, PageUp/PageDown five
STEPS = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 5, Qt.Key.Key_PageUp: -5}


def step_from_search(key: int, view: QAbstractItemView, pending: QTimer, search: Callable[[], None]) -> bool:
    """A key typed in a search box that moves `view`'s current row (STEPS): run the search if it waits
    on its typing pause (`pending`), move the row within the list, and say the key was used."""
    if key not in STEPS:
        return False
    if pending.isActive():
        search()
    model = view.model()
    count = model.rowCount()
    if count:
        view.setCurrentIndex(model.index(min(max(view.currentIndex().row() + STEPS[key], 0), count - 1), 0))
    return True
