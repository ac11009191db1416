"""A long article opens in two steps: its first screen is painted with the spans it shows, and the rest
of the spans is read right after. Whatever the user does in between sees the whole layer."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt

from annotator.core.records import DocRecord, SpanRecord
from annotator.io.importing import import_records

Key = Qt.Key
USER = "tester"
PARAGRAPHS = 600


class FirstPaint(QObject):
    """How many spans were still unread when the article was first painted."""

    def __init__(self, window):
        super().__init__()
        self.window, self.unread = window, None
        window.view.viewport().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Paint and self.unread is None:
            self.unread = self.window.model.unread
        return False


def add_long_article(window) -> list[tuple[int, int]]:
    """600 paragraphs, a span in each (every third still a suggestion); returns their offsets."""
    paragraphs = [f"Paragraph {i} mentions Seoul and Tokyo again." for i in range(PARAGRAPHS)]
    text = "\n\n".join(paragraphs)
    offsets, pos = [], 0
    for _ in paragraphs:
        i = text.index("Seoul", pos)
        offsets.append((i, i + 5))
        pos = i + 5
    spans = [SpanRecord(a, b, "GPE", status="suggested" if n % 3 == 0 else "accepted")
             for n, (a, b) in enumerate(offsets)]
    import_records(window.project.store, [DocRecord("long", text, spans=spans)], use_model=False, as_layer=USER)
    window.refresh_documents()
    return offsets


def db_offsets(window) -> list[tuple[int, int]]:
    return sorted((s.start, s.end) for s in window.project.spans(window.model.doc_id))


def test_ui_long_article_first_screen_painted_before_the_rest(window, qtbot):
    offsets = add_long_article(window)
    paint = FirstPaint(window)
    window.open_document_named("long")
    model, panel = window.model, window.panel
    assert 0 < len(model.spans) < PARAGRAPHS and model.unread == PARAGRAPHS - len(model.spans)
    # the counts are whole from the start: the span list's heading and the document list
    assert panel.list_heading.text() == f"Spans in this document: {PARAGRAPHS}, {PARAGRAPHS // 3} to check"
    row = next(d for d in window.documents.model.docs if d.name == "long")
    assert (row.spans, row.suggested) == (PARAGRAPHS, PARAGRAPHS // 3)
    qtbot.waitUntil(lambda: not model.unread)
    assert paint.unread  # the first paint did not wait for the rest
    assert [(s[0], s[1]) for s in model.order] == offsets == db_offsets(window)
    table = panel.table_model
    assert table.rowCount() == PARAGRAPHS
    assert [table.span_at(r).start for r in (0, PARAGRAPHS - 1)] == [offsets[0][0], offsets[-1][0]]
    assert panel.list_heading.text() == f"Spans in this document: {PARAGRAPHS}, {PARAGRAPHS // 3} to check"
    assert window.labels.chips["GPE"].text().endswith(f"({PARAGRAPHS})")  # the legend counted the rest too
    view = window.view
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())  # the last paragraph on screen
    block = view.document().findBlock(view.to_qt(offsets[-1][0]))
    assert [(r.start, r.length) for r in block.layout().formats()] == [(len("Paragraph 599 mentions "), 5)]


def test_ui_long_article_keys_at_once_reach_every_span(window, ui):
    """Shift+Tab pressed before the rest was read wraps to the document's last span, not the first
    screen's; Delete then deletes it in the database."""
    offsets = add_long_article(window)
    window.open_document_named("long")
    assert window.model.unread
    ui.key(window.view, Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    span = window.model.current_span()
    assert (span.start, span.end) == offsets[-1]
    assert window.panel.offsets.text().startswith(f"{offsets[-1][0]}–{offsets[-1][1]}")
    assert window.panel.table.currentIndex().row() == PARAGRAPHS - 1
    ui.key(window.view, Key.Key_Delete)
    assert db_offsets(window) == offsets[:-1]
    assert window.panel.table_model.rowCount() == PARAGRAPHS - 1
    assert [(s[0], s[1]) for s in window.model.order] == offsets[:-1]


def test_ui_long_article_edit_before_the_rest_is_read(window, ui, qtbot):
    """A span added on the first screen at once: the rest joins it, nothing twice, nothing missing."""
    offsets = add_long_article(window)
    window.open_document_named("long")
    model, view = window.model, window.view
    start = model.text.index("Tokyo")
    ui.drag(view, start, start + len("Tokyo"))
    ui.key(view, Key.Key_1)
    qtbot.waitUntil(lambda: not model.unread)
    added = model.current_span()
    assert (added.start, added.end) == (start, start + 5)
    expected = sorted([*offsets, (start, start + 5)])
    assert db_offsets(window) == expected == [(s[0], s[1]) for s in model.order]
    assert len(model.spans) == len(expected) == window.panel.table_model.rowCount()
    assert window.panel.list_heading.text().startswith(f"Spans in this document: {len(expected)},")
