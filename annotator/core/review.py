"""Review: who may see and edit which layer, agreement read from the project, and the gold layer.

Roles. An annotator's role is `annotator` or `reviewer`. Annotation is blind: an annotator sees their
own layer and the model's suggestions; a reviewer sees every layer. The gold layer is the annotator
named "gold" (role reviewer, never a person's layer), and only reviewers may edit it: `check_command`
is the guard for the command stack, and the adjudication commands (`core/adjudication.py`) check too.

Agreement from the project. A layer holds a document its annotator opened (a DocumentState) or
has spans in (imported layers are never "opened"); a document counts when two or more of the
compared layers hold it. Every span of the layer counts, suggestions left as they are included:
the layer is what the annotator left behind. Spans and tokens go to `agreement.compute` as columns
(`SpanTable`, token arrays straight from the packed bytes), so 10^6 spans make no 10^6 objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import bindparam, case, func, insert, literal, select
from sqlalchemy.orm import Session

from annotator.core.layers import get_annotator
from annotator.core.models import Annotator, Document, DocumentState, Entity, Event, Label, Span
from annotator.core.records import SpanRecord
from annotator.core.store import Store
from annotator.errors import AnnotatorError, Errors

if TYPE_CHECKING:  # numpy and the agreement code load with the first agreement, not with every edit
    import numpy as np

    from annotator.core.agreement import AgreementReport
    from annotator.core.agreement_arrays import SpanTable

GOLD = "gold"
ROLES = ("annotator", "reviewer")
NIL = "NIL"
# Commands whose events record an adjudication decision (core/adjudication.py registers them).
DECISIONS = ("adjudicate_take", "adjudicate_reject", "adjudicate_edit")
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class LayerInfo:
    id: int
    name: str
    role: str
    is_model: bool

    @property
    def is_gold(self) -> bool:
        return self.name == GOLD


def _info(row: Annotator) -> LayerInfo:
    return LayerInfo(row.id, row.name, row.role, row.is_model)


def _annotator(session: Session, who: Annotator | LayerInfo | str | int) -> Annotator:
    if isinstance(who, Annotator):
        return who
    if isinstance(who, LayerInfo):
        who = who.id
    row = (session.get(Annotator, who) if isinstance(who, int)
           else session.scalar(select(Annotator).where(Annotator.name == who)))
    if row is None:
        raise AnnotatorError(Errors.E050.format(name=who, known=known_annotators(session)))
    return row


def known_annotators(session: Session) -> str:
    return ", ".join(session.scalars(select(Annotator.name).order_by(Annotator.name))) or "(none yet)"


# --- roles and visibility

def is_reviewer(session: Session, annotator_id: int) -> bool:
    return session.scalar(select(Annotator.role).where(Annotator.id == annotator_id)) == "reviewer"


def visible_layers(session: Session, annotator: Annotator | LayerInfo | str | int) -> list[LayerInfo]:
    """The layers `annotator` may see, by name: every layer for a reviewer; else their own and the
    model's (blind annotation: no colleague's layer, and not gold). A user not in the project yet
    has no layer of their own: they see the model's."""
    if isinstance(annotator, str) and session.scalar(select(Annotator.id).where(Annotator.name == annotator)) is None:
        row = None
    else:
        row = _annotator(session, annotator)
    q = select(Annotator).order_by(Annotator.name)
    if row is None:
        q = q.where(Annotator.is_model)
    elif row.role != "reviewer":
        q = q.where((Annotator.id == row.id) | Annotator.is_model)
    return [_info(r) for r in session.scalars(q)]


def check_visible(session: Session, viewer: Annotator | LayerInfo | str | int, layer: str) -> None:
    """E163 unless `viewer` may see `layer` (E050 for an unknown layer)."""
    target = _annotator(session, layer)
    if target.id not in {info.id for info in visible_layers(session, viewer)}:
        name = viewer if isinstance(viewer, str) else _annotator(session, viewer).name
        raise AnnotatorError(Errors.E163.format(viewer=name, layer=target.name))


@dataclass(frozen=True)
class RoleChange:
    name: str
    role: str
    before: str | None  # None: the annotator was created with this role


def set_role(store: Store, name: str, role: str, *, by: str | None = None) -> RoleChange:
    """Give `name` the role `role` (created if new: a team can be set up before anyone opens the
    project). Recorded in the history as a `set_role` event of `by` (default: `name`)."""
    if role not in ROLES:
        raise AnnotatorError(Errors.E155.format(role=role))
    store.check_admin("change roles")  # on a team server; the database would refuse anyway
    with store.atomic() as s:
        row = s.scalar(select(Annotator).where(Annotator.name == name))
        if row is not None and (row.is_model or row.name == GOLD):
            raise AnnotatorError(Errors.E157.format(name=name, what="model" if row.is_model else "gold"))
        before = None if row is None else row.role
        row = row or get_annotator(s, name, role=role)
        row.role = role
        actor = get_annotator(s, by).id if by else row.id
        s.execute(insert(Event).values(annotator_id=actor, command="set_role",
                                       payload={"annotator": name, "role": role, "before": before}))
    return RoleChange(name, role, before)


def roles(store: Store) -> list[LayerInfo]:
    with store.Session() as s:
        return [_info(r) for r in s.scalars(select(Annotator).order_by(Annotator.name))]


def gold_annotator(session: Session) -> Annotator:
    """The gold layer's annotator, created on first use; its role is always reviewer."""
    row = get_annotator(session, GOLD, role="reviewer")
    if row.role != "reviewer":  # e.g. a file imported --as-layer gold before any review
        row.role = "reviewer"
    return row


def check_edit(session: Session, actor_id: int, layer_id: int) -> None:
    """E156 when `actor_id` would edit the gold layer without being a reviewer."""
    if session.scalar(select(Annotator.name).where(Annotator.id == layer_id)) == GOLD:
        check_reviewer(session, actor_id)


def check_reviewer(session: Session, actor_id: int) -> None:
    """E156 unless `actor_id` is a reviewer."""
    row = session.get(Annotator, actor_id)
    if row is None or row.role != "reviewer":
        raise AnnotatorError(Errors.E156.format(name=row.name if row else actor_id))


_LAYER_NAME = select(Annotator.name).where(Annotator.id == bindparam("annotator_id"))
_SPAN_LAYER_NAME = (select(Annotator.name).join(Span, Span.annotator_id == Annotator.id)
                    .where(Span.id == bindparam("span_id")))


def check_command(session: Session, actor_id: int, command: Any) -> None:
    """The command stack's guard (called before `command.do`): only reviewers edit gold.

    A command edits the layer named by its `annotator_id`, the layer of its `span_id`, or gold
    when it says so (`edits_gold`, the adjudication commands). It runs on every edit, so: one
    prepared primary-key look-up per layer, on the session's connection."""
    if getattr(command, "edits_gold", False):
        check_reviewer(session, actor_id)
        return
    conn = session.connection()
    names = []
    layer = getattr(command, "annotator_id", None)
    if isinstance(layer, int) and layer != actor_id:  # one's own layer (the usual edit) needs no look-up
        names.append(conn.execute(_LAYER_NAME, {"annotator_id": layer}).scalar())
    if isinstance(getattr(command, "span_id", None), int):
        names.append(conn.execute(_SPAN_LAYER_NAME, {"span_id": command.span_id}).scalar())
    if GOLD in names:
        check_reviewer(session, actor_id)


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


def int_columns(session: Session, cols, where) -> list[np.ndarray]:
    """Integer-valued columns of the spans matching `where`, as int64 arrays, in one scan.

    SQLite gets each column as one comma-joined string (one C pass, no Python object per value);
    other databases fetch rows."""
    import numpy as np

    if session.get_bind().dialect.name == "sqlite":
        texts = session.execute(select(*(func.group_concat(c) for c in cols)).where(where)).one()
        return [np.array([], np.int64) if t is None else np.fromstring(t, dtype=np.int64, sep=",")
                for t in texts]
    rows = session.execute(select(*cols).where(where)).all()
    return [np.array(c, np.int64) for c in zip(*rows)] if rows else [np.array([], np.int64) for _ in cols]


def span_columns(session: Session, layer_ids: list[int], last) -> tuple[list[np.ndarray], list[str]]:
    """(annotator, document, start, end, label, `last`) columns of the layers' spans, and the label
    names the label codes index (the scheme's, then any label in use outside it)."""
    label_names = list(session.scalars(select(Label.name).order_by(Label.position, Label.name)))
    where = Span.annotator_id.in_(layer_ids)

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


def agreement_inputs(session: Session, annotators: Iterable[str] | None = None
                     ) -> tuple[dict[str, SpanTable], dict[str, np.ndarray]]:
    """The layers (default: every person's layer holding a document; not the model's, not gold)
    and the tokens of the documents two or more of them hold, ready for `agreement.compute`."""
    import numpy as np

    from annotator.core.agreement_arrays import SpanTable

    chosen = _resolve_layers(session, annotators)
    ids = [i for i, _ in chosen]
    kb = case((Span.nil, -2), else_=func.coalesce(Span.entity_id, -1))  # -2: NIL, -1: not linked
    (ann, doc, start, end, label, kb), label_names = span_columns(session, ids, kb)

    # which layer holds which document: opened, or spans in it
    states = session.execute(select(DocumentState.annotator_id, DocumentState.document_id)
                             .where(DocumentState.annotator_id.in_(ids))).all()
    state_pairs = np.array([(a << 32) | d for a, d in states], np.int64)
    pairs = np.unique(np.concatenate([state_pairs, (ann << 32) | doc]))  # layer << 32 | document
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

    in_counted = np.isin(doc, counted)
    layers = {}
    for layer_id, name in chosen:
        held = np.intersect1d(pairs[(pairs >> 32) == layer_id] & 0xFFFFFFFF, counted)
        mine = np.flatnonzero((ann == layer_id) & in_counted)
        layers[name] = SpanTable(
            docs=[names[d] for d in held.tolist()], doc=np.searchsorted(held, doc[mine]),
            start=start[mine], end=end[mine], label=label[mine], label_names=label_names,
            kb=kb_index[mine], kb_names=kb_names)
    return layers, tokens


def project_agreement(store: Store, annotators: Iterable[str] | None = None,
                      labels: Iterable[str] | None = None) -> AgreementReport:
    """`annotator agreement`: agreement of the project's layers (see `agreement_inputs`)."""
    from annotator.core.agreement import compute

    with store.Session() as s:
        if labels is not None:
            labels = list(dict.fromkeys(labels))
            scheme = list(s.scalars(select(Label.name).order_by(Label.position, Label.name)))
            for label in labels:
                if label not in scheme:
                    raise AnnotatorError(Errors.E031.format(label=label, known=", ".join(scheme)))
        layers, tokens = agreement_inputs(s, annotators)
    return compute(layers, tokens, labels)


# --- one document's layers, and the decisions taken on it

def document_layers(session: Session, document_id: int, annotators: Iterable[str]) -> dict[str, list[SpanRecord]]:
    """annotator name -> their spans of the document as SpanRecords (kb_id, or "NIL")."""
    ids = {r.name: r.id for r in session.scalars(select(Annotator).where(Annotator.name.in_(list(annotators))))}
    out: dict[str, list[SpanRecord]] = {name: [] for name in annotators}
    if not ids:
        return out
    name_of = {i: n for n, i in ids.items()}
    rows = session.execute(select(Span.annotator_id, Span.start, Span.end, Span.label, Span.nil, Span.status,
                                  Entity.kb_id)
                           .outerjoin(Entity, Entity.id == Span.entity_id)
                           .where(Span.document_id == document_id, Span.annotator_id.in_(list(ids.values())))
                           .order_by(Span.start, Span.end, Span.label, Span.id))
    for r in rows:
        out[name_of[r.annotator_id]].append(SpanRecord(r.start, r.end, r.label, NIL if r.nil else r.kb_id, r.status))
    return out


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
    """The decisions in force for the document (undone ones left out), oldest first."""
    rows = session.execute(select(Event.id, Annotator.name, Event.created_at, Event.command, Event.payload)
                           .join(Annotator, Annotator.id == Event.annotator_id)
                           .where(Event.document_id == document_id, Event.command.in_(DECISIONS), ~Event.undone)
                           .order_by(Event.id))
    return [Decision(r.id, r.name, r.created_at, r.command.removeprefix("adjudicate_"), r.payload["start"],
                     r.payload["end"], r.payload.get("kind", ""), r.payload.get("taken"),
                     list(r.payload.get("rows") or []))
            for r in rows]


def start_adjudication(store: Store, document_id: int, reviewer, annotators: Iterable[str]):
    """See `adjudication.start_adjudication` (kept there: it builds commands)."""
    from annotator.core.adjudication import start_adjudication as start

    return start(store, document_id, reviewer, annotators)
