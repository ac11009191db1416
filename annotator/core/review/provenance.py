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
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, DocumentState, Span
from annotator.core.review.inputs import span_columns

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


def provenance(session: Session) -> dict[str, dict]:
    """analyst -> {"documents": n, "totals": {outcome: n}, "by_label": {label: {outcome: n}}}.

    Steps 1 and 2 are matched with arrays over the whole project; only documents left with model
    and analyst spans that still overlap go through `compare` one by one."""

    model = session.scalar(select(Annotator.id).where(Annotator.name == MODEL_LAYER, Annotator.is_model))
    analysts = dict(session.execute(select(Annotator.id, Annotator.name)
                                    .where(~Annotator.is_model, Annotator.name != GOLD)).all())
    states = session.execute(select(DocumentState.annotator_id, DocumentState.document_id)
                             .where(DocumentState.annotator_id.in_(list(analysts)))).all()
    opened: dict[int, list[int]] = defaultdict(list)
    for a, d in states:
        opened[a].append(d)
    if not opened:
        return {}
    accepted = case((Span.status == "accepted", 1), else_=0)
    ids = sorted(opened) + ([model] if model is not None else [])
    (ann, doc, start, end, label, is_accepted), names = span_columns(session, ids, accepted)
    n_labels = len(names)
    report = {}
    for a in sorted(opened, key=analysts.get):
        docs = np.array(sorted(opened[a]), np.int64)
        m = np.flatnonzero((ann == (model if model is not None else -1)) & np.isin(doc, docs))
        x = np.flatnonzero((ann == a) & np.isin(doc, docs))
        x = x[np.argsort(-is_accepted[x], kind="stable")]  # of two equal spans, the accepted one matches
        counts = dict.fromkeys(OUTCOMES)
        for outcome in OUTCOMES:
            counts[outcome] = np.zeros(n_labels, np.int64)

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
        used = [k for k in range(n_labels) if any(counts[o][k] for o in OUTCOMES)]
        report[analysts[a]] = {
            "documents": len(docs),
            "totals": {o: int(counts[o].sum()) for o in OUTCOMES},
            "by_label": {names[k]: {o: int(counts[o][k]) for o in OUTCOMES}
                         for k in sorted(used, key=names.__getitem__)},
        }
    return report
