"""Provenance kept as it changes: how each analyst changed the model's suggestions, counted per
document and label (`provenance_counts`) and summed per analyst and label (`provenance_totals`).

Whatever writes spans or document states of a document calls `refresh` for it in the same
transaction: the command stack for every edit, undo and redo (core/editing/stack.py), opening a
layer, import, merge and re-suggestion (and queues it for the agreement counts). `refresh` compares that document's layers again (`compare`),
writes the rows that differ and moves the totals by the difference, so `annotator stats` and the
progress dashboard read a table of (analysts × labels) rows instead of comparing 3 M spans. The full
comparison (core/review/provenance.py `recount`) stays as the reference; `rebuild` fills the tables
from scratch (projects written with raw SQL; migration 0011 keeps its own frozen copy of the rule).

The rule, per document an analyst opened (a document state), the model's spans matched one-to-one
with the analyst's, in this order:
1. same offsets and label: "accepted" if the analyst's span is accepted, else "suggested";
2. same offsets, another label: "relabelled";
3. overlapping (any label), greedily by largest overlap: "boundary";
4. model spans left over: "deleted"; analyst spans left over: "added".
Counts go under the model span's label, "added" under the analyst's. Analysts are the people's
layers: not the model, not gold. Ties go to the first in (start, end, label, status) order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from annotator.core.db.annotators import GOLD, MODEL_LAYER
from annotator.core.db.models import AgreementStale, DocumentState, ProvenanceCount, ProvenanceTotal
from annotator.core.db.raw import marks, rows
from annotator.core.db.store import lock_documents

OUTCOMES = ("accepted", "relabelled", "boundary", "deleted", "added", "suggested")
_CHUNK = 500  # documents per read
Key = tuple[int, int, str]  # (document, analyst, label)


def compare(model: Iterable[tuple[int, int, str]], analyst: Iterable[tuple[int, int, str, str]]
            ) -> list[tuple[str, str]]:
    """(outcome, label) per model span and per added analyst span of one document.

    `model`: (start, end, label); `analyst`: (start, end, label, status)."""
    out: list[tuple[str, str]] = []
    left = sorted(analyst)
    free = [True] * len(left)
    by_key: dict[tuple, list[int]] = defaultdict(list)
    by_offsets: dict[tuple, list[int]] = defaultdict(list)
    for i, a in enumerate(left):
        by_key[a[:3]].append(i)
        by_offsets[a[:2]].append(i)

    def take(candidates: list[int]) -> int | None:
        while candidates and not free[candidates[0]]:
            candidates.pop(0)
        if not candidates:
            return None
        free[candidates[0]] = False
        return candidates.pop(0)

    rest = []
    for m in sorted(model):  # 1. same offsets and label
        i = take(by_key.get(tuple(m), []))
        if i is None:
            rest.append(m)
        else:
            out.append(("accepted" if left[i][3] == "accepted" else "suggested", m[2]))
    unmatched = []
    for m in rest:  # 2. same offsets, another label
        i = take(by_offsets.get(tuple(m[:2]), []))
        if i is None:
            unmatched.append(m)
        else:
            out.append(("relabelled", m[2]))
    pairs = sorted((-(min(m[1], left[j][1]) - max(m[0], left[j][0])), k, j)
                   for k, m in enumerate(unmatched) for j in range(len(left))
                   if free[j] and m[0] < left[j][1] and left[j][0] < m[1])
    used = [False] * len(unmatched)
    for _, k, j in pairs:  # 3. overlapping, largest overlap first
        if not used[k] and free[j]:
            used[k], free[j] = True, False
            out.append(("boundary", unmatched[k][2]))
    out += [("deleted", m[2]) for k, m in enumerate(unmatched) if not used[k]]
    out += [("added", a[2]) for j, a in enumerate(left) if free[j]]
    return out


def people(s: Session) -> tuple[int, dict[int, str]]:
    """(the model layer's id or -1, {analyst id: name})."""
    model, analysts = -1, {}
    for i, name, is_model in rows(s.connection(), "SELECT id, name, is_model FROM annotators"):
        if is_model:
            model = i if name == MODEL_LAYER else model
        elif name != GOLD:
            analysts[i] = name
    return model, analysts


def _tally(model: list, mine: list) -> dict[str, list[int]]:
    """label -> counts in OUTCOMES order for one analyst's layer of one document."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(OUTCOMES))
    if Counter(model) == Counter(x[:3] for x in mine):  # untouched offsets and labels: only statuses count
        for _, _, label, status in mine:
            counts[label][0 if status == "accepted" else 5] += 1
        return counts
    for outcome, label in compare(model, mine):
        counts[label][OUTCOMES.index(outcome)] += 1
    return counts


def count(s: Session, documents: Iterable[int]) -> dict[Key, tuple[int, ...]]:
    """What the tables should hold for `documents`: (document, analyst, label) -> counts."""
    s.flush()  # read with raw SQL (an edit's bookkeeping), which does not flush the session's pending rows
    model, analysts = people(s)
    docs = sorted(set(documents))
    out: dict[Key, tuple[int, ...]] = {}
    for i in range(0, len(docs), _CHUNK):
        chunk = docs[i:i + _CHUNK]
        conn, where = s.connection(), f"document_id IN ({marks(len(chunk))})"  # raw: an edit's bookkeeping
        states = rows(conn, f"SELECT document_id, annotator_id FROM document_states WHERE {where}", chunk)
        states = [(d, a) for d, a in states if a in analysts]
        if not states:
            continue
        layers: dict[tuple[int, int], list] = defaultdict(list)
        for d, a, start, end, label, status in rows(
                conn, f'SELECT document_id, annotator_id, start, "end", label, status FROM spans WHERE {where}', chunk):
            if a == model:
                layers[d, a].append((start, end, label))
            elif a in analysts:
                layers[d, a].append((start, end, label, status))
        for d, a in states:
            for label, row in _tally(layers.get((d, model), []), layers.get((d, a), [])).items():
                out[d, a, label] = tuple(row)
    return out


def _stored(s: Session, docs: list[int]) -> dict[Key, tuple[int, ...]]:
    out = {}
    for i in range(0, len(docs), _CHUNK):
        chunk = docs[i:i + _CHUNK]
        for d, a, label, *row in rows(s.connection(), f"SELECT document_id, annotator_id, label, {', '.join(OUTCOMES)} "
                                      f"FROM provenance_counts WHERE document_id IN ({marks(len(chunk))})", chunk):
            out[d, a, label] = tuple(row)
    return out


_DELETE = delete(ProvenanceCount.__table__).where(
    ProvenanceCount.document_id == bindparam("d"), ProvenanceCount.annotator_id == bindparam("a"),
    ProvenanceCount.label == bindparam("l"))


def refresh(s: Session, documents: Iterable[int | None], queue: bool = True) -> None:
    """Count `documents` again and store what differs (only the rows of the layers that changed are
    written, so on a team server a member's edit touches only their own rows); with `queue`, also
    queue them for the agreement counts."""
    docs = sorted({d for d in documents if d is not None})
    if not docs:
        return
    lock_documents(s, docs)  # on a server, one refresh of a document at a time: the spans and the stored
    # counts it reads are from the same commits
    if queue:
        queue_agreement(s, docs)
    new, old = count(s, docs), _stored(s, docs)
    gone = [k for k, v in old.items() if new.get(k) != v]
    came = [k for k, v in new.items() if old.get(k) != v]
    if not gone and not came:
        return
    conn = s.connection()
    if gone:
        conn.execute(_DELETE, [dict(d=d, a=a, l=label) for d, a, label in gone])
    if came:
        conn.execute(insert(ProvenanceCount.__table__),
                     [dict(document_id=d, annotator_id=a, label=label, **dict(zip(OUTCOMES, new[d, a, label])))
                      for d, a, label in came])
    delta: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0] * len(OUTCOMES))
    for sign, counted, keys in ((-1, old, gone), (1, new, came)):
        for d, a, label in keys:
            row = delta[a, label]
            for k, n in enumerate(counted[d, a, label]):
                row[k] += sign * n
    _add_totals(s, {k: v for k, v in delta.items() if any(v)})


def _add_totals(s: Session, delta: dict[tuple[int, str], list[int]]) -> None:
    if not delta:
        return
    table = ProvenanceTotal.__table__
    stmt = (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    stmt = stmt.on_conflict_do_update(index_elements=["annotator_id", "label"],
                                      set_={o: table.c[o] + stmt.excluded[o] for o in OUTCOMES})
    s.connection().execute(stmt, [dict(annotator_id=a, label=label, **dict(zip(OUTCOMES, row)))
                                  for (a, label), row in sorted(delta.items())])


def queue_agreement(s: Session, docs: list[int]) -> None:
    """The same documents wait for their agreement counts (core/review/tallies.py): counting them needs
    the agreement code, which an edit does not load; the next agreement counts them first."""
    table = AgreementStale.__table__
    stmt = (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    for i in range(0, len(docs), _CHUNK * 10):
        s.connection().execute(stmt.on_conflict_do_nothing(), [dict(document_id=d) for d in docs[i:i + _CHUNK * 10]])


def rebuild(s: Session) -> None:
    """Empty both tables and count every opened document (a project written with raw SQL)."""
    conn = s.connection()
    conn.execute(delete(ProvenanceCount.__table__))
    conn.execute(delete(ProvenanceTotal.__table__))
    docs = sorted(set(s.scalars(select(DocumentState.document_id).distinct())))
    for i in range(0, len(docs), _CHUNK * 4):
        refresh(s, docs[i:i + _CHUNK * 4], queue=False)  # the agreement counts have their own rebuild (review/tallies.py)


def report_of(documents: int, by_label: dict[str, dict[str, int]]) -> dict:
    used = sorted(lab for lab, row in by_label.items() if any(row.values()))
    return {"documents": documents, "totals": {o: sum(by_label[lab][o] for lab in used) for o in OUTCOMES},
            "by_label": {lab: by_label[lab] for lab in used}}


def provenance(session: Session) -> dict[str, dict]:
    """analyst -> {"documents": n, "totals": {outcome: n}, "by_label": {label: {outcome: n}}}, for every
    analyst with a document state, by name; read from `provenance_totals`."""
    _, analysts = people(session)
    opened = dict(session.execute(select(DocumentState.annotator_id, func.count())
                                  .group_by(DocumentState.annotator_id)).all())
    opened = {a: n for a, n in opened.items() if a in analysts}
    by_label: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    t = ProvenanceTotal
    for a, lab, *row in session.execute(select(t.annotator_id, t.label, *(getattr(t, o) for o in OUTCOMES))
                                        .where(t.annotator_id.in_(list(opened)))):
        by_label[a][lab] = dict(zip(OUTCOMES, row))
    return {analysts[a]: report_of(opened[a], by_label[a]) for a in sorted(opened, key=analysts.get)}
