"""Every edit is a command with do/undo, run through one `CommandStack`.

Each command runs in its own short transaction and is appended to the event history in that same
transaction, so an edit the stack acknowledged is on disk. A command records the state it replaced
when it runs (its payload), which is what lets the stack be rebuilt from the history after a restart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, ClassVar

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from annotator.core.models import Document, DocumentState, Event, Label, Span, utcnow
from annotator.core.review import check_command
from annotator.core.store import Store
from annotator.errors import AnnotatorError, Errors

SPAN_FIELDS = ("id", "document_id", "annotator_id", "start", "end", "label", "entity_id", "nil",
               "referent_note", "origin", "status", "model_run_id", "version")
DOC_STATUSES = ("new", "in_progress", "done")


@dataclass(frozen=True)
class Change:
    """What an edit touched, so views redraw only that."""

    document_id: int | None
    span_ids: tuple[int, ...] = ()
    kind: str = "spans"  # spans | state | entities
    documents: tuple[int, ...] = ()  # every document whose spans it touched, when more than one can be


COMMANDS: dict[str, type[Command]] = {}


@dataclass
class Command:
    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            COMMANDS[cls.name] = cls

    def do(self, s: Session) -> Change:
        raise NotImplementedError

    def undo(self, s: Session) -> Change:
        raise NotImplementedError

    def text(self) -> str:
        """How menus name it: "Undo <text>"."""
        return self.name.replace("_", " ")

    def payload(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_event(command: str, payload: dict[str, Any]) -> Command:
        return COMMANDS[command](**payload)


# Statements built once: building SQLAlchemy statements per edit cost more than the commit itself.
_SPAN_BY_ID = select(*(getattr(Span, f) for f in SPAN_FIELDS)).where(Span.id == bindparam("span_id"))
_LABEL_ID = select(Label.id).where(Label.name == bindparam("label"))
_CLASH = select(Span.id).where(Span.document_id == bindparam("document_id"),
                               Span.annotator_id == bindparam("annotator_id"), Span.start == bindparam("start"),
                               Span.end == bindparam("end"), Span.label == bindparam("label"))
_INSERT_SPAN = insert(Span).returning(Span.id)
_DELETE_SPAN = delete(Span).where(Span.id == bindparam("span_id"))
_INSERT_EVENT = insert(Event).returning(Event.id)
_UNDO_EVENT = update(Event).where(Event.id == bindparam("event_id")).values(undone=True)
_REDO_EVENT = (update(Event).where(Event.id == bindparam("event_id"))
               .values(undone=False, payload=bindparam("payload", type_=Event.payload.type)))
_UPDATES: dict[tuple[str, ...], Any] = {}


def _update_span(fields: tuple[str, ...]):
    if fields not in _UPDATES:
        _UPDATES[fields] = (update(Span).where(Span.id == bindparam("span_id"))
                            .values(**{f: bindparam(f"new_{f}") for f in fields},
                                    version=Span.version + 1, updated_at=bindparam("new_updated_at")))
    return _UPDATES[fields]


def _span_row(s: Session, span_id: int):
    row = s.connection().execute(_SPAN_BY_ID, {"span_id": span_id}).first()
    if row is None:
        raise AnnotatorError(Errors.E032.format(span_id=span_id))
    return row


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
        s.connection().execute(_DELETE_SPAN, {"span_id": self.span_id})
        return Change(self.document_id, (self.span_id,))

    def text(self) -> str:
        return f"add {self.label}"


@dataclass
class DeleteSpan(Command):
    name: ClassVar[str] = "delete_span"
    span_id: int
    document_id: int | None = None
    before: dict[str, Any] = field(default_factory=dict)

    def do(self, s: Session) -> Change:
        row = _span_row(s, self.span_id)
        self.document_id = row.document_id
        self.before = dict(row._mapping)
        s.connection().execute(_DELETE_SPAN, {"span_id": self.span_id})
        return Change(self.document_id, (self.span_id,))

    def undo(self, s: Session) -> Change:
        s.connection().execute(insert(Span), [dict(self.before, created_at=utcnow(), updated_at=utcnow())])
        return Change(self.document_id, (self.span_id,))

    def text(self) -> str:
        return f"delete {self.before.get('label', 'span')}"


@dataclass
class UpdateSpan(Command):
    """Change some fields of a span; the subclasses name what kind of change it is."""

    name: ClassVar[str] = "update_span"
    span_id: int
    changes: dict[str, Any] = field(default_factory=dict)
    document_id: int | None = None
    before: dict[str, Any] = field(default_factory=dict)

    def validate(self, s: Session, row: Span) -> None:
        if "label" in self.changes:
            _check_label(s, self.changes["label"])
        if "start" in self.changes or "end" in self.changes:
            _check_bounds(s, row.document_id, self.changes.get("start", row.start), self.changes.get("end", row.end))

    def do(self, s: Session) -> Change:
        row = _span_row(s, self.span_id)
        self.validate(s, row)
        self.document_id = row.document_id
        self.before = {f: getattr(row, f) for f in self.changes}
        self._apply(s, self.changes)
        return Change(self.document_id, (self.span_id,))

    def undo(self, s: Session) -> Change:
        _span_row(s, self.span_id)
        self._apply(s, self.before)
        return Change(self.document_id, (self.span_id,))

    def _apply(self, s: Session, values: dict[str, Any]) -> None:
        fields = tuple(sorted(values))
        params = {f"new_{f}": values[f] for f in fields}
        s.connection().execute(_update_span(fields), dict(params, span_id=self.span_id, new_updated_at=utcnow()))


@dataclass
class RelabelSpan(UpdateSpan):
    name: ClassVar[str] = "relabel_span"

    @classmethod
    def make(cls, span_id: int, label: str) -> RelabelSpan:
        return cls(span_id, {"label": label, "status": "accepted"})

    def text(self) -> str:
        return f"relabel as {self.changes['label']}"


@dataclass
class MoveSpan(UpdateSpan):
    name: ClassVar[str] = "move_span"

    @classmethod
    def make(cls, span_id: int, start: int, end: int) -> MoveSpan:
        return cls(span_id, {"start": start, "end": end, "status": "accepted"})

    def text(self) -> str:
        return "move span boundary"


@dataclass
class AcceptSpan(UpdateSpan):
    name: ClassVar[str] = "accept_span"

    @classmethod
    def make(cls, span_id: int) -> AcceptSpan:
        return cls(span_id, {"status": "accepted"})

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


Listener = Callable[[Change], None]


class CommandStack:
    """Runs commands for one annotator, keeps undo/redo, and tells listeners what changed."""

    def __init__(self, store: Store, annotator_id: int):
        self.store = store
        self.annotator_id = annotator_id
        self._undo: list[tuple[int, Command]] = []  # (event id, command)
        self._redo: list[tuple[int, Command]] = []
        self._listeners: list[Listener] = []
        self.generation = 0  # counts changes, so views can tell whether anything happened since they drew

    # --- listening
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _notify(self, change: Change) -> None:
        self.generation += 1
        for listener in list(self._listeners):
            listener(change)

    # --- running
    def push(self, command: Command) -> Change:
        """Do the command and record it; when this returns, the edit is committed."""
        with self.store.atomic() as s:
            check_command(s, self.annotator_id, command)  # only reviewers edit gold
            change = command.do(s)
            event_id = self._record(s, command.name, command.payload(), change.document_id)
        self._undo.append((event_id, command))
        self._redo.clear()
        self._notify(change)
        return change

    def undo(self) -> Change:
        if not self._undo:
            raise AnnotatorError(Errors.E035.format(action="undo"))
        event_id, command = self._undo[-1]
        with self.store.atomic() as s:
            change = command.undo(s)
            s.connection().execute(_UNDO_EVENT, {"event_id": event_id})
            self._record(s, "undo", {"event": event_id}, change.document_id)
        self._undo.pop()
        self._redo.append((event_id, command))
        self._notify(change)
        return change

    def redo(self) -> Change:
        if not self._redo:
            raise AnnotatorError(Errors.E035.format(action="redo"))
        event_id, command = self._redo[-1]
        with self.store.atomic() as s:
            change = command.do(s)
            s.connection().execute(_REDO_EVENT, {"event_id": event_id, "payload": command.payload()})
            self._record(s, "redo", {"event": event_id}, change.document_id)
        self._redo.pop()
        self._undo.append((event_id, command))
        self._notify(change)
        return change

    def _record(self, s: Session, name: str, payload: dict, document_id: int | None) -> int:
        return s.connection().execute(_INSERT_EVENT, dict(
            annotator_id=self.annotator_id, document_id=document_id, command=name, payload=payload,
            created_at=utcnow(), undone=False)).scalar_one()

    # --- state for menus
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1][1].text() if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1][1].text() if self._redo else ""

    def restore(self, limit: int = 200) -> None:
        """Rebuild undo/redo from the event history, so undo works across restarts."""
        with self.store.Session() as s:
            rows = s.execute(select(Event.id, Event.command, Event.payload, Event.undone)
                             .where(Event.annotator_id == self.annotator_id, Event.command.in_(list(COMMANDS)))
                             .order_by(Event.id.desc()).limit(limit)).all()
        rows.reverse()
        last_done = max((r.id for r in rows if not r.undone), default=0)
        self._undo = [(r.id, Command.from_event(r.command, r.payload)) for r in rows if not r.undone]
        self._redo = [(r.id, Command.from_event(r.command, r.payload)) for r in reversed(rows)
                      if r.undone and r.id > last_done]
