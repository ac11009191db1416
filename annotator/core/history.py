"""Who changed what, when: the event table read back as a history, per document and per person,
each edit named as the Undo menu names it ("add PERSON", "undo: relabel as ORG"); and which of a
user's edits "revert to here" undoes (`later_edits`, run as one `RevertTo` command, core/commands.py).
An edit merged from a colleague's file (io/merging.py) is named as they made it, "(merged from FILE)".

An annotator reads only their own history (annotation is blind; a team server's row security says the
same); a reviewer reads everyone's."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.core.db.annotators import known_annotators
from annotator.core.db.models import Annotator, Document, Event
from annotator.core.editing.command import Registry
from annotator.core.editing.stack import DROPPED
from annotator.core.records import MERGED
from annotator.errors import AnnotatorError, Errors

REPLAYS = ("undo", "redo", DROPPED)  # events naming the edit they replay (or drop from the undo stack)


@dataclass(frozen=True)
class Entry:
    event_id: int
    when: datetime  # UTC
    user: str
    document: str | None  # its name; None for an edit of no one document (the knowledge base)
    command: str  # the stored name (add_span, undo, ...)
    text: str  # as people read it
    undone: bool  # later undone (and not redone)

    def to_json(self) -> dict:
        return {**asdict(self), "when": stamp(self.when)}


def stamp(when: datetime) -> str:
    """UTC, to the second: "2026-12-12 09:30:05"."""
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def describe(commands: Registry, name: str, payload: dict) -> str:
    """An edit as the Undo menu names it; an unknown or damaged one by its name."""
    try:
        return commands[name](**payload).text()
    except Exception:  # history from another version: show what is certain
        return name.replace("_", " ")


def _annotator_id(s: Session, name: str) -> int:
    found = s.scalar(select(Annotator.id).where(Annotator.name == name))
    if found is None:
        raise AnnotatorError(Errors.E513.format(name=name, known=known_annotators(s)))
    return found


def document_id(s: Session, name: str) -> int:
    found = s.scalar(select(Document.id).where(Document.name == name))
    if found is None:
        raise AnnotatorError(Errors.E514.format(name=name))
    return found


def history(s: Session, commands: Registry, viewer_id: int, *, document: int | None = None,
            user: str | None = None, limit: int | None = None) -> list[Entry]:
    """Edits, oldest first (the newest `limit` of them): of one document and/or one person. Without
    `user`, an annotator gets their own, a reviewer everyone's; another's is E515 for an annotator."""
    viewer = s.get(Annotator, viewer_id)
    reviewer = viewer is not None and viewer.role == "reviewer"
    who = _annotator_id(s, user) if user is not None else None
    if not reviewer and who not in (None, viewer_id):
        raise AnnotatorError(Errors.E515.format(name=viewer.name if viewer else viewer_id))
    if not reviewer:
        who = viewer_id
    q = (select(Event.id, Event.created_at, Annotator.name, Document.name.label("doc"), Event.command,
                Event.payload, Event.undone)
         .join(Annotator, Annotator.id == Event.annotator_id)
         .outerjoin(Document, Document.id == Event.document_id).order_by(Event.id.desc()))
    if document is not None:
        q = q.where(Event.document_id == document)
    if who is not None:
        q = q.where(Event.annotator_id == who)
    if limit is not None:
        q = q.limit(limit)
    rows = s.execute(q).all()[::-1]
    targets = {r.payload.get("event") for r in rows if r.command in REPLAYS} - {None}
    original = dict((r.id, (r.command, r.payload)) for r in s.execute(
        select(Event.id, Event.command, Event.payload).where(Event.id.in_(targets)))) if targets else {}
    merged = {(r.payload.get("source"), r.payload.get("source_event")): _unwrap(r.payload)
              for r in rows if r.command == MERGED}  # a merged undo names an event of the same file
    out = []
    for r in rows:
        command, payload, source = r.command, r.payload, None
        if command == MERGED:
            source = payload.get("source")
            command, payload = _unwrap(payload)
            target = merged.get((source, payload.get("event")))
        else:
            target = original.get(payload.get("event"))
        if command in REPLAYS:
            name = f"{payload.get('action')} refused, dropped" if command == DROPPED else command
            text = f"{name}: {describe(commands, *target)}" if target else name
        else:
            text = describe(commands, command, payload)
        if source is not None:
            text += f" (merged from {source})"
        out.append(Entry(r.id, r.created_at, r.name, r.doc, r.command, text, r.undone))
    return out


def _unwrap(merged: dict) -> tuple[str, dict]:
    """The original command and payload of a merged event."""
    return str(merged.get("command", MERGED)), merged.get("payload") or {}


def later_edits(s: Session, commands: Registry, annotator_id: int, event_id: int) -> tuple[int, datetime, list[list]]:
    """For "revert to here" at `event_id` (one of this user's edits on a document): (its document, its
    time, [name, payload] of this user's edits on that document after it that still stand, oldest
    first). E516 when the event is not this user's edit of a document; E517 when nothing follows it;
    E626 when one of them was dropped from the undo stack (its undo refused): it cannot be undone, and
    skipping it would leave the document at no point of its history, so nothing is reverted."""
    row = s.execute(select(Event.document_id, Event.created_at, Event.command)
                    .where(Event.id == event_id, Event.annotator_id == annotator_id)).first()
    if row is None or row.document_id is None or row.command not in commands:
        raise AnnotatorError(Errors.E516.format(event_id=event_id))
    later = s.execute(
        select(Event.id, Event.command, Event.payload)
        .where(Event.annotator_id == annotator_id, Event.document_id == row.document_id, Event.id > event_id,
               Event.command.in_(list(commands)), Event.undone.is_(False)).order_by(Event.id)).all()
    if not later:
        raise AnnotatorError(Errors.E517)
    dropped = {p.get("event") for p in s.scalars(select(Event.payload).where(  # a "dropped" has no document
        Event.annotator_id == annotator_id, Event.command == DROPPED, Event.id > later[0].id))}
    if stuck := [r for r in later if r.id in dropped]:
        raise AnnotatorError(Errors.E626.format(what=describe(commands, stuck[-1].command, stuck[-1].payload),
                                                event_id=stuck[-1].id))
    return row.document_id, row.created_at, [[r.command, r.payload] for r in later]
