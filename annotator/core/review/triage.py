"""Disagreements across documents: what the review dashboard lists when a reviewer clicks through.

In each document the compared layers are those of the chosen annotators that hold it (opened it, or
have spans in it): the rule agreement uses (`review.agreement_inputs`) and adjudication needs (E159).
Each disagreement carries the decision in force on its region, if one was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.core.db.annotators import GOLD
from annotator.core.db.models import Annotator, Document, DocumentState, Span
from annotator.core.review.agreement import AgreementReport, Disagreement, disagreements
from annotator.core.review.decisions import Decision, decisions
from annotator.core.review.inputs import document_layers


@dataclass(frozen=True)
class Item:
    """One disagreement of one document, and the decision taken on it (None: still open)."""

    document_id: int
    document: str
    annotators: tuple[str, ...]  # the layers compared in this document
    disagreement: Disagreement
    decision: Decision | None

    @property
    def labels(self) -> set[str]:
        return {s.label for spans in self.disagreement.spans.values() for s in spans}


def holders(session: Session, document_id: int, annotators: Iterable[str]) -> list[str]:
    """Those of `annotators` (in their order) whose layer holds the document; never gold."""
    names = [n for n in dict.fromkeys(annotators) if n != GOLD]
    opened = set(session.scalars(select(Annotator.name).join(DocumentState, DocumentState.annotator_id == Annotator.id)
                                 .where(DocumentState.document_id == document_id, Annotator.name.in_(names))))
    opened |= set(session.scalars(select(Annotator.name).join(Span, Span.annotator_id == Annotator.id)
                                  .where(Span.document_id == document_id, Annotator.name.in_(names)).distinct()))
    return [n for n in names if n in opened]


def document_items(session: Session, document_id: int, annotators: Iterable[str]) -> list[Item]:
    """The document's disagreements (agreed spans left out) between the holders among `annotators`,
    in text order, decided ones included with their decision."""
    compared = holders(session, document_id, annotators)
    if len(compared) < 2:
        return []
    name = session.scalar(select(Document.name).where(Document.id == document_id))
    decided = {(d.start, d.end): d for d in decisions(session, document_id)}
    return [Item(document_id, name, tuple(compared), d, decided.get((d.start, d.end)))
            for d in disagreements(document_layers(session, document_id, compared)) if d.kind != "agreed"]


def items(session: Session, annotators: Iterable[str], documents: Iterable[str], label: str | None = None
          ) -> list[Item]:
    """Disagreements in the named documents (in the order given), only those involving `label` when
    one is given."""
    annotators = list(annotators)
    names = list(dict.fromkeys(documents))
    ids = dict(session.execute(select(Document.name, Document.id).where(Document.name.in_(names))).all())
    out: list[Item] = []
    for name in names:
        if name in ids:
            out += [i for i in document_items(session, ids[name], annotators) if label is None or label in i.labels]
    return out


def items_page(session: Session, annotators: Iterable[str], documents: list[str], label: str | None,
               start: int, want: int) -> tuple[list[Item], int]:
    """A page of `items`: the disagreements of documents[start:], document by document, until `want`
    or more are found; and where the next page starts (len(documents): none left). A list a reviewer
    opens costs the documents its first screen needs, not every imperfect document of the project."""
    annotators, found, at = list(annotators), [], start
    while at < len(documents) and len(found) < want:
        chunk = documents[at:at + 20]
        found += items(session, annotators, chunk, label)
        at += len(chunk)
    return found, at


def imperfect(report: AgreementReport) -> list[str]:
    """Documents of the report that can hold a disagreement: every span matched exactly (F1 1 or
    undefined) with the same links means none. Sorted by exact F1, worst first."""
    out = [(m.span_f1_exact if m.span_f1_exact is not None else 1.0, name)
           for name, m in report.by_document.items()
           if m.span_f1_exact not in (None, 1.0) or m.link_agreement not in (None, 1.0)]
    return [name for _, name in sorted(out)]
