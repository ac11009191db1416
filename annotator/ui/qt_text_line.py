"""A few lines of plain text, wrapped and elided to fit, for text that changes with every edit.

A QLabel asks its layout to recompute on every setText (and a word-wrapped one changes its height
with its text), and that travels up to the main window: the whole right side was laid out and
repainted after each edit. This widget has a fixed height, so a new text repaints only itself.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QTextLayout, QTextOption
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from annotator.core.words import plural  # noqa: F401 (the windows' counts, imported from here)


def short(text: str | None, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_label(text: str = "", name: str = "", style: str = "", wrap: bool = True,
                selectable: bool = False) -> QLabel:
    """A QLabel that never interprets its text as rich text (names, contexts and article text come from
    the corpus), for text that does not change on every edit (that is what QtTextLine is for)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    if style:
        label.setStyleSheet(style)
    return label


class QtTextLine(QWidget):
    """Plain text (never rich text) in `lines` lines; the full text is the tool tip. `boxed` draws it
    in a white field with a border (the selected span's text)."""

    PAD = (8, 6)  # horizontal, vertical padding inside a box

    def __init__(self, text: str = "", colour: str | None = None, bold: bool = False, lines: int = 1,
                 boxed: bool = False, point_size: float | None = None, parent=None):
        super().__init__(parent)
        self._text = text
        self._colour = QColor(colour) if colour else None
        self._lines = lines
        self._boxed = boxed
        font = self.font()
        font.setBold(bold)
        if point_size:
            font.setPointSizeF(point_size)
        self.setFont(font)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        if text != self._text:
            self._text = text
            self.setToolTip(text)
            self.update()

    def setColour(self, colour: str | None) -> None:  # noqa: N802 (Qt style)
        new = QColor(colour) if colour else None
        if new != self._colour:
            self._colour = new
            self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(160, self._height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(40, self._height())

    def _height(self) -> int:
        pad = 2 * self.PAD[1] if self._boxed else 6
        return self.fontMetrics().lineSpacing() * self._lines + pad

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        rect = self.rect()
        if self._boxed:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor("#E2E0DA"), 1))
            painter.setBrush(QColor("#FFFFFF"))
            painter.drawRoundedRect(rect.adjusted(0, 0, -1, -1), 4, 4)
            rect = rect.adjusted(self.PAD[0], self.PAD[1], -self.PAD[0], -self.PAD[1])
        painter.setPen(self._colour or self.palette().windowText().color())
        if self._lines == 1:
            text = self.fontMetrics().elidedText(" ".join(self._text.split()), Qt.TextElideMode.ElideRight,
                                                 rect.width())
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        else:
            painter.translate(rect.topLeft())
            self._paint_wrapped(painter, rect.width())
        painter.end()

    def _paint_wrapped(self, painter: QPainter, width: int) -> None:
        """Word-wrapped into at most `lines` lines; the last one elided if text is left over."""
        metrics, spacing = self.fontMetrics(), self.fontMetrics().lineSpacing()
        layout = QTextLayout(self._text, self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        layout.beginLayout()
        y, lines = 0.0 if self._boxed else 3.0, []
        while len(lines) < self._lines:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, y))
            lines.append(line)
            y += spacing
        layout.endLayout()
        if not lines:
            return
        last = lines[-1]
        if last.textStart() + last.textLength() < len(self._text):  # cut: elide the last line
            for line in lines[:-1]:
                line.draw(painter, QPointF(0, 0))
            rest = " ".join(self._text[last.textStart():].split())
            tail = metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QPointF(0, last.y() + metrics.ascent()), tail)
        else:
            layout.draw(painter, QPointF(0, 0))
