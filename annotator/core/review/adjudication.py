"""Adjudicating one document: the open disagreements, and the reviewer's decisions as commands.

`start_adjudication` puts the spans every compared annotator accepted (same offsets, label and
link; an unchecked suggestion is nobody's decision) into gold in one command, and lists the remaining disagreements (`agreement.disagreements`: kinds
boundary, label, link, missing). The reviewer decides each one with a command of its own: take one
annotator's version, reject it (nothing goes to gold), or enter their own spans. A decision is
keyed by the disagreement's region (start, end) in its document; the history (Event rows, with who
decided and what went into gold) is where decisions are read back from, so they survive restarts
and an undone decision is open again.

The decisions themselves are the commands of `core/review/decisions.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Iterable

from sqlalchemy import select

from annotator.core.db.annotators import GOLD, known_annotators
from annotator.core.db.models import Annotator, Document, DocumentState, Span
from annotator.core.db.store import Store
from annotator.core.changes import Change
from annotator.core.editing.command import Command
from annotator.core.editing.permissions import check_command, check_reviewer
from annotator.core.editing.spans import SetDocumentStatus
from annotator.core.editing.stack import CommandStack
from annotator.core.records import SpanRecord
from annotator.core.review.agreement import Disagreement, disagreements
from annotator.core.review.decisions import (AdjudicateAgreed, Decide, EditDisagreement, RejectDisagreement,
                                             TakeVersion, decisions, record, stale_agreed)
from annotator.core.review.inputs import document_layers
from annotator.errors import AnnotatorError, Errors


class Adjudication(Sequence):
    """One document being adjudicated by one reviewer: the open disagreements (this object is a
    sequence of them) and the decisions, each one undoable command on the reviewer's stack."""

    def __init__(self, store: Store, stack: CommandStack, document_id: int, annotators: list[str]):
        self.store = store
        self.stack = stack
        self.document_id = document_id
        self.annotators = annotators
        self.disagreements: list[Disagreement] = []
        self.agreed = 0  # spans all annotators share (in gold, or put there by this adjudication)
        self.refresh()

    # --- the open disagreements
    def refresh(self) -> list[Disagreement]:
        with self.store.Session() as s:
            found = disagreements(document_layers(s, self.document_id, self.annotators))
            decided = {(d.start, d.end) for d in decisions(s, self.document_id)}
        self.agreed = sum(d.kind == "agreed" and not any(lo < d.end and d.start < hi for lo, hi in decided)
                          for d in found)  # those in a decided region stay out of gold (start_adjudication)
        self.disagreements = [d for d in found if d.kind != "agreed" and (d.start, d.end) not in decided]
        return self.disagreements

    def __getitem__(self, i):
        return self.disagreements[i]

    def __len__(self) -> int:
        return len(self.disagreements)

    # --- deciding
    def take(self, d: Disagreement, annotator: str) -> Change:
        """Gold gets `annotator`'s spans in the region (none, for a span they missed)."""
        if annotator not in d.spans:
            raise AnnotatorError(Errors.E162.format(name=annotator, known=", ".join(sorted(d.spans))))
        return self._push(TakeVersion, d, [record(sp) for sp in d.spans[annotator]], taken=annotator)

    def reject(self, d: Disagreement) -> Change:
        """Nothing of this region goes to gold."""
        return self._push(RejectDisagreement, d, [])

    def edit(self, d: Disagreement, spans: Iterable[SpanRecord]) -> Change:
        """Gold gets the reviewer's own spans for the region (offsets, label, kb_id or "NIL")."""
        return self._push(EditDisagreement, d, [record(sp) for sp in spans])

    def finish(self) -> Change:
        """Mark the gold version of the document done (so `export --layer gold --status done` has it)."""
        return self._run(SetDocumentStatus(self.document_id, self.gold_id(), "done"))

    def gold_done(self) -> bool:
        """Whether the gold version of the document is marked done."""
        with self.store.Session() as s:
            state = s.get(DocumentState, (self.document_id, self.gold_id() or 0))
        return state is not None and state.status == "done"

    def gold_id(self) -> int | None:
        """The gold layer's annotator id (the view shows that layer)."""
        with self.store.Session() as s:
            return s.scalar(select(Annotator.id).where(Annotator.name == GOLD))

    def undo(self) -> Change:
        change = self.stack.undo()
        self.refresh()
        return change

    def redo(self) -> Change:
        change = self.stack.redo()
        self.refresh()
        return change

    def _push(self, kind: type[Decide], d: Disagreement, rows: list[dict], **extra) -> Change:
        return self._run(kind(document_id=self.document_id, reviewer_id=self.stack.annotator_id, rows=rows,
                              start=d.start, end=d.end, kind=d.kind, annotators=list(self.annotators), **extra))

    def _run(self, command: Command) -> Change:
        with self.store.Session() as s:  # the guard the stack itself will have (see check_command)
            check_command(s, self.stack.annotator_id, command)
        change = self.stack.push(command)
        self.refresh()
        return change


def start_adjudication(store: Store, document_id: int, stack: CommandStack, annotators: Iterable[str]
                       ) -> Adjudication:
    """Begin (or resume) adjudicating a document between `annotators`' layers, deciding on the
    reviewer's undo stack (`Project.adjudicate`).

    Spans all annotators agree on go to gold as one undoable command; the result is the sequence of
    disagreements still open (decided ones, by anyone, left out).
    """
    annotators = list(dict.fromkeys(annotators))
    reviewer_id = stack.annotator_id
    with store.Session() as s:
        check_reviewer(s, reviewer_id)
        doc = s.scalar(select(Document.name).where(Document.id == document_id))
        if doc is None:
            known = ", ".join(s.scalars(select(Document.name).order_by(Document.name).limit(10)))
            raise AnnotatorError(Errors.E033.format(name=document_id, known=known))
        rows = {r.name: r for r in s.scalars(select(Annotator).where(Annotator.name.in_(annotators)))}
        opened = set(s.scalars(select(Annotator.name).join(DocumentState, DocumentState.annotator_id == Annotator.id)
                               .where(DocumentState.document_id == document_id)))
        opened |= set(s.scalars(select(Annotator.name).join(Span, Span.annotator_id == Annotator.id)
                                .where(Span.document_id == document_id)))
        candidates = ", ".join(sorted(n for n in opened if n != GOLD)) or "(nobody yet)"
        for name in annotators:
            if name not in rows:
                raise AnnotatorError(Errors.E050.format(name=name, known=known_annotators(s)))
            if name == GOLD:
                raise AnnotatorError(Errors.E161.format(name=name, why="it is the layer being adjudicated"))
            if name not in opened:
                raise AnnotatorError(Errors.E159.format(name=name, doc=doc, known=candidates))
        if len(annotators) < 2:
            raise AnnotatorError(Errors.E154.format(n=len(annotators), names=f" ({', '.join(annotators)})"
                                                    if annotators else ""))
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        in_gold = set() if gold is None else set(s.execute(
            select(Span.start, Span.end, Span.label).where(Span.document_id == document_id,
                                                           Span.annotator_id == gold)).all())
        stale = [] if gold is None else stale_agreed(s, document_id, gold, annotators)
        in_gold -= {(r.start, r.end, r.label) for r in stale}  # taken out first, then put in as agreed now
        has_state = gold is not None and s.get(DocumentState, (document_id, gold)) is not None
        agreed = [d for d in disagreements(document_layers(s, document_id, annotators)) if d.kind == "agreed"]
        decided = [(x.start, x.end) for x in decisions(s, document_id)]
    # a reviewer's decision stands in its region: annotators agreeing there since do not add to it
    rows = [record(sp) for d in agreed for sp in d.spans[annotators[0]][:1]
            if (sp.start, sp.end, sp.label) not in in_gold
            and not any(lo < sp.end and sp.start < hi for lo, hi in decided)]
    if rows or stale or not has_state:
        command = AdjudicateAgreed(document_id=document_id, reviewer_id=reviewer_id, rows=rows,
                                   annotators=annotators)
        with store.Session() as s:
            check_command(s, reviewer_id, command)
        stack.push(command)
    return Adjudication(store, stack, document_id, annotators)
