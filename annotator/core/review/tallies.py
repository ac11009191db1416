"""Agreement counts kept per document and pair of people's layers (`agreement_pairs`,
`agreement_labels`), so that agreement over 10^5 documents sums ~10^5–10^6 small rows
(core/review/pooled.py) instead of reading every span (issue 18, target 6).

What a pair's counts on a document are depends only on the two layers' accepted spans there and the
document's tokens, not on which documents a status filter or an annotator subset lets in: those are
chosen when the rows are summed. So a document is counted for every pair of layers that could hold it
(a document state, or accepted spans), exactly as `agreement.compute` counts it (the same `arrays`
code, document by document): spans per layer, exact and overlap matches and links (per label), the
tokens the two tag differently, each layer's B-/I- tokens per label, the 2 x 2 block of their confusion
matrix per label, and the dot product of their tag-count vectors (what chance agreement of any set
of pairs is made of). A layer's row with itself (layer_a == layer_b) holds its own dot product and its
accepted spans. Pairs are stored by layer id (layer_a < layer_b). `agreement_totals` sums the label
rows per pair, label and context (the document's people's layers and their states: what decides
whether a document counts, and its weight in α, under any status filter and annotator subset), so
the per-label sums read ~10^2 rows, not 10^6; each refresh moves them by the difference.

Whatever refreshes a document's provenance (every edit, undo and redo, opening a layer, import, merge,
re-suggestion) queues it here in the same transaction (core/db/provenance_counts.py
`queue_agreement`): counting needs numpy and this code, which neither the editor nor a small import
loads (issue 18's start-up targets), and costs 1–2 ms a document. `freshen` counts the queue before
each read, in the reader's transaction, so a report never sees a stale row.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Iterable

import numpy as np
from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from annotator.core.db.annotators import GOLD
from annotator.core.db.models import (AgreementLabel, AgreementPair, AgreementStale, AgreementTotal, Annotator,
                                      Document, DocumentState, Entity, Span)
from annotator.core.review.arrays import SpanTable, build, exact_matches, overlap_matches

SPAN_COLS = ("n_a", "n_b", "exact", "overlap", "linked", "same_link")
TAG_COLS = ("a_b", "a_i", "b_b", "b_i", "bb", "bi", "ib", "ii")
PAIR_COLS = ("tokens", "disagree", "dot", "accepted") + SPAN_COLS
LABEL_COLS = SPAN_COLS + TAG_COLS
_SWAP = {"n_a": "n_b", "n_b": "n_a", "a_b": "b_b", "b_b": "a_b", "a_i": "b_i", "b_i": "a_i", "bi": "ib", "ib": "bi"}
_CHUNK = 500  # documents per read


def people(s: Session) -> dict[int, str]:
    """The layers agreement is kept for: people's (not a model's, not gold)."""
    return {i: n for i, n, m in s.execute(select(Annotator.id, Annotator.name, Annotator.is_model))
            if not m and n != GOLD}


def count(s: Session, documents: Iterable[int]) -> tuple[list[dict], list[dict]]:
    """(pair rows, label rows) for `documents`: what the tables should hold for them."""
    layer_names = people(s)
    docs = sorted(set(documents))
    pairs: list[dict] = []
    labels: list[dict] = []
    for i in range(0, len(docs), _CHUNK):
        _count_chunk(s, docs[i:i + _CHUNK], layer_names, pairs, labels)
    return pairs, labels


def _count_chunk(session, chunk, layer_names, pair_rows, label_rows) -> None:
    ids = list(layer_names)
    s = session.connection()  # Core rows: the ORM's per-row work costs more than the read
    holders: dict[int, set[int]] = defaultdict(set)  # layer -> documents it could hold
    state: dict[tuple[int, int], str] = {}
    for a, d, status in s.execute(select(DocumentState.annotator_id, DocumentState.document_id, DocumentState.status)
                                  .where(DocumentState.document_id.in_(chunk), DocumentState.annotator_id.in_(ids))):
        holders[a].add(d)
        state[a, d] = status
    spans = s.execute(select(Span.annotator_id, Span.document_id, Span.start, Span.end, Span.label, Span.nil,
                             Span.entity_id)
                      .where(Span.document_id.in_(chunk), Span.annotator_id.in_(ids), Span.status == "accepted")).all()
    accepted: dict[tuple[int, int], int] = defaultdict(int)
    for a, d, *_ in spans:
        holders[a].add(d)
        accepted[a, d] += 1
    n_holders: dict[int, int] = defaultdict(int)
    for held in holders.values():
        for d in held:
            n_holders[d] += 1
    counted = sorted(d for d, n in n_holders.items() if n >= 2)
    if not counted:
        return
    tokens = {str(d): np.frombuffer(packed, dtype="<i4").reshape(-1, 2) for d, packed in
              s.execute(select(Document.id, Document.tokens).where(Document.id.in_(counted)))}
    entities = sorted({e for *_, e in spans if e is not None})
    kb_of = dict(s.execute(select(Entity.id, Entity.kb_id).where(Entity.id.in_(entities))).all()) if entities else {}
    kb_names = sorted(set(kb_of.values()) | {"NIL"})
    kb_code = {name: k for k, name in enumerate(kb_names)}
    label_names = sorted({r[4] for r in spans})
    label_code = {name: k for k, name in enumerate(label_names)}
    layers, by_name = {}, {}
    for a in sorted(holders):
        name = layer_names[a]
        mine = [r for r in spans if r[0] == a]
        docs = sorted(str(d) for d in holders[a])
        index = {d: k for k, d in enumerate(docs)}
        layers[name] = SpanTable(
            docs=docs, doc=np.array([index[str(r[1])] for r in mine], np.int64),
            start=np.array([r[2] for r in mine], np.int64), end=np.array([r[3] for r in mine], np.int64),
            label=np.array([label_code[r[4]] for r in mine], np.int64), label_names=label_names,
            kb=np.array([kb_code["NIL"] if r[5] else (-1 if r[6] is None else kb_code[kb_of.get(r[6], f"#{r[6]}")])
                         for r in mine], np.int64), kb_names=kb_names)
        by_name[name] = a
    c = build(layers, tokens)
    doc_ids = [int(d) for d in c.docs]
    context = {d: ",".join(f"{a}:{state.get((a, d), 'spans')}" for a in sorted(holders) if d in holders[a])
               for d in doc_ids}
    layer_ids = [by_name[n] for n in c.annotators]
    for x, layer in zip(layer_ids, c.layers):
        dots = (layer.tag_counts.astype(np.int64) ** 2).sum(axis=1)
        for k in np.flatnonzero(layer.present).tolist():
            pair_rows.append(dict(document_id=doc_ids[k], layer_a=x, layer_b=x, tokens=int(c.n_tokens[k]),
                                  disagree=0, dot=int(dots[k]), accepted=accepted.get((x, doc_ids[k]), 0),
                                  context=context[doc_ids[k]], **dict.fromkeys(SPAN_COLS, 0)))
    for i, j in combinations(range(len(c.layers)), 2):
        _count_pair(c, c.layers[i], c.layers[j], layer_ids[i], layer_ids[j], doc_ids, context, pair_rows,
                    label_rows)


def _count_pair(c, a, b, id_a, id_b, doc_ids, context, pair_rows, label_rows) -> None:
    """One pair's rows, as `agreement._span_counts` and `_token_counts` count them, per document and label."""
    n_docs, n_labels = len(c.docs), max(len(c.labels), 1)
    shared = a.present & b.present
    if not shared.any():
        return
    cells = n_docs * n_labels
    in_a, in_b = shared[a.doc], shared[b.doc]
    ia, ib = exact_matches(a, b)
    extra = overlap_matches(a, b, shared, ia, ib, n_labels, c.stride)
    kb_a, kb_b = a.kb[ia], b.kb[ib]
    linked = (kb_a >= 0) | (kb_b >= 0)
    cell_a, cell_b = a.doc * n_labels + a.label, b.doc * n_labels + b.label
    span = [np.bincount(cell_a[in_a], minlength=cells), np.bincount(cell_b[in_b], minlength=cells),
            np.bincount(cell_a[ia], minlength=cells),
            np.bincount(np.concatenate([cell_a[ia], cell_a[extra]]), minlength=cells),
            np.bincount(cell_a[ia], linked, minlength=cells).astype(np.int64),
            np.bincount(cell_a[ia], linked & (kb_a == kb_b), minlength=cells).astype(np.int64)]
    nz = np.flatnonzero((a.tags != 0) | (b.tags != 0))
    nz = nz[shared[c.tok_doc[nz]]]
    ta, tb, doc = a.tags[nz].astype(np.int64), b.tags[nz].astype(np.int64), c.tok_doc[nz].astype(np.int64)
    disagree = np.bincount(doc, ta != tb, minlength=n_docs).astype(np.int64)
    both = (ta > 0) & (tb > 0) & ((ta - 1) // 2 == (tb - 1) // 2)
    block = np.bincount(((doc[both] * n_labels + (ta[both] - 1) // 2) * 2 + (ta[both] - 1) % 2) * 2
                        + (tb[both] - 1) % 2, minlength=cells * 4).reshape(cells, 4)
    ra, rb = a.tag_counts.astype(np.int64), b.tag_counts.astype(np.int64)
    tags = [ra[:, 1::2].reshape(-1), ra[:, 2::2].reshape(-1), rb[:, 1::2].reshape(-1), rb[:, 2::2].reshape(-1)]
    if not len(c.labels):
        tags = [np.zeros(cells, np.int64)] * 4
    table = np.stack(span + tags + [block[:, k] for k in range(4)], axis=1).reshape(n_docs, n_labels, -1)
    dots = (ra * rb).sum(axis=1)
    swap = id_a > id_b
    lo, hi = (id_b, id_a) if swap else (id_a, id_b)
    span_cols = [_SWAP.get(k, k) for k in SPAN_COLS] if swap else SPAN_COLS
    label_cols = [_SWAP.get(k, k) for k in LABEL_COLS] if swap else LABEL_COLS
    for k in np.flatnonzero(shared).tolist():
        d = doc_ids[k]
        totals = table[k, :, :6].sum(axis=0).tolist()
        pair_rows.append(dict(document_id=d, layer_a=lo, layer_b=hi, tokens=int(c.n_tokens[k]),
                              disagree=int(disagree[k]), dot=int(dots[k]), accepted=0, context=context[d],
                              **dict(zip(span_cols, totals))))
        for l in np.flatnonzero(table[k].any(axis=1)).tolist():
            label_rows.append(dict(document_id=d, layer_a=lo, layer_b=hi, label=c.labels[l],
                                   **dict(zip(label_cols, table[k, l].tolist()))))


def refresh(s: Session, documents: Iterable[int | None]) -> None:
    """Count `documents` again, replace their rows and move the totals by the difference; they leave
    the queue."""
    docs = sorted({d for d in documents if d is not None})
    conn = s.connection()
    for i in range(0, len(docs), _CHUNK * 4):
        chunk = docs[i:i + _CHUNK * 4]
        delta = _sums(conn, chunk, -1)
        for table in (AgreementPair, AgreementLabel, AgreementStale):
            conn.execute(delete(table.__table__).where(table.document_id.in_(chunk)))
        pairs, labels = count(s, chunk)
        for table, rows in ((AgreementPair, pairs), (AgreementLabel, labels)):
            for k in range(0, len(rows), 20_000):
                conn.execute(insert(table.__table__), rows[k:k + 20_000])
        for key, row in _sums(conn, chunk, 1).items():
            delta[key] = [x + y for x, y in zip(delta.get(key, [0] * len(LABEL_COLS)), row)]
        _add_totals(s, {k: v for k, v in delta.items() if any(v)})


def _sums(conn, chunk, sign) -> dict[tuple, list[int]]:
    """(pair, label, context) -> the documents' label rows summed (times `sign`)."""
    L, P = AgreementLabel, AgreementPair
    rows = conn.execute(select(L.layer_a, L.layer_b, L.label, P.context, *(func.sum(getattr(L, c)) for c in LABEL_COLS))
                        .join(P, and_(P.document_id == L.document_id, P.layer_a == L.layer_a, P.layer_b == L.layer_b))
                        .where(L.document_id.in_(chunk)).group_by(L.layer_a, L.layer_b, L.label, P.context))
    return {(a, b, lab, ctx): [sign * int(x) for x in v] for a, b, lab, ctx, *v in rows}


def _add_totals(s: Session, delta: dict[tuple, list[int]]) -> None:
    if not delta:
        return
    table = AgreementTotal.__table__
    stmt = (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    stmt = stmt.on_conflict_do_update(index_elements=["layer_a", "layer_b", "label", "context"],
                                      set_={c: table.c[c] + stmt.excluded[c] for c in LABEL_COLS})
    s.connection().execute(stmt, [dict(layer_a=a, layer_b=b, label=lab, context=ctx, **dict(zip(LABEL_COLS, row)))
                                  for (a, b, lab, ctx), row in sorted(delta.items())])
    T = AgreementTotal  # rows back to 0 (a label renamed, a document's states changed) go
    s.connection().execute(delete(table).where(*(getattr(T, c) == 0 for c in LABEL_COLS[:2])))


def freshen(s: Session) -> int:
    """Count the queued documents (edits since the last read); how many there were."""
    docs = list(s.scalars(select(AgreementStale.document_id)))
    if docs:
        refresh(s, docs)
    return len(docs)


def rebuild(s: Session) -> None:
    """Empty the tables and count every document (an upgrade, a project written with raw SQL)."""
    conn = s.connection()
    for table in (AgreementPair, AgreementLabel, AgreementTotal, AgreementStale):
        conn.execute(delete(table.__table__))
    refresh(s, s.scalars(select(Document.id)))
