"""Annotators and their layers. An analyst's layer of a document starts as a copy of the model's
suggestions (origin=model, status=suggested) the first time they open it."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, Document, DocumentState, Span, utcnow
from annotator.core.db.provenance_counts import refresh


class SpanView(NamedTuple):
    """A span as the window and the exporters see it (a tuple: the window makes them by the thousand)."""

    id: int
    start: int
    end: int
    label: str
    status: str
    origin: str
    entity_id: int | None
    nil: bool
    version: int = 1  # what an edit of it passes on, so a change by someone else meanwhile is caught


def _view(row: Span) -> SpanView:
    return SpanView(row.id, row.start, row.end, row.label, row.status, row.origin, row.entity_id, row.nil,
                    row.version)


def layer_spans(session: Session, document_id: int, annotator_id: int) -> list[SpanView]:
    rows = session.scalars(select(Span).where(Span.document_id == document_id, Span.annotator_id == annotator_id)
                           .order_by(Span.start, Span.end, Span.id))
    return [_view(r) for r in rows]


def open_layer(session: Session, document_id: int, annotator_id: int, count: bool = True) -> DocumentState:
    """The annotator's state for the document, starting their layer from the model's the first time.
    `count=False` leaves the provenance to the caller: a command (run by the stack, which refreshes
    every document it touched in the same transaction) would otherwise have it counted twice."""
    state = session.get(DocumentState, (document_id, annotator_id))
    if state is not None:
        return state
    model = session.scalar(select(Annotator.id).where(Annotator.name == MODEL_LAYER))
    if model is not None and model != annotator_id:
        rows = [dict(document_id=document_id, annotator_id=annotator_id, start=s.start, end=s.end, label=s.label,
                     entity_id=s.entity_id, origin="model", status="suggested", model_run_id=s.model_run_id,
                     link_source=s.link_source)
                for s in session.scalars(select(Span).where(Span.document_id == document_id,
                                                            Span.annotator_id == model))]
        if rows:
            session.execute(insert(Span), rows)
    state = DocumentState(document_id=document_id, annotator_id=annotator_id, status="in_progress",
                          updated_at=utcnow())
    session.add(state)
    session.flush()
    if count:
        refresh(session, [document_id])  # an opened document counts in provenance
    return state


def document_id_by_name(session: Session, name: str) -> int | None:
    return session.scalar(select(Document.id).where(Document.name == name))
