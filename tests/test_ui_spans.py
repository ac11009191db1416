"""The window's fast read of a layer (annotator/ui/spans.py): plain Python, no Qt."""

from __future__ import annotations

from annotator.core.importing import import_records
from annotator.core.layers import get_annotator
from annotator.core.project import Project
from annotator.core.records import DocRecord, SpanRecord
from annotator.ui.spans import read_layer


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
    rows, started = read_layer(project, 1, gold)
    assert not started
    assert [(r.start, r.end) for r in rows] == [(0, 5), (0, 15), (10, 15)]
