"""The entity view (every mention of an entity, in context) and link figures per label."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from annotator.core.candidates import SNIPPET_WIDTH, Snippet, kwic
from annotator.core.models import Annotator, Document, Entity, Span


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
class LinkCounts:
    linked: int = 0  # confirmed links
    suggested: int = 0  # links awaiting confirmation
    nil: int = 0  # checked: nothing in the knowledge base fits
    unlinked: int = 0

    @property
    def total(self) -> int:
        return self.linked + self.suggested + self.nil + self.unlinked


def link_stats(session: Session, annotator_id: int) -> dict[str, LinkCounts]:
    """Per label of the layer: how many spans are linked, suggested, NIL, or not linked yet."""
    kind = case((Span.nil.is_(True), "nil"), (Span.entity_id.is_(None), "unlinked"),
                (Span.status == "accepted", "linked"), else_="suggested")
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


def span_link(session: Session, span_id: int) -> SpanLink | None:
    r = session.execute(select(Span.id, Span.entity_id, Span.nil, Span.status, Span.referent_note, Entity.kb_id,
                               Entity.name, Entity.type, Entity.description)
                        .outerjoin(Entity, Entity.id == Span.entity_id).where(Span.id == span_id)).first()
    if r is None:
        return None
    return SpanLink(r.id, r.entity_id, r.kb_id, r.name, r.type, r.description, r.nil,
                    r.entity_id is not None and r.status == "suggested", r.referent_note)
