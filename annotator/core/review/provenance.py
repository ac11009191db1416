"""How each analyst changed the model's suggestions, per label (`annotator stats`, "provenance").

For every document an analyst opened (their layer started as a copy of the model's), the model's
spans are matched one-to-one with the analyst's spans, in this order:
1. same offsets and label: "accepted" if the analyst's span is accepted, else "suggested" (still
   a suggestion, untouched);
2. same offsets, another label: "relabelled";
3. overlapping (any label), greedily by largest overlap: "boundary" (boundary changed);
4. model spans left over: "deleted"; analyst spans left over: "added" (no model counterpart).
Counts go under the model span's label, "added" under the analyst's. Analysts are the people's
layers: not the model, not gold.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import numpy as np
from sqlalchemy import case, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, DocumentState, Label, Span
from annotator.core.review.inputs import _CHUNK, int_columns

OUTCOMES = ("accepted", "relabelled", "boundary", "deleted", "added", "suggested")
GOLD = "gold"  # as review.GOLD; not imported so that stats need not load the agreement code


def _counts() -> dict[str, int]:
    return dict.fromkeys(OUTCOMES, 0)


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


def _pairs(keys_m: list[np.ndarray], keys_a: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matches of rows with equal keys: (positions in m, positions in a). Rows repeated
    on both sides pair off in order, so each row is matched at most once."""
    n, k = len(keys_m[0]), len(keys_a[0])
    if not n or not k:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cols = [np.concatenate([m, a]) for m, a in zip(keys_m, keys_a)]
    side = np.r_[np.zeros(n, np.int64), np.ones(k, np.int64)]
    order = np.lexsort((side, *cols[::-1]))
    new_group = np.ones(n + k, bool)
    new_group[1:] = np.any([c[order][1:] != c[order][:-1] for c in cols], axis=0)
    group = np.cumsum(new_group) - 1
    new_run = new_group.copy()
    new_run[1:] |= side[order][1:] != side[order][:-1]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n + k), 0))
    rank = np.arange(n + k) - run_start
    key = np.empty(n + k, np.int64)
    key[order] = group * (n + k + 1) + rank
    _, im, ia = np.intersect1d(key[:n], key[n:], assume_unique=True, return_indices=True)
    return im, ia


def _fingerprints(session: Session, ids: list[int]) -> dict[tuple[int, int], str]:
    """(document, layer) -> the layer's spans in that document as one text, "start:end:label" in
    order: equal texts are equal sets of spans. Read from ix_spans_document_layer alone."""
    key = func.concat(Span.start, ":", Span.end, ":", Span.label)
    where = Span.annotator_id.in_(ids)
    if session.get_bind().dialect.name == "sqlite":
        key = Span.start.op("||")(":").op("||")(Span.end).op("||")(":").op("||")(Span.label)
        # grouped in the index's order, which is also the order of each group's spans
        # (`+ 0`: not through ix_spans_layer_counts, which would need a sort)
        q = (select(Span.document_id, Span.annotator_id, func.group_concat(key, " "))
             .where((Span.annotator_id + 0).in_(ids)).group_by(Span.document_id, Span.annotator_id))
    else:
        q = (select(Span.document_id, Span.annotator_id,
                    func.string_agg(key, aggregate_order_by(literal_column("' '"), Span.start, Span.end,
                                                             Span.label)))
             .where(where).group_by(Span.document_id, Span.annotator_id))
    return {(d, a): f for d, a, f in session.execute(q)}


def _read(session: Session, ids: list[int], docs: list[int], last):
    """span_columns restricted to `docs` (read through the per-document index, in chunks)."""
    label_names = list(session.scalars(select(Label.name).order_by(Label.position, Label.name)))
    label_names += sorted(set(session.scalars(select(Span.label).distinct().where(
        Span.annotator_id.in_(ids), Span.label.not_in(label_names)))))
    code = (case({name: i for i, name in enumerate(label_names)}, value=Span.label, else_=-1)
            if label_names else literal(-1))
    parts = [int_columns(session, (Span.annotator_id, Span.document_id, Span.start, Span.end, code, last),
                         Span.annotator_id.in_(ids) & Span.document_id.in_(docs[i:i + _CHUNK]))
             for i in range(0, len(docs), _CHUNK)]
    if not parts:
        return [np.zeros(0, np.int64) for _ in range(6)], label_names
    return [np.concatenate(c) for c in zip(*parts)], label_names


def _match(cols, model: int, a: int, docs: np.ndarray, n_labels: int) -> dict[str, np.ndarray]:
    """outcome -> counts per label code of analyst `a` against the model in `docs`."""
    ann, doc, start, end, label, is_accepted = cols
    m = np.flatnonzero((ann == model) & np.isin(doc, docs))
    x = np.flatnonzero((ann == a) & np.isin(doc, docs))
    x = x[np.argsort(-is_accepted[x], kind="stable")]  # of two equal spans, the accepted one matches
    counts = {outcome: np.zeros(n_labels, np.int64) for outcome in OUTCOMES}

    def tally(outcome, labels):
        counts[outcome] += np.bincount(labels, minlength=n_labels)

    im, ix = _pairs([doc[m], start[m], end[m], label[m]], [doc[x], start[x], end[x], label[x]])
    tally("accepted", label[m[im]][is_accepted[x[ix]] == 1])
    tally("suggested", label[m[im]][is_accepted[x[ix]] == 0])
    m, x = np.delete(m, im), np.delete(x, ix)
    im, ix = _pairs([doc[m], start[m], end[m]], [doc[x], start[x], end[x]])
    tally("relabelled", label[m[im]])
    m, x = np.delete(m, im), np.delete(x, ix)
    both = np.intersect1d(doc[m], doc[x])
    single_m, single_x = m[~np.isin(doc[m], both)], x[~np.isin(doc[x], both)]
    tally("deleted", label[single_m])
    tally("added", label[single_x])
    m, x = m[np.isin(doc[m], both)], x[np.isin(doc[x], both)]
    by_doc_m, by_doc_x = defaultdict(list), defaultdict(list)
    for i in m.tolist():
        by_doc_m[int(doc[i])].append((int(start[i]), int(end[i]), int(label[i])))
    for i in x.tolist():
        by_doc_x[int(doc[i])].append((int(start[i]), int(end[i]), int(label[i]), "accepted"))
    for d in by_doc_m:
        for outcome, code in compare(by_doc_m[d], by_doc_x[d]):
            counts[outcome][code] += 1
    return counts


def provenance(session: Session) -> dict[str, dict]:
    """analyst -> {"documents": n, "totals": {outcome: n}, "by_label": {label: {outcome: n}}}.

    A document whose analyst spans are the model's (same offsets and labels: equal fingerprints,
    read from the index) only needs its analyst spans counted per label and status, which the
    layer's totals give once the other documents are taken off; only those other documents
    (changed, or not opened) are read span by span and matched with arrays, and the ones left
    with spans that still overlap go through `compare` one by one."""

    model = session.scalar(select(Annotator.id).where(Annotator.name == MODEL_LAYER, Annotator.is_model))
    model = -1 if model is None else model
    analysts = dict(session.execute(select(Annotator.id, Annotator.name)
                                    .where(~Annotator.is_model, Annotator.name != GOLD)).all())
    states = session.execute(select(DocumentState.annotator_id, DocumentState.document_id)
                             .where(DocumentState.annotator_id.in_(list(analysts)))).all()
    opened: dict[int, set[int]] = defaultdict(set)
    for a, d in states:
        opened[a].add(d)
    if not opened:
        return {}
    prints = _fingerprints(session, sorted(opened) + [model])
    with_spans: dict[int, set[int]] = defaultdict(set)
    for d, a in prints:
        with_spans[a].add(d)
    special: dict[int, list[int]] = {}
    for a in opened:  # documents read span by span: changed ones, and spans in documents not opened
        changed = {d for d in opened[a] if prints.get((d, a)) != prints.get((d, model))}
        special[a] = sorted(changed | (with_spans[a] - opened[a]))
    everything = sorted(set().union(*special.values()))
    accepted = case((Span.status == "accepted", 1), else_=0)
    cols, names = _read(session, sorted(opened) + [model], everything, accepted)
    ann, doc, label, is_accepted = cols[0], cols[1], cols[4], cols[5]
    report = {}
    for a in sorted(opened, key=analysts.get):
        counts = _match(cols, model, a, np.array(sorted(opened[a] & set(special[a])), np.int64), len(names))
        by_label = {names[k]: {o: int(counts[o][k]) for o in OUTCOMES} for k in range(len(names))}
        # the unchanged documents: every analyst span there matches a model span of its label
        mine = (ann == a) & np.isin(doc, np.array(special[a], np.int64))
        for lab, status, n in session.execute(select(Span.label, Span.status, func.count())
                                              .where(Span.annotator_id == a).group_by(Span.label, Span.status)):
            left = n - int(np.count_nonzero(mine & (label == names.index(lab))
                                            & (is_accepted == (status == "accepted"))))
            row = by_label.setdefault(lab, _counts())
            row["accepted" if status == "accepted" else "suggested"] += left
        used = sorted(lab for lab, row in by_label.items() if any(row.values()))
        report[analysts[a]] = {
            "documents": len(opened[a]),
            "totals": {o: sum(by_label[lab][o] for lab in used) for o in OUTCOMES},
            "by_label": {lab: by_label[lab] for lab in used},
        }
    return report
