"""The window's fast read of a layer (annotator/ui/spans.py): plain Python, no Qt."""

from __future__ import annotations

from annotator.core.db.annotators import get_annotator
from annotator.core.project import Project
from annotator.core.records import DocRecord, SpanRecord
from annotator.io.importing import import_records
from annotator.ui.spans import read_layer, read_spans


def test_ui_spans_another_layer_reads_in_text_order(store):
    """Gold (or any layer shown read-only) comes back sorted by offsets like one's own layer: the span
    list and Tab order bisect into it. Stored out of order on purpose: ids do not follow offsets, and
    two spans start together (an index on the start alone leaves them in id order)."""
    text = "Seoul and Tokyo met Busan."
    spans = [SpanRecord(10, 15, "GPE"), SpanRecord(0, 15, "ORG"), SpanRecord(0, 5, "GPE")]
    import_records(store, [DocRecord("d", text, spans=spans)], use_model=False, as_layer="gold")
    project = Project(store, "ana")
    with store.Session() as s:
        gold = get_annotator(s, "gold").id
    layer = read_layer(project, 1, gold)
    assert not layer.started and layer.unread == 0
    assert [(r.start, r.end) for r in layer.spans] == [(0, 5), (0, 15), (10, 15)]


def test_ui_spans_first_screen_then_the_rest(store):
    """A long document's layer is read in two parts, split by where spans start: the first screen's
    spans, with the others counted (the window shows the total at once), then the others; together
    exactly the layer."""
    text = "Seoul and Tokyo met Busan in Daegu."
    spans = [SpanRecord(20, 25, "GPE", status="suggested"), SpanRecord(0, 5, "GPE"),
             SpanRecord(10, 15, "GPE", status="suggested"), SpanRecord(29, 34, "GPE", status="suggested")]
    import_records(store, [DocRecord("d", text, spans=spans)], use_model=False, as_layer="ana")
    project = Project(store, "ana")
    head = read_layer(project, 1, until=12)
    assert [(r.start, r.end) for r in head.spans] == [(0, 5), (10, 15)]
    assert (head.unread, head.unread_suggested) == (2, 2)
    rest = read_spans(project, 1, project.annotator_id, since=12)
    assert [(r.start, r.end) for r in rest] == [(20, 25), (29, 34)]
    assert [r.id for r in head.spans + rest] == [r.id for r in read_spans(project, 1, project.annotator_id)]
    assert read_layer(project, 1, until=12) == head
