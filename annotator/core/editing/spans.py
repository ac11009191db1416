"""The span and document-status commands: add, delete, relabel, move, accept, mark done.

Each command runs in its own short transaction and is appended to the event history in that same
transaction, so an edit the stack acknowledged is on disk. A command records the state it replaced
when it runs (its payload), which is what lets the stack be rebuilt from the history after a restart.

Optimistic concurrency (several people on one database): a span's `version` grows with every
change. An edit made on what the user saw carries that version (`seen_version`) and is refused with
a `ConflictError` (E037) when the row has moved on; the UPDATE itself is conditional on the version
it read, so a writer racing in between is caught too. Undo and redo check that the fields are still
as this user left them, so they never silently overwrite someone else's later change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from annotator.core.changes import Change
from annotator.core.db.models import Document, DocumentState, Label, Span, utcnow
from annotator.core.editing.command import Command
from annotator.core.editing.layers import open_layer
from annotator.errors import AnnotatorError, ConflictError, Errors

SPAN_FIELDS = ("id", "document_id", "annotator_id", "start", "end", "label", "entity_id", "nil",
               "referent_note", "origin", "status", "model_run_id", "version", "link_source")
DOC_STATUSES = ("new", "in_progress", "done")


# Statements built once: building SQLAlchemy statements per edit cost more than the commit itself.
_SPAN_BY_ID = select(*(getattr(Span, f) for f in SPAN_FIELDS)).where(Span.id == bindparam("span_id"))
_LABEL_ID = select(Label.id).where(Label.name == bindparam("label"))
_CLASH = select(Span.id).where(Span.document_id == bindparam("document_id"),
                               Span.annotator_id == bindparam("annotator_id"), Span.start == bindparam("start"),
                               Span.end == bindparam("end"), Span.label == bindparam("label"))
_INSERT_SPAN = insert(Span).returning(Span.id)
_UPDATES: dict[tuple[str, ...], Any] = {}


_DELETE_SPAN_AT = delete(Span).where(Span.id == bindparam("span_id"), Span.version == bindparam("version"))


def _update_span(fields: tuple[str, ...]):
    if fields not in _UPDATES:
        _UPDATES[fields] = (update(Span).where(Span.id == bindparam("span_id"), Span.version == bindparam("version"))
                            .values(**{f: bindparam(f"new_{f}") for f in fields},
                                    version=Span.version + 1, updated_at=bindparam("new_updated_at")))
    return _UPDATES[fields]


def _span_row(s: Session, span_id: int):
    row = s.connection().execute(_SPAN_BY_ID, {"span_id": span_id}).first()
    if row is None:
        raise AnnotatorError(Errors.E032.format(span_id=span_id))
    return row


def span_conflict(s: Session, span_id: int) -> ConflictError:
    """E037 with the span as it is now (None if it is gone)."""
    row = s.connection().execute(_SPAN_BY_ID, {"span_id": span_id}).first()
    if row is None:
        return ConflictError(Errors.E037.format(span_id=span_id, state="deleted"), "spans", span_id, None)
    current = dict(row._mapping)
    link = " NIL" if row.nil else f" linked to entity {row.entity_id}" if row.entity_id is not None else ""
    state = f"{row.start}-{row.end} {row.label}, {row.status}{link}, version {row.version}"
    return ConflictError(Errors.E037.format(span_id=span_id, state=state), "spans", span_id, current)


def expect_fields(s: Session, row, values: dict[str, Any]) -> None:
    """E037 unless the span's fields are still `values` (what this user's edit left there)."""
    if any(getattr(row, f) != v for f, v in values.items()):
        raise span_conflict(s, row.id)


def expect_version(s: Session, row, seen: int | None) -> None:
    """E037 when the user saw another version of the span than the one now stored."""
    if seen is not None and row.version != seen:
        raise span_conflict(s, row.id)


# Text never changes after import, so each document's length is read once per project.
_LENGTHS: dict[tuple[str, int], int] = {}


def _check_bounds(s: Session, document_id: int, start: int, end: int) -> None:
    key = (str(s.get_bind().url), document_id)
    length = _LENGTHS.get(key)
    if length is None:
        # length() counts characters (code points) in SQLite and PostgreSQL alike
        length = s.scalar(select(func.length(Document.text)).where(Document.id == document_id))
        if length is not None:
            _LENGTHS[key] = length
    if length is None or not 0 <= start < end <= length:
        raise AnnotatorError(Errors.E030.format(start=start, end=end, length=length or 0))


def _check_label(s: Session, label: str) -> None:
    if s.connection().execute(_LABEL_ID, {"label": label}).first() is None:
        known = ", ".join(s.scalars(select(Label.name).order_by(Label.position)))
        raise AnnotatorError(Errors.E031.format(label=label, known=known))


@dataclass
class AddSpan(Command):
    name: ClassVar[str] = "add_span"
    document_id: int
    annotator_id: int
    start: int
    end: int
    label: str
    origin: str = "human"
    status: str = "accepted"
    span_id: int | None = None  # set on first do, so redo recreates the same span

    def do(self, s: Session) -> Change:
        _check_bounds(s, self.document_id, self.start, self.end)
        _check_label(s, self.label)
        conn = s.connection()
        clash = conn.execute(_CLASH, dict(document_id=self.document_id, annotator_id=self.annotator_id,
                                          start=self.start, end=self.end, label=self.label)).first()
        if clash is not None:
            raise AnnotatorError(Errors.E036.format(start=self.start, end=self.end, label=self.label))
        values = dict(document_id=self.document_id, annotator_id=self.annotator_id, start=self.start,
                      end=self.end, label=self.label, origin=self.origin, status=self.status)
        if self.span_id is not None:
            values["id"] = self.span_id
        values.update(entity_id=None, nil=False, referent_note="", model_run_id=None, version=1,
                      created_at=utcnow(), updated_at=utcnow())
        self.span_id = conn.execute(_INSERT_SPAN, values).scalar_one()
        return Change(self.document_id, (self.span_id,))

    def undo(self, s: Session) -> Change:
        row = _span_row(s, self.span_id)
        expect_fields(s, row, dict(start=self.start, end=self.end, label=self.label, status=self.status,
                                   entity_id=None, nil=False))
        if s.connection().execute(_DELETE_SPAN_AT, {"span_id": self.span_id, "version": row.version}).rowcount != 1:
            raise span_conflict(s, self.span_id)
        return Change(self.document_id, (self.span_id,))

    def text(self) -> str:
        return f"add {self.label}"


@dataclass
class DeleteSpan(Command):
    name: ClassVar[str] = "delete_span"
    span_id: int
    document_id: int | None = None
    before: dict[str, Any] = field(default_factory=dict)
    seen_version: int | None = None

    def do(self, s: Session) -> Change:
        row = _span_row(s, self.span_id)
        if self.before:  # redo: the span must be as undo put it back
            expect_version(s, row, self.before["version"])
        else:
            expect_version(s, row, self.seen_version)
        self.document_id = row.document_id
        self.before = dict(row._mapping)
        if s.connection().execute(_DELETE_SPAN_AT, {"span_id": self.span_id, "version": row.version}).rowcount != 1:
            raise span_conflict(s, self.span_id)
        return Change(self.document_id, (self.span_id,))

    def undo(self, s: Session) -> Change:
        s.connection().execute(insert(Span), [dict(self.before, created_at=utcnow(), updated_at=utcnow())])
        return Change(self.document_id, (self.span_id,))

    def text(self) -> str:
        return f"delete {self.before.get('label', 'span')}"


@dataclass
class UpdateSpan(Command):
    """Change some fields of a span; the subclasses name what kind of change it is."""

    span_id: int
    changes: dict[str, Any] = field(default_factory=dict)
    document_id: int | None = None
    before: dict[str, Any] = field(default_factory=dict)
    seen_version: int | None = None  # the version the user saw (None: whatever is stored)
    # a relabel or a resize checks the span, not its suggested link: the link is dropped rather than
    # confirmed unseen (status "accepted" says a person checked the span and its link)
    drops_suggested_link: ClassVar[bool] = False

    def validate(self, s: Session, row: Span) -> None:
        if "label" in self.changes:
            _check_label(s, self.changes["label"])
        if "start" in self.changes or "end" in self.changes:
            _check_bounds(s, row.document_id, self.changes.get("start", row.start), self.changes.get("end", row.end))

    def do(self, s: Session) -> Change:
        row = _span_row(s, self.span_id)
        if self.before:  # redo: the fields must be as undo left them
            expect_fields(s, row, self.before)
        else:
            expect_version(s, row, self.seen_version)
        self.validate(s, row)
        self.document_id = row.document_id
        if not self.before and self.drops_suggested_link and row.status == "suggested" and row.entity_id is not None:
            self.changes = {**self.changes, "entity_id": None, "link_source": None}
        self.before = {f: getattr(row, f) for f in self.changes}
        self._apply(s, self.changes, row.version)
        return Change(self.document_id, (self.span_id,))

    def undo(self, s: Session) -> Change:
        row = _span_row(s, self.span_id)
        expect_fields(s, row, self.changes)  # nobody changed what this edit set
        self._apply(s, self.before, row.version)
        return Change(self.document_id, (self.span_id,))

    def _apply(self, s: Session, values: dict[str, Any], version: int) -> None:
        """The UPDATE, on condition that the span is still at `version` (else E037)."""
        fields = tuple(sorted(values))
        params = {f"new_{f}": values[f] for f in fields}
        result = s.connection().execute(_update_span(fields), dict(params, span_id=self.span_id, version=version,
                                                                   new_updated_at=utcnow()))
        if result.rowcount != 1:
            raise span_conflict(s, self.span_id)


@dataclass
class RelabelSpan(UpdateSpan):
    drops_suggested_link: ClassVar[bool] = True
    name: ClassVar[str] = "relabel_span"

    @classmethod
    def make(cls, span_id: int, label: str, version: int | None = None) -> RelabelSpan:
        return cls(span_id, {"label": label, "status": "accepted"}, seen_version=version)

    def text(self) -> str:
        return f"relabel as {self.changes['label']}"


@dataclass
class MoveSpan(UpdateSpan):
    drops_suggested_link: ClassVar[bool] = True
    name: ClassVar[str] = "move_span"

    @classmethod
    def make(cls, span_id: int, start: int, end: int, version: int | None = None) -> MoveSpan:
        return cls(span_id, {"start": start, "end": end, "status": "accepted"}, seen_version=version)

    def text(self) -> str:
        return "move span boundary"


@dataclass
class AcceptSpan(UpdateSpan):
    name: ClassVar[str] = "accept_span"

    @classmethod
    def make(cls, span_id: int, version: int | None = None) -> AcceptSpan:
        return cls(span_id, {"status": "accepted"}, seen_version=version)

    def text(self) -> str:
        return "accept suggestion"


@dataclass
class SetDocumentStatus(Command):
    name: ClassVar[str] = "set_document_status"
    document_id: int
    annotator_id: int
    status: str
    before: str | None = None

    def do(self, s: Session) -> Change:
        if self.status not in DOC_STATUSES:
            raise AnnotatorError(Errors.E034.format(status=self.status))
        state = s.get(DocumentState, (self.document_id, self.annotator_id))
        if state is None:
            state = DocumentState(document_id=self.document_id, annotator_id=self.annotator_id, status="new")
            s.add(state)
        self.before = state.status
        state.status, state.updated_at = self.status, utcnow()
        return Change(self.document_id, kind="state")

    def undo(self, s: Session) -> Change:
        state = s.get(DocumentState, (self.document_id, self.annotator_id))
        state.status, state.updated_at = self.before or "new", utcnow()
        return Change(self.document_id, kind="state")

    def text(self) -> str:
        return f"mark {self.status.replace('_', ' ')}"


@dataclass
class LabelMatches(Command):
    """Label every match of a corpus search (`core/search.py`) as a suggestion to check, in one undoable
    step. Origin "search": a person asked for them but checked none, so provenance keeps them apart
    from spans someone drew (and the model's). A match that already has a span with this label at
    those offsets is left alone. Documents the user had not opened get their layer started from the
    model's first (as opening does), and lose it again on undo."""

    name: ClassVar[str] = "label_matches"
    annotator_id: int
    label: str
    matches: list[tuple[int, int, int]]  # (document id, start, end)
    made: list[list[int]] = field(default_factory=list)  # [document id, start, end, span id]: redo keeps ids
    opened: list[int] = field(default_factory=list)  # documents whose layer this started

    @property
    def created(self) -> list[int]:
        return [m[3] for m in self.made]

    def do(self, s: Session) -> Change:
        _check_label(s, self.label)
        conn = s.connection()
        documents = sorted({d for d, _, _ in self.matches})
        self.opened = [d for d in documents if s.get(DocumentState, (d, self.annotator_id)) is None]
        for d in self.opened:  # counted once, by the stack, with the spans added below
            open_layer(s, d, self.annotator_id, count=False)
        ids = {tuple(m[:3]): m[3] for m in self.made}
        self.made = []
        for document_id, start, end in dict.fromkeys(map(tuple, self.matches)):
            _check_bounds(s, document_id, start, end)
            if conn.execute(_CLASH, dict(document_id=document_id, annotator_id=self.annotator_id, start=start,
                                         end=end, label=self.label)).first() is not None:
                continue
            values = dict(document_id=document_id, annotator_id=self.annotator_id, start=start, end=end,
                          label=self.label, origin="search", status="suggested", entity_id=None, nil=False,
                          referent_note="", model_run_id=None, version=1, created_at=utcnow(), updated_at=utcnow())
            if (document_id, start, end) in ids:
                values["id"] = ids[document_id, start, end]
            self.made.append([document_id, start, end, conn.execute(_INSERT_SPAN, values).scalar_one()])
        return Change(documents[0] if documents else None, tuple(self.created), documents=tuple(documents))

    def undo(self, s: Session) -> Change:
        conn = s.connection()
        if self.created:
            conn.execute(delete(Span).where(Span.id.in_(self.created)))
        for d in self.opened:  # back to never opened: no layer, no state
            conn.execute(delete(Span).where(Span.document_id == d, Span.annotator_id == self.annotator_id))
            conn.execute(delete(DocumentState).where(DocumentState.document_id == d,
                                                     DocumentState.annotator_id == self.annotator_id))
        documents = tuple(sorted({d for d, _, _ in self.matches}))
        return Change(documents[0] if documents else None, tuple(self.created), documents=documents)

    def text(self) -> str:
        n = len(self.created)
        return f"label {n} match{'es' if n != 1 else ''} as {self.label}"


COMMANDS = (AddSpan, DeleteSpan, RelabelSpan, MoveSpan, AcceptSpan, SetDocumentStatus, LabelMatches)
