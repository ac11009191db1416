"""The label legend: one chip per label with a digit key, showing its colour, key and how many spans
of the open document carry it.

A chip is a button bound to the label's QAction, so clicking it does what the digit key does. Labels
without a key sit in a "More labels" menu (and the quick label picker, Ctrl+L), so the bar stays one
line; chips wrap when the window is narrow (a small flow layout). Hidden labels are not offered.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QLayout, QMenu, QSizePolicy, QToolButton, QWidget

from annotator.ui.qt_highlighter import blend


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, spacing: int = 6):
        super().__init__(parent)
        self._items = []
        self.setSpacing(spacing)

    def addItem(self, item) -> None:  # noqa: N802 (Qt name)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):  # noqa: N802 (Qt name)
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):  # noqa: N802 (Qt name)
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self):  # noqa: N802 (Qt name)
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt name)
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 (Qt name)
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802 (Qt name)
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _place(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line_height = area.x(), area.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > area.right() and line_height > 0:
                x, y, line_height = area.x(), y + line_height + self.spacing(), 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self.spacing()
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y() + m.bottom()


class QtLabelBar(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("labelBar")
        self.flow = FlowLayout(self)
        self.flow.setContentsMargins(10, 6, 10, 6)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.chips: dict[str, QToolButton] = {}
        self.counts: dict[str, int] = {}

    def set_counts(self, counts: dict[str, int]) -> None:
        """Spans per label in the open document, shown on each chip."""
        self.counts = dict(counts)
        for name, chip in self.chips.items():
            action = chip.defaultAction()
            n = self.counts.get(name, 0)
            chip.setText(f"{action.iconText()}  ({n})" if n else action.iconText())

    def set_labels(self, labels, actions) -> None:
        """`labels`: LabelInfo list; `actions`: label name → its QAction."""
        while self.flow.count():
            item = self.flow.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        labels = [i for i in labels if not i.hidden and i.name in actions]
        self.chips = {}
        for info in (i for i in labels if i.shortcut):
            chip = QToolButton(self)
            chip.setObjectName("labelChip")
            chip.setDefaultAction(actions[info.name])  # text and tooltip come from the action
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            edge = blend(info.colour, 1.0).darker(135).name()
            chip.setStyleSheet(f"QToolButton#labelChip {{ background: {info.colour}; border-color: {edge}; }}")
            self.flow.addWidget(chip)
            self.chips[info.name] = chip
        rest = [i for i in labels if not i.shortcut]
        if rest:
            more = QToolButton(self)
            more.setObjectName("moreLabels")
            more.setText(f"More labels ({len(rest)})")
            more.setToolTip("Labels without a digit; Ctrl+L picks any label by typing part of its name")
            more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            menu = QMenu(more)
            for info in rest:
                actions[info.name].setIcon(swatch(info.colour))
                menu.addAction(actions[info.name])
            more.setMenu(menu)
            self.flow.addWidget(more)
        self.set_counts(self.counts)
        self.updateGeometry()


def swatch(colour: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)
