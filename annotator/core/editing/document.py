"""The open document: one document's text, tokens and one layer's spans in text order, the current
span, Tab order, boundary moves by a token and selection snapping. No Qt: the window's rules are
tested on their own, and the Qt model (ui/qt_document_model.py) only turns its hooks into signals.

A long document opens in two steps: the spans its first screen shows, then the rest (`read_rest`,
called by `load_rest`). Until then `spans` and `order` hold the first part only; every method that
acts on the whole layer reads the rest first, so no step, look-up or change ever sees part of it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Callable, Iterable, NamedTuple

from annotator.core.changes import Change
from annotator.core.editing.layers import SpanView
from annotator.core.text import Tokens
from annotator.errors import AnnotatorError, Errors


class SpanDelta(NamedTuple):
    id: int
    old: SpanView | None  # None: the span is new
    new: SpanView | None  # None: the span was deleted


def span_key(span: SpanView) -> tuple[int, int, int]:
    """Text order: by start, then the shorter first, then the older."""
    return span.start, span.end, span.id


def move_edge(tokens: Tokens, start: int, end: int, edge: str, direction: int,
              text: str | None = None) -> tuple[int, int] | None:
    """[start, end) with its start or end moved to the next token boundary in `direction` (it stays
    put at the document's edge), passing over whitespace tokens when `text` is given; None when that
    leaves no text between them."""
    if edge == "end":
        end = tokens.next_boundary(end, edge="end", direction=direction, text=text)
    else:
        start = tokens.next_boundary(start, edge="start", direction=direction, text=text)
    return (start, end) if start < end else None


def _ignore(*_args) -> None:
    pass


ReadSpan = Callable[[int], "SpanView | None"]


class OpenDocument:
    """One document as the window holds it open. Views learn of changes through three hooks:
    `on_rest(spans)` (the rest was read), `on_spans(deltas)` and `on_current(old id, new id)`."""

    def __init__(self, doc_id: int | None = None, text: str = "", tokens: Tokens | None = None,
                 spans: Iterable[SpanView] = (), *, name: str = "", title: str = "", status: str = "new",
                 unread: int = 0, unread_suggested: int = 0,
                 read_rest: Callable[[], list[SpanView] | None] | None = None):
        """`unread` spans (of which `unread_suggested` suggestions) start after every one of `spans`;
        `read_rest` returns them, or None when they cannot be read now (the next call tries again)."""
        self.doc_id, self.name, self.title, self.text = doc_id, name, title, text
        self.tokens = tokens if tokens is not None else Tokens(b"")
        self.status = status  # this user's state of the document: new, in_progress or done
        ordered = sorted(spans, key=span_key)  # one pass over spans already read in order
        self.spans: dict[int, SpanView] = {s.id: s for s in ordered}
        self.order: list[tuple[int, int, int]] = [span_key(s) for s in ordered]  # Tab and the span list
        self.suggested = [s.status for s in ordered].count("suggested") + unread_suggested
        self.unread = unread if read_rest is not None else 0
        self._read_rest = read_rest if unread else None
        self.current: int | None = None
        self.on_rest: Callable[[list[SpanView]], None] = _ignore
        self.on_spans: Callable[[list[SpanDelta]], None] = _ignore
        self.on_current: Callable[[int | None, int | None], None] = _ignore

    # --- the two-step read
    def load_rest(self) -> list[SpanView] | None:
        """Read the spans left for later; None when there were none to read (or they cannot be read
        now), else the spans added."""
        if self._read_rest is None:
            return None
        read = self._read_rest()
        if read is None:
            return None
        rest = [s for s in read if s.id not in self.spans]
        self._read_rest, self.unread = None, 0
        for span in rest:
            self.spans[span.id] = span
        junction = len(self.order)
        self.order.extend(span_key(s) for s in rest)  # each starts after every span read before
        if 0 < junction < len(self.order) and self.order[junction - 1] > self.order[junction]:
            self.order.sort()  # not read as promised: order them anyway
        self.suggested = [s.status for s in self.spans.values()].count("suggested")
        self.on_rest(rest)
        return rest

    # --- reading
    def span_text(self, span: SpanView) -> str:
        return self.text[span.start:span.end]

    def current_span(self) -> SpanView | None:
        return self.spans.get(self.current) if self.current is not None else None

    def spans_at(self, pos: int) -> list[SpanView]:
        """Spans containing code point `pos`, innermost (shortest) first."""
        self.load_rest()
        hits = [s for s in self.spans.values() if s.start <= pos < s.end]
        return sorted(hits, key=lambda s: (s.end - s.start, s.start))

    def overlapping(self, start: int, end: int) -> list[SpanView]:
        """Spans that share at least one code point with [start, end)."""
        self.load_rest()
        return [s for s in self.spans.values() if s.start < end and start < s.end]

    def index_of(self, span_id: int) -> int:
        self.load_rest()
        return bisect_left(self.order, span_key(self.spans[span_id]))

    def counts(self) -> tuple[int, int]:
        """(spans, of which suggested), those not read yet included."""
        return len(self.spans) + self.unread, self.suggested

    def snap(self, start: int, end: int) -> tuple[int, int]:
        """A selection widened to the tokens it touches (see Tokens.snap)."""
        return self.tokens.snap(start, end, self.text)

    # --- current span and navigation
    def set_current(self, span_id: int | None) -> None:
        self.load_rest()
        if span_id is not None and span_id not in self.spans:
            span_id = None
        if span_id != self.current:
            old, self.current = self.current, span_id
            self.on_current(old, span_id)

    def step(self, direction: int, from_pos: int = 0) -> None:
        """Make the next (+1) or previous (-1) span in text order current, wrapping around the
        document; without a current span, the first starting at or after `from_pos` (+1) or the last
        starting before it (-1)."""
        self.load_rest()
        if not self.order:
            return
        span = self.current_span()
        if span is not None:
            i = bisect_left(self.order, span_key(span)) + direction
        else:
            i = bisect_left(self.order, (from_pos, -1, -1)) - (direction < 0)
        self.set_current(self.order[i % len(self.order)][2])

    def move_edge(self, edge: str, direction: int) -> tuple[int, int]:
        """The current span's bounds with its start or end moved by a token (unchanged at the
        document's edge). Raises E301 without a current span, E304 when it would become empty."""
        span = self.current_span()
        if span is None:
            raise AnnotatorError(Errors.E301)
        bounds = move_edge(self.tokens, span.start, span.end, edge, direction, self.text)
        if bounds is None:
            raise AnnotatorError(Errors.E304)
        return bounds

    # --- changes
    def apply_change(self, change: Change, read: ReadSpan) -> list[SpanDelta]:
        """Put in place the spans an edit touched, each re-read with `read` (None once deleted, or when
        it is in another document or layer: propagation and the one stack reach those too)."""
        if self.doc_id is None or change.kind == "state":
            return []
        if change.kind == "spans" and self.doc_id not in (change.document_id, *change.documents):
            return []
        self.load_rest()
        # an entity merge relinks spans where they are: only those held here matter
        ids = [i for i in change.span_ids if i in self.spans] if change.kind == "entities" else change.span_ids
        deltas = []
        for span_id in ids:
            new = read(span_id)
            if new is not None or span_id in self.spans:
                deltas.append(self._put(span_id, new))
        self._settle(deltas)
        return deltas

    def refresh(self, span_ids: Iterable[int], read: ReadSpan) -> list[SpanDelta]:
        """Re-read spans that changed behind this window's back; those equal to what is held are left."""
        self.load_rest()
        deltas = []
        for span_id in sorted(span_ids):
            new = read(span_id)
            if new != self.spans.get(span_id):
                deltas.append(self._put(span_id, new))
        self._settle(deltas)
        return deltas

    def _put(self, span_id: int, new: SpanView | None) -> SpanDelta:
        old = self.spans.pop(span_id, None)
        if old is not None:
            del self.order[bisect_left(self.order, span_key(old))]
            self.suggested -= old.status == "suggested"
        if new is not None:
            self.spans[span_id] = new
            insort(self.order, span_key(new))
            self.suggested += new.status == "suggested"
        return SpanDelta(span_id, old, new)

    def _settle(self, deltas: list[SpanDelta]) -> None:
        """Tell the views; when the current span is gone, the one after it becomes current, so
        Delete, Delete, ... walks on."""
        if deltas:
            self.on_spans(deltas)
        if self.current is None or self.current in self.spans:
            return
        gone = next((d.old for d in deltas if d.id == self.current and d.old is not None), None)
        nxt = None
        if gone is not None and self.order:
            i = bisect_right(self.order, span_key(gone))
            nxt = self.order[i][2] if i < len(self.order) else None
        self.set_current(nxt)
