"""Adjudication into the gold layer, as undoable commands.

`start_adjudication` puts the spans every compared annotator has (same offsets, label and link)
into gold in one command, and lists the remaining disagreements (`agreement.disagreements`: kinds
boundary, label, link, missing). The reviewer decides each one with a command of its own: take one
annotator's version, reject it (nothing goes to gold), or enter their own spans. A decision is
keyed by the disagreement's region (start, end) in its document; the history (Event rows, with who
decided and what went into gold) is where decisions are read back from, so they survive restarts
and an undone decision is open again.

Every command here edits gold (`edits_gold`): the stack's guard (`review.check_command`) and the
commands themselves refuse anyone but a reviewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from annotator.core import review
from annotator.core.agreement import Disagreement, disagreements
from annotator.core.command_stack import CommandStack
from annotator.core.commands import (Change, Command, SetDocumentStatus, _check_bounds, _check_label,
                                     span_conflict)
from annotator.core.models import Annotator, Document, DocumentState, Entity, Span, utcnow
from annotator.core.records import SpanRecord
from annotator.core.store import Store, serialize
from annotator.errors import AnnotatorError, Errors

GOLD_LOCK = 0x474F4C44  # "GOLD": advisory lock key, with the document id, for decisions on one document


def _record(span: SpanRecord) -> dict[str, Any]:
    return {"start": span.start, "end": span.end, "label": span.label, "kb_id": span.kb_id}


@dataclass
class GoldEdit(Command):
    """Put `rows` ({start, end, label, kb_id}) into the gold layer of a document; undo takes out
    exactly what was put in. A span gold already has (same offsets and label) is left alone."""

    edits_gold: ClassVar[bool] = True
    document_id: int = 0
    reviewer_id: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    span_ids: list[int | None] = field(default_factory=list)  # per row; None: gold had it already
    created_state: bool = False

    def do(self, s: Session) -> Change:
        review.check_reviewer(s, self.reviewer_id)
        serialize(s, GOLD_LOCK, self.document_id)  # two reviewers deciding at once: one after the other
        gold = review.gold_annotator(s).id
        self.check(s)
        self.span_ids = [self._insert(s, gold, row, self.span_ids[i] if i < len(self.span_ids) else None)
                         for i, row in enumerate(self.rows)]
        self.created_state = False
        if s.get(DocumentState, (self.document_id, gold)) is None:
            s.add(DocumentState(document_id=self.document_id, annotator_id=gold, status="in_progress",
                                updated_at=utcnow()))
            s.flush()
            self.created_state = True
        return Change(self.document_id, tuple(i for i in self.span_ids if i is not None))

    def undo(self, s: Session) -> Change:
        serialize(s, GOLD_LOCK, self.document_id)
        ids = [i for i in self.span_ids if i is not None]
        put = {i: row for i, row in zip(self.span_ids, self.rows) if i is not None}
        for r in s.execute(select(Span.id, Span.start, Span.end, Span.label).where(Span.id.in_(ids))):
            if (r.start, r.end, r.label) != (put[r.id]["start"], put[r.id]["end"], put[r.id]["label"]):
                raise span_conflict(s, r.id)  # another reviewer changed it since: not undone behind their back
        if ids:
            s.execute(delete(Span).where(Span.id.in_(ids)))
        if self.created_state:
            gold = review.gold_annotator(s).id
            s.execute(delete(DocumentState).where(DocumentState.document_id == self.document_id,
                                                  DocumentState.annotator_id == gold))
        return Change(self.document_id, tuple(ids))

    def check(self, s: Session) -> None:
        """More checks before anything is written (subclasses)."""

    def _insert(self, s: Session, gold: int, row: dict[str, Any], span_id: int | None) -> int | None:
        _check_bounds(s, self.document_id, row["start"], row["end"])
        _check_label(s, row["label"])
        same = s.scalar(select(Span.id).where(Span.document_id == self.document_id, Span.annotator_id == gold,
                                              Span.start == row["start"], Span.end == row["end"],
                                              Span.label == row["label"]))
        if same is not None and same != span_id:
            return None
        kb_id = row.get("kb_id")
        entity_id = None
        if kb_id and kb_id != review.NIL:
            entity_id = s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))
            if entity_id is None:
                raise AnnotatorError(Errors.E210.format(entity_id=kb_id))
        values = dict(document_id=self.document_id, annotator_id=gold, start=row["start"], end=row["end"],
                      label=row["label"], entity_id=entity_id, nil=kb_id == review.NIL, origin="human",
                      status="accepted")
        if span_id is not None:  # redo: the same span again
            values["id"] = span_id
        return s.execute(insert(Span).values(**values).returning(Span.id)).scalar_one()


@dataclass
class AdjudicateAgreed(GoldEdit):
    """The spans all compared annotators agree on, into gold."""

    name: ClassVar[str] = "adjudicate_agreed"
    annotators: list[str] = field(default_factory=list)

    def text(self) -> str:
        n = len([i for i in self.span_ids if i is not None]) or len(self.rows)
        return f"add {n} agreed span{'s' if n != 1 else ''} to gold"


@dataclass
class Decide(GoldEdit):
    """A decision on one disagreement (the region `start`-`end`), recorded for who made it."""

    start: int = 0
    end: int = 0
    kind: str = ""  # the disagreement's kind: boundary | label | link | missing
    annotators: list[str] = field(default_factory=list)

    def check(self, s: Session) -> None:
        for d in review.decisions(s, self.document_id):
            if (d.start, d.end) == (self.start, self.end):
                doc = s.scalar(select(Document.name).where(Document.id == self.document_id))
                raise AnnotatorError(Errors.E160.format(start=self.start, end=self.end, doc=doc,
                                                        decision=d.kind, who=d.reviewer))


@dataclass
class TakeVersion(Decide):
    name: ClassVar[str] = "adjudicate_take"
    taken: str = ""

    def text(self) -> str:
        return f"take {self.taken}'s version"


@dataclass
class RejectDisagreement(Decide):
    name: ClassVar[str] = "adjudicate_reject"

    def text(self) -> str:
        return "reject disagreement"


@dataclass
class EditDisagreement(Decide):
    name: ClassVar[str] = "adjudicate_edit"

    def text(self) -> str:
        return "enter own version in gold"


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
            found = disagreements(review.document_layers(s, self.document_id, self.annotators))
            decided = {(d.start, d.end) for d in review.decisions(s, self.document_id)}
        self.agreed = sum(d.kind == "agreed" for d in found)
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
        return self._push(TakeVersion, d, [_record(sp) for sp in d.spans[annotator]], taken=annotator)

    def reject(self, d: Disagreement) -> Change:
        """Nothing of this region goes to gold."""
        return self._push(RejectDisagreement, d, [])

    def edit(self, d: Disagreement, spans: Iterable[SpanRecord]) -> Change:
        """Gold gets the reviewer's own spans for the region (offsets, label, kb_id or "NIL")."""
        return self._push(EditDisagreement, d, [_record(sp) for sp in spans])

    def finish(self) -> Change:
        """Mark the gold version of the document done (so `export --layer gold --status done` has it)."""
        with self.store.Session() as s:
            gold = s.scalar(select(Annotator.id).where(Annotator.name == review.GOLD))
        return self._run(SetDocumentStatus(self.document_id, gold, "done"))

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
        with self.store.Session() as s:  # the guard the stack itself will have (see review.check_command)
            review.check_command(s, self.stack.annotator_id, command)
        change = self.stack.push(command)
        self.refresh()
        return change


def start_adjudication(store: Store, document_id: int, reviewer, annotators: Iterable[str]) -> Adjudication:
    """Begin (or resume) adjudicating a document between `annotators`' layers.

    `reviewer` is the reviewer's name, or their `Project` (then its undo stack, the window's, is used).
    Spans all annotators agree on go to gold as one undoable command; the result is the sequence of
    disagreements still open (decided ones, by anyone, left out).
    """
    annotators = list(dict.fromkeys(annotators))
    stack = getattr(reviewer, "stack", None)
    with store.Session() as s:
        if stack is None:
            row = s.scalar(select(Annotator).where(Annotator.name == reviewer))
            if row is None:
                raise AnnotatorError(Errors.E050.format(name=reviewer, known=review.known_annotators(s)))
            reviewer_id = row.id
        else:
            reviewer_id = stack.annotator_id
        review.check_reviewer(s, reviewer_id)
        doc = s.scalar(select(Document.name).where(Document.id == document_id))
        if doc is None:
            known = ", ".join(s.scalars(select(Document.name).order_by(Document.name).limit(10)))
            raise AnnotatorError(Errors.E033.format(name=document_id, known=known))
        rows = {r.name: r for r in s.scalars(select(Annotator).where(Annotator.name.in_(annotators)))}
        opened = set(s.scalars(select(Annotator.name).join(DocumentState, DocumentState.annotator_id == Annotator.id)
                               .where(DocumentState.document_id == document_id)))
        opened |= set(s.scalars(select(Annotator.name).join(Span, Span.annotator_id == Annotator.id)
                                .where(Span.document_id == document_id)))
        candidates = ", ".join(sorted(n for n in opened if n != review.GOLD)) or "(nobody yet)"
        for name in annotators:
            if name not in rows:
                raise AnnotatorError(Errors.E050.format(name=name, known=review.known_annotators(s)))
            if name == review.GOLD:
                raise AnnotatorError(Errors.E161.format(name=name, why="it is the layer being adjudicated"))
            if name not in opened:
                raise AnnotatorError(Errors.E159.format(name=name, doc=doc, known=candidates))
        if len(annotators) < 2:
            raise AnnotatorError(Errors.E154.format(n=len(annotators), names=f" ({', '.join(annotators)})"
                                                    if annotators else ""))
        gold = s.scalar(select(Annotator.id).where(Annotator.name == review.GOLD))
        in_gold = set() if gold is None else set(s.execute(
            select(Span.start, Span.end, Span.label).where(Span.document_id == document_id,
                                                           Span.annotator_id == gold)).all())
        has_state = gold is not None and s.get(DocumentState, (document_id, gold)) is not None
        agreed = [d for d in disagreements(review.document_layers(s, document_id, annotators)) if d.kind == "agreed"]
    if stack is None:
        stack = CommandStack(store, reviewer_id)
        stack.restore()
    rows = [_record(sp) for d in agreed for sp in d.spans[annotators[0]][:1]
            if (sp.start, sp.end, sp.label) not in in_gold]
    if rows or not has_state:
        command = AdjudicateAgreed(document_id=document_id, reviewer_id=reviewer_id, rows=rows,
                                   annotators=annotators)
        with store.Session() as s:
            review.check_command(s, reviewer_id, command)
        stack.push(command)
    return Adjudication(store, stack, document_id, annotators)
