"""The article: a read-only QPlainTextEdit (plain text only) where spans are selected and edited.

Mouse selections snap to tokens on release (Alt keeps characters); a click picks the span under the
pointer. The article also has a caret: with no span current, Shift+arrows select whole tokens from it
(Alt+Shift+arrows characters). Keys are QActions (see qt_actions) that call the methods here, so the
menus and Help → Keyboard shortcuts show them all.
Qt positions are UTF-16 units; they become code points here and nowhere else.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QKeyEvent, QKeySequence, QPainter, QPen, QTextCursor, QTextOption
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QToolTip, QWidget

from annotator.errors import Errors
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_highlighter import QtSpanHighlighter
from annotator.ui.qt_settings import preference, set_preference

ARTICLE_FONTS = ["Charter", "Georgia", "Source Serif 4", "Noto Serif", "DejaVu Serif", "serif"]
ARTICLE_POINT_SIZE = 12.5  # the default of Preferences → article font size (qt_settings.DEFAULTS)
MIN_POINT_SIZE = 6.0
OUTLINE = QColor("#1A1A1A")
SEPARATOR = QColor(0, 0, 0, 150)  # a span's first character: two spans side by side read as two
MAX_VISIBLE_BLOCKS = 80  # more text blocks than any screen shows at once


class QtDocumentView(QPlainTextEdit):
    def __init__(self, model: QtDocumentModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.setObjectName("article")
        self.setReadOnly(True)
        self.setFrameShape(QPlainTextEdit.Shape.NoFrame)
        # a caret to select from with the keyboard; read-only stays read-only (no TextEditable)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setAcceptDrops(False)  # dropped files go to the window, which imports them
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.apply_font()
        self.document().setUndoRedoEnabled(False)
        self.document().setDocumentMargin(18)
        self.highlighter = QtSpanHighlighter(model, self.document())
        self.highlighter.blockChanged.connect(self._repaint_block)
        model.opened.connect(self._on_opened)
        model.loaded.connect(self._on_loaded)
        model.currentChanged.connect(self._on_current)
        model.spansChanged.connect(self._on_spans)
        self.verticalScrollBar().valueChanged.connect(self._on_scroll)

    # --- positions
    def to_qt(self, cp: int) -> int:
        return self.model.u16.to_utf16(cp)

    def to_cp(self, pos: int) -> int:
        return self.model.u16.to_cp(pos)

    def selection(self) -> tuple[int, int] | None:
        """The selected text as code points, or None."""
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return None
        return self.to_cp(cursor.selectionStart()), self.to_cp(cursor.selectionEnd())

    def copy_stored(self) -> None:
        """Copy what the article says, not what is drawn: the view shows bidi controls and invisible
        characters as marks (see spans.display_text); the clipboard gets the stored characters.
        (Not through createMimeDataFromSelection: a QMimeData made in Python and handed to the
        clipboard is deleted twice at exit.)"""
        span = self.selection()
        if span is not None:
            QApplication.clipboard().setText(self.model.text[span[0]:span[1]])

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_stored()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt name)
        menu = self.createStandardContextMenu()
        for action in menu.actions():
            if action.objectName() == "edit-copy":
                action.triggered.disconnect()
                action.triggered.connect(self.copy_stored)
        menu.exec(event.globalPos())
        menu.deleteLater()

    def select(self, start: int, end: int) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.to_qt(start))
        cursor.setPosition(self.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)

    # --- font and zoom (Preferences and Ctrl++ / Ctrl+- / Ctrl+0, kept in QSettings)
    def apply_font(self) -> None:
        """The preferred family and size, plus the zoom steps (one point each)."""
        font = QFont()
        family = preference("article/font_family")
        font.setFamilies([family, *ARTICLE_FONTS] if family else ARTICLE_FONTS)
        font.setPointSizeF(max(MIN_POINT_SIZE, preference("article/font_size") + preference("article/zoom")))
        self.setFont(font)

    def zoom(self, steps: int | None) -> None:
        """Bigger (+1) or smaller (-1) by a point; None goes back to the preferred size."""
        zoom = 0 if steps is None else preference("article/zoom") + steps
        if steps is not None and preference("article/font_size") + zoom < MIN_POINT_SIZE:
            return
        set_preference("article/zoom", zoom)
        self.apply_font()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:  # the same zoom as the keys, kept too
            if event.angleDelta().y():
                self.zoom(1 if event.angleDelta().y() > 0 else -1)
            return
        super().wheelEvent(event)

    # --- the caret (with no span current)
    def extend_selection(self, direction: int, by_token: bool = True) -> None:
        """Shift+arrows: move the selection's free end by a token (or a character), the selection
        snapped to whole tokens."""
        if self.model.doc_id is None:
            return
        cursor = self.textCursor()
        anchor, pos = self.to_cp(cursor.anchor()), self.to_cp(cursor.position())
        if not by_token:
            pos = max(0, min(len(self.model.text), pos + direction))
            self._select_from(anchor, pos)
            return
        edge = "end" if direction > 0 else "start"
        pos = self.model.tokens.next_boundary(pos, edge=edge, direction=direction, text=self.model.text)
        if pos == anchor:
            self._select_from(anchor, pos)
        elif pos > anchor:
            self._select_from(*self.model.tokens.snap(anchor, pos, self.model.text))
        else:
            start, end = self.model.tokens.snap(pos, anchor, self.model.text)
            self._select_from(end, start)

    def _select_from(self, anchor: int, pos: int) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.to_qt(anchor))
        cursor.setPosition(self.to_qt(pos), QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def go_to(self, end: bool) -> None:
        """Ctrl+Home / Ctrl+End: the caret to the document's start or end."""
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End if end else QTextCursor.MoveOperation.Start)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def escape(self) -> None:
        """Escape: no span current (Shift+arrows then select from the caret); again, no selection."""
        if self.model.current is not None:
            self.model.set_current(None)
        else:
            cursor = self.textCursor()
            cursor.clearSelection()
            self.setTextCursor(cursor)

    # --- model events
    def _on_opened(self) -> None:
        self.highlighter.load(self, self._screenful())
        QTimer.singleShot(0, self._highlight_visible)  # in case more than estimated is on screen

    def _on_loaded(self, rest) -> None:
        self.highlighter.add_rest(rest)
        self._highlight_visible()

    def _screenful(self) -> int:
        """About how many characters the viewport shows (generously), from the font's metrics."""
        metrics = self.fontMetrics()
        columns = self.viewport().width() // max(1, metrics.averageCharWidth())
        lines = self.viewport().height() // max(1, metrics.lineSpacing())
        return int(max(columns, 40) * max(lines, 20) * 1.3)

    def _on_spans(self, deltas) -> None:
        """An edit changes the formats of its spans only: repaint the lines where each was and is (not
        the whole paragraph), which also moves the current span's outline."""
        for d in deltas:
            self._repaint_spans(d.old, d.new)

    def _repaint_block(self, block_number: int) -> None:
        first = self.firstVisibleBlock().blockNumber()
        if not first <= block_number <= first + MAX_VISIBLE_BLOCKS:
            return  # off screen: measuring it would lay it out for nothing
        block = self.document().findBlockByNumber(block_number)
        rect = self.blockBoundingGeometry(block).translated(self.contentOffset())
        if rect.bottom() >= 0 and rect.top() <= self.viewport().height():
            self.viewport().update(rect.adjusted(0, -2, 0, 2).toAlignedRect())

    def _repaint_spans(self, *spans) -> None:
        for span in spans:
            if span is not None:
                self._repaint_rects(self.range_rects(self.to_qt(span.start), self.to_qt(span.end)))

    def _repaint_rects(self, rects: list[QRectF]) -> None:
        for rect in rects:
            self.viewport().update(rect.adjusted(-4, -3, 4, 3).toAlignedRect())

    def _on_current(self, old, new) -> None:
        self._repaint_spans(self.model.spans.get(old) if old is not None else None)
        span = self.model.spans.get(new) if new is not None else None
        if span is None:
            return
        start, end = self.to_qt(span.start), self.to_qt(span.end)
        cursor = QTextCursor(self.document())
        cursor.setPosition(end)
        last = self.cursorRect(cursor)
        cursor.setPosition(start)
        first = self.cursorRect(cursor)
        if first.top() >= 0 and last.bottom() <= self.viewport().height():  # on screen already
            rects = self.range_rects(start, end)
            self.setTextCursor(cursor)  # drops any text selection: the span is the focus now
        else:  # scroll so that the whole span shows, its start last
            cursor.setPosition(end)
            self.setTextCursor(cursor)
            self.ensureCursorVisible()
            cursor.setPosition(start)
            self.setTextCursor(cursor)
            self.ensureCursorVisible()
            rects = self.range_rects(start, end)
        self._repaint_rects(rects)

    def _on_scroll(self, value: int) -> None:
        if value:  # scrolled down before the rest of the spans came in (opening scrolls to the top)
            self.model.load_rest()
        self._highlight_visible()

    def _highlight_visible(self) -> None:
        if not self.highlighter.pending():
            return
        block, offset, height = self.firstVisibleBlock(), self.contentOffset(), self.viewport().height()
        while block.isValid() and self.blockBoundingGeometry(block).translated(offset).top() <= height:
            self.highlighter.ensure(block.blockNumber())
            block = block.next()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self.model.first_screen = self._screenful()
        self._highlight_visible()

    # --- actions (connected by the window's QActions)
    def apply_label(self, label: str) -> None:
        """Digit key: label the selection as a new span, else relabel the current span."""
        selected = self.selection()
        if selected is not None:
            self.model.add(*selected, label)  # the new span becomes current, which clears the selection
        elif self.model.current is not None:
            self.model.relabel(label)
        else:
            self.model.failed.emit(Errors.E300)

    def step(self, direction: int) -> None:
        self.model.step(direction, from_pos=self.to_cp(self.textCursor().position()))

    # --- mouse
    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton or self.model.doc_id is None:
            return
        selected = self.selection()
        if selected is not None:
            if not event.modifiers() & Qt.KeyboardModifier.AltModifier:
                start, end = self.model.tokens.snap(*selected, self.model.text)
                self.select(start, end)
            self.model.set_current(None)
            return
        self._pick(event.position())

    def _cp_under(self, point: QPointF) -> int:
        """The code point under a viewport point."""
        cursor = self.cursorForPosition(point.toPoint())
        pos = cursor.position()
        if self.cursorRect(cursor).center().x() > point.x() and pos > 0:
            pos -= 1  # the pointer is on the character before the nearest boundary
        return self.to_cp(pos)

    def _spans_under(self, point: QPointF) -> list:
        """The spans under a viewport point, innermost first."""
        return self.model.spans_at(self._cp_under(point)) if self.model.doc_id is not None else []

    def tooltip_at(self, point: QPointF) -> str:
        """What hovering shows: the hidden character a mark stands for (its code and name), then each
        span under the pointer (innermost first) with its label, the label's description, whether it
        is still a suggestion, and its link."""
        lines = []
        if self.model.hidden and self.model.doc_id is not None:
            at, hidden = self._cp_under(point), self.model.hidden
            i = bisect_left(hidden, at)
            if i < len(hidden) and hidden[i] == at:
                char = self.model.text[at]
                lines.append(f"U+{ord(char):04X} {unicodedata.name(char, 'FORMAT CHARACTER')}: in the text, "
                             "unseen; shown as a mark")
        for span in self._spans_under(point):
            info = self.model.labels.get(span.label)
            line = f"{span.label}" + (f" — {info.description}" if info is not None and info.description else "")
            if span.status == "suggested":
                line += " (suggestion)"
            if span.entity_id is not None:
                entity = self.model.project.entity(span.entity_id)
                line += f"; linked to {entity.name} ({entity.kb_id})" if entity is not None else "; linked"
            elif span.nil:
                line += "; NIL (not in the knowledge base)"
            lines.append(line)
        return "\n".join(lines)

    def viewportEvent(self, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def _pick(self, point: QPointF) -> None:
        """The span under the pointer becomes current; clicking again cycles through nested spans."""
        hits = self._spans_under(point)
        current = self.model.current
        ids = [s.id for s in hits]
        if current in ids and len(ids) > 1:
            self.model.set_current(ids[(ids.index(current) + 1) % len(ids)])
        else:
            self.model.set_current(ids[0] if ids else None)

    # --- painting: span starts, and an outline round the current span
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        self._paint_starts(event.rect())
        span = self.model.current_span()
        if span is None:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(OUTLINE, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for rect in self.range_rects(self.to_qt(span.start), self.to_qt(span.end)):
            painter.drawRoundedRect(rect.adjusted(-1.5, -0.5, 1.5, 0.5), 3, 3)
        painter.end()

    def span_starts(self) -> list[int]:
        """Code points where a span starts right where another ends or inside another: the places
        that need a separator, or "South Korea-" and "Japan" read as one span."""
        if self.model.doc_id is None:
            return []
        spans = list(self.model.spans.values())
        ends = {s.end for s in spans}
        starts = []
        for span in spans:
            if span.start in ends or any(o.start < span.start < o.end for o in self.model.spans_at(span.start)
                                         if o.id != span.id):
                starts.append(span.start)
        return sorted(set(starts))

    def _paint_starts(self, area) -> None:
        first = self.cursorForPosition(area.topLeft()).position()
        last = self.cursorForPosition(area.bottomRight()).position()
        starts = [p for p in self.span_starts() if first <= self.to_qt(p) <= last + 1]
        if not starts:
            return
        painter = QPainter(self.viewport())
        painter.setPen(QPen(SEPARATOR, 1.5))
        for p in starts:
            q = self.to_qt(p)
            for rect in self.range_rects(q, q + 1)[:1]:
                painter.drawLine(QPointF(rect.left(), rect.top() + 2), QPointF(rect.left(), rect.bottom() - 2))
        painter.end()

    def range_rects(self, a: int, b: int) -> list[QRectF]:
        """Viewport rectangles covering the text between Qt positions a and b, one per line."""
        rects: list[QRectF] = []
        block = self.document().findBlock(a)
        offset, bottom = self.contentOffset(), self.viewport().height()
        while block.isValid() and block.position() < b:
            origin = self.blockBoundingGeometry(block).translated(offset).topLeft()
            if origin.y() > bottom:
                break
            layout, base = block.layout(), block.position()
            for i in range(layout.lineCount()):
                line = layout.lineAt(i)
                s = max(a, base + line.textStart())
                e = min(b, base + line.textStart() + line.textLength())
                if s >= e:
                    continue
                x1, x2 = line.cursorToX(s - base)[0], line.cursorToX(e - base)[0]
                rects.append(QRectF(min(x1, x2), line.y(), abs(x2 - x1), line.height()).translated(origin))
            block = block.next()
        return rects
