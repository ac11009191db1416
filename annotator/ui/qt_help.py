"""Help → Keyboard shortcuts (F1): every QAction of the window with its keys, read from the actions
themselves when the dialog opens, so the list cannot go stale as commands are added."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(keys, command, what it does) of each action of `window` that has a key, in menu order first."""
    seen: set[int] = set()
    ordered: list[QAction] = []

    def walk(actions) -> None:
        for action in actions:
            if action.menu() is not None:
                walk(action.menu().actions())
            elif id(action) not in seen:
                seen.add(id(action))
                ordered.append(action)

    walk(window.menuBar().actions())
    walk(window.actions())
    walk(window.findChildren(QAction, options=Qt.FindChildOption.FindDirectChildrenOnly))  # not a dialog's
    rows = []
    for action in ordered:
        keys = " / ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        if keys:
            rows.append((keys, action.text().replace("&", ""), action.statusTip()))
    return rows


class QtShortcutsDialog(QDialog):
    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("shortcuts")
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Command", "What it does"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(820, 560)

    def refresh(self) -> None:
        rows = shortcut_rows(self.window_)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def present(self) -> None:
        self.refresh()
        self.show()
        self.raise_()
