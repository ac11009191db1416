"""Corpus figures for `annotator stats`: documents, spans per layer and label, how many of each
label's spans are linked, suggested a link, NIL or unlinked, progress per annotator, and how each
analyst changed the model's suggestions (`provenance`)."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func, select

from annotator.core.db.models import Annotator, Document, DocumentState, Span
from annotator.core.db.store import Store
from annotator.core.kb.mentions import LinkCounts
from annotator.core.db.provenance_counts import provenance


def _link_kinds(status: str, nil: bool, n: int, with_entity: int) -> list[tuple[str, int]]:
    """How `n` spans of one status and NIL flag split into link states, as `link_kind` tells them."""
    if nil:
        return [("nil", n)]
    return [("unlinked", n - with_entity), ("linked" if status == "accepted" else "suggested", with_entity)]


def stats(store: Store) -> dict:
    with store.Session() as s:
        n_docs = s.scalar(select(func.count()).select_from(Document))
        layers: dict[str, dict] = {}
        links: dict[str, dict[str, dict[str, int]]] = {}
        # one pass over the covering index ix_spans_layer_counts, grouped by a prefix of it so that no sort
        # is needed: layers, labels and link states at once (count(entity_id): the linked or suggested links)
        q = (select(Span.annotator_id, Span.label, Span.status, Span.nil, func.count(), func.count(Span.entity_id))
             .group_by(Span.annotator_id, Span.label, Span.status, Span.nil))
        names = dict(s.execute(select(Annotator.id, Annotator.name)).all())
        for annotator_id, label, status, nil, n, with_entity in s.execute(q):
            name = names[annotator_id]
            layer = layers.setdefault(name, {"spans": 0, "suggested": 0, "by_label": {}})
            layer["spans"] += n
            if status == "suggested":
                layer["suggested"] += n
            layer["by_label"][label] = layer["by_label"].get(label, 0) + n
            counts = links.setdefault(name, {}).setdefault(label, {})
            for k, m in _link_kinds(status, nil, n, with_entity):
                counts[k] = counts.get(k, 0) + m
        for name, layer in layers.items():
            layer["links"] = {label: asdict(LinkCounts(**c)) for label, c in sorted(links[name].items())}
        progress: dict[str, dict] = {}
        q = (select(Annotator.name, DocumentState.status, func.count())
             .join(DocumentState, DocumentState.annotator_id == Annotator.id)
             .group_by(Annotator.name, DocumentState.status))
        for name, status, n in s.execute(q):
            progress.setdefault(name, {"done": 0, "in_progress": 0, "new": 0})[status] = n
        changes = provenance(s)
    for layer in layers.values():
        layer["by_label"] = dict(sorted(layer["by_label"].items()))
    return {"documents": n_docs, "layers": dict(sorted(layers.items())),
            "annotators": dict(sorted(progress.items())), "provenance": changes}
