"""Export a layer through any registered format. Documents stream in chunks so that a corpus of
100,000 documents never sits in memory twice."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import select

from annotator.core.layers import MODEL_LAYER
from annotator.core.models import Annotator, Document, DocumentState, Entity, Span
from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.core.store import Store
from annotator.core.text import Tokens
from annotator.errors import AnnotatorError, Errors

CHUNK = 1000
STATUSES = ("done", "all")


def layer_id(store: Store, layer: str) -> int:
    with store.Session() as s:
        found = s.scalar(select(Annotator.id).where(Annotator.name == layer))
        if found is None:
            known = ", ".join(s.scalars(select(Annotator.name).order_by(Annotator.name))) or "(none yet)"
            raise AnnotatorError(Errors.E041.format(layer=layer, known=known))
        return found


def document_ids(store: Store, layer: str, status: str = "all") -> list[int]:
    """The documents a layer covers: those its annotator opened (`all`) or finished (`done`);
    the model layer covers every document."""
    if status not in STATUSES:
        raise AnnotatorError(Errors.E034.format(status=status))
    annotator = layer_id(store, layer)
    with store.Session() as s:
        if layer == MODEL_LAYER and status == "all":
            q = select(Document.id)
        else:
            q = select(DocumentState.document_id).where(DocumentState.annotator_id == annotator)
            if status == "done":
                q = q.where(DocumentState.status == "done")
        return sorted(s.scalars(q))


def records(store: Store, layer: str, ids: list[int]) -> Iterator[DocRecord]:
    """DocRecords of `ids` with the layer's spans (kb_id from the linked entity, or "NIL")."""
    annotator = layer_id(store, layer)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        with store.Session() as s:
            docs = s.execute(select(Document.id, Document.name, Document.title, Document.text, Document.meta,
                                    Document.tokens).where(Document.id.in_(chunk)).order_by(Document.id)).all()
            rows = s.execute(select(Span.document_id, Span.start, Span.end, Span.label, Span.status, Span.nil,
                                    Entity.kb_id)
                             .outerjoin(Entity, Entity.id == Span.entity_id)
                             .where(Span.annotator_id == annotator, Span.document_id.in_(chunk))
                             .order_by(Span.document_id, Span.start, Span.end, Span.label)).all()
        by_doc: dict[int, list[SpanRecord]] = {}
        for r in rows:
            kb_id = "NIL" if r.nil else r.kb_id
            by_doc.setdefault(r.document_id, []).append(SpanRecord(r.start, r.end, r.label, kb_id, r.status))
        for d in docs:
            yield DocRecord(name=d.name, text=d.text, title=d.title, meta=d.meta or {},
                            spans=by_doc.get(d.id, []), annotator=layer, tokens=Tokens(d.tokens).pairs())


def export(store: Store, fmt: str, out: str | Path, *, layer: str, status: str = "all",
           progress: Callable[[int, int], None] | None = None) -> FormatReport:
    """Write the layer's documents to `out` in format `fmt`."""
    from annotator.formats import registry

    writer = registry.get(fmt)
    if not hasattr(writer, "write"):
        raise AnnotatorError(Errors.E042.format(fmt=fmt, action="written"))
    ids = document_ids(store, layer, status)

    def counted() -> Iterator[DocRecord]:
        for n, rec in enumerate(records(store, layer, ids), start=1):
            yield rec
            if progress:
                progress(n, len(ids))

    out = Path(out)
    try:
        return writer.write(counted(), out)
    except OSError as e:
        raise AnnotatorError(Errors.E043.format(path=out, reason=e.strerror or e)) from None
