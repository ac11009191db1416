"""The quick label picker (Ctrl+L): every visible label, digits or not, by typing part of its name.

Only ten labels have a digit; the picker reaches the rest from the keyboard. Typing filters (name
first, then description), the arrows move, Enter applies the highlighted label as its digit would
(to the selection, else the current span), Escape closes. Each row shows the label's description.
"""

from __future__ import annotations

from typing import Callable, Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from annotator.ui.qt_label_bar import swatch


class QtLabelPicker(QFrame):
    def __init__(self, parent: QWidget, apply: Callable[[str], None]):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("labelPicker")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.apply = apply
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Type part of a label, Enter applies it")
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys go to the filter; arrows are forwarded
        self.list.itemActivated.connect(lambda item: self._choose(item.data(Qt.ItemDataRole.UserRole)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._refilter)
        self.filter.returnPressed.connect(self._enter)
        self.filter.installEventFilter(self)
        self.labels: list = []
        self.resize(420, 320)

    def present(self, labels: Iterable, anchor) -> None:
        """Show the visible `labels` (LabelInfo) below the global point `anchor`, filter empty."""
        self.labels = [info for info in labels if not info.hidden]
        self.filter.clear()
        self._refilter("")
        self.move(anchor)
        self.show()
        self.activateWindow()
        self.filter.setFocus()

    def matches(self, text: str) -> list:
        """Labels whose name starts with, then contains, `text`; then those whose description does."""
        t = text.strip().casefold()
        starts = [i for i in self.labels if i.name.casefold().startswith(t)]
        inside = [i for i in self.labels if t in i.name.casefold() and i not in starts]
        described = [i for i in self.labels if t in i.description.casefold() and i not in starts + inside]
        return starts + inside + described

    def _refilter(self, text: str) -> None:
        self.list.clear()
        for info in self.matches(text):
            key = f"{info.shortcut}  " if info.shortcut else "    "
            item = QListWidgetItem(swatch(info.colour), f"{key}{info.name} — {info.description}".rstrip(" —"))
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            item.setToolTip(info.description)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if obj is self.filter and event.type() == event.Type.KeyPress and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            row = self.list.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(row, self.list.count() - 1)))
            return True
        return super().eventFilter(obj, event)

    def _enter(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._choose(item.data(Qt.ItemDataRole.UserRole))

    def _choose(self, name: str) -> None:
        self.hide()
        self.apply(name)
