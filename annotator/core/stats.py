"""Corpus figures for `annotator stats`: documents, spans per layer and label, how many of each
label's spans are linked, suggested a link, NIL or unlinked, progress per annotator, and how each
analyst changed the model's suggestions (`provenance`)."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func, select

from annotator.core.db.models import Annotator, Document, DocumentState, Span
from annotator.core.db.store import Store
from annotator.core.kb.mentions import link_stats
from annotator.core.review.provenance import provenance


def stats(store: Store) -> dict:
    with store.Session() as s:
        n_docs = s.scalar(select(func.count()).select_from(Document))
        layers: dict[str, dict] = {}
        ids: dict[str, int] = {}
        q = (select(Annotator.id, Annotator.name, Span.label, Span.status, func.count())
             .join(Span, Span.annotator_id == Annotator.id)
             .group_by(Annotator.id, Annotator.name, Span.label, Span.status))
        for annotator_id, name, label, status, n in s.execute(q):
            ids[name] = annotator_id
            layer = layers.setdefault(name, {"spans": 0, "suggested": 0, "by_label": {}})
            layer["spans"] += n
            if status == "suggested":
                layer["suggested"] += n
            layer["by_label"][label] = layer["by_label"].get(label, 0) + n
        for name, layer in layers.items():
            layer["links"] = {label: asdict(counts) for label, counts in link_stats(s, ids[name]).items()}
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
