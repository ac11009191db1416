"""How each analyst changed the model's suggestions, per label (`annotator stats`, "provenance").

The rule (matching each document's model and analyst spans one-to-one) and the tables that keep its
counts as people edit are in core/db/provenance_counts.py. `provenance` reads those tables: a
GROUP BY over (analysts × labels) rows and the document states. `recount` is the full comparison
over every span of the project, the reference the tables are tested against.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import case, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from annotator.core.db.models import DocumentState, Label, Span
from annotator.core.db.provenance_counts import OUTCOMES, compare, people, provenance, report_of
from annotator.core.review.inputs import _CHUNK, int_columns

__all__ = ["OUTCOMES", "compare", "provenance", "recount"]  # provenance: the stored counts, read


def _counts() -> dict[str, int]:
    return dict.fromkeys(OUTCOMES, 0)


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
    # codes in the order of the names, so that ties are broken as `compare` breaks them
    label_names = set(session.scalars(select(Label.name)))
    label_names = sorted(label_names | set(session.scalars(select(Span.label).distinct().where(
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
    # in `compare`'s order, (start, end, label, status), so that ties go the same way: of two equal
    # spans the accepted one matches; of two at the same offsets, the first label
    m = m[np.lexsort((label[m], end[m], start[m], doc[m]))]
    x = x[np.lexsort((-is_accepted[x], label[x], end[x], start[x], doc[x]))]
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


def recount(session: Session) -> dict[str, dict]:
    """`provenance` computed from every span of the project (the reference; seconds at 3 M spans).

    A document whose analyst spans are the model's (same offsets and labels: equal fingerprints,
    read from the index) only needs its analyst spans counted per label and status, which the
    layer's totals give once the other documents are taken off; only those other documents
    (changed, or not opened) are read span by span and matched with arrays, and the ones left
    with spans that still overlap go through `compare` one by one."""

    model, analysts = people(session)
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
        report[analysts[a]] = report_of(len(opened[a]), by_label)
    return report
