"""The open document of one Project, as the widgets share it: a Qt adapter over core's
`OpenDocument` (core/editing/document.py), which holds the spans, the current span, Tab order and
boundary moves. This class reads the layer, runs the edits and turns the document's hooks into signals.

It is the one subscriber to the core command stack for the window: each core `Change` becomes a list
of `SpanDelta`s (before/after of each touched span), so every view redraws only what changed. Edits go
through its methods, which turn coded core errors into the `failed` signal instead of exceptions.

Given a `layer_id`, it shows another layer read-only (gold, in the adjudication view): the same
signals, fed by the same stack, but its editing methods are not for it (gold changes by decisions).

A long document opens in two steps: the spans its first screen shows, then, just after that screen is
painted, the rest (`load_rest`, `loaded`). Reading every span before the first paint was the largest
part of opening.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal

from annotator.core.changes import Change
from annotator.core.editing.document import OpenDocument, SpanDelta
from annotator.core.editing.labels import LabelInfo
from annotator.core.editing.layers import SpanView
from annotator.core.project import Project
from annotator.core.text import Utf16Map
from annotator.errors import AnnotatorError, ConflictError, ConnectionLost, Errors
from annotator.ui.spans import (block_starts, display_text, document_status, hidden_positions, read_layer, read_span,
                                read_spans)

__all__ = ["QtDocumentModel", "SpanDelta"]

_LOAD_REST = QEvent.Type(QEvent.registerEventType())
# Qt posts a window's paint request at low priority; a posted event of lower priority comes after it
_AFTER_PAINT = Qt.EventPriority.LowEventPriority.value - 1


class QtDocumentModel(QObject):
    opened = Signal()  # another document is open (or none)
    loaded = Signal(object)  # list[SpanView]: the rest of the open document's spans, read after its first paint
    spansChanged = Signal(object)  # list[SpanDelta] of the open document
    currentChanged = Signal(object, object)  # (old span id | None, new span id | None)
    stateChanged = Signal(int, str)  # (document id, status) for this user
    documentTouched = Signal(int)  # spans of a document that is not open changed
    saved = Signal(str)  # an edit was committed; its name
    failed = Signal(str)  # a coded message: the edit was refused, nothing changed
    notice = Signal(str)  # something worth a line in the status bar, not an error
    connectionLost = Signal(str)  # an edit could not reach the database server (E400)
    stackChanged = Signal()  # undo/redo availability or text changed

    def __init__(self, project: Project, parent: QObject | None = None, layer_id: int | None = None):
        super().__init__(parent)
        self.project = project
        self.layer_id = project.annotator_id if layer_id is None else layer_id
        self.labels: dict[str, LabelInfo] = {}
        self.reload_labels()
        self.doc = self._hooked(OpenDocument())
        self.display = ""
        self.u16 = Utf16Map("")
        self.block_starts: list[int] = [0]
        self.hidden: list[int] = []  # code points shown as marks (bidi controls, invisibles)
        self.first_screen = 8000  # code points a first screen shows at most; the view keeps it current
        self.offline: str | None = None  # why edits are refused while the server is away, else None
        self.viewing: str | None = None  # the name of another layer shown read-only (the layer switcher)
        self.own_layer = self.layer_id == project.annotator_id
        self.shown = self.layer_id  # the layer whose spans are shown: the model's until an own layer starts
        self.unstarted = False  # this user's layer of the open document starts with their first edit
        self.lazy_layer = False  # ... and it did not exist when the document was opened (see _follow_layer)
        self.busy = False  # an edit is running (see editing)
        self.holders: set = set()  # this window's jobs holding the project's write lock (see hold_while)
        project.changes.subscribe(self._on_change, Change)

    @property
    def read_only(self) -> str | None:
        """The reason edits are refused (the server is away, a job of this window holds the project, or
        another layer is shown), else None."""
        if self.offline:
            return self.offline
        if self.holders:
            return Errors.E023
        if self.viewing is not None:
            return Errors.E222.format(name=self.viewing)
        return None

    @read_only.setter
    def read_only(self, reason: str | None) -> None:
        self.offline = reason

    def hold_while(self, job) -> None:
        """`job` (a QtJobRunner: an import, a merge, new suggestions) holds an SQLite project's write lock
        from start to end: edits are refused at once (E023), not frozen for the busy timeout (E022)."""
        if self.project.store.is_sqlite:
            job.started.connect(lambda _what: self.holders.add(job))
            job.ended.connect(lambda: self.holders.discard(job))

    def set_layer(self, layer_id: int | None, name: str | None = None) -> None:
        """Show another layer (`layer_id`, called `name`) read-only, or this user's own again (None),
        and re-open the open document in it."""
        own = layer_id is None or layer_id == self.project.annotator_id
        self.layer_id = self.project.annotator_id if own else layer_id
        self.viewing = None if own else (name or str(layer_id))
        if self.doc_id is not None:
            self.open(self.doc_id)

    def _hooked(self, doc: OpenDocument) -> OpenDocument:
        doc.on_rest, doc.on_spans, doc.on_current = self.loaded.emit, self.spansChanged.emit, self.currentChanged.emit
        return doc

    # the open document's state, as the views read it (see OpenDocument)
    doc_id = property(lambda self: self.doc.doc_id)
    name = property(lambda self: self.doc.name)
    title = property(lambda self: self.doc.title)
    text = property(lambda self: self.doc.text)
    tokens = property(lambda self: self.doc.tokens)
    spans = property(lambda self: self.doc.spans)  # dict[int, SpanView]
    order = property(lambda self: self.doc.order)  # [(start, end, id)]: Tab and the span list
    current = property(lambda self: self.doc.current)
    suggested = property(lambda self: self.doc.suggested)  # how many spans are still suggestions
    unread = property(lambda self: self.doc.unread)  # spans not read yet (see load_rest)

    def close(self) -> None:
        """Stop listening to the stack (the window closes; the project may live on)."""
        self.project.changes.unsubscribe(self._on_change)

    def reload_labels(self) -> None:
        self.labels = {info.name: info for info in self.project.labels()}

    # --- opening
    def open(self, document_id: int) -> None:
        doc = self.project.document(document_id)
        # a document of a few screens is read at once; a longer one's first screen first
        until = self.first_screen if len(doc.text) > 2 * self.first_screen else None
        # while a job of this window holds the project, an analyst's layer starts with their first edit too
        layer = read_layer(self.project, document_id, self.layer_id, until, start=not self.holders)
        # a reviewer's own layer is not started by opening (Project.read_layer): the first edit does it;
        # until then the model's suggestions are shown, as the layer will start from them
        self.unstarted = self.lazy_layer = self.layer_id == self.project.annotator_id and layer.status == "new"
        self.shown = shown = self.layer_id  # the model's suggestions until this user's layer starts
        if self.unstarted and (model := self.project.model_layer_id()) is not None:
            self.shown = shown = model
            layer = read_layer(self.project, document_id, model, until)._replace(status=layer.status)
        self.doc = self._hooked(OpenDocument(
            doc.id, doc.text, doc.tokens, layer.spans, name=doc.name, title=doc.title, status=layer.status,
            unread=layer.unread, unread_suggested=layer.unread_suggested,
            read_rest=lambda: self._read_spans(document_id, until, shown)))
        self.display = display_text(doc.text)
        self.hidden = hidden_positions(doc.text)
        self.u16 = Utf16Map(doc.text)
        self.block_starts = block_starts(self.display)
        self.opened.emit()
        if layer.started:
            self.stateChanged.emit(document_id, "in_progress")
        if self.unread:
            QCoreApplication.postEvent(self, QEvent(_LOAD_REST), _AFTER_PAINT)

    def _read_spans(self, document_id: int, since: int, layer_id: int) -> list[SpanView] | None:
        """The rest of the layer; while the server is away the error is reported and None tells the
        document to try again on its next call."""
        try:
            return read_spans(self.project, document_id, layer_id, since)
        except AnnotatorError as e:
            self.after_error(e)
            self.failed.emit(str(e))
            return None

    def customEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() == _LOAD_REST:
            self.load_rest()

    def load_rest(self) -> None:
        """Read the spans `open` left for after the first paint (`loaded`); a no-op once they are in."""
        self.doc.load_rest()

    # --- reading
    def span_text(self, span: SpanView) -> str:
        return self.doc.span_text(span)

    def current_span(self) -> SpanView | None:
        return self.doc.current_span()

    def spans_at(self, pos: int) -> list[SpanView]:
        """Spans containing code point `pos`, innermost (shortest) first."""
        return self.doc.spans_at(pos)

    def overlapping(self, start: int, end: int) -> list[SpanView]:
        """Spans that share at least one code point with [start, end)."""
        return self.doc.overlapping(start, end)

    def index_of(self, span_id: int) -> int:
        return self.doc.index_of(span_id)

    def counts(self) -> tuple[int, int]:
        """(spans, of which suggested) in the open document."""
        return self.doc.counts()

    # --- current span and navigation
    def set_current(self, span_id: int | None) -> None:
        self.doc.set_current(span_id)

    def step(self, direction: int, from_pos: int = 0) -> None:
        """Make the next (+1) or previous (-1) span current; without one, start from `from_pos`."""
        self.doc.step(direction, from_pos)

    # --- editing: each call is one committed, undoable command
    def _run(self, fn: Callable, *args, **kwargs):
        if self.read_only:
            self.failed.emit(self.read_only)
            return None
        with self.editing():
            try:
                self.load_rest()
                self.prepare(fn)
                return fn(*args, **kwargs)
            except AnnotatorError as e:
                self.after_error(e)
                self.failed.emit(str(e))
                return None

    @contextmanager
    def editing(self):
        """While an edit runs (with the layer it starts shown first): a view that saves what was typed
        when the current span changes (the referent note) waits, so no edit starts inside another."""
        was, self.busy = self.busy, True
        try:
            yield
        finally:
            self.busy = was

    def prepare(self, fn: Callable) -> None:
        """Before an edit from any part of the window (`fn`, as it will be called): the first edit of a
        document whose layer is not started yet starts it (from the model's suggestions) and shows it.
        An edit of a suggestion shown until then still names it, with the version shown: the core sends
        it to the copy if the suggestion is still the one seen, else refuses it (E037, targets.py), so
        that nothing confirms a link or a label the window never showed."""
        if not self.unstarted or self.doc_id is None or fn in (self.project.stack.undo, self.project.stack.redo):
            return
        self.project.start_layer(self.doc_id)
        self._show_own_layer()

    def _show_own_layer(self) -> None:
        """Show this user's layer, just started, in place of the model's suggestions; the current span
        becomes its copy."""
        current = self.current_span()
        self.unstarted, self.shown = False, self.layer_id
        with self.editing():
            self.reload_layer()  # the views get the differences
            copy = self._copy_of(current)
            if copy is not None:
                self.set_current(copy.id)

    def _copy_of(self, span: SpanView | None) -> SpanView | None:
        """The span of the open layer at the same place with the same label (a suggestion's copy)."""
        key = span and (span.start, span.end, span.label)
        return next((v for v in self.spans.values() if (v.start, v.end, v.label) == key), None)

    def _follow_layer(self, change: Change) -> bool:
        """An edit made elsewhere than through `prepare` (the search's "label all", another desktop of
        this user) started this user's layer of the open document, or an undo took a layer back that
        such an edit started: show the layer now in place of the model's suggestions, or the
        suggestions again. True when it did (the change is shown with it)."""
        if not self.lazy_layer or self.doc_id not in (change.document_id, *change.documents):
            return False
        started = document_status(self.project, self.doc_id) != "new"
        if started != self.unstarted:  # the window shows what there is: the layer, or the suggestions
            return False
        if started:
            self._show_own_layer()
        else:
            self.open(self.doc_id)
        return True

    def after_error(self, e: AnnotatorError) -> None:
        """An edit was refused: a conflict shows the span as it is now; a lost server makes the window
        read-only (the watcher lifts it when the server answers again)."""
        if isinstance(e, ConflictError) and e.table == "spans":
            self.reload_spans([e.row_id])
        elif isinstance(e, ConnectionLost):
            self.connectionLost.emit(str(e))

    def reload_layer(self) -> None:
        """Re-read the layer shown (the model's until this user's starts) after changes made elsewhere."""
        if self.doc_id is None:
            return
        self.load_rest()
        fresh = {s.id: s for s in read_spans(self.project, self.doc_id, self.shown)}
        self.reload_spans(set(self.spans) | set(fresh), fresh)
        status = document_status(self.project, self.doc_id)
        if status != self.doc.status:  # e.g. marked done on another desktop
            self.doc.status = status
            self.stateChanged.emit(self.doc_id, status)

    def reload_spans(self, span_ids, fresh: dict[int, SpanView] | None = None) -> None:
        """Re-read spans of the open document that changed behind this window's back (`fresh`: the
        layer as just read, else each span it holds is read)."""
        self.load_rest()
        if fresh is None:
            fresh = {i: read_span(self.project, i, self.doc_id, self.shown) for i in span_ids if i in self.spans}
        self.doc.refresh(span_ids, fresh.get)

    def _need_current(self) -> SpanView | None:
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

    def accept_all(self, label: str | None = None) -> int | None:
        """Accept every suggestion left in the open document (only `label`'s), each as Enter would, as
        one command: one Ctrl+Z brings them all back. How many; None when refused (`failed` says why)."""
        if self.doc_id is None:
            return None
        return self._run(self.project.accept_all, self.doc_id, label)

    def suggested_labels(self) -> dict[str, int]:
        """Label → suggestions still left in the open document, in the labels' order."""
        self.load_rest()
        left = Counter(s.label for s in self.spans.values() if s.status == "suggested")
        known = [name for name in self.labels if name in left]
        return {name: left[name] for name in known + sorted(set(left) - set(known))}


    def next_unchecked(self) -> int | None:
        """The first suggestion after the current span in text order, wrapping around; without a
        current span, the first of the document. None when every other span is checked."""
        self.load_rest()
        span = self.current_span()
        n = len(self.order)
        first = self.index_of(span.id) + 1 if span is not None else 0
        for k in range(n):
            span_id = self.order[(first + k) % n][2]
            if span_id != self.current and self.spans[span_id].status == "suggested":
                return span_id
        return None

    def accept_and_next(self) -> None:
        """Enter: accept the current suggestion (with its suggested link) and move on to the next
        unchecked span, so a correct suggestion costs one key. On the last one the span stays
        current and the status bar says the document is checked."""
        if self.doc_id is None:
            return
        span = self.current_span()
        if span is not None and span.status == "suggested":
            self._run(self.project.accept, span.id, version=span.version)
            now = self.spans.get(span.id)
            if now is not None and now.status == "suggested":
                return  # refused (said through `failed`): stay on it
        following = self.next_unchecked()
        if following is not None:
            self.set_current(following)
        elif self.order:
            self.notice.emit(f"All {len(self.order)} spans of this document are checked; "
                             "Ctrl+Enter marks it done.")

    def move_edge(self, edge: str, direction: int) -> None:
        """Move the current span's start or end to the next token boundary in `direction`."""
        try:
            start, end = self.doc.move_edge(edge, direction)
        except AnnotatorError as e:  # no current span, or it would become empty
            self.failed.emit(str(e))
            return
        span = self.doc.current_span()
        if (start, end) != (span.start, span.end):
            self._run(self.project.move, span.id, start, end, version=span.version)

    def set_status(self, status: str) -> None:
        if self.doc_id is not None:
            self._run(self.project.set_status, self.doc_id, status)

    def status(self) -> str:
        """This user's state of the open document: read with it, kept by the changes this window sees
        (its own, and others' through reload_layer)."""
        return self.doc.status if self.doc_id is not None else "new"

    def undo(self) -> None:
        self._history(self.project.stack.undo)

    def redo(self) -> None:
        self._history(self.project.stack.redo)

    def _history(self, fn: Callable[[], Change]) -> None:
        """Undo/redo; an edit of another document opens that document first (the hub holds the edit's
        message until it is open), so the user sees what changed."""
        with self.project.changes.held():
            change = self._run(fn)
            if change is None:
                self.stackChanged.emit()  # a refused step is dropped (E546): the menu names the one before
                return
            if change.document_id is None:
                return
            if change.document_id != self.doc_id:
                if document_status(self.project, change.document_id) == "new":
                    return  # not this user's layer (a gold decision): the adjudication view shows it
                self.open(change.document_id)
                self.load_rest()
        alive = [i for i in change.span_ids if i in self.spans]
        if alive:
            self.set_current(alive[0])

    # --- core change events
    def _on_change(self, change: Change) -> None:
        """The stack's listener: one entry point for every committed change."""
        self.load_rest()
        self.stackChanged.emit()
        self.saved.emit(change.kind)
        if self._follow_layer(change):
            return
        if change.kind == "state" and change.document_id is not None:
            status = document_status(self.project, change.document_id)
            if change.document_id == self.doc_id:
                self.doc.status = status
            self.stateChanged.emit(change.document_id, status)
            return
        if change.kind != "entities":  # an entity edit or merge keeps every span where it is
            others = {change.document_id, *change.documents} - {self.doc_id, None}
            for other in sorted(others):
                self.documentTouched.emit(other)
        self.doc.apply_change(change, lambda i: read_span(self.project, i, self.doc_id, self.shown))
