"""Export a layer through any registered format. Documents stream in chunks so that a corpus of
100,000 documents never sits in memory twice.

The output path is checked and replaced through io/outputs.py: never the project or another database,
an existing export only with `force`, and the result swapped in only when everything was written (a
failed, cancelled or killed export leaves the old output as it was).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import select

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, Document, DocumentState, Entity, Span
from annotator.core.db.store import Store
from annotator.core.editing.permissions import check_visible
from annotator.core.records import NIL, DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Cancelled, Errors
from annotator.formats import registry
from annotator.io import outputs

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
    """DocRecords of `ids` with the layer's spans (kb_id from the linked entity, or "NIL").

    Read a chunk of documents at a time with two plain SELECTs on the connection (rows as tuples, no
    ORM loading): memory stays bounded by the chunk, whatever the corpus."""
    annotator = layer_id(store, layer)
    docs_q = select(Document.id, Document.name, Document.title, Document.text, Document.meta, Document.tokens)
    spans_q = (select(Span.document_id, Span.start, Span.end, Span.label, Span.status, Span.nil, Entity.kb_id)
               .outerjoin(Entity, Entity.id == Span.entity_id))
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        with store.Session() as s:
            conn = s.connection()
            docs = conn.execute(docs_q.where(Document.id.in_(chunk)).order_by(Document.id)).all()
            rows = conn.execute(spans_q.where(Span.annotator_id == annotator, Span.document_id.in_(chunk))
                                .order_by(Span.document_id, Span.start, Span.end, Span.label)).all()
        by_doc: dict[int, list[SpanRecord]] = {}
        for doc_id, start, end, label, status, nil, kb_id in rows:
            by_doc.setdefault(doc_id, []).append(SpanRecord(start, end, label, NIL if nil else kb_id, status))
        for doc_id, name, title, text, meta, tokens in docs:
            flat = memoryview(tokens).cast("i")
            yield DocRecord(name=name, text=text, title=title, meta=meta or {}, spans=by_doc.get(doc_id, []),
                            annotator=layer, tokens=list(zip(flat[0::2], flat[1::2])))


def export(store: Store, fmt: str, out: str | Path, *, layer: str, status: str = "all",
           viewer: str | None = None, progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] = lambda: False, force: bool = False) -> FormatReport:
    """Write the layer's documents to `out` in format `fmt`.

    `progress(done, total)` is called with (0, total) first and after each document read;
    `cancelled()` true stops the export with `Cancelled`, nothing written. With `viewer`, the layer
    must be one they may see (blind annotation: E163). An existing output is replaced only with
    `force` (E046); a selection of no document writes nothing (E048)."""
    kind = registry.info(fmt)
    writer = registry.get(fmt)  # a knowledge-base format's write() refuses documents (E042)
    ids = document_ids(store, layer, status)
    if viewer is not None:
        with store.Session() as s:
            check_visible(s, viewer, layer)
    out = Path(out)
    if kind.folder and out.exists() and not out.is_dir():
        raise AnnotatorError(Errors.E106.format(fmt=fmt, path=out, reason="it is a file"))
    if not kind.folder and out.is_dir():
        raise AnnotatorError(Errors.E043.format(path=out, reason="it is a folder"))
    outputs.check(out, project=store.path, force=force, folder=kind.folder)
    if not ids:
        which = "finished (--status done)" if status == "done" else "opened"
        raise AnnotatorError(Errors.E048.format(layer=layer, which=which))

    def counted() -> Iterator[DocRecord]:
        if progress:
            progress(0, len(ids))
        for n, rec in enumerate(records(store, layer, ids), start=1):
            if cancelled():
                raise Cancelled()
            yield rec
            if progress:
                progress(n, len(ids))

    def write(path: Path) -> FormatReport:
        report = writer.write(counted(), path)
        if cancelled():
            raise Cancelled()
        return report

    try:
        return outputs.replace(out, write, folder=kind.folder)
    except OSError as e:
        raise AnnotatorError(Errors.E043.format(path=out, reason=e.strerror or e)) from None


def summary(report: FormatReport, out: str | Path) -> list[str]:
    """What an export did, for the command line and the window's status bar."""
    lines = [f"Wrote {report.documents} document(s), {report.spans} span(s) to {out}."]
    if report.misaligned:
        lines.append(f"{len(report.misaligned)} span(s) are not on token boundaries and were left out, e.g.: "
                     + "; ".join(f"{d} {s}-{e} {t!r}" for d, s, e, t in report.misaligned[:5]))
    return lines
