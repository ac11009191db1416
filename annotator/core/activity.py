"""What others changed since a window last looked, found by polling a cheap counter.

`mark` is one query (the newest event, document and entity ids: primary-key look-ups); only when it
moved does `since` read the events behind it. Every edit is an event (core/editing/stack.py), so the
history says which documents changed, whether the knowledge base did, and whose gold moved on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection

from sqlalchemy import func, select

from annotator.core.db.annotators import GOLD
from annotator.core.db.models import Annotator, Document, Entity, Event, Span
from annotator.core.db.store import Store

KB_COMMANDS = frozenset({"edit_entity", "merge_entities", "new_entity_from_span"})
GOLD_COMMANDS = frozenset({"adjudicate_agreed", "adjudicate_take", "adjudicate_reject", "adjudicate_edit"})
_MARK = select(select(func.max(Event.id)).scalar_subquery(), select(func.max(Document.id)).scalar_subquery(),
               select(func.max(Entity.id)).scalar_subquery())


@dataclass(frozen=True)
class Mark:
    event: int
    document: int
    entity: int


@dataclass(frozen=True)
class Activity:
    """Changes between two marks."""

    documents: frozenset[int]  # documents whose spans or state changed (by anyone)
    gold: frozenset[int]  # documents whose gold layer a reviewer changed
    knowledge_base: bool  # entities edited, merged, added (or such a change undone)
    new_documents: bool
    by: tuple[str, ...]  # who changed something, other than the user asking

    @property
    def any(self) -> bool:
        return bool(self.documents or self.knowledge_base or self.new_documents)


def mark(store: Store) -> Mark:
    with store.engine.connect() as conn:
        row = conn.execute(_MARK).one()
    return Mark(*(v or 0 for v in row))


def since(store: Store, old: Mark, new: Mark, annotator_id: int, skip: Collection[int] = ()) -> Activity:
    """What happened between `old` and `new` (from `mark`), as `annotator_id` sees it; events in `skip`
    (those this process wrote, which its views have shown already) change no document."""
    with store.Session() as s:
        rows = s.execute(select(Event.id, Event.annotator_id, Event.document_id, Event.command, Event.payload,
                                Annotator.name)
                         .join(Annotator, Annotator.id == Event.annotator_id)
                         .where(Event.id > old.event, Event.id <= new.event).order_by(Event.id)).all()
        # undo/redo events name the event they undo or redo: what kind of edit was it?
        targets = {r.payload.get("event") for r in rows if r.command in ("undo", "redo")} - {None}
        original = {r.id: (r.command, r.payload) for r in s.execute(
            select(Event.id, Event.command, Event.payload).where(Event.id.in_(targets)))} if targets else {}
        edits = [(r, *((r.command in ("undo", "redo") and original.get(r.payload.get("event"))) or (r.command, r.payload)))
                 for r in rows if r.id not in skip]
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        span_ids = {payload.get("span_id") for _, _, payload in edits} - {None}
        gold_spans = set() if gold is None or not span_ids else set(s.scalars(
            select(Span.id).where(Span.id.in_(span_ids), Span.annotator_id == gold)))
    documents, gold_docs, kb, by = set(), set(), new.entity > old.entity, []
    for r, command, payload in edits:
        if r.document_id is not None:
            documents.add(r.document_id)
            layer = payload.get("annotator_id")
            if layer is None and isinstance(payload.get("before"), dict):  # a span's edit: the span as it was
                layer = payload["before"].get("annotator_id")
            if command in GOLD_COMMANDS or (gold is not None and layer == gold) or payload.get("span_id") in gold_spans:
                gold_docs.add(r.document_id)
        kb = kb or command in KB_COMMANDS
        if r.annotator_id != annotator_id and r.name not in by:
            by.append(r.name)
    return Activity(frozenset(documents), frozenset(gold_docs), kb, new.document > old.document, tuple(by))
