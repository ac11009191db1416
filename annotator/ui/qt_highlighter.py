"""Entity colours in the article: a QSyntaxHighlighter over an interval index of spans per text block.

Only blocks that changed are re-highlighted, their formats set on the block's layout directly.
Opening a document highlights what is on screen at once and the rest in idle time (or as soon as it
scrolls into view), so what opening spends on highlighting does not grow with what lies below the
first screen.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextBlock, QTextCharFormat, QTextDocument, QTextLayout
from PySide6.QtWidgets import QPlainTextEdit

from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.spans import BlockIndex, SpanRow

IDLE_BLOCKS = 32  # blocks highlighted per idle tick
IDLE_MS = 25  # between ticks: input events always get their turn
UNKNOWN_COLOUR = "#CCCCCC"
TEXT_COLOUR = QColor("#111111")
CURRENT_COLOUR = QColor("#111111")
Underline = QTextCharFormat.UnderlineStyle
HIDDEN_COLOUR = QColor("#B3261E")  # a bidi control or invisible character, shown as a mark


def blend(colour: str, amount: float) -> QColor:
    """`colour` mixed with white: `amount` 1 is the colour itself, 0 is white."""
    c = QColor(colour)
    return QColor(round(255 - (255 - c.red()) * amount), round(255 - (255 - c.green()) * amount),
                  round(255 - (255 - c.blue()) * amount))


class QtSpanHighlighter(QSyntaxHighlighter):
    """Accepted spans: solid label colour. Suggestions: paler, dashed underline. Current span: solid
    dark underline (the view also outlines it). Nested spans: the inner colour, a dotted underline in
    the outer's colour."""

    blockChanged = Signal(int)  # a block's highlight changed: the view repaints just that block

    def __init__(self, model: QtDocumentModel, document: QTextDocument):
        super().__init__(document)
        self.model = model
        self.index = BlockIndex([0])
        self._pending: set[int] = set()  # blocks with spans not highlighted yet
        self._formats: dict[tuple, QTextCharFormat] = {}
        self._idle = QTimer(self)
        self._idle.setInterval(IDLE_MS)
        self._idle.timeout.connect(self._idle_work)
        model.spansChanged.connect(self._on_spans)
        model.currentChanged.connect(self._on_current)

    # --- lifecycle
    def load(self, edit: QPlainTextEdit, eager_chars: int) -> None:
        """Index the open document's spans and give `edit` its text, every block with spans pending.

        The document's signals are held back during setPlainText: otherwise QSyntaxHighlighter calls
        highlightBlock (Python) for every paragraph before anything can be shown. Then the blocks of
        the first screenful (`eager_chars`) are highlighted, before any layout; the view highlights
        whatever else is on screen (`ensure`), and idle time the rest.
        """
        m = self.model
        self._formats.clear()  # colours may have changed with the label scheme
        self.index = BlockIndex(m.block_starts, m.spans.values())
        document = self.document()
        was_blocked = document.blockSignals(True)
        try:
            edit.setPlainText(m.display)
        finally:
            document.blockSignals(was_blocked)
        first_screen = bisect_right(m.block_starts, eager_chars)
        self._pending = set(self.index.buckets) | {bisect_right(m.block_starts, p) - 1 for p in m.hidden}
        layout = document.documentLayout()
        was_blocked = layout.blockSignals(True)  # nothing is laid out or painted yet
        try:
            for n in sorted(b for b in self._pending if b < first_screen):
                self._pending.discard(n)
                self._apply(document.findBlockByNumber(n))
        finally:
            layout.blockSignals(was_blocked)
        if self._pending:
            self._idle.start()
        else:
            self._idle.stop()

    def add_rest(self, spans: list[SpanRow]) -> None:
        """The spans read after the first paint: their blocks wait for their turn like the others."""
        rest = BlockIndex(self.index.starts, spans)  # one pass over them, as `load` does
        for block, ids in rest.buckets.items():
            self.index.buckets.setdefault(block, []).extend(ids)
            self._pending.add(block)
        if self._pending:
            self._idle.start()

    def pending(self) -> bool:
        return bool(self._pending)

    def ensure(self, block_number: int) -> None:
        """Highlight a block now if it is still waiting."""
        if block_number in self._pending:
            self._refresh(block_number)

    def flush(self) -> None:
        """Highlight every waiting block (screenshots, tests)."""
        for n in sorted(self._pending):
            self._refresh(n)
        self._idle.stop()

    def _idle_work(self) -> None:
        for n in sorted(self._pending)[:IDLE_BLOCKS]:
            self._refresh(n)
        if not self._pending:
            self._idle.stop()

    def _refresh(self, block_number: int, announce: bool = True) -> None:
        """Re-highlight one block, and have the view repaint that block only.

        QSyntaxHighlighter marks the block dirty with a range that reaches into the next block, which
        QPlainTextDocumentLayout answers with a repaint of the whole viewport (several ms per edit).
        Formats never change the text's size, so the layout's signals are held back and the view is
        told which block to repaint instead — or nothing (`announce` false) when an edit changed the
        formats of known spans only: the view repaints just their lines.
        """
        self._pending.discard(block_number)
        block = self.document().findBlockByNumber(block_number)
        if not block.isValid():
            return
        layout = self.document().documentLayout()
        was_blocked = layout.blockSignals(True)
        try:
            self._apply(block)
        finally:
            layout.blockSignals(was_blocked)
        if announce:
            self.blockChanged.emit(block_number)

    # --- model events: only the touched blocks
    def _on_spans(self, deltas) -> None:
        blocks: set[int] = set()
        for d in deltas:
            if d.old is not None:
                blocks.update(self.index.remove(d.old))
            if d.new is not None:
                blocks.update(self.index.add(d.new))
        for n in sorted(blocks):
            self._refresh(n, announce=False)  # the view repaints the spans' lines (QtDocumentView._on_spans)

    def _on_current(self, old: int | None, new: int | None) -> None:
        blocks: set[int] = set()
        for span_id in (old, new):
            span = self.model.spans.get(span_id) if span_id is not None else None
            if span is not None:
                blocks.update(self.index.blocks_of(span.start, span.end))
        for n in sorted(blocks):
            self._refresh(n, announce=False)  # the view repaints both spans (QtDocumentView._on_current)

    # --- drawing
    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt name)
        """Qt's way in (rehighlight(), a document change); the window's own goes through `_apply`."""
        block = self.currentBlock()
        if block.blockNumber() in self._pending:
            return
        for start, length, fmt in self._ranges(block):
            self.setFormat(start, length, fmt)

    def _apply(self, block: QTextBlock) -> None:
        """Give a block its formats straight away: what `rehighlightBlock` ends in, without
        QSyntaxHighlighter's pass over every character of the paragraph (80 µs a paragraph, five
        times the cost of this, paid for each block on screen when a document opens)."""
        ranges = []
        for start, length, fmt in self._ranges(block):
            r = QTextLayout.FormatRange()
            r.start, r.length, r.format = start, length, fmt
            ranges.append(r)
        block.layout().setFormats(ranges)

    def _ranges(self, block: QTextBlock) -> list[tuple[int, int, QTextCharFormat]]:
        """(start, length, format) of the block's highlighted pieces, in UTF-16 units from its start:
        its spans, then the marks standing for hidden characters (merged over a span's colour)."""
        ranges = self._span_ranges(block)
        if self.model.hidden:
            ranges += self._hidden_ranges(block)
        return ranges

    def _hidden_ranges(self, block: QTextBlock) -> list[tuple[int, int, QTextCharFormat]]:
        m, n = self.model, block.blockNumber()
        first = m.block_starts[n] if n < len(m.block_starts) else len(m.text)
        following = m.block_starts[n + 1] if n + 1 < len(m.block_starts) else len(m.text)
        hidden = m.hidden[bisect_left(m.hidden, first):bisect_left(m.hidden, following)]
        return [(m.u16.to_utf16(p) - block.position(), 1, self._hidden_format()) for p in hidden]

    def _hidden_format(self) -> QTextCharFormat:
        fmt = self._formats.get("hidden")
        if fmt is None:
            fmt = self._formats["hidden"] = QTextCharFormat()
            fmt.setForeground(HIDDEN_COLOUR)
            fmt.setFontWeight(QFont.Weight.Bold)
        return fmt

    def _span_ranges(self, block: QTextBlock) -> list[tuple[int, int, QTextCharFormat]]:
        ids = self.index.buckets.get(block.blockNumber())
        if not ids:
            return []
        m = self.model
        base, length = block.position(), block.length() - 1  # UTF-16 units, without the separator
        items = []
        for span_id in ids:
            span = m.spans.get(span_id)
            if span is None:
                continue
            a = max(m.u16.to_utf16(span.start) - base, 0)
            b = min(m.u16.to_utf16(span.end) - base, length)
            if a < b:
                items.append((a, b, span))
        items.sort(key=lambda t: (t[0], -t[1]))
        if all(items[i][1] <= items[i + 1][0] for i in range(len(items) - 1)):
            return [(a, b - a, self._format(span, None)) for a, b, span in items]
        return self._nested(items)

    def _nested(self, items: list[tuple[int, int, SpanRow]]) -> list[tuple[int, int, QTextCharFormat]]:
        """Overlapping spans: cut at every boundary; each piece shows its innermost span's colour."""
        pieces = []
        points = sorted({p for a, b, _ in items for p in (a, b)})
        for p, q in zip(points, points[1:]):
            covers = [(b - a, span) for a, b, span in items if a <= p and b >= q]
            if not covers:
                continue
            covers.sort(key=lambda c: -c[0])
            inner = covers[-1][1]
            outer = covers[0][1] if len(covers) > 1 else None
            current = any(span.id == self.model.current for _, span in covers)
            pieces.append((p, q - p, self._format(inner, outer, current)))
        return pieces

    def _format(self, span: SpanRow, outer: SpanRow | None, current: bool | None = None) -> QTextCharFormat:
        if current is None:
            current = span.id == self.model.current
        key = (span.label, span.status, current, outer.label if outer is not None else None)
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = self._formats[key] = self._make_format(*key)
        return fmt

    def _make_format(self, label: str, status: str, current: bool, outer: str | None) -> QTextCharFormat:
        colour = self._colour(label)
        fmt = QTextCharFormat()
        fmt.setForeground(TEXT_COLOUR)
        if status == "suggested":
            fmt.setBackground(blend(colour, 0.55))
            fmt.setUnderlineStyle(Underline.DashUnderline)
            fmt.setUnderlineColor(QColor(colour).darker(200))
        else:
            fmt.setBackground(QColor(colour))
        if outer is not None:
            fmt.setUnderlineStyle(Underline.DotLine)
            fmt.setUnderlineColor(QColor(self._colour(outer)).darker(170))
        if current:
            fmt.setUnderlineStyle(Underline.SingleUnderline)
            fmt.setUnderlineColor(CURRENT_COLOUR)
        return fmt

    def _colour(self, label: str) -> str:
        info = self.model.labels.get(label)
        return info.colour if info is not None else UNKNOWN_COLOUR
