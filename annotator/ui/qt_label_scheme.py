"""Labels → Edit label scheme…: the scheme as a table, and buttons to add, rename, recolour, key, hide
or show a label. Each is the same command `annotator labels` runs (core/editing/label_commands.py),
pushed on this user's stack: Ctrl+Z undoes it, and a refusal (E520-E529) is shown in the dialog.
"""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QColorDialog, QDialog, QHBoxLayout, QInputDialog, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from annotator.core.editing.label_commands import scheme_command
from annotator.errors import AnnotatorError

COLUMNS = ("Label", "Key", "Colour", "Shown", "Description")


class QtLabelSchemeDialog(QDialog):
    def __init__(self, parent: QWidget, project):
        super().__init__(parent)
        self.setWindowTitle("Label scheme")
        self.project = project
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, slot in (("&Add…", self.ask_add), ("&Rename…", self.ask_rename), ("Re&colour…", self.ask_recolour),
                           ("&Key…", self.ask_key), ("&Hide / show", self.toggle_hidden)):
            button = QPushButton(text, self)
            button.clicked.connect(lambda _checked=False, f=slot: f())
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.resize(640, 520)

    def load(self) -> None:
        """The scheme as it is now, the selected label kept selected."""
        selected = self.selected()
        labels = self.project.labels()
        self.table.setRowCount(len(labels))
        for row, info in enumerate(labels):
            values = (info.name, info.shortcut or "Ctrl+L", info.colour, "hidden" if info.hidden else "yes",
                      info.description)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 2:
                    item.setBackground(QColor(info.colour))
                self.table.setItem(row, col, item)
            if info.name == selected:
                self.table.selectRow(row)

    def selected(self) -> str | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return item.text() if item is not None else None

    def run(self, action: str, name: str | None, value: str | None = None, **options) -> bool:
        """Push one scheme edit; False (and the coded message shown) when it was refused."""
        try:
            command = scheme_command(action, name, value, **options)
            self.project.stack.push(command)
        except AnnotatorError as e:
            self.message.setText(str(e))
            return False
        self.message.setText(f"Done: {command.text()} (Ctrl+Z undoes it).")
        self.load()
        return True

    # --- the buttons
    def ask_add(self) -> None:
        name, ok = QInputDialog.getText(self, "Add a label", "Name (e.g. PRODUCT_LINE):")
        if ok and name:
            description, _ = QInputDialog.getText(self, "Add a label", f"What {name} is for:")
            self.run("add", name.strip(), description=description)

    def ask_rename(self) -> None:
        old = self.selected()
        if old is not None:
            new, ok = QInputDialog.getText(self, "Rename a label", f"New name of {old} (every span follows):", text=old)
            if ok and new and new != old:
                self.run("rename", old, new.strip())

    def ask_recolour(self) -> None:
        name = self.selected()
        if name is not None:
            current = self.table.item(self.table.currentRow(), 2).text()
            colour = QColorDialog.getColor(QColor(current), self, f"Colour of {name}")
            if colour.isValid():
                self.run("recolour", name, colour.name())

    def ask_key(self) -> None:
        name = self.selected()
        if name is not None:
            key, ok = QInputDialog.getText(self, "Label key", f"Digit key for {name} (0-9):")
            if ok and key:
                self.run("key", name, key.strip())

    def toggle_hidden(self) -> None:
        name = self.selected()
        if name is not None:
            hidden = self.table.item(self.table.currentRow(), 3).text() == "hidden"
            self.run("show" if hidden else "hide", name)
