"""Adjudication decisions: the commands that put spans into the gold layer, and the history they leave.

A decision is keyed by the disagreement's region (start, end) in its document; the history (Event
rows, with who decided and what went into gold) is where decisions are read back from, so they survive
restarts and an undone decision is open again. Every command here edits gold (`edits_gold`): the
stack's guard (`permissions.check_command`) and the commands themselves refuse anyone but a reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.orm import Session

from annotator.core.db.annotators import gold_annotator
from annotator.core.db.models import Annotator, Document, DocumentState, Entity, Event, Span, utcnow
from annotator.core.db.store import serialize
from annotator.core.changes import Change
from annotator.core.editing.command import Command
from annotator.core.editing.permissions import check_reviewer
from annotator.core.editing.spans import SPAN_FIELDS, _check_bounds, _check_label, span_conflict
from annotator.core.records import MERGED, NIL, SpanRecord
from annotator.errors import AnnotatorError, DecisionTaken, Errors

# Commands whose events record a decision (each a `Decide` below).
DECISIONS = ("adjudicate_take", "adjudicate_reject", "adjudicate_edit")

@dataclass(frozen=True)
class Decision:
    """An adjudication decision as the history records it."""

    event_id: int
    reviewer: str
    created_at: Any
    kind: str  # take | reject | edit
    start: int
    end: int
    disagreement: str  # boundary | label | link | missing
    taken: str | None  # whose version, for "take"
    spans: list[dict[str, Any]]  # what went into gold


def decisions(session: Session, document_id: int) -> list[Decision]:
    """The decisions in force for the document (undone ones left out), oldest first: this project's,
    and those merged from a colleague's file whose gold layer of the document came with them."""
    merged = Event.payload["command"].as_string()
    rows = session.execute(select(Event.id, Annotator.name, Event.created_at, Event.command, Event.payload)
                           .join(Annotator, Annotator.id == Event.annotator_id)
                           .where(Event.document_id == document_id, ~Event.undone,
                                  or_(Event.command.in_(DECISIONS), and_(Event.command == MERGED,
                                                                         merged.in_(DECISIONS))))
                           .order_by(Event.id))
    out = []
    for r in rows:
        command, payload = r.command, r.payload
        if command == MERGED:
            if payload.get("superseded"):
                continue
            command, payload = payload["command"], payload.get("payload") or {}
        out.append(Decision(r.id, r.name, r.created_at, command.removeprefix("adjudicate_"), payload["start"],
                            payload["end"], payload.get("kind", ""), payload.get("taken"),
                            list(payload.get("rows") or [])))
    return out


GOLD_LOCK = 0x474F4C44  # "GOLD": advisory lock key, with the document id, for decisions on one document


def record(span: SpanRecord) -> dict[str, Any]:
    return {"start": span.start, "end": span.end, "label": span.label, "kb_id": span.kb_id}


@dataclass
class GoldEdit(Command):
    """Put `rows` ({start, end, label, kb_id[, referent_note]}) into the gold layer of a document; undo
    takes out exactly what was put in. A span gold already has (same offsets and label) is left alone."""

    edits_gold: ClassVar[bool] = True
    document_id: int = 0
    reviewer_id: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    span_ids: list[int | None] = field(default_factory=list)  # per row; None: gold had it already
    created_state: bool = False
    replaced: list[dict[str, Any]] = field(default_factory=list)  # gold's spans it took out (`clear`)

    def do(self, s: Session) -> Change:
        check_reviewer(s, self.reviewer_id)
        serialize(s, GOLD_LOCK, self.document_id)  # two reviewers deciding at once: one after the other
        gold = gold_annotator(s).id
        self.check(s)
        self.replaced = [{f: getattr(r, f) for f in SPAN_FIELDS} for r in self.clear(s, gold)]
        if self.replaced:
            s.execute(delete(Span).where(Span.id.in_([r["id"] for r in self.replaced])))
        self._fill_notes(s)
        self.span_ids = [self._insert(s, gold, row, self.span_ids[i] if i < len(self.span_ids) else None)
                         for i, row in enumerate(self.rows)]
        self.created_state = False
        if s.get(DocumentState, (self.document_id, gold)) is None:
            s.add(DocumentState(document_id=self.document_id, annotator_id=gold, status="in_progress",
                                updated_at=utcnow()))
            s.flush()
            self.created_state = True
        return Change(self.document_id, tuple(i for i in self.span_ids if i is not None)
                      + tuple(r["id"] for r in self.replaced))

    def undo(self, s: Session) -> Change:
        serialize(s, GOLD_LOCK, self.document_id)
        ids = [i for i in self.span_ids if i is not None]
        put = {i: row for i, row in zip(self.span_ids, self.rows) if i is not None}
        for r in s.execute(select(Span.id, Span.start, Span.end, Span.label).where(Span.id.in_(ids))):
            if (r.start, r.end, r.label) != (put[r.id]["start"], put[r.id]["end"], put[r.id]["label"]):
                raise span_conflict(s, r.id)  # another reviewer changed it since: not undone behind their back
        if ids:
            s.execute(delete(Span).where(Span.id.in_(ids)))
        if self.replaced:  # put back what `clear` took out
            s.connection().execute(insert(Span), [dict(r, created_at=utcnow(), updated_at=utcnow())
                                                  for r in self.replaced])
        if self.created_state:
            gold = gold_annotator(s).id
            s.execute(delete(DocumentState).where(DocumentState.document_id == self.document_id,
                                                  DocumentState.annotator_id == gold))
        return Change(self.document_id, tuple(ids) + tuple(r["id"] for r in self.replaced))

    def check(self, s: Session) -> None:
        """More checks before anything is written (subclasses)."""

    def clear(self, s: Session, gold: int) -> list:
        """Gold's spans (rows of `_gold_rows`) that the rows replace: taken out first, put back on undo."""
        return []

    def sources(self) -> list[str]:
        """The annotators whose "Refers to" notes a row without one takes, in order of preference."""
        return list(getattr(self, "annotators", []))

    def _fill_notes(self, s: Session) -> None:
        """Give each row without a `referent_note` the note an annotator wrote on that span (same
        offsets and label; for an edited span, one of theirs it overlaps, the same label first), so
        a metonymy note ("the government" for "Seoul") reaches gold with the decision. Written into
        the rows, so the history records it and redo repeats it."""
        names = self.sources()
        todo = [row for row in self.rows if "referent_note" not in row]
        if not names or not todo:
            return
        rank = {name: i for i, name in enumerate(names)}
        noted = s.execute(select(Annotator.name, Span.start, Span.end, Span.label, Span.referent_note)
                          .join(Annotator, Annotator.id == Span.annotator_id)
                          .where(Span.document_id == self.document_id, Annotator.name.in_(names),
                                 Span.referent_note != "")).all()
        for row in todo:
            near = [n for n in noted if n.start < row["end"] and row["start"] < n.end]
            if near:
                row["referent_note"] = min(near, key=lambda n, r=row: (
                    (n.start, n.end, n.label) != (r["start"], r["end"], r["label"]), n.label != r["label"],
                    rank[n.name])).referent_note

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
        if kb_id and kb_id != NIL:
            entity_id = s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))
            if entity_id is None:
                raise AnnotatorError(Errors.E210.format(entity_id=kb_id))
        values = dict(document_id=self.document_id, annotator_id=gold, start=row["start"], end=row["end"],
                      label=row["label"], entity_id=entity_id, nil=kb_id == NIL, origin="human",
                      status="accepted", referent_note=row.get("referent_note") or "",
                      link_source="person" if kb_id else None)  # the reviewer's link (or NIL)
        if span_id is not None:  # redo: the same span again
            values["id"] = span_id
        return s.execute(insert(Span).values(**values).returning(Span.id)).scalar_one()


@dataclass
class AdjudicateAgreed(GoldEdit):
    """The spans all compared annotators agree on, into gold."""

    name: ClassVar[str] = "adjudicate_agreed"
    annotators: list[str] = field(default_factory=list)

    def clear(self, s: Session, gold: int) -> list:
        return stale_agreed(s, self.document_id, gold, self.annotators)

    def text(self) -> str:
        n = len([i for i in self.span_ids if i is not None]) or len(self.rows)
        if self.replaced and not n:
            n = len(self.replaced)
            return f"take {n} span{'s' if n != 1 else ''} nobody agrees on any more out of gold"
        return f"add {n} agreed span{'s' if n != 1 else ''} to gold"


@dataclass
class Decide(GoldEdit):
    """A decision on one disagreement (the region `start`-`end`), recorded for who made it."""

    start: int = 0
    end: int = 0
    kind: str = ""  # the disagreement's kind: boundary | label | link | missing
    annotators: list[str] = field(default_factory=list)

    def clear(self, s: Session, gold: int) -> list[dict[str, Any]]:
        """The decision is what gold holds in its region: gold's spans inside it go, unless every compared
        annotator has them as they are now (agreed spans, which may lie inside a region). What they
        were (an earlier agreement one annotator has since changed, an older decision on a region that
        has grown) is no longer what anyone decided."""
        versions = _versions(s, self.document_id, self.annotators, self.start, self.end)
        agreed = set.intersection(*versions.values()) if versions else set()
        return [r for r in _gold_rows(s, self.document_id, gold, Span.start >= self.start, Span.end <= self.end)
                if _key(r) not in agreed]

    def check(self, s: Session) -> None:
        """E160 when the region is decided, or another reviewer's decision overlaps it (the region grew
        since they decided, as an annotator changed a span): this decision would replace theirs."""
        me = s.scalar(select(Annotator.name).where(Annotator.id == self.reviewer_id))
        for d in decisions(s, self.document_id):
            if (d.start, d.end) == (self.start, self.end) or (
                    d.reviewer != me and d.start < self.end and self.start < d.end):
                doc = s.scalar(select(Document.name).where(Document.id == self.document_id))
                raise DecisionTaken(Errors.E160.format(start=d.start, end=d.end, doc=doc, decision=d.kind,
                                                       who=d.reviewer), self.document_id, (d.start, d.end))


@dataclass
class TakeVersion(Decide):
    name: ClassVar[str] = "adjudicate_take"
    taken: str = ""

    def sources(self) -> list[str]:
        return [self.taken]  # the version taken, with its notes

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


def stale_agreed(s: Session, document_id: int, gold: int, annotators: list[str]) -> list:
    """Gold's spans an earlier agreement put there (`adjudicate_agreed`, not undone) that none of
    `annotators` has any more as gold has it (all changed its label, link or offsets since): nobody's
    decision now. One some of them still have lies in a disagreement, whose decision replaces it."""
    put: set[int] = set()
    for payload in s.scalars(select(Event.payload).where(Event.document_id == document_id, ~Event.undone,
                                                        Event.command == AdjudicateAgreed.name)):
        put.update(i for i in payload.get("span_ids") or () if i is not None)
    if not put:
        return []
    held = set().union(*_versions(s, document_id, annotators).values())
    return [r for r in _gold_rows(s, document_id, gold, Span.id.in_(sorted(put))) if _key(r) not in held]


def _key(r) -> tuple:
    return r.start, r.end, r.label, NIL if r.nil else r.kb_id


def _gold_rows(s: Session, document_id: int, gold: int, *where) -> list:
    """Gold's spans of the document (every stored field, and kb_id) that meet `where`."""
    return s.execute(select(*(getattr(Span, f) for f in SPAN_FIELDS), Entity.kb_id)
                     .outerjoin(Entity, Entity.id == Span.entity_id)
                     .where(Span.document_id == document_id, Span.annotator_id == gold, *where)).all()


def _versions(s: Session, document_id: int, annotators: list[str], start: int | None = None,
              end: int | None = None) -> dict[str, set]:
    """Each annotator's accepted spans of the document (inside start-end when given) as _key tuples."""
    where = [] if start is None else [Span.start >= start, Span.end <= end]
    out: dict[str, set] = {name: set() for name in annotators}
    for r in s.execute(select(Annotator.name, Span.start, Span.end, Span.label, Span.nil, Entity.kb_id)
                       .join(Annotator, Annotator.id == Span.annotator_id)
                       .outerjoin(Entity, Entity.id == Span.entity_id)
                       .where(Span.document_id == document_id, Span.status == "accepted",
                              Annotator.name.in_(annotators), *where)):
        out[r.name].add(_key(r))
    return out


COMMANDS = (AdjudicateAgreed, TakeVersion, RejectDisagreement, EditDisagreement)
