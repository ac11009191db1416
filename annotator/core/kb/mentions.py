"""The entity view (the entities with their mention counts, every mention of one in context) and
link figures per label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from annotator.core.db.models import Annotator, Document, Entity, Span
from annotator.core.kb import suggestions
from annotator.core.kb.candidates import SNIPPET_WIDTH, Snippet, kwic


@dataclass(frozen=True)
class Mention:
    span_id: int
    annotator: str
    label: str
    status: str  # "suggested": a link awaiting confirmation
    referent_note: str
    snippet: Snippet


def entity_mentions(session: Session, entity_id: int, *, annotator_id: int | None = None,
                    limit: int | None = None, width: int = SNIPPET_WIDTH) -> list[Mention]:
    """Mentions linked to the entity across the corpus, keyword in context, in document order.
    With `annotator_id`, only that layer (annotators do not see each other's work)."""
    lo = case((Span.start > width, Span.start - width), else_=0)
    q = (select(Span.id, Annotator.name, Span.label, Span.status, Span.referent_note, Span.document_id,
                Document.name.label("document"), Span.start, Span.end, lo.label("lo"),
                func.substr(Document.text, lo + 1, Span.end - lo + width).label("around"))
         .join(Document, Document.id == Span.document_id).join(Annotator, Annotator.id == Span.annotator_id)
         .where(Span.entity_id == entity_id).order_by(Document.name, Span.start, Annotator.name).limit(limit))
    if annotator_id is not None:
        q = q.where(Span.annotator_id == annotator_id)
    return [Mention(r.id, r.name, r.label, r.status, r.referent_note,
                    kwic(r.document_id, r.document, r.start, r.end, r.around, r.lo, width))
            for r in session.execute(q)]


@dataclass(frozen=True)
class EntityInfo:
    """An entity as the entity view lists it, with its mentions in the layer(s) shown."""

    id: int
    kb_id: str
    name: str
    type: str
    description: str
    mentions: int  # linked spans, suggested links included
    documents: int  # documents those spans are in
    version: int = 1  # pass it with an edit or merge: a change by someone else meanwhile is caught (E218)


CHUNK = 500


def _mention_counts(annotator_id: int | None):
    q = (select(Span.entity_id, func.count().label("mentions"), func.count(distinct(Span.document_id)).label("docs"))
         .where(Span.entity_id.is_not(None)).group_by(Span.entity_id))
    return q if annotator_id is None else q.where(Span.annotator_id == annotator_id)


def entity_infos(session: Session, entity_ids: Iterable[int], *, annotator_id: int | None = None) -> list[EntityInfo]:
    """The entities in the order given, each with its mention counts; ids that no longer exist are left out."""
    ids = list(dict.fromkeys(entity_ids))
    rows, counts = {}, {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        rows.update((r.id, r) for r in session.execute(
            select(Entity.id, Entity.kb_id, Entity.name, Entity.type, Entity.description, Entity.version)
            .where(Entity.id.in_(chunk))))
        counts.update((r.entity_id, (r.mentions, r.docs)) for r in session.execute(
            _mention_counts(annotator_id).where(Span.entity_id.in_(chunk))))
    return [EntityInfo(r.id, r.kb_id, r.name, r.type or "", r.description or "", *counts.get(r.id, (0, 0)),
                       r.version) for r in (rows.get(i) for i in ids) if r is not None]


def entity_list(session: Session, *, type: str | None = None, annotator_id: int | None = None,
                limit: int = 200) -> list[EntityInfo]:
    """Entities to browse: the most mentioned first, then the others in the order they were added
    (by id: no sort over a knowledge base of a million entities)."""
    counted = _mention_counts(annotator_id)
    if type:
        counted = counted.join(Entity, Entity.id == Span.entity_id).where(Entity.type == type)
    top = list(session.scalars(counted.with_only_columns(Span.entity_id)
                               .order_by(func.count().desc(), Span.entity_id).limit(limit)))
    rest: list[int] = []
    if len(top) < limit:
        q = select(Entity.id).order_by(Entity.id).limit(limit - len(top))
        if type:
            q = q.where(Entity.type == type)
        if top:
            q = q.where(Entity.id.not_in(top))
        rest = list(session.scalars(q))
    return entity_infos(session, top + rest, annotator_id=annotator_id)


def entity_types(session: Session) -> list[str]:
    return [t for t in session.scalars(select(Entity.type).distinct().order_by(Entity.type)) if t]


@dataclass(frozen=True)
class LinkCounts:
    linked: int = 0  # confirmed links
    suggested: int = 0  # links awaiting confirmation
    nil: int = 0  # checked: nothing in the knowledge base fits
    unlinked: int = 0

    @property
    def total(self) -> int:
        return self.linked + self.suggested + self.nil + self.unlinked


def link_kind():
    """A span's link state as SQL: "nil", "unlinked", "linked" (confirmed) or "suggested"."""
    return case((Span.nil.is_(True), "nil"), (Span.entity_id.is_(None), "unlinked"),
                (Span.status == "accepted", "linked"), else_="suggested")


def link_stats(session: Session, annotator_id: int) -> dict[str, LinkCounts]:
    """Per label of the layer: how many spans are linked, suggested, NIL, or not linked yet (counted
    from the covering index ix_spans_layer_counts)."""
    kind = link_kind()
    counts: dict[str, dict[str, int]] = {}
    for label, k, n in session.execute(select(Span.label, kind, func.count()).where(Span.annotator_id == annotator_id)
                                       .group_by(Span.label, kind)):
        counts.setdefault(label, {})[k] = n
    return {label: LinkCounts(**c) for label, c in sorted(counts.items())}


@dataclass(frozen=True)
class SpanLink:
    """What the link panel shows for one span."""

    span_id: int
    entity_id: int | None
    kb_id: str | None
    name: str | None
    type: str | None
    description: str | None
    nil: bool
    suggested: bool  # a link awaiting confirmation
    referent_note: str
    suggested_by: str | None = None  # who chose the suggested link (suggestions.suggested_by), if said


def span_link(session: Session, span_id: int) -> SpanLink | None:
    r = session.execute(select(Span.id, Span.entity_id, Span.nil, Span.status, Span.referent_note, Entity.kb_id,
                               Entity.name, Entity.type, Entity.description)
                        .outerjoin(Entity, Entity.id == Span.entity_id).where(Span.id == span_id)).first()
    if r is None:
        return None
    suggested = r.entity_id is not None and r.status == "suggested"
    by = suggestions.suggested_by(session, span_id) if suggested else None
    return SpanLink(r.id, r.entity_id, r.kb_id, r.name, r.type, r.description, r.nil, suggested, r.referent_note,
                    by[1] if by is not None else None)
