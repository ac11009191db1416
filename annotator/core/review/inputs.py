"""Agreement read from the project: which layers and documents are compared, as columns.

Agreement counts decisions, not suggestions (DESIGN.md, "What counts as an annotation"): a layer holds
a document when its annotator finished it (DocumentState `done`; with status "all" also `in_progress`),
or when the layer has accepted spans in it and no DocumentState at all (a layer written straight into
the project, e.g. by an older import: a colleague's finished work). Importing a colleague's file
records the state itself, `done` unless the file says otherwise (Prodigy `answer` reject/ignore).
Only accepted spans count: an untouched suggestion is the model's, so a person who only opened
documents agrees with nobody. A document counts when two or more of the compared layers hold it.
Spans and tokens go to `agreement.compute` as columns (`SpanTable`, token arrays straight from the
packed bytes), so 10^6 spans make no 10^6 objects.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from annotator.core.db.annotators import GOLD, known_annotators
from annotator.core.db.models import Annotator, Document, DocumentState, Entity, Label, Span
from annotator.core.db.store import Store
from annotator.core.editing.permissions import check_reviewer_view
from annotator.core.records import NIL, SpanRecord
from annotator.core.review.agreement import AgreementReport, compute
from annotator.core.review.arrays import SpanTable
from annotator.core.review.columns import int_columns
from annotator.core.review.pooled import stored_agreement
from annotator.errors import AnnotatorError, Errors

_CHUNK = 500  # ids per IN (...) list


# --- agreement over the project

def _resolve_layers(session: Session, annotators: Iterable[str] | None) -> list[tuple[int, str]]:
    if annotators is not None:
        names = list(dict.fromkeys(annotators))
        found = dict(session.execute(select(Annotator.name, Annotator.id).where(Annotator.name.in_(names))).all())
        for name in names:
            if name not in found:
                raise AnnotatorError(Errors.E050.format(name=name, known=known_annotators(session)))
        chosen = sorted((found[n], n) for n in names)
    else:
        chosen = sorted((i, n) for i, n in _people(session))
    if len(chosen) < 2:
        names = ", ".join(sorted(n for _, n in chosen))
        raise AnnotatorError(Errors.E154.format(n=len(chosen), names=f" ({names})" if names else ""))
    return [(i, n) for i, n in chosen]


def _people(session: Session) -> list[tuple[int, str]]:
    opened = select(DocumentState.document_id).where(DocumentState.annotator_id == Annotator.id).exists()
    labelled = select(Span.id).where(Span.annotator_id == Annotator.id).exists()
    return list(session.execute(select(Annotator.id, Annotator.name)
                                .where(~Annotator.is_model, Annotator.name != GOLD, opened | labelled)
                                .order_by(Annotator.name)).all())


def people_layers(session: Session) -> list[str]:
    """The people's layers (no model, no gold) holding at least one document, by name: what
    agreement compares by default."""
    return [n for _, n in _people(session)]


def _chunks(ids: list, n: int = _CHUNK):
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def span_columns(session: Session, layer_ids: list[int], last, *, accepted_only: bool = False
                 ) -> tuple[list[np.ndarray], list[str]]:
    """(annotator, document, start, end, label, `last`) columns of the layers' spans (only the
    accepted ones with `accepted_only`), and the label names the label codes index (the scheme's,
    then any label in use outside it)."""
    label_names = list(session.scalars(select(Label.name).order_by(Label.position, Label.name)))
    # whole layers are most of the table: SQLite reads it in order (`+ 0`: no index on the layer)
    # rather than jumping from each index entry to its row, half the time at 9 x 10^6 spans
    layer = Span.annotator_id + 0 if session.get_bind().dialect.name == "sqlite" else Span.annotator_id
    where = layer.in_(layer_ids)
    if accepted_only:
        where = where & (Span.status == "accepted")

    def read():
        code = (case({name: i for i, name in enumerate(label_names)}, value=Span.label, else_=-1)
                if label_names else literal(-1))
        return int_columns(session, (Span.annotator_id, Span.document_id, Span.start, Span.end, code, last), where)

    cols = read()
    if (cols[4] < 0).any():  # labels missing from the scheme (rare): read again with them coded too
        label_names += sorted(set(session.scalars(select(Span.label).distinct().where(
            where, Span.label.not_in(label_names)))))
        cols = read()
    return cols, label_names


STATUSES = ("done", "all")  # which documents enter: finished ones, or also those in progress


def agreement_inputs(session: Session, annotators: Iterable[str] | None = None, status: str = "done"
                     ) -> tuple[dict[str, SpanTable], dict[str, np.ndarray]]:
    """The layers (default: every person's layer holding a document; not the model's, not gold)
    and the tokens of the documents two or more of them hold (see the module docstring), ready
    for `agreement.compute`."""
    chosen = _resolve_layers(session, annotators)
    ids = [i for i, _ in chosen]
    kb = case((Span.nil, -2), else_=func.coalesce(Span.entity_id, -1))  # -2: NIL, -1: not linked
    (ann, doc, start, end, label, kb), label_names = span_columns(session, ids, kb, accepted_only=True)

    # which layer holds which document: finished (DocumentState), or accepted spans and no state
    entered = ("done",) if status == "done" else ("done", "in_progress")
    states = session.execute(select(DocumentState.annotator_id, DocumentState.document_id, DocumentState.status)
                             .where(DocumentState.annotator_id.in_(ids))).all()
    with_state = np.array([(a << 32) | d for a, d, _ in states], np.int64)
    finished = np.array([(a << 32) | d for a, d, st in states if st in entered], np.int64)
    span_pairs = np.unique((ann << 32) | doc)
    pairs = np.union1d(finished, span_pairs[~np.isin(span_pairs, with_state)])  # layer << 32 | document
    held_docs, n_layers = np.unique(pairs & 0xFFFFFFFF, return_counts=True)
    counted = held_docs[n_layers >= 2]

    names: dict[int, str] = {}
    tokens: dict[str, np.ndarray] = {}
    for chunk in _chunks(counted.tolist()):
        for d, name, packed in session.execute(select(Document.id, Document.name, Document.tokens)
                                               .where(Document.id.in_(chunk))):
            names[d] = name
            tokens[name] = np.frombuffer(packed, dtype="<i4").reshape(-1, 2)

    linked = np.unique(kb[kb >= 0]).tolist()
    kb_of: dict[int, str] = {}
    for chunk in _chunks(linked):
        kb_of.update(session.execute(select(Entity.id, Entity.kb_id).where(Entity.id.in_(chunk))).all())
    kb_ids = np.array(linked, np.int64)
    kb_names = [kb_of.get(e, f"#{e}") for e in linked] + [NIL]
    kb_index = np.where(kb == -2, len(linked), np.searchsorted(kb_ids, np.maximum(kb, 0)))
    kb_index[kb == -1] = -1

    layers = {}
    in_held = np.zeros(int(doc.max(initial=0)) + 1, bool)  # by document id: a lookup, not np.isin (4x faster)
    for layer_id, name in chosen:
        held = np.intersect1d(pairs[(pairs >> 32) == layer_id] & 0xFFFFFFFF, counted)
        in_held[:] = False
        in_held[held[held < len(in_held)]] = True
        mine = np.flatnonzero((ann == layer_id) & in_held[doc])  # not its unfinished documents
        layers[name] = SpanTable(
            docs=[names[d] for d in held.tolist()], doc=np.searchsorted(held, doc[mine]),
            start=start[mine], end=end[mine], label=label[mine], label_names=label_names,
            kb=kb_index[mine], kb_names=kb_names)
    return layers, tokens


def project_agreement(store: Store, annotators: Iterable[str] | None = None,
                      labels: Iterable[str] | None = None, status: str = "done",
                      viewer: str | None = None) -> AgreementReport:
    """`annotator agreement`: agreement of the project's layers (see `agreement_inputs`) over the
    documents both of a pair finished (`status` "all": or have in progress). With `viewer`, only
    for a reviewer (E164: it shows colleagues' work). Summed from the stored counts
    (review/pooled.py); computed in full from the spans where those cannot answer."""
    with store.Session() as s:
        if viewer is not None:
            check_reviewer_view(s, viewer, "agreement")
        if labels is not None:
            labels = list(dict.fromkeys(labels))
            scheme = list(s.scalars(select(Label.name).order_by(Label.position, Label.name)))
            for label in labels:
                if label not in scheme:
                    raise AnnotatorError(Errors.E031.format(label=label, known=", ".join(scheme)))
        report = stored_agreement(s, _resolve_layers(s, annotators), status, labels)
        if report is not None:
            s.commit()  # the documents counted from the queue stay counted
            return report
        layers, tokens = agreement_inputs(s, annotators, status)
    return compute(layers, tokens, labels)


# --- one document's layers, and the decisions taken on it

def document_layers(session: Session, document_id: int, annotators: Iterable[str]) -> dict[str, list[SpanRecord]]:
    """annotator name -> their accepted spans of the document as SpanRecords (kb_id, or "NIL"). An
    unchecked suggestion is nobody's decision: two layers holding the same one did not agree on it,
    and it is no version to take into gold."""
    ids = {r.name: r.id for r in session.scalars(select(Annotator).where(Annotator.name.in_(list(annotators))))}
    out: dict[str, list[SpanRecord]] = {name: [] for name in annotators}
    if not ids:
        return out
    name_of = {i: n for n, i in ids.items()}
    rows = session.execute(select(Span.annotator_id, Span.start, Span.end, Span.label, Span.nil, Span.status,
                                  Entity.kb_id)
                           .outerjoin(Entity, Entity.id == Span.entity_id)
                           .where(Span.document_id == document_id, Span.annotator_id.in_(list(ids.values())),
                                  Span.status == "accepted")
                           .order_by(Span.start, Span.end, Span.label, Span.id))
    for r in rows:
        out[name_of[r.annotator_id]].append(SpanRecord(r.start, r.end, r.label, NIL if r.nil else r.kb_id, r.status))
    return out
