"""Export a layer through any registered format. Documents stream in chunks so that a corpus of
100,000 documents never sits in memory twice.

What is exported (DESIGN.md, "What counts as an annotation"): by default the documents a person
marked done, with the spans they accepted; `status="all"` adds documents in progress. Unchecked
suggestions only with `suggestions=True`, marked as such by the formats that can say so
(registry `Format.status`); the others leave them out and the report counts them. The model layer
is never a person's decision: all of it is suggestions.

An unchecked suggestion left out is not a rejection either (a person's rejection deletes the span):
its extent travels as `DocRecord.unchecked`, and a token format marks its tokens "not annotated"
(spaCy: missing, so `spacy train` neither learns it nor learns against it). A token format that
cannot (CoNLL: every token is O or an entity) leaves out the documents holding one rather than
write them as O; the report names them (E621 when that leaves nothing).

The output path is checked and replaced through io/outputs.py: never the project or another database,
an existing export only with `force`, and the result swapped in only when everything was written (a
failed, cancelled or killed export leaves the old output as it was).
"""

from __future__ import annotations

import gc
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator

from annotator.core import collector
from annotator.core.db.raw import marks, rows
from annotator.core.db.store import Store
from annotator.core.db.visibility import MODEL_LAYER, check_visible, known_layers
from annotator.core.records import CARRIED, NIL, DocRecord, FormatReport, StoredRecord
from annotator.core.words import plural
from annotator.errors import AnnotatorError, Cancelled, Errors
from annotator.formats import registry
from annotator.io import outputs

CHUNK = 1000
STATUSES = ("done", "all")
ACCEPTED, SUGGESTED = "accepted", "suggested"


@dataclass
class ExportReport(FormatReport):
    """The writer's report, plus the unchecked suggestions not written as spans and the documents a
    token format with no "missing" left out for them (`unchecked_line` says so)."""

    fmt: str = ""
    suggestions_left_out: int = 0  # unchecked suggestions not written as spans ...
    unchecked_documents: int = 0  # ... in this many documents
    documents_left_out: list[str] = field(default_factory=list)  # a token format with no "missing": whole
    notes_left_out: int = 0  # "Refers to" notes of written spans the format has no place for


def layer_id(store: Store, layer: str) -> int:
    with store.engine.connect() as conn:
        found = rows(conn, "SELECT id FROM annotators WHERE name = ?", [layer])
        if not found:
            raise AnnotatorError(Errors.E041.format(layer=layer, known=known_layers(conn)))
        return found[0][0]


def document_ids(store: Store, layer: str, status: str = "done", suggestions: bool = False) -> list[int]:
    """The documents a layer covers: those its annotator finished (`done`), or finished or has in
    progress (`all`; not those set back to new).
    The model layer holds only suggestions: every document with `suggestions`, else none."""
    if status not in STATUSES:
        raise AnnotatorError(Errors.E034.format(status=status))
    annotator = layer_id(store, layer)
    if layer == MODEL_LAYER and not suggestions:
        return []
    with store.engine.connect() as conn:
        if layer == MODEL_LAYER:
            found = rows(conn, "SELECT id FROM documents")
        else:
            # "all" is done and in progress: a document set back to new is none of this layer's work
            states = "('done')" if status == "done" else "('done', 'in_progress')"
            found = rows(conn, f"SELECT document_id FROM document_states WHERE annotator_id = ? AND status IN {states}",
                         [annotator])
    return sorted(r[0] for r in found)


_DOCS = "SELECT id, name, title, text, meta, tokens FROM documents WHERE id IN ({}) ORDER BY id"
_SPANS = (f"SELECT s.document_id, s.start, s.\"end\", s.label, CASE WHEN s.nil THEN '{NIL}' ELSE e.kb_id END, "
          "{status}, s.referent_note FROM spans s LEFT OUTER JOIN entities e ON e.id = s.entity_id "
          "WHERE s.annotator_id = ?{accepted} AND s.document_id IN ({ids}) "
          "ORDER BY s.document_id, s.start, s.\"end\", s.label")
# the extents of the suggestions left out, from the covering index ix_spans_document_layer alone
_UNCHECKED = ("SELECT document_id, start, \"end\" FROM spans WHERE annotator_id = ?{unchecked} AND document_id IN "
              "({ids}) ORDER BY document_id, start, \"end\"")


def records(store: Store, layer: str, ids: list[int], suggestions: bool = False) -> Iterator[DocRecord]:
    """DocRecords of `ids` with the layer's accepted spans (kb_id from the linked entity, or "NIL"),
    and its unchecked suggestions with `suggestions`; without, their extents are `DocRecord.unchecked`
    (not annotated: neither entity nor non-entity). A document with no span is a record too.

    Read a chunk of documents at a time with plain SELECTs through the driver (rows as tuples; no
    ORM: `annotator export` loads neither the models nor sqlalchemy.orm): memory stays bounded by the
    chunk, whatever the corpus. The next chunk is read in a thread meanwhile (`read_ahead`). The records
    are StoredRecords: their tokens stay the stored bytes and their spans the rows read until a writer
    reads `tokens` or `spans`."""
    annotator = layer_id(store, layer)
    accepted = "" if suggestions else f" AND s.status = '{ACCEPTED}'"
    # the model layer holds suggestions only: a constant in the SQL, as NIL is
    status = f"'{SUGGESTED}'" if layer == MODEL_LAYER else "s.status"
    unchecked = "" if layer == MODEL_LAYER else f" AND status != '{ACCEPTED}'"

    def read(chunk: list[int]) -> list[DocRecord]:
        with store.engine.connect() as conn:
            docs = rows(conn, _DOCS.format(marks(len(chunk))), chunk)
            found = rows(conn, _SPANS.format(status=status, accepted=accepted, ids=marks(len(chunk))),
                         [annotator, *chunk])
            left = [] if suggestions else rows(conn, _UNCHECKED.format(unchecked=unchecked, ids=marks(len(chunk))),
                                               [annotator, *chunk])
        by_doc = {doc_id: list(group) for doc_id, group in groupby(found, itemgetter(0))}
        left_by_doc = {doc_id: [(start, end) for _, start, end in group]
                       for doc_id, group in groupby(left, itemgetter(0))}
        out = []
        for doc_id, name, title, text, meta, tokens in docs:
            meta = dict((json.loads(meta) if isinstance(meta, str) else meta) or {})  # JSON: text on SQLite
            carried = meta.pop(CARRIED, {})  # what the source format had beyond spans: back to that format
            out.append(StoredRecord(name=name, text=text, title=title, meta=meta, annotator=layer, carried=carried,
                                    packed=bytes(tokens), span_rows=by_doc.get(doc_id, []),
                                    unchecked=left_by_doc.get(doc_id, [])))
        return out

    yield from read_ahead(read, [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)])


def _notes(rec: DocRecord) -> int:
    """How many of the record's spans carry a "Refers to" note (its rows as read, or its spans)."""
    stored = getattr(rec, "span_rows", None)
    return sum(1 for row in stored if row[6]) if stored is not None else sum(1 for sp in rec.spans if sp.note)


def read_ahead(read: Callable[[list[int]], list[DocRecord]], chunks: list[list[int]]) -> Iterator[DocRecord]:
    """The records of each chunk in order, the next chunk read in a thread while this one is used:
    SQLite lets go of the GIL while it steps, so reading overlaps the writer's work. One chunk ahead
    at most, so memory stays bounded; a consumer that stops early waits for that one read."""
    if not chunks:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-read") as pool:
        pending = pool.submit(read, chunks[0])
        for nxt in chunks[1:] + [None]:
            done = pending.result()
            pending = pool.submit(read, nxt) if nxt is not None else None
            yield from done


def export(store: Store, fmt: str, out: str | Path, *, layer: str, status: str = "done",
           suggestions: bool = False, viewer: str | None = None,
           progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] = lambda: False,
           force: bool = False, names: tuple[str | None, str | None] = (None, None)) -> ExportReport:
    """Write the layer's documents to `out` in format `fmt`.

    `progress(done, total)` is called with (0, total) first and after each document read;
    `cancelled()` true stops the export with `Cancelled`, nothing written. With `viewer`, the layer
    must be one they may see (blind annotation: E163). An existing output is replaced only with
    `force` (E046); a selection of no document writes nothing (E048). `status` "done" takes the
    documents marked done, "all" adds those in progress; `suggestions` adds the unchecked suggestions
    (see the module's docstring). `names`: Label Studio's (from_name, to_name), its Labels and Text tags'
    names in the project the file goes to (E624 for another format)."""
    kind = registry.info(fmt)
    options = {}
    if any(names):
        if fmt != "labelstudio":
            raise AnnotatorError(Errors.E624.format(fmt=fmt))
        options = {"from_name": names[0], "to_name": names[1]}
    writer = registry.get(fmt)
    if not kind.documents:  # a knowledge base: its write() refuses documents (E042), before any is read
        writer.write(iter(()), Path(out))
    ids = document_ids(store, layer, status, suggestions)
    if viewer is not None:
        with store.engine.connect() as conn:
            check_visible(conn, viewer, layer)
    out = Path(out)
    if kind.folder and out.exists() and not out.is_dir():
        raise AnnotatorError(Errors.E106.format(fmt=fmt, path=out, reason="it is a file"))
    if not kind.folder and out.is_dir():
        raise AnnotatorError(Errors.E043.format(path=out, reason="it is a folder"))
    outputs.check(out, project=store.path, force=force, folder=kind.folder)
    if not ids:
        raise nothing_selected(layer, status)
    left = ExportReport(fmt=fmt)  # what `counted` left out

    def counted() -> Iterator[DocRecord]:
        if progress:
            progress(0, len(ids))
        for n, rec in enumerate(records(store, layer, ids, suggestions), start=1):
            if cancelled():
                raise Cancelled()
            if not kind.status:  # the format cannot say "suggested": never pass one off as a decision
                kept = [sp for sp in rec.spans if sp.status == ACCEPTED]
                if len(kept) < len(rec.spans):
                    rec.unchecked = rec.unchecked + [(sp.start, sp.end) for sp in rec.spans if sp.status != ACCEPTED]
                    rec.spans = kept
            if rec.unchecked:
                left.suggestions_left_out += len(rec.unchecked)
                left.unchecked_documents += 1
                if kind.tokens and not kind.missing:  # its tokens would be O: a non-entity nobody decided
                    left.documents_left_out.append(rec.name)
                    rec = None
            if rec is not None:
                if not kind.notes:
                    left.notes_left_out += _notes(rec)
                yield rec
            if progress:
                progress(n, len(ids))
            if n % (10 * CHUNK) == 0:
                gc.collect(1)  # the two young generations: what the last chunks left (see `write`)

    def write(path: Path) -> ExportReport:
        # Automatic collections paused: a writer holds a batch of records (~10^5 lists, tuples and
        # spans) and they would walk it again and again (half the time of a 10,000-document export).
        # `counted` collects the two young generations every ten chunks instead, so a chunk's garbage
        # cycles (sessions, spaCy Docs) go within ten chunks; the pause is the process's, for as long.
        with collector.paused():
            report = writer.write(counted(), path, **options)
        if cancelled():
            raise Cancelled()
        if not report.documents and left.documents_left_out:
            raise AnnotatorError(Errors.E621.format(n=len(left.documents_left_out), fmt=fmt,
                                                    suggestions=left.suggestions_left_out))
        if not report.documents and report.unplaced_documents:
            example = next(f"{d} {s}-{e} {t!r}" for d, s, e, t in report.misaligned if d in report.unplaced_documents)
            raise AnnotatorError(Errors.E056.format(n=len(report.unplaced_documents), fmt=fmt, example=example))
        return ExportReport(documents=report.documents, spans=report.spans, misaligned=report.misaligned,
                            as_text=report.as_text, unplaced_documents=report.unplaced_documents,
                            fmt=fmt, suggestions_left_out=left.suggestions_left_out,
                            unchecked_documents=left.unchecked_documents,
                            documents_left_out=left.documents_left_out, notes_left_out=left.notes_left_out)

    try:
        return outputs.replace(out, write, folder=kind.folder)
    except OSError as e:
        raise AnnotatorError(Errors.E043.format(path=out, reason=e.strerror or e)) from None



def nothing_selected(layer: str, status: str) -> AnnotatorError:
    """E048, with what would select something."""
    if layer == MODEL_LAYER:
        which = "checked"
        hint = ("The model layer holds only unchecked suggestions, never a person's decision: add "
                "--include-suggestions (in the window: Include unchecked suggestions) to export them")
    else:
        which = "finished (--status done)" if status == "done" else "finished or in-progress (--status all)"
        hint = "Mark documents done, choose --status all or another layer"
    return AnnotatorError(Errors.E048.format(layer=layer, which=which, hint=hint))


def summary(report: FormatReport, out: str | Path) -> list[str]:
    """What an export did, for the command line and the window's status bar."""
    lines = [f"Wrote {plural(report.documents, 'document')}, {plural(report.spans, 'span')} to {out}."]
    if report.misaligned:
        are, were, overlap = ("is", "was", "overlaps") if len(report.misaligned) == 1 else ("are", "were", "overlap")
        lines.append(f"{plural(len(report.misaligned), 'span')} {are} not on token boundaries (or {overlap} another) "
                     f"and {were} left out, "
                     "e.g.: "
                     + "; ".join(f"{d} {s}-{e} {t!r}" for d, s, e, t in report.misaligned[:5]))
    if report.as_text:
        are = "is an integer" if len(report.as_text) == 1 else "are integers"
        were = "was" if len(report.as_text) == 1 else "were"
        lines.append(f"{plural(len(report.as_text), 'meta value')} {are} beyond 64 bits, which a .spacy file cannot "
                     f"hold, and {were} written as their decimal text, e.g.: "
                     + ", ".join(f"{d} {k}" for d, k in report.as_text[:5]))
    if report.unplaced_documents:
        names = report.unplaced_documents
        lines.append(f"{plural(len(names), 'document')} {'was' if len(names) == 1 else 'were'} left out: "
                     f"{getattr(report, 'fmt', '') or 'the format'} has no tag for a word nobody decided, and a "
                     "person's span it cannot place (above) would go out as O, a non-entity. Fix the span or export "
                     "--format spacy (marks its words as not annotated): "
                     + ", ".join(names[:5]) + (", ..." if len(names) > 5 else ""))
    left_out = getattr(report, "suggestions_left_out", 0)
    if left_out:
        lines.append(unchecked_line(report))
    notes = getattr(report, "notes_left_out", 0)
    if notes:
        lines.append(f"{plural(notes, 'span note')} (\"Refers to\") {'was' if notes == 1 else 'were'} not written: "
                     f"{getattr(report, 'fmt', '') or 'the format'} has no place for them (--format jsonl keeps them).")
    return lines


def unchecked_line(report: ExportReport) -> str:
    """How the export treated the unchecked suggestions it did not write as spans: never silent, as
    each would otherwise pass for a decision (an entity, or, in a token format, a non-entity)."""
    kind, n, docs = registry.info(report.fmt), report.suggestions_left_out, report.unchecked_documents
    counted, were = f"{plural(n, 'unchecked suggestion')} in {plural(docs, 'document')}", "was" if n == 1 else "were"
    if report.documents_left_out:
        names = report.documents_left_out
        return (f"{plural(len(names), 'document')} with {plural(n, 'unchecked suggestion')} "
                f"{'was' if len(names) == 1 else 'were'} left out: {report.fmt} has no tag for a word nobody "
                "checked, and O would teach them as non-entities. Accept or delete them, or export --format spacy "
                "(marks their words as not annotated): " + ", ".join(names[:5]) + (", ..." if len(names) > 5 else ""))
    if kind.missing:
        return (f"{counted}: not entities in the file, their words marked missing (neither entity nor O), so "
                "training neither learns them nor learns against them.")
    why = (f"{report.fmt} cannot mark a span as a suggestion" if not kind.status else
           "nobody checked them (--include-suggestions writes them, marked as suggestions)")
    return f"{counted} {were} left out: {why}, and a suggestion is never written as a decision."
