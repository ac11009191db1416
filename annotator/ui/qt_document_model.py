"""The open document of one Project, as the widgets share it.

It is the one subscriber to the core command stack for the window: each core `Change` becomes a list
of `SpanDelta`s (before/after of each touched span), so every view redraws only what changed. Edits go
through its methods, which turn coded core errors into the `failed` signal instead of exceptions.

Given a `layer_id`, it shows another layer read-only (gold, in the adjudication view): the same
signals, fed by the same stack, but its editing methods are not for it (gold changes by decisions).

A long document opens in two steps: the spans its first screen shows, then, just after that screen is
painted, the rest (`load_rest`, `loaded`). Reading every span before the first paint was the largest
part of opening. Until then `spans` and `order` hold the first screen's spans only; every method that
acts on the layer reads the rest first, so no edit, step or look-up ever sees part of it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Callable, NamedTuple

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal

from annotator.core.editing.command import Change
from annotator.core.editing.labels import LabelInfo
from annotator.core.project import Project
from annotator.core.text import Tokens, Utf16Map
from annotator.errors import AnnotatorError, ConflictError, ConnectionLost, Errors
from annotator.ui.spans import (SpanRow, block_starts, display_text, document_status, hidden_positions, read_layer,
                                read_span, read_spans)


class SpanDelta(NamedTuple):
    id: int
    old: SpanRow | None  # None: the span is new
    new: SpanRow | None  # None: the span was deleted


def _key(span: SpanRow) -> tuple[int, int, int]:
    return span.start, span.end, span.id


_LOAD_REST = QEvent.Type(QEvent.registerEventType())
# Qt posts a window's paint request at low priority; a posted event of lower priority comes after it
_AFTER_PAINT = Qt.EventPriority.LowEventPriority.value - 1


class QtDocumentModel(QObject):
    opened = Signal()  # another document is open (or none)
    loaded = Signal(object)  # list[SpanRow]: the rest of the open document's spans, read after its first paint
    spansChanged = Signal(object)  # list[SpanDelta] of the open document
    currentChanged = Signal(object, object)  # (old span id | None, new span id | None)
    stateChanged = Signal(int, str)  # (document id, status) for this user
    documentTouched = Signal(int)  # spans of a document that is not open changed
    saved = Signal(str)  # an edit was committed; its name
    failed = Signal(str)  # a coded message: the edit was refused, nothing changed
    connectionLost = Signal(str)  # an edit could not reach the database server (E400)
    stackChanged = Signal()  # undo/redo availability or text changed

    def __init__(self, project: Project, parent: QObject | None = None, layer_id: int | None = None):
        super().__init__(parent)
        self.project = project
        self.layer_id = project.annotator_id if layer_id is None else layer_id
        self.labels: dict[str, LabelInfo] = {}
        self.reload_labels()
        self.doc_id: int | None = None
        self.name = self.title = self.text = self.display = ""
        self.u16 = Utf16Map("")
        self.tokens = Tokens(b"")
        self.block_starts: list[int] = [0]
        self.hidden: list[int] = []  # code points shown as marks (bidi controls, invisibles)
        self.spans: dict[int, SpanRow] = {}
        self.order: list[tuple[int, int, int]] = []  # (start, end, id), for Tab and the span list
        self.suggested = 0  # how many spans are still suggestions
        self.unread = 0  # spans of the open document not read yet (see load_rest)
        self._rest_from: int | None = None  # where they start
        self.first_screen = 8000  # code points a first screen shows at most; the view keeps it current
        self._status = "new"  # this user's state of the open document (see status)
        self.current: int | None = None
        self.read_only: str | None = None  # the reason edits are refused (the server is away), else None
        project.stack.subscribe(self._on_change)

    def close(self) -> None:
        """Stop listening to the stack (the window closes; the project may live on)."""
        try:
            self.project.stack.unsubscribe(self._on_change)
        except ValueError:  # already closed
            pass

    def reload_labels(self) -> None:
        self.labels = {info.name: info for info in self.project.labels()}

    # --- opening
    def open(self, document_id: int) -> None:
        doc = self.project.document(document_id)
        # a document of a few screens is read at once; a longer one's first screen first
        until = self.first_screen if len(doc.text) > 2 * self.first_screen else None
        layer = read_layer(self.project, document_id, self.layer_id, until)
        spans = layer.spans
        self.doc_id, self.name, self.title, self.text = doc.id, doc.name, doc.title, doc.text
        self.display = display_text(doc.text)
        self.hidden = hidden_positions(doc.text)
        self.u16 = Utf16Map(doc.text)
        self.tokens = doc.tokens
        self.block_starts = block_starts(self.display)
        self.spans = {s.id: s for s in spans}
        self.order = [(s.start, s.end, s.id) for s in spans]  # read_layer sorts by (start, end, id)
        self.suggested = [s.status for s in spans].count("suggested") + layer.unread_suggested
        self.unread, self._rest_from = layer.unread, until if layer.unread else None
        self._status = layer.status
        self.current = None
        self.opened.emit()
        if layer.started:
            self.stateChanged.emit(document_id, "in_progress")
        if self.unread:
            QCoreApplication.postEvent(self, QEvent(_LOAD_REST), _AFTER_PAINT)

    def customEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() == _LOAD_REST:
            self.load_rest()

    def load_rest(self) -> None:
        """Read the spans `open` left for after the first paint; a no-op once they are in. While the
        server is away the error is reported and the next call tries again."""
        since = self._rest_from
        if since is None:
            return
        try:
            read = read_spans(self.project, self.doc_id, self.layer_id, since)
        except AnnotatorError as e:
            self.after_error(e)
            self.failed.emit(str(e))
            return
        rest = [s for s in read if s.id not in self.spans]
        self._rest_from, self.unread = None, 0
        for span in rest:
            self.spans[span.id] = span
        self.order.extend(_key(s) for s in rest)  # each starts after every span read before
        self.suggested = [s.status for s in self.spans.values()].count("suggested")
        self.loaded.emit(rest)

    # --- reading
    def span_text(self, span: SpanRow) -> str:
        return self.text[span.start:span.end]

    def current_span(self) -> SpanRow | None:
        return self.spans.get(self.current) if self.current is not None else None

    def spans_at(self, pos: int) -> list[SpanRow]:
        """Spans containing code point `pos`, innermost (shortest) first."""
        self.load_rest()
        hits = [s for s in self.spans.values() if s.start <= pos < s.end]
        return sorted(hits, key=lambda s: (s.end - s.start, s.start))

    def overlapping(self, start: int, end: int) -> list[SpanRow]:
        """Spans that share at least one code point with [start, end)."""
        self.load_rest()
        return [s for s in self.spans.values() if s.start < end and start < s.end]

    def index_of(self, span_id: int) -> int:
        self.load_rest()
        span = self.spans[span_id]
        return bisect_left(self.order, _key(span))

    def counts(self) -> tuple[int, int]:
        """(spans, of which suggested) in the open document."""
        return len(self.spans) + self.unread, self.suggested

    # --- current span and navigation
    def set_current(self, span_id: int | None) -> None:
        self.load_rest()
        if span_id is not None and span_id not in self.spans:
            span_id = None
        if span_id != self.current:
            old, self.current = self.current, span_id
            self.currentChanged.emit(old, span_id)

    def step(self, direction: int, from_pos: int = 0) -> None:
        """Make the next (+1) or previous (-1) span current; without one, start from `from_pos`."""
        self.load_rest()
        if not self.order:
            return
        span = self.current_span()
        if span is not None:
            i = bisect_left(self.order, _key(span)) + direction
        elif direction > 0:
            i = bisect_left(self.order, (from_pos, -1, -1))
        else:
            i = bisect_left(self.order, (from_pos, -1, -1)) - 1
        i %= len(self.order)  # wrap around the document
        self.set_current(self.order[i][2])

    # --- editing: each call is one committed, undoable command
    def _run(self, fn: Callable, *args, **kwargs):
        if self.read_only:
            self.failed.emit(self.read_only)
            return None
        try:
            self.load_rest()
            return fn(*args, **kwargs)
        except AnnotatorError as e:
            self.after_error(e)
            self.failed.emit(str(e))
            return None

    def after_error(self, e: AnnotatorError) -> None:
        """An edit was refused: a conflict shows the span as it is now; a lost server makes the window
        read-only (the watcher lifts it when the server answers again)."""
        if isinstance(e, ConflictError) and e.table == "spans":
            self.reload_spans([e.row_id])
        elif isinstance(e, ConnectionLost):
            self.connectionLost.emit(str(e))

    def reload_layer(self) -> None:
        """Re-read the open document's layer after changes made elsewhere; views get the differences."""
        if self.doc_id is None:
            return
        self.load_rest()
        fresh = {s.id: s for s in read_spans(self.project, self.doc_id, self.layer_id)}
        self.reload_spans(set(self.spans) | set(fresh), fresh)
        status = document_status(self.project, self.doc_id)
        if status != self._status:  # e.g. marked done on another desktop
            self._status = status
            self.stateChanged.emit(self.doc_id, status)

    def reload_spans(self, span_ids, fresh: dict[int, SpanRow] | None = None) -> None:
        """Re-read spans of the open document that changed behind this window's back (`fresh`: the
        layer as just read, else each span is read)."""
        self.load_rest()
        if fresh is None:
            fresh = {i: read_span(self.project, i, self.doc_id, self.layer_id) for i in span_ids if i in self.spans}
        deltas = [self._apply(i, fresh.get(i)) for i in sorted(span_ids) if fresh.get(i) != self.spans.get(i)]
        if deltas:
            self.spansChanged.emit(deltas)
        if self.current is not None and self.current not in self.spans:
            self._current_after_delete(deltas)

    def _need_current(self) -> SpanRow | None:
        span = self.current_span()
        if span is None:
            self.failed.emit(Errors.E301)
        return span

    def add(self, start: int, end: int, label: str) -> int | None:
        if self.doc_id is None:
            return None
        if not self.text[start:end].strip():
            self.failed.emit(Errors.E302)
            return None
        span_id = self._run(self.project.add_span, self.doc_id, start, end, label)
        if span_id is not None:
            self.set_current(span_id)
        return span_id

    def relabel(self, label: str) -> None:
        span = self._need_current()
        if span is not None and (span.label != label or span.status != "accepted"):
            self._run(self.project.relabel, span.id, label, version=span.version)

    def delete(self) -> None:
        span = self._need_current()
        if span is not None:
            self._run(self.project.delete_span, span.id, version=span.version)

    def accept(self) -> None:
        span = self._need_current()
        if span is None:
            return
        if span.status == "accepted":
            self.failed.emit(Errors.E303.format(text=self.span_text(span)))
            return
        self._run(self.project.accept, span.id, version=span.version)

    def move_edge(self, edge: str, direction: int) -> None:
        """Move the current span's start or end to the next token boundary in `direction`."""
        span = self._need_current()
        if span is None:
            return
        start, end = span.start, span.end
        if edge == "end":
            end = self.tokens.next_boundary(end, edge="end", direction=direction)
        else:
            start = self.tokens.next_boundary(start, edge="start", direction=direction)
        if start >= end:
            self.failed.emit(Errors.E304)
        elif (start, end) != (span.start, span.end):
            self._run(self.project.move, span.id, start, end, version=span.version)

    def set_status(self, status: str) -> None:
        if self.doc_id is not None:
            self._run(self.project.set_status, self.doc_id, status)

    def status(self) -> str:
        """This user's state of the open document: read with it, kept by the changes this window sees
        (its own, and others' through reload_layer)."""
        return self._status if self.doc_id is not None else "new"

    def undo(self) -> None:
        self._history(self.project.stack.undo)

    def redo(self) -> None:
        self._history(self.project.stack.redo)

    def _history(self, fn: Callable[[], Change]) -> None:
        """Undo/redo; an edit of another document opens that document, so the user sees what changed."""
        self._pending_other = True
        try:
            change = self._run(fn)
        finally:
            self._pending_other = False
        if change is None or change.document_id is None:
            return
        if change.document_id != self.doc_id:
            if document_status(self.project, change.document_id) == "new":
                return  # not this user's layer (a gold decision): the adjudication view shows it
            self.open(change.document_id)
            self.load_rest()
        alive = [i for i in change.span_ids if i in self.spans]
        if alive:
            self.set_current(alive[0])

    _pending_other = False

    # --- core change events
    def _on_change(self, change: Change) -> None:
        self.load_rest()
        self.stackChanged.emit()
        self.saved.emit(change.kind)
        if change.kind == "state" and change.document_id is not None:
            status = document_status(self.project, change.document_id)
            if change.document_id == self.doc_id:
                self._status = status
            self.stateChanged.emit(change.document_id, status)
            return
        if change.kind != "entities":  # an entity edit or merge keeps every span where it is
            others = {change.document_id, *change.documents} - {self.doc_id, None}
            if self._pending_other:  # undo/redo is about to open it
                others.discard(change.document_id)
            for other in sorted(others):
                self.documentTouched.emit(other)
        if self.doc_id is None or (change.kind == "spans" and self.doc_id not in (change.document_id,
                                                                                  *change.documents)):
            return
        deltas = []
        # an entity merge relinks spans where they are (only those shown here matter); propagation's
        # spans may be in other documents
        ids = [i for i in change.span_ids if i in self.spans] if change.kind == "entities" else change.span_ids
        for span_id in ids:
            new = read_span(self.project, span_id, self.doc_id, self.layer_id)
            if new is not None or span_id in self.spans:  # nor is a span of another layer ours to show
                deltas.append(self._apply(span_id, new))
        if deltas:
            self.spansChanged.emit(deltas)
        if self.current is not None and self.current not in self.spans:
            self._current_after_delete(deltas)

    def _apply(self, span_id: int, new: SpanRow | None) -> SpanDelta:
        old = self.spans.pop(span_id, None)
        if old is not None:
            del self.order[bisect_left(self.order, _key(old))]
            self.suggested -= old.status == "suggested"
        if new is not None:
            self.spans[span_id] = new
            insort(self.order, _key(new))
            self.suggested += new.status == "suggested"
        return SpanDelta(span_id, old, new)

    def _current_after_delete(self, deltas: list[SpanDelta]) -> None:
        """The span after the deleted one becomes current, so Delete, Delete, ... walks on."""
        gone = next((d.old for d in deltas if d.id == self.current and d.old is not None), None)
        nxt = None
        if gone is not None and self.order:
            i = bisect_right(self.order, _key(gone))
            nxt = self.order[i][2] if i < len(self.order) else None
        self.set_current(nxt)
