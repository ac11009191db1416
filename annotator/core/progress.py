"""How far the team is: per person and per day, documents done, spans checked, time spent; and per
person, how many of the model's suggestions they accepted as they were or corrected.

All counted in SQL (GROUP BY over document_states and spans, and small tables kept as people edit), so it
stays quick on a big project.

- documents done: document states at "done", on the day they were last changed (marked done);
- spans checked: spans of the person's layer that are accepted (checked or drawn by them), on the
  day they were last changed; a span that came in with an import counts only once someone changed
  it here (its version moved on);
- time: nothing records time directly, so it is read off the history: for each person, document and
  day, the time between one edit and the next, each gap counted up to `GAP_CAP` seconds (a pause
  longer than that is a break, not work); a day's single edit on a document counts 0. Kept per
  person and day as events are written (core/db/edit_seconds.py, with the window over the whole
  history that computes it from scratch as the reference);
- suggestions (core/db/provenance_counts.py, counted as people edit): "accepted" kept as the model
  suggested; "corrected" relabelled, boundary moved or deleted. Not dated (a comparison of layers, not of edits).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from annotator.core.db.annotators import GOLD
from annotator.core.db.edit_seconds import GAP_CAP, day_of
from annotator.core.db.models import CHECKED, Annotator, DocumentState, EditSeconds, Span
from annotator.core.db.provenance_counts import provenance

CORRECTED = ("relabelled", "boundary", "deleted")
TIME_RULE = (f"time: gaps between a person's consecutive edits of one document on one day, each counted up to "
             f"{GAP_CAP} s")


@dataclass
class Day:
    day: str  # YYYY-MM-DD, UTC
    annotator: str
    documents_done: int = 0
    spans_checked: int = 0
    seconds: float = 0.0


@dataclass
class Totals:
    annotator: str
    documents_done: int = 0
    spans_checked: int = 0
    seconds: float = 0.0
    suggestions_accepted: int = 0
    suggestions_corrected: int = 0
    days: list[Day] = field(default_factory=list)


def progress(s: Session, only: int | None = None) -> list[Totals]:
    """Every person (not the model, not gold), or only the annotator `only`, by name; their days oldest first."""
    people = select(Annotator.id, Annotator.name).where(~Annotator.is_model, Annotator.name != GOLD)
    if only is not None:
        people = people.where(Annotator.id == only)
    names = dict(s.execute(people).all())
    days: dict[tuple[int, str], Day] = {}

    def at(annotator_id, day) -> Day | None:
        if annotator_id not in names:
            return None
        return days.setdefault((annotator_id, str(day)), Day(str(day), names[annotator_id]))

    day = day_of(s, DocumentState.updated_at)
    for a, d, n in s.execute(select(DocumentState.annotator_id, day, func.count())
                             .where(DocumentState.status == "done").group_by(DocumentState.annotator_id, day)):
        if (row := at(a, d)) is not None:
            row.documents_done = n
    day = day_of(s, Span.updated_at)
    # the partial index ix_spans_checked holds exactly these rows: its condition, word for word
    for a, d, n in s.execute(select(Span.annotator_id, day, func.count()).where(text(CHECKED))
                             .group_by(Span.annotator_id, day)):
        if (row := at(a, d)) is not None:
            row.spans_checked = n
    t = EditSeconds  # the time per person and day, kept as events are written
    for a, d, n in s.execute(select(t.annotator_id, t.day, t.micros)):
        if (row := at(a, d)) is not None and n:
            row.seconds = round(n / 1e6, 1)
    changes = provenance(s)
    report = []
    for annotator_id, name in sorted(names.items(), key=lambda kv: kv[1]):
        mine = sorted((v for (a, _), v in days.items() if a == annotator_id), key=lambda r: r.day)
        totals = changes.get(name, {}).get("totals", {})
        report.append(Totals(name, sum(r.documents_done for r in mine), sum(r.spans_checked for r in mine),
                             round(sum(r.seconds for r in mine), 1), totals.get("accepted", 0),
                             sum(totals.get(o, 0) for o in CORRECTED), mine))
    return report


def to_json(report: list[Totals]) -> dict:
    return {"time_rule": TIME_RULE, "annotators": [asdict(t) for t in report]}


def clock(seconds: float) -> str:
    """1:02:05 for 3725 s."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
