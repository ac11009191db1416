"""The window's status bar. A message too long for the room left of the permanent widgets (a refusal's
"what to do" half: `[E164] ... can run annotator role NAME reviewer`) wraps onto more lines, the bar
growing for as long as it shows, instead of being cut off at "Done: ..."; `currentMessage()` is the
whole text as before."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

MAX_LINES = 4
WRAP = Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap


class QtStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.messageChanged.connect(lambda _text: self._fit())

    def _items(self) -> list[QWidget]:
        return [w for w in self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
                if w.isVisible() and not isinstance(w, QSizeGrip)]

    def message_rect(self) -> QRect:
        """Where the message goes: from the left edge to the first permanent widget."""
        right = min((w.x() for w in self._items()), default=self.width())
        return QRect(6, 0, max(0, right - 12), self.height())

    def wrapped(self) -> bool:
        """Whether the message shown is wider than its room on one line."""
        text = self.currentMessage()
        return bool(text) and self.fontMetrics().horizontalAdvance(text) > self.message_rect().width()

    def _fit(self) -> None:
        """Tall enough for the wrapped message (up to MAX_LINES lines); one line again without it."""
        height = 0
        if self.wrapped():
            width = self.message_rect().width()
            lines = self.fontMetrics().boundingRect(QRect(0, 0, width, 10_000), WRAP, self.currentMessage())
            height = min(lines.height(), MAX_LINES * self.fontMetrics().lineSpacing()) + 6
        if height != self.minimumHeight():
            self.setMinimumHeight(height)
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if self.currentMessage():
            self._fit()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if not self.wrapped():
            super().paintEvent(event)
            return
        # QStatusBar's own painting, but the message word-wrapped instead of on one clipped line
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        for item in self._items():
            option.rect = item.geometry().adjusted(-2, -1, 2, 1)
            self.style().drawPrimitive(QStyle.PrimitiveElement.PE_FrameStatusBarItem, option, painter, item)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.message_rect(), WRAP, self.currentMessage())
