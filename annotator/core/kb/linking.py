"""Linking edits as undoable commands: link, NIL, unlink, referent note, new entity from a span,
propagation, the entity edits (rename, merge), and accepting every suggestion of a document at once.

Links learn: when a span's confirmed link (status "accepted", an entity) changes, the alias
(entity, span text) gains one count — created if new — and the link it replaced loses one. The
command records exactly what it changed, so undo (also after a restart) gives the counts back.
Every linking edit is an act of review, so it leaves the span "accepted"; see `suggestions` for
how suggested links are told apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from annotator.core.db.models import Alias, Document, Entity, Span, utcnow
from annotator.core.changes import Change
from annotator.core.editing.command import Command
from annotator.core.editing.spans import AcceptSpan, UpdateSpan
from annotator.core.kb.entities import mint_kb_id, normalize
from annotator.errors import AnnotatorError, ConflictError, Errors

ENTITY_FIELDS = ("name", "type", "description", "kb_id")


def span_row(s: Session, span_id: int) -> Span:
    row = s.get(Span, span_id)
    if row is None:
        raise AnnotatorError(Errors.E032.format(span_id=span_id))
    return row


def _entity(s: Session, entity_id: int) -> Entity:
    row = s.get(Entity, entity_id)
    if row is None:
        raise AnnotatorError(Errors.E210.format(entity_id=entity_id))
    return row


def entity_conflict(s: Session, entity_id: int) -> ConflictError:
    """E218 with the entity as it is now (None if it is gone: merged or deleted)."""
    row = s.execute(select(Entity.id, Entity.kb_id, Entity.name, Entity.type, Entity.description, Entity.version)
                    .where(Entity.id == entity_id)).first()
    if row is None:
        return ConflictError(Errors.E218.format(entity_id=entity_id, state="deleted or merged"), "entities",
                             entity_id, None)
    state = f"{row.name!r} ({row.kb_id}, {row.type or 'no type'}), version {row.version}"
    return ConflictError(Errors.E218.format(entity_id=entity_id, state=state), "entities", entity_id,
                         dict(row._mapping))


def _expect_entity(s: Session, row: Entity, *, version: int | None = None, fields: dict[str, Any] | None = None):
    """E218 unless the entity is at the version the user saw, or still has `fields` (undo, redo)."""
    if (version is not None and row.version != version) or any(getattr(row, k) != v for k, v in (fields or {}).items()):
        raise entity_conflict(s, row.id)


def _update_entity(s: Session, entity_id: int, version: int, **values) -> None:
    """UPDATE the entity on condition it is still at `version`; its version grows by one."""
    result = s.execute(update(Entity).where(Entity.id == entity_id, Entity.version == version)
                       .values(**values, version=Entity.version + 1))
    if result.rowcount != 1:
        raise entity_conflict(s, entity_id)


def surface(s: Session, span: Span) -> str:
    return s.scalar(select(func.substr(Document.text, span.start + 1, span.end - span.start))
                    .where(Document.id == span.document_id))


def learn(s: Session, entity_id: int, text: str, delta: int) -> dict[str, Any] | None:
    """Add `delta` to the count of the entity's alias for `text` (same normal form), creating the
    alias for a positive delta; counts never go below zero. Returns what was done, for `unlearn`."""
    norm = normalize(text)
    alias = s.execute(select(Alias.id, Alias.count).where(Alias.entity_id == entity_id, Alias.norm == norm)
                      .order_by(Alias.id).limit(1)).first()
    if alias is None:
        if delta <= 0:
            return None
        alias_id = s.execute(insert(Alias).values(entity_id=entity_id, text=text, norm=norm, count=delta,
                                                  created_by=actor(s)).returning(Alias.id)).scalar_one()
        return {"alias_id": alias_id, "delta": delta, "created": True}
    applied = max(delta, -alias.count)
    s.execute(update(Alias).where(Alias.id == alias.id).values(count=Alias.count + applied))
    return {"alias_id": alias.id, "delta": applied, "created": False}


def unlearn(s: Session, record: dict[str, Any]) -> None:
    count = s.scalar(select(Alias.count).where(Alias.id == record["alias_id"]))
    if count is None:
        return
    left = max(count - record["delta"], 0)
    if record["created"] and left == 0:
        s.execute(delete(Alias).where(Alias.id == record["alias_id"]))
    else:
        s.execute(update(Alias).where(Alias.id == record["alias_id"]).values(count=left))


def actor(s: Session) -> int | None:
    """Who runs the command in this session (the command stack says), for `created_by`."""
    return s.info.get("actor")


def _confirmed(entity_id: int | None, status: str) -> int | None:
    return entity_id if status == "accepted" else None


@dataclass
class LinkEdit(UpdateSpan):
    """An UpdateSpan that keeps alias counts in step with confirmed links (not registered itself).

    Who chose the link (`Span.link_source`): a person, unless the edit leaves the link as it was (Enter
    confirming a suggested link keeps the linker's or the prior's name on it; "accepted" says a person
    checked it). Decided on the first do and kept in `changes`, so undo puts the old source back and
    redo (also after a restart) sets the same one."""

    learned: list[dict[str, Any]] = field(default_factory=list)

    def do(self, s: Session) -> Change:
        row = span_row(s, self.span_id)
        if not self.before and "link_source" not in self.changes and (
                self.changes.get("entity_id", row.entity_id), self.changes.get("nil", row.nil)) != (
                row.entity_id, row.nil):
            self.changes = {**self.changes, "link_source": "person"}
        old = _confirmed(row.entity_id, row.status)
        new = _confirmed(self.changes.get("entity_id", row.entity_id), self.changes.get("status", row.status))
        text = surface(s, row)
        change = super().do(s)
        self.learned = []
        if old != new:
            for entity_id, delta in ((old, -1), (new, +1)):
                if entity_id is not None and (record := learn(s, entity_id, text, delta)) is not None:
                    self.learned.append(record)
        return change

    def undo(self, s: Session) -> Change:
        change = super().undo(s)
        for record in reversed(self.learned):
            unlearn(s, record)
        return change


@dataclass
class LinkSpan(LinkEdit):
    """Link a span to an entity; also how a suggested link is confirmed."""

    name: ClassVar[str] = "link_span"
    entity_name: str = ""

    @classmethod
    def make(cls, span_id: int, entity_id: int, version: int | None = None) -> LinkSpan:
        return cls(span_id, {"entity_id": entity_id, "nil": False, "status": "accepted"}, seen_version=version)

    def validate(self, s: Session, row: Span) -> None:
        super().validate(s, row)
        self.entity_name = _entity(s, self.changes["entity_id"]).name

    def text(self) -> str:
        return f"link to {self.entity_name}" if self.entity_name else "link"


@dataclass
class NilSpan(LinkEdit):
    """Checked, and no entity of the knowledge base fits."""

    name: ClassVar[str] = "nil_span"

    @classmethod
    def make(cls, span_id: int, version: int | None = None) -> NilSpan:
        return cls(span_id, {"entity_id": None, "nil": True, "status": "accepted"}, seen_version=version)

    def text(self) -> str:
        return "mark NIL"


@dataclass
class UnlinkSpan(LinkEdit):
    """Remove a link or a NIL mark, or reject a suggested link."""

    name: ClassVar[str] = "unlink_span"

    @classmethod
    def make(cls, span_id: int, version: int | None = None) -> UnlinkSpan:
        return cls(span_id, {"entity_id": None, "nil": False, "status": "accepted"}, seen_version=version)

    def text(self) -> str:
        return "unlink"


@dataclass
class SetReferentNote(UpdateSpan):
    """Metonymy: the span keeps its label (GPE "Seoul") and says what it refers to here."""

    name: ClassVar[str] = "set_referent_note"

    @classmethod
    def make(cls, span_id: int, note: str, version: int | None = None) -> SetReferentNote:
        return cls(span_id, {"referent_note": note.strip()}, seen_version=version)

    def text(self) -> str:
        return "set referent note"


@dataclass
class NewEntityFromSpan(LinkEdit):
    """Create an entity from a span (its text as name and first alias, its label as type) and
    link the span to it, in one step; undo removes both."""

    name: ClassVar[str] = "new_entity_from_span"
    entity_name: str = ""
    entity_type: str = ""
    description: str = ""
    kb_id: str | None = None
    entity_id: int | None = None  # set on first do, so redo recreates the same entity
    created_by: int | None = None

    def do(self, s: Session) -> Change:
        row = span_row(s, self.span_id)
        self.entity_name = (self.entity_name or surface(s, row)).strip()
        if not self.entity_name:
            raise AnnotatorError(Errors.E212)
        self.entity_type = self.entity_type or row.label
        if self.kb_id is None:
            self.kb_id = mint_kb_id(s, self.entity_name)
        elif (other := s.scalar(select(Entity.name).where(Entity.kb_id == self.kb_id))) is not None:
            raise AnnotatorError(Errors.E211.format(kb_id=self.kb_id, name=other))
        values = dict(kb_id=self.kb_id, name=self.entity_name, type=self.entity_type,
                      description=self.description, created_by=self.created_by)
        if self.entity_id is not None:
            values["id"] = self.entity_id
        self.entity_id = s.execute(insert(Entity).values(**values).returning(Entity.id)).scalar_one()
        s.execute(insert(Alias).values(entity_id=self.entity_id, text=self.entity_name,
                                       norm=normalize(self.entity_name), count=0, created_by=self.created_by))
        self.changes = {"entity_id": self.entity_id, "nil": False, "status": "accepted"}
        if not self.before or "link_source" in self.before:  # (a history from before 0018 has no source)
            self.changes["link_source"] = "person"
        return super().do(s)

    def undo(self, s: Session) -> Change:
        _expect_entity(s, _entity(s, self.entity_id), fields=dict(
            kb_id=self.kb_id, name=self.entity_name, type=self.entity_type, description=self.description))
        change = super().undo(s)
        others = s.scalar(select(func.count()).select_from(Span).where(Span.entity_id == self.entity_id))
        if others:
            raise AnnotatorError(Errors.E216.format(name=self.entity_name, n=others))
        s.execute(delete(Alias).where(Alias.entity_id == self.entity_id))
        s.execute(delete(Entity).where(Entity.id == self.entity_id))
        return change

    def text(self) -> str:
        return f"new entity {self.entity_name}"


@dataclass
class EditEntity(Command):
    """Change an entity's name, type, description or kb_id. A new name also becomes an alias.
    `seen_version`: the entity's version when the user looked at it (E218 if it has moved on)."""

    name: ClassVar[str] = "edit_entity"
    entity_id: int
    changes: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)
    added_alias: int | None = None
    seen_version: int | None = None
    entity_name: str = ""  # the name before the edit, for the menus

    def do(self, s: Session) -> Change:
        row = _entity(s, self.entity_id)
        self.entity_name = row.name
        for key, value in self.changes.items():
            if key not in ENTITY_FIELDS:
                raise AnnotatorError(Errors.E217.format(field=key))
            if key in ("name", "kb_id") and not str(value or "").strip():
                raise AnnotatorError(Errors.E212)
        if self.before:  # redo: as undo left it
            _expect_entity(s, row, fields=self.before)
        else:
            _expect_entity(s, row, version=self.seen_version)
        self.changes = changes = {k: v.strip() if isinstance(v, str) else v for k, v in self.changes.items()}
        kb_id = changes.get("kb_id")
        if kb_id and kb_id != row.kb_id:
            other = s.scalar(select(Entity.name).where(Entity.kb_id == kb_id))
            if other is not None:
                raise AnnotatorError(Errors.E211.format(kb_id=kb_id, name=other))
        self.before = {k: getattr(row, k) for k in changes}
        _update_entity(s, self.entity_id, row.version, **changes)
        self.added_alias = None
        if "name" in changes:
            norm = normalize(changes["name"])
            known = s.scalar(select(Alias.id).where(Alias.entity_id == self.entity_id, Alias.norm == norm).limit(1))
            if known is None:  # not yet an alias: add it with no count
                self.added_alias = s.execute(insert(Alias).values(
                    entity_id=self.entity_id, text=changes["name"], norm=norm, count=0, created_by=actor(s))
                    .returning(Alias.id)).scalar_one()
        return Change(None, kind="entities")

    def undo(self, s: Session) -> Change:
        row = _entity(s, self.entity_id)
        _expect_entity(s, row, fields=self.changes)  # nobody changed what this edit set
        if self.added_alias is not None:
            s.execute(delete(Alias).where(Alias.id == self.added_alias))
        _update_entity(s, self.entity_id, row.version, **self.before)
        return Change(None, kind="entities")

    def text(self) -> str:
        new = self.changes.get("name")
        if isinstance(new, str) and new.strip() and new.strip() != self.entity_name and self.entity_name:
            return f"rename {self.entity_name} to {new.strip()}"
        return f"edit entity {self.entity_name}" if self.entity_name else "edit entity"


@dataclass
class MergeEntities(Command):
    """Merge `source` into `target`: its mentions and aliases follow (counts of a shared alias
    add up), then `source` is deleted. Undo restores it with the same id."""

    name: ClassVar[str] = "merge_entities"
    source_id: int
    target_id: int
    source: dict[str, Any] = field(default_factory=dict)
    span_ids: list[int] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)  # of the mentions: their agreement counts go stale
    moved: list[int] = field(default_factory=list)  # alias ids now on the target
    folded: list[dict[str, Any]] = field(default_factory=list)  # source aliases added into a target alias
    seen_versions: list[int | None] | None = None  # (source, target) as the user saw them; E218 if one moved on
    target_name: str = ""  # for the menus

    def do(self, s: Session) -> Change:
        src, dst = _entity(s, self.source_id), _entity(s, self.target_id)
        if src.id == dst.id:
            raise AnnotatorError(Errors.E213.format(name=src.name))
        if self.seen_versions and not self.source:  # first do (a redo re-reads what it merges)
            _expect_entity(s, src, version=self.seen_versions[0])
            _expect_entity(s, dst, version=self.seen_versions[1])
        _update_entity(s, dst.id, dst.version)  # the target changes too (mentions, aliases)
        self.target_name = dst.name
        self.source = {k: getattr(src, k) for k in ("id", "kb_id", "name", "type", "description", "created_by",
                                                   "version")}
        self.source["created_at"] = src.created_at.isoformat() if src.created_at else None
        rows = s.execute(select(Span.id, Span.document_id).where(Span.entity_id == src.id).order_by(Span.id)).all()
        self.span_ids, self.documents = [r.id for r in rows], sorted({r.document_id for r in rows})
        if self.span_ids:
            s.execute(update(Span).where(Span.id.in_(self.span_ids))
                      .values(entity_id=dst.id, version=Span.version + 1, updated_at=utcnow()))
        target_norms = {r.norm: r.id for r in s.execute(select(Alias.norm, Alias.id).where(Alias.entity_id == dst.id)
                                                            .order_by(Alias.id.desc()))}
        self.moved, self.folded = [], []
        for a in s.execute(select(Alias.id, Alias.text, Alias.norm, Alias.count).where(Alias.entity_id == src.id)
                           .order_by(Alias.id)).all():
            if a.norm in target_norms:
                into = target_norms[a.norm]
                s.execute(update(Alias).where(Alias.id == into).values(count=Alias.count + a.count))
                s.execute(delete(Alias).where(Alias.id == a.id))
                self.folded.append({"id": a.id, "text": a.text, "norm": a.norm, "count": a.count, "into": into})
            else:
                self.moved.append(a.id)
        if self.moved:
            s.execute(update(Alias).where(Alias.id.in_(self.moved)).values(entity_id=dst.id))
        if s.execute(delete(Entity).where(Entity.id == src.id, Entity.version == src.version)).rowcount != 1:
            raise entity_conflict(s, src.id)
        return Change(None, tuple(self.span_ids), kind="entities", documents=tuple(self.documents))

    def undo(self, s: Session) -> Change:
        from datetime import datetime

        values = dict(self.source)
        values["created_at"] = datetime.fromisoformat(values["created_at"]) if values["created_at"] else utcnow()
        dst = _entity(s, self.target_id)
        _update_entity(s, dst.id, dst.version)
        s.execute(insert(Entity).values(**values))
        if self.moved:
            s.execute(update(Alias).where(Alias.id.in_(self.moved)).values(entity_id=self.source_id))
        for a in self.folded:
            s.execute(update(Alias).where(Alias.id == a["into"]).values(count=Alias.count - a["count"]))
            s.execute(insert(Alias).values(id=a["id"], entity_id=self.source_id, text=a["text"], norm=a["norm"],
                                           count=a["count"]))
        if self.span_ids:
            s.execute(update(Span).where(Span.id.in_(self.span_ids))
                      .values(entity_id=self.source_id, version=Span.version + 1, updated_at=utcnow()))
        return Change(None, tuple(self.span_ids), kind="entities", documents=tuple(self.documents))

    def text(self) -> str:
        into = f" into {self.target_name}" if self.target_name else ""
        return f"merge {self.source.get('name', 'entity')}{into}"


@dataclass
class AcceptSuggestions(Command):
    """Accept every span of a layer still suggested in one document (only `label`'s, if given), each as
    Enter does: a suggested link is confirmed (LinkSpan, which teaches the alias), a span without one
    accepted (AcceptSpan). One command, so one undo brings them all back. It lives here, not in
    editing/spans.py, because confirming links needs the alias counts (editing cannot import kb).

    `steps` is each span's own command as it ran (name and payload): undo, redo and a restart rebuild
    them from it, with the fields and alias counts each one replaced."""

    name: ClassVar[str] = "accept_suggestions"
    document_id: int
    annotator_id: int
    label: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    _KINDS: ClassVar[dict[str, type[UpdateSpan]]] = {AcceptSpan.name: AcceptSpan, LinkSpan.name: LinkSpan}

    def do(self, s: Session) -> Change:
        commands = self._commands() if self.steps else self._found(s)  # redo: the same spans again
        for command in commands:
            command.do(s)
        self.steps = [{"command": c.name, **c.payload()} for c in commands]
        return Change(self.document_id, tuple(c.span_id for c in commands))

    def undo(self, s: Session) -> Change:
        commands = self._commands()
        for command in reversed(commands):
            command.undo(s)
        return Change(self.document_id, tuple(c.span_id for c in commands))

    def _found(self, s: Session) -> list[UpdateSpan]:
        q = select(Span.id, Span.entity_id, Span.version).where(
            Span.document_id == self.document_id, Span.annotator_id == self.annotator_id,
            Span.status == "suggested")
        if self.label is not None:
            q = q.where(Span.label == self.label)
        rows = s.execute(q.order_by(Span.start, Span.end, Span.id)).all()
        if not rows:
            doc = s.scalar(select(Document.name).where(Document.id == self.document_id)) or self.document_id
            what = f"{self.label} suggestion" if self.label else "suggestion"
            raise AnnotatorError(Errors.E038.format(doc=doc, what=what))
        return [LinkSpan.make(r.id, r.entity_id, r.version) if r.entity_id is not None
                else AcceptSpan.make(r.id, r.version) for r in rows]

    def _commands(self) -> list[UpdateSpan]:
        return [self._KINDS[step["command"]](**{k: v for k, v in step.items() if k != "command"})
                for step in self.steps]

    @property
    def count(self) -> int:
        """How many spans it accepted."""
        return len(self.steps)

    def text(self) -> str:
        of = f" {self.label}" if self.label else ""
        return f"accept {self.count}{of} suggestion{'s' if self.count != 1 else ''}"


COMMANDS = (LinkSpan, NilSpan, UnlinkSpan, SetReferentNote, NewEntityFromSpan, EditEntity,
            MergeEntities, AcceptSuggestions)
