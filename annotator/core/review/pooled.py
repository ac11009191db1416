"""Agreement summed from the stored counts (core/review/tallies.py): the same report as
`agreement.compute` over `inputs.agreement_inputs`, without reading a span (issue 18, target 6).

Which layer holds which document (status filter, annotator subset) is decided here as `inputs`
decides it, from the layers' own rows (`accepted`) and the document states; then every measure is a
sum of stored counts over the pairs' shared documents:
- span F1 and link agreement: summed tallies, per pair and document (`agreement_pairs`) and per
  pair and label (`agreement_totals`, by context: the documents' holders and states);
- κ: n, the tokens tagged differently, and the tag marginals (per label; O is the rest), summed
  per pair before chance agreement is taken; per document, chance agreement Σ_k row_k·col_k of
  pooled pairs expands into the stored dot products of the layers' tag-count vectors;
- α: the coincidence matrix's marginals and disagreements are the same sums, each document weighted
  by 1/(coders − 1), summed per number of coders.
Values are the reference's exactly when no document has more than three coders (weights 1 and 1/2
are exact in binary); with four or more, α may differ in the last bits (1/3 is rounded, the
reference sums it token by token). Two cases are not answered here and the caller computes them in
full: a label restriction that drops a label in use (the remaining tokens' tags change), and a
model's or gold's layer among the compared ones (their counts are not kept).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from sqlalchemy import BigInteger, case, func, literal, select
from sqlalchemy.orm import Session

from annotator.core.db.models import AgreementPair, AgreementTotal, Document, DocumentState
from annotator.core.review.columns import int_columns
from annotator.core.review.agreement import AgreementReport, PairMeasures, _alpha, _alpha_of, _kappa, \
    _kappa_of, _measures, _ratio, _span_values, _table
from annotator.core.review.tallies import LABEL_COLS, freshen, people

_32, _21 = 1 << 32, 1 << 21  # a field's room in a packed column (counts per document and pair < 2 M)
_SEP = "\x1e"  # between names in one string: the record separator, not in a file stem


def stored_agreement(s: Session, chosen: list[tuple[int, str]], status: str, labels: list[str] | None
                     ) -> AgreementReport | None:
    """The report from the stored counts, or None when it cannot be (a model's or gold's layer chosen;
    a label restriction leaving out a label in use)."""
    kept = people(s)
    if any(i not in kept for i, _ in chosen):
        return None
    freshen(s)
    ids = [i for i, _ in chosen]
    name = dict(chosen)
    P = AgreementPair
    # small counts packed in pairs and threes: reading the numbers as text is most of the cost
    big32, big21 = literal(_32, BigInteger), literal(_21, BigInteger)  # 64-bit arithmetic on PostgreSQL too
    cols = (P.document_id, P.layer_a * big32 + P.layer_b, P.tokens * big32 + P.accepted, P.disagree, P.dot,
            ((P.n_a + P.n_b) * big21 + P.exact) * big21 + P.overlap, P.linked * big21 + P.same_link)
    d, layers, tok_acc, dis, dot, spans, links = int_columns(
        s, cols, (P.layer_a <= P.layer_b) & P.layer_a.in_(ids) & P.layer_b.in_(ids))
    a, b = layers >> 32, layers & (_32 - 1)
    own = a == b  # a layer's row with itself
    sd, sx, stok, sdot, sacc = d[own], a[own], tok_acc[own] >> 32, dot[own], tok_acc[own] & (_32 - 1)
    pd_, pa, pb, ptok, pdis, pdot = d[~own], a[~own], b[~own], tok_acc[~own] >> 32, dis[~own], dot[~own]
    spans, links = spans[~own], links[~own]
    pspans = np.array([spans >> 42, np.zeros_like(spans), (spans >> 21) & (_21 - 1), spans & (_21 - 1),
                       links >> 21, links & (_21 - 1)]).reshape(6, -1)  # n_a + n_b in the first row
    entered = ("done",) if status == "done" else ("done", "in_progress")
    st_a, st_d, st_in = int_columns(s, (DocumentState.annotator_id, DocumentState.document_id,
                                        case((DocumentState.status.in_(entered), 1), else_=0)),
                                    DocumentState.annotator_id.in_(ids))
    with_state = np.sort((st_a << 32) | st_d)
    finished = np.sort(with_state[st_in[np.argsort((st_a << 32) | st_d)] == 1])
    skey = (sx << 32) | sd
    held = _member(skey, finished) | (~_member(skey, with_state) & (sacc > 0))
    sd, sx, stok, sdot, skey = sd[held], sx[held], stok[held], sdot[held], skey[held]
    doc_ids, m = np.unique(sd, return_counts=True)
    counted = doc_ids[m >= 2]
    order, names = _names(s, counted)
    pos = np.zeros(int(counted.max(initial=0)) + 1, np.int64)
    pos[np.array(order, np.int64)] = np.arange(len(order))

    skey_sorted = np.sort(skey)
    keep = _member((pa << 32) | pd_, skey_sorted) & _member((pb << 32) | pd_, skey_sorted)
    pd_, pa, pb, ptok, pdis, pdot = pd_[keep], pa[keep], pb[keep], ptok[keep], pdis[keep], pdot[keep]
    pspans = pspans[:, keep]
    m_at = np.zeros(int(doc_ids.max(initial=0)) + 1, np.int64)
    m_at[doc_ids] = m
    pm = m_at[pd_]
    rank = np.zeros(max(ids) + 1, np.int64)
    rank[[i for i, _ in sorted(chosen, key=lambda c: c[1])]] = np.arange(len(chosen))
    flip = rank[pa] > rank[pb]
    lo, hi = np.where(flip, pb, pa), np.where(flip, pa, pb)  # the pair's rows and columns, by name

    k = pos[pd_]
    n_docs = len(order)
    t = np.array([np.bincount(k, c, minlength=n_docs) for c in pspans]).reshape(6, n_docs)
    doc_n = np.bincount(k, ptok, minlength=n_docs).astype(float)
    doc_dis = np.bincount(k, pdis, minlength=n_docs).astype(float)
    chance, square = _dots(skey_sorted, sd, sdot, skey, counted, pd_, lo, hi, pdot, k, pos, n_docs)
    weight = 1.0 / np.maximum(m_at[np.array(order, np.int64)] - 1, 1)
    kappa = _ratio(doc_n * (doc_n - doc_dis) - chance, doc_n * doc_n - chance)
    alpha_n = weight * 2 * doc_n
    alpha = 1 - _ratio((alpha_n - 1) * (weight * 2 * doc_dis), alpha_n * alpha_n - weight * weight * square)
    by_document = _table(names, _span_values(t) + (kappa, alpha), 1)

    groups = _label_sums(s, ids, entered)
    used = sorted({lab for (_, _, lab, _), v in groups.items() if v[0] + v[1]})
    if labels is not None and not set(used) <= set(labels):
        return None
    labels = used if labels is None else labels
    return _report(chosen, name, labels, groups, pa, pb, ptok, pdis, pm, pspans, pd_, pos, names, by_document)


def _member(values, sorted_keys):
    """values in `sorted_keys` (a sorted array): a binary search, cheaper than np.isin's hashing."""
    if not len(sorted_keys):
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


def _names(s, counted) -> tuple[list[int], list[str]]:
    """The counted documents' ids and names, sorted by name (SQLite: names in one joined string)."""
    if not len(counted):
        return [], []
    if s.get_bind().dialect.name == "sqlite":
        ids_text, joined = s.execute(select(func.group_concat(Document.id),
                                            func.group_concat(Document.name, _SEP))).one()
        every = joined.split(_SEP)
        if len(every) == len(ids_text.split(",")):  # no name holds the separator
            doc_names = dict(zip(np.fromstring(ids_text, np.int64, sep=",").tolist(), every))
        else:
            doc_names = dict(s.execute(select(Document.id, Document.name)).all())
    else:
        doc_names = dict(s.execute(select(Document.id, Document.name)).all())
    order = sorted(counted.tolist(), key=doc_names.__getitem__)
    return order, [doc_names[d] for d in order]


def _dots(skey_sorted, sd, sdot, skey, counted, pd_, lo, hi, pdot, k, pos, n_docs):
    """Per document Σ_k row_k·col_k and Σ_k (row_k + col_k)² of its pooled pairs, from dot products."""
    where_lo = np.searchsorted(skey_sorted, (lo << 32) | pd_)
    where_hi = np.searchsorted(skey_sorted, (hi << 32) | pd_)
    alpha = np.bincount(where_lo, minlength=len(skey_sorted))  # pairs whose rows this layer gives
    beta = np.bincount(where_hi, minlength=len(skey_sorted))
    at = np.searchsorted(skey_sorted, skey)  # self rows, in their order
    ok = np.isin(sd, counted)  # layers of documents one layer alone holds give no pair
    sk = pos[sd[ok]]
    a_s, b_s = alpha[at][ok], beta[at][ok]
    g_s = a_s + b_s
    chance = np.bincount(sk, a_s * b_s * sdot[ok], minlength=n_docs)
    square = np.bincount(sk, g_s * g_s * sdot[ok], minlength=n_docs)
    cross = alpha[where_lo] * beta[where_hi] + alpha[where_hi] * beta[where_lo]
    g_lo, g_hi = alpha[where_lo] + beta[where_lo], alpha[where_hi] + beta[where_hi]
    chance = chance + np.bincount(k, cross * pdot, minlength=n_docs)
    square = square + np.bincount(k, 2 * g_lo * g_hi * pdot, minlength=n_docs)
    return chance.astype(float), square.astype(float)


def _label_sums(s, ids, entered) -> dict[tuple, list[int]]:
    """(layer_a, layer_b, label, coders) -> the label's columns summed over the documents the pair
    holds, from `agreement_totals`: a context says who holds its documents, and so their weight."""
    T = AgreementTotal
    chosen = set(ids)
    out: dict[tuple, list[int]] = {}
    for a, b, lab, ctx, *v in s.execute(select(T.layer_a, T.layer_b, T.label, T.context,
                                                *(getattr(T, c) for c in LABEL_COLS))
                                         .where(T.layer_a.in_(ids), T.layer_b.in_(ids))):
        held = set()
        for part in ctx.split(","):
            layer, state = part.split(":", 1)
            if int(layer) in chosen and (state in entered or state == "spans"):
                held.add(int(layer))
        if a in held and b in held:
            row = out.setdefault((a, b, lab, len(held)), [0] * len(LABEL_COLS))
            for k, x in enumerate(v):
                row[k] += x
    return out


def _report(chosen, name, labels, groups, pa, pb, ptok, pdis, pm, pspans, pd_, pos, names,
            by_document) -> AgreementReport:
    n_labels = len(labels)
    index = {lab: i for i, lab in enumerate(labels)}
    ids_by_name = sorted(chosen, key=lambda c: c[1])
    pair_index = {}
    for p, ((x, _), (y, _)) in enumerate(combinations(ids_by_name, 2)):
        pair_index[min(x, y), max(x, y)] = p
    n_pairs = len(pair_index)
    span_by_label = np.zeros((6, n_labels))
    rows = np.zeros((n_pairs, 2, n_labels))  # B-, I- marginals of each pair's rows (name order)
    cols = np.zeros((n_pairs, 2, n_labels))
    block = np.zeros((n_labels, 2, 2))
    w_rows, w_cols, w_block = np.zeros((2, n_labels)), np.zeros((2, n_labels)), np.zeros((n_labels, 2, 2))
    for (a, b, lab, m), v in groups.items():
        if lab not in index:  # a label no longer in use: its totals are all 0
            continue
        p, i, w = pair_index[a, b], index[lab], 1.0 / max(m - 1, 1)
        flipped = name[a] > name[b]
        span_by_label[:, i] += v[:6]
        r, c = (v[8:10], v[6:8]) if flipped else (v[6:8], v[8:10])
        bb = np.array(v[10:14], float).reshape(2, 2)
        bb = bb.T if flipped else bb
        rows[p, :, i] += r
        cols[p, :, i] += c
        block[i] += bb
        w_rows[:, i] += w * np.array(r, float)
        w_cols[:, i] += w * np.array(c, float)
        w_block[i] += w * bb

    codes = np.array([a * (1 << 32) + b for a, b in pair_index], np.int64)
    at = np.argsort(codes)
    pair_of = np.array(list(pair_index.values()), np.int64)[at][np.searchsorted(codes[at], pa * (1 << 32) + pb)] \
        if len(pa) else np.zeros(0, np.int64)
    n = np.bincount(pair_of, ptok, minlength=n_pairs).astype(float)
    dis = np.bincount(pair_of, pdis, minlength=n_pairs).astype(float)
    t = np.array([np.bincount(pair_of, c, minlength=n_pairs) for c in pspans]).reshape(6, n_pairs)

    def full(n_, m):  # (.., 2, L) B-/I- marginals -> (.., K) with O first
        flat = m.reshape(*m.shape[:-2], -1)
        return np.concatenate([(n_ - flat.sum(axis=-1))[..., None], flat], axis=-1)

    out_pairs = []
    r_full, c_full = full(n, rows), full(n, cols)
    for p, (x, y) in enumerate(combinations(ids_by_name, 2)):
        values = _span_values(t[:, p]) + (_kappa(n[p], n[p] - dis[p], r_full[p], c_full[p]),
                                          _alpha(r_full[p] + c_full[p], 2 * dis[p]))
        docs = tuple(map(names.__getitem__, np.sort(pos[pd_[pair_of == p]]).tolist()))
        out_pairs.append(PairMeasures(x[1], y[1], _measures(values, len(docs)), docs))

    n_all, dis_all = n.sum(), dis.sum()
    w = 1.0 / np.maximum(pm - 1, 1)
    wn, wdis = (w * ptok).sum(), (w * pdis).sum()
    nk = full(wn, w_rows) + full(wn, w_cols)
    overall = _measures(_span_values(t.sum(axis=1)) + (
        _kappa(n_all, n_all - dis_all, full(n_all, rows.sum(axis=0)), full(n_all, cols.sum(axis=0))),
        _alpha(nk, 2 * wdis)), len(names))
    matrix = _projected(n_all, rows.sum(axis=0), cols.sum(axis=0), block)
    weighted = _projected(wn, w_rows, w_cols, w_block)
    by_label = _table(labels, _span_values(span_by_label) + (
        _kappa_of(matrix), _alpha_of(weighted + weighted.transpose(0, 2, 1))), len(names))
    return AgreementReport(out_pairs, overall, by_label, by_document)


def _projected(n, rows, cols, block):
    """(L, 3, 3) matrices over O, B-l, I-l from n, the (2, L) marginals and the (L, 2, 2) blocks."""
    m = np.zeros((block.shape[0], 3, 3))
    m[:, 1:, 1:] = block
    m[:, 1:, 0] = rows.T - block.sum(axis=2)
    m[:, 0, 1:] = cols.T - block.sum(axis=1)
    m[:, 0, 0] = n - m.sum(axis=(1, 2))
    return m
