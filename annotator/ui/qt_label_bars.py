"""F1 per label as a bar chart (the agreement dashboard's right-hand side), painted with QPainter."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from annotator.core.review.agreement import Measures

EXACT_COLOUR = QColor("#3F6EA8")
OVERLAP_COLOUR = QColor("#A9C2E0")
GRID_COLOUR = QColor("#E2E0DA")
TEXT_COLOUR = QColor("#1F1F1F")
MUTED_COLOUR = QColor("#6B675F")


def cell(value) -> str:
    """How a measure shows: three decimals, a dash where undefined (as the CLI prints it)."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text  # a tiny negative α is no disagreement to point at


class QtLabelBars(QWidget):
    """F1 per label as horizontal bars (exact: solid; overlap: the paler bar behind it), painted with
    QPainter. A click on a label's row, or Enter on the focused row, emits `labelActivated`."""

    labelActivated = Signal(str)
    ROW = 30
    TOP = 26

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("labelBars")
        self.rows: list[tuple[str, Measures, QColor]] = []
        self.focus_row = 0
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(260)

    def set_rows(self, rows: list[tuple[str, Measures, QColor]]) -> None:
        self.rows = rows
        self.focus_row = min(self.focus_row, max(len(rows) - 1, 0))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(360, self.TOP + self.ROW * max(len(self.rows), 1) + 8)

    def _name_width(self) -> int:
        """Where the bars start: after the swatch (22 px) and the longest label name."""
        metrics = self.fontMetrics()
        return 22 + max([metrics.horizontalAdvance(name) for name, _, _ in self.rows] + [40]) + 10

    def row_rect(self, i: int) -> QRectF:
        return QRectF(0, self.TOP + i * self.ROW, self.width(), self.ROW)

    VALUES = 96  # room for the numbers right of the bars

    def bar_rect(self, i: int, value: float | None) -> QRectF:
        """Where row i's bar of `value` is drawn (full width at 1.0)."""
        x = self._name_width()
        room = max(self.width() - x - self.VALUES, 10)
        return QRectF(x, self.TOP + i * self.ROW + 6, room * (value or 0.0), self.ROW - 12)

    def row_at(self, y: float) -> int:
        i = int((y - self.TOP) // self.ROW)
        return i if y >= self.TOP and 0 <= i < len(self.rows) else -1

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        metrics = self.fontMetrics()
        x0 = self._name_width()
        full = self.bar_rect(0, 1.0).width()
        small = QFont(self.font())
        small.setPointSizeF(max(self.font().pointSizeF() - 1, 7))
        # legend
        painter.setFont(small)
        painter.setPen(MUTED_COLOUR)
        painter.fillRect(QRectF(x0, 8, 12, 10), EXACT_COLOUR)
        painter.drawText(QRectF(x0 + 16, 4, 90, 18), Qt.AlignmentFlag.AlignVCenter, "F1 exact")
        painter.fillRect(QRectF(x0 + 90, 8, 12, 10), OVERLAP_COLOUR)
        painter.drawText(QRectF(x0 + 106, 4, 100, 18), Qt.AlignmentFlag.AlignVCenter, "F1 overlap")
        # grid at 0, .5, 1
        painter.setPen(QPen(GRID_COLOUR, 1))
        bottom = self.TOP + self.ROW * len(self.rows)
        for frac in (0.0, 0.5, 1.0):
            x = x0 + full * frac
            painter.drawLine(int(x), self.TOP - 2, int(x), bottom)
        if not self.rows:
            painter.setPen(MUTED_COLOUR)
            painter.drawText(QRectF(0, self.TOP, self.width(), self.ROW), Qt.AlignmentFlag.AlignCenter,
                             "No labels to compare")
        for i, (name, m, colour) in enumerate(self.rows):
            row = self.row_rect(i)
            if i == self.focus_row and self.hasFocus():
                painter.fillRect(row, QColor("#EEF3FA"))
            painter.fillRect(QRectF(6, row.top() + 9, 10, row.height() - 18), colour)
            painter.setFont(self.font())
            painter.setPen(TEXT_COLOUR)
            painter.drawText(QRectF(22, row.top(), x0 - 26, row.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             metrics.elidedText(name, Qt.TextElideMode.ElideRight, x0 - 26))
            painter.fillRect(self.bar_rect(i, m.span_f1_overlap), OVERLAP_COLOUR)
            exact = self.bar_rect(i, m.span_f1_exact)
            painter.fillRect(exact.adjusted(0, 4, 0, -4), EXACT_COLOUR)
            painter.setFont(small)
            painter.setPen(TEXT_COLOUR if m.span_f1_exact is not None else MUTED_COLOUR)
            painter.drawText(QRectF(x0 + full + 6, row.top(), self.VALUES - 6, row.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             f"{cell(m.span_f1_exact)} / {cell(m.span_f1_overlap)}")
        painter.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        i = self.row_at(event.position().y())
        if i >= 0:
            self.focus_row = i
            self.update()
            self.labelActivated.emit(self.rows[i][0])

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.rows:
            self.focus_row = (self.focus_row + (1 if key == Qt.Key.Key_Down else -1)) % len(self.rows)
            self.update()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.rows:
            self.labelActivated.emit(self.rows[self.focus_row][0])
        else:
            super().keyPressEvent(event)
