"""The open document (annotator/core/editing/document.py) on its own: Tab order, edge moves, snapping,
the two-step read and applying changes, with documents and tokens built by hand and no Qt."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from annotator.core.changes import Change
from annotator.core.editing.document import OpenDocument, SpanDelta, move_edge
from annotator.core.editing.layers import SpanView
from annotator.core.text import Tokens, pack_tokens
from annotator.errors import AnnotatorError, Errors


def words(text: str) -> Tokens:
    """Tokens split at spaces, with a final full stop on its own (as spaCy does)."""
    pairs = []
    for m in re.finditer(r"\S+", text):
        start, end = m.span()
        if text[end - 1] == "." and end - start > 1:
            pairs += [(start, end - 1), (end - 1, end)]
        else:
            pairs.append((start, end))
    return Tokens(pack_tokens(pairs))


def span(id: int, start: int, end: int, label: str = "GPE", status: str = "accepted") -> SpanView:
    return SpanView(id, start, end, label, status, "human", None, False, 1)


def document(text: str, spans=(), **kw) -> OpenDocument:
    return OpenDocument(1, text, words(text), spans, **kw)


def texts(doc: OpenDocument) -> list[str]:
    return [doc.text[s:e] for s, e, _ in doc.order]


def walk(doc: OpenDocument, direction: int, n: int) -> list[str]:
    seen = []
    for _ in range(n):
        doc.step(direction)
        seen.append(doc.span_text(doc.current_span()))
    return seen


# "Seoul City Hall met Busan." with nested spans (Seoul, Hall inside Seoul City Hall) and adjacent
# ones (Busan and the full stop after it); ids do not follow the text
NESTED = "Seoul City Hall met Busan."
NESTED_SPANS = [span(5, 0, 15, "ORG"), span(9, 0, 5), span(2, 11, 15, "FAC"), span(7, 25, 26, "X"), span(3, 20, 25)]


def test_editing_document_tab_order_nested_and_adjacent_spans():
    """Tab visits spans by start, the shorter (inner) first when two start together, adjacent spans
    each in turn; it wraps around both ways."""
    doc = document(NESTED, NESTED_SPANS)
    moves = []
    doc.on_current = lambda old, new: moves.append((old, new))
    assert texts(doc) == ["Seoul", "Seoul City Hall", "Hall", "Busan", "."]
    assert walk(doc, +1, 6) == ["Seoul", "Seoul City Hall", "Hall", "Busan", ".", "Seoul"]
    assert walk(doc, -1, 3) == [".", "Busan", "Hall"]
    assert moves[:2] == [(None, 9), (9, 5)]


def test_editing_document_tab_without_a_current_span_starts_at_the_cursor():
    doc = document(NESTED, NESTED_SPANS)
    doc.step(+1, from_pos=12)  # the cursor inside "Hall": the next span starting from there
    assert doc.span_text(doc.current_span()) == "Busan"
    doc.set_current(None)
    doc.step(-1, from_pos=12)  # the last span starting before it
    assert doc.span_text(doc.current_span()) == "Hall"
    doc.set_current(None)
    doc.step(+1, from_pos=len(NESTED))  # past the last span: wraps to the first
    assert doc.current == 9
    empty = document(NESTED)
    empty.step(+1)
    assert empty.current is None


def test_editing_document_same_offsets_in_id_order():
    """Two spans over the same words (a colleague's and one's own, say) are both reached."""
    doc = document("Seoul and Tokyo", [span(8, 0, 5, "ORG"), span(4, 0, 5)])
    assert [i for *_, i in doc.order] == [4, 8]
    doc.step(+1)
    doc.step(+1)
    assert doc.current == 8


def test_editing_document_spans_at_and_overlapping():
    doc = document(NESTED, NESTED_SPANS)
    assert [s.id for s in doc.spans_at(12)] == [2, 5]  # innermost first
    assert [s.id for s in doc.spans_at(15)] == []  # ends are exclusive
    assert sorted(s.id for s in doc.overlapping(4, 12)) == [2, 5, 9]
    assert [s.id for s in doc.overlapping(25, 26)] == [7]  # adjacent spans do not overlap
    assert doc.index_of(3) == 3


def test_editing_document_move_edge_over_whitespace():
    """An edge moves to the next token boundary: runs of spaces (and a line break) count as none."""
    text = "Seoul   and \n Tokyo met."
    doc = document(text, [span(1, 8, 11)])  # "and"
    doc.set_current(1)
    assert doc.move_edge("end", +1) == (8, 19)  # "and \n Tokyo"
    assert doc.move_edge("start", -1) == (0, 11)  # "Seoul   and"
    assert move_edge(doc.tokens, 0, 5, "end", +1) == (0, 11)
    assert move_edge(doc.tokens, 14, 19, "start", -1) == (8, 19)


def test_editing_document_move_edge_at_the_document_edges():
    """No boundary beyond the first or last token: the edge stays (the window then does nothing);
    moving an edge past the other is refused with E304, and without a current span with E301."""
    text = "Seoul met Busan."
    doc = document(text, [span(1, 0, 5), span(2, 15, 16, "X"), span(3, 6, 9, "X")])
    with pytest.raises(AnnotatorError) as no_span:
        doc.move_edge("end", +1)
    assert str(no_span.value) == Errors.E301
    doc.set_current(1)
    assert doc.move_edge("start", -1) == (0, 5)
    doc.set_current(3)  # "met"
    with pytest.raises(AnnotatorError) as empty:
        doc.move_edge("end", -1)
    assert str(empty.value) == Errors.E304
    doc.set_current(2)
    assert doc.move_edge("end", +1) == (15, 16)
    assert doc.move_edge("start", -1) == (10, 16)  # "Busan."
    assert move_edge(doc.tokens, 15, 16, "start", +1) == (15, 16)  # no token starts after the last
    assert move_edge(doc.tokens, 10, 15, "start", +1) is None  # "Busan": the start would reach the end
    assert move_edge(Tokens(b""), 0, 3, "end", +1) == (0, 3)  # a document without tokens


# Code points, not UTF-16 units nor bytes: "é" as e + a combining acute, a CJK name, an emoji with a
# skin-tone modifier (two code points, four UTF-16 units)
INTL = "Zoe\u0301 met 東京 fans 👍🏽 today."


def test_editing_document_snap_combining_marks_cjk_and_emoji():
    doc = document(INTL)
    zoe = INTL.index("Zoe")
    assert INTL[slice(*doc.snap(zoe, zoe + 3))] == "Zoe\u0301"  # the mark stays with its letter
    tokyo = INTL.index("東京")
    assert doc.snap(tokyo + 1, tokyo + 2) == (tokyo, tokyo + 2)
    thumb = INTL.index("👍")
    assert doc.snap(thumb + 1, thumb + 2) == (thumb, thumb + 2)  # the modifier alone takes the emoji
    assert INTL[slice(*doc.snap(tokyo - 2, thumb - 1))] == "met 東京 fans"  # spaces trimmed
    assert doc.snap(tokyo - 1, tokyo) == (tokyo - 1, tokyo)  # only a space: left as it is
    doc = document(INTL, [span(1, tokyo, tokyo + 2)])
    doc.set_current(1)
    assert INTL[slice(*doc.move_edge("end", +1))] == "東京 fans"
    assert INTL[slice(*doc.move_edge("start", -1))] == "met 東京"
    assert doc.spans_at(tokyo + 1)[0].id == 1


class Rest:
    """The second read: what the database holds after the first screen; None while it is away."""

    def __init__(self, spans):
        self.spans, self.calls, self.away = spans, 0, False

    def __call__(self):
        self.calls += 1
        return None if self.away else list(self.spans)


LONG = " ".join(f"Seoul{i}" for i in range(10))  # "Seoul0 Seoul1 ..." 7 code points each


def long_spans():
    return [span(100 + i, 7 * i, 7 * i + 6, status="suggested" if i % 2 else "accepted") for i in range(10)]


def test_editing_document_two_step_read():
    """The first screen's spans come first, the others are counted; the rest is read once, told to
    the views, and appended in text order."""
    every = long_spans()
    rest = Rest(every[4:])
    doc = document(LONG, every[:4], unread=6, unread_suggested=3, read_rest=rest)
    told = []
    doc.on_rest = told.append
    assert len(doc.spans) == 4 and doc.unread == 6
    assert doc.counts() == (10, 5)  # the window shows the totals at once
    assert rest.calls == 0 and doc.span_text(doc.spans[100]) == "Seoul0"
    assert doc.load_rest() == every[4:]
    assert told == [every[4:]] and doc.unread == 0
    assert [i for *_, i in doc.order] == [s.id for s in every]
    assert doc.counts() == (10, 5)
    assert doc.load_rest() is None and rest.calls == 1


@pytest.mark.parametrize("act", [
    lambda d: d.step(-1),  # Shift+Tab from the first span wraps to the document's last
    lambda d: d.spans_at(7 * 9 + 1),
    lambda d: d.overlapping(60, 70),
    lambda d: d.set_current(109),
    lambda d: d.apply_change(Change(1, (100,)), lambda i: None),
])
def test_editing_document_acting_on_the_layer_reads_the_rest_first(act):
    every = long_spans()
    doc = document(LONG, every[:4], unread=6, read_rest=Rest(every[4:]))
    doc.set_current(100)
    act(doc)
    assert doc.unread == 0 and len(doc.spans) + (100 not in doc.spans) == 10


def test_editing_document_rest_retried_and_not_doubled():
    """While the server is away the rest stays unread and the next call tries again; a span already
    held (an edit made before the rest was read) is not added twice."""
    every = long_spans()
    rest = Rest(every[3:])
    doc = document(LONG, every[:4], unread=6, read_rest=rest)
    rest.away = True
    doc.step(+1)
    assert doc.unread == 6 and doc.current == 100  # the first part still works
    rest.away = False
    calls = rest.calls
    assert doc.load_rest() == every[4:] and rest.calls == calls + 1
    assert len(doc.order) == len(doc.spans) == 10


def test_editing_document_apply_change():
    """An edit's spans are re-read and put in place; a deleted current span hands over to the next
    (Delete, Delete, ... walks on), the last to none; spans of other documents or layers are left."""
    db = {s.id: s for s in NESTED_SPANS}
    doc = document(NESTED, NESTED_SPANS)
    seen = []
    doc.on_spans = seen.append
    doc.set_current(2)  # "Hall"
    db[2] = span(2, 6, 15, "FAC")  # moved to "City Hall"
    assert doc.apply_change(Change(1, (2,)), db.get) == [SpanDelta(2, NESTED_SPANS[2], db[2])]
    assert texts(doc) == ["Seoul", "Seoul City Hall", "City Hall", "Busan", "."] and doc.current == 2
    del db[2]
    doc.apply_change(Change(1, (2,)), db.get)
    assert doc.current == 3  # "Busan"
    del db[7]
    doc.set_current(7)
    doc.apply_change(Change(1, (7,)), db.get)
    assert doc.current is None
    assert doc.apply_change(Change(2, (3,)), db.get) == []  # another document's edit
    assert doc.apply_change(Change(1, (99,)), db.get) == []  # a span this layer does not hold
    assert doc.apply_change(Change(1, kind="state"), db.get) == []
    assert len(seen) == 3 and texts(doc) == ["Seoul", "Seoul City Hall", "Busan"]


def test_editing_document_apply_change_entities_and_propagation():
    """An entity merge touches only the spans held here; corpus propagation lists this document among
    others and adds its new span; the count of suggestions follows."""
    db = {s.id: s for s in NESTED_SPANS}
    doc = document(NESTED, NESTED_SPANS)
    linked = SpanView(3, 20, 25, "GPE", "accepted", "human", 42, False, 2)
    db[3], db[50] = linked, span(50, 16, 19, "X", status="suggested")
    assert doc.apply_change(Change(None, (3, 50), kind="entities"), db.get) == [SpanDelta(3, NESTED_SPANS[4], linked)]
    assert doc.spans[3].entity_id == 42 and 50 not in doc.spans
    assert doc.suggested == 0
    doc.apply_change(Change(7, (50,), documents=(7, 1)), db.get)
    assert doc.spans[50].status == "suggested" and doc.suggested == 1
    assert "met" in texts(doc)


def test_editing_document_refresh_only_what_differs():
    doc = document(NESTED, NESTED_SPANS)
    fresh = {s.id: s for s in NESTED_SPANS if s.id != 7}
    fresh[9] = span(9, 0, 5, "LOC")
    deltas = doc.refresh(set(doc.spans) | set(fresh), fresh.get)
    assert [(d.id, d.new and d.new.label) for d in deltas] == [(7, None), (9, "LOC")]


def test_editing_document_needs_no_qt(tmp_path):
    """The whole file again in a fresh interpreter without pytest-qt (which loads Qt itself): no
    part of the open document imports PySide6."""
    if "pytestqt" not in sys.modules:  # that inner run: the check itself
        assert "PySide6" not in sys.modules
        return
    root = Path(__file__).resolve().parents[1]
    ini = tmp_path / "pytest.ini"  # the project's settings name pytest-qt's
    ini.write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:pytest-qt",
                          "-c", str(ini), "--rootdir", str(root), __file__],
                         capture_output=True, text=True, env=env, cwd=root, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
