"""Corpus import: text files, folders of them, and JSONL — all of it in one transaction, or nothing.

Plain text is normalised (BOM stripped, CRLF/CR → LF) before any offset exists; JSONL text is kept
byte-for-byte because its spans carry offsets into it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from annotator.core import nlp as nlp_mod
from annotator.core.db.annotators import GOLD, MODEL_LAYER, get_annotator
from annotator.core.db.models import Alias, Document, DocumentState, Entity, ModelRun, Span, utcnow
from annotator.core.db.store import Store
from annotator.core.editing import labels as label_scheme
from annotator.core.editing.permissions import check_reviewer
from annotator.core.kb.entities import normalize
from annotator.core.kb.linking import learn
from annotator.core.kb.suggestions import suggest_links
from annotator.core.records import DocRecord, SpanRecord
from annotator.core.text import normalize_plain, pack_tokens, title_of
from annotator.errors import AnnotatorError, Cancelled, Errors
from annotator.formats import registry
from annotator.formats.files import check_record, check_regular, read_bytes

MAX_DOCUMENT_BYTES = 10_000_000
TEXT_SUFFIXES = (".txt",)
ProgressFn = Callable[[int, int], None]
NIL = "NIL"  # a span checked and found to name no entity in the knowledge base


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # same text as a document already there, no spans
    spans: int = 0  # model suggestions and imported spans stored with the added documents
    # Spans for documents already there become a layer of them (a colleague's work coming back):
    layered: list[str] = field(default_factory=list)  # "document (layer)" that got a layer
    layer_spans: int = 0
    layer_conflicts: list[str] = field(default_factory=list)  # "document (layer)": the layer had it; kept
    model: str | None = None
    new_entities: list[str] = field(default_factory=list)  # kb_ids created for imported links
    suggested_links: int = 0  # spans whose text is a known alias, given a suggested link
    duplicate_spans: int = 0  # a second span of a document with the same start, end and label: stored once
    learned_links: int = 0  # imported links whose mention text counted toward their entity's alias


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise AnnotatorError(Errors.E013.format(path=path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AnnotatorError(Errors.E011.format(path=path, offset=e.start)) from None


def read_text_file(path: Path) -> DocRecord:
    size = check_regular(path)  # a FIFO or a link to /dev/zero is refused before it is read
    if size > MAX_DOCUMENT_BYTES:
        raise AnnotatorError(Errors.E014.format(path=path, size=size, limit=MAX_DOCUMENT_BYTES))
    data = read_bytes(path, MAX_DOCUMENT_BYTES)
    text = normalize_plain(_decode(path, data))
    if not text.strip():
        raise AnnotatorError(Errors.E012.format(path=path))
    return DocRecord(name=path.stem, text=text, title=title_of(text), meta={"source": path.name})


def read_paths(paths: Iterable[str | Path], fmt: str = "auto") -> list[DocRecord]:
    """Every document the paths hold, read and checked before anything is stored."""
    records: list[DocRecord] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise AnnotatorError(Errors.E010.format(path=path))
        if path.is_dir() and fmt in ("auto", "txt"):
            # a folder is a corpus of text files; JSONL is named explicitly (a folder may hold other
            # JSONL, such as the sample corpus's knowledge base)
            files = sorted(p for p in path.rglob("*") if p.suffix in TEXT_SUFFIXES)
            if not files:
                raise AnnotatorError(Errors.E018.format(path=path, suffixes=", ".join(TEXT_SUFFIXES)))
            records.extend(read_paths(files, fmt))
            continue
        kind = fmt if fmt != "auto" else {".txt": "txt", ".jsonl": "jsonl"}.get(path.suffix, "txt")
        if kind == "txt":
            records.append(read_text_file(path))
            continue
        if path.is_file() and path.stat().st_size == 0:
            raise AnnotatorError(Errors.E012.format(path=path))
        for number, rec in enumerate(registry.get(kind).read(path), start=1):
            # every format's records pass the same checks (the readers make them with line numbers)
            check_record(rec, path, f"document {number}", allow_empty=False)
            size = len(rec.text.encode("utf-8"))
            if size > MAX_DOCUMENT_BYTES:
                raise AnnotatorError(Errors.E014.format(path=f"{path} ({rec.name})", size=size,
                                                        limit=MAX_DOCUMENT_BYTES))
            rec.title = rec.title or title_of(rec.text)
            records.append(rec)
    return records


def import_records(store: Store, records: list[DocRecord], *, model: str | None = None,
                   use_model: bool = True, as_layer: str | None = None,
                   progress: ProgressFn | None = None, cancelled: Callable[[], bool] = lambda: False,
                   nlp=None, by: str | None = None) -> ImportReport:
    """Tokenise (and pre-annotate with spaCy unless `use_model` is false), then store in one transaction.

    Spans carried by the records are stored in the layer `as_layer`, else the record's annotator, else
    "import". A document whose text is already in the project is not added again: the spans it
    carries become that layer of the existing document, unless the layer already has it (then it is
    kept as it is and reported); without spans it is reported as a duplicate. `by`, the person
    importing, must be a reviewer to bring spans into gold (E156).
    """
    report = ImportReport()
    with store.Session() as session:
        here = {sha: (doc_id, name) for doc_id, name, sha in session.execute(
            select(Document.id, Document.name, Document.text_sha256))}  # text hash -> (id, name)
    names = {name for _, name in here.values()}
    known = set(here)
    fresh: list[tuple[DocRecord, str]] = []
    again: list[tuple[DocRecord, str]] = []  # a text already there (or earlier in `records`) with spans
    for rec in records:
        digest = sha256(rec.text)
        if digest in known:
            if rec.spans:
                again.append((rec, digest))
            else:
                report.duplicates.append(rec.name)
            continue
        known.add(digest)
        fresh.append((rec, digest))
    if use_model and fresh:
        nlp = nlp or nlp_mod.load_model(model)
        report.model = "%s-%s" % nlp_mod.model_id(nlp)
        analysed = nlp_mod.suggest(nlp, (rec.text for rec, _ in fresh))
    else:
        analysed = nlp_mod.tokens_only(rec.text for rec, _ in fresh)
    results = []
    for i, item in enumerate(analysed, start=1):
        if cancelled():
            raise Cancelled()
        results.append(item)
        if progress:
            progress(i, len(fresh))

    with store.atomic() as session:
        if by is not None:
            if GOLD in {as_layer or rec.annotator or "import" for rec in records if rec.spans}:
                check_reviewer(session, get_annotator(session, by).id)
        run_id = None
        if report.model:
            name, version = nlp_mod.model_id(nlp)
            run = ModelRun(model_name=name, model_version=version)
            session.add(run)
            session.flush()
            run_id = run.id
        model_layer = get_annotator(session, MODEL_LAYER, is_model=True).id if report.model else None
        seen_labels: set[str] = set()
        doc_rows = []
        for rec, digest in fresh:
            name = _unique_name(rec.name, names)
            names.add(name)
            doc_rows.append(dict(name=name, title=rec.title or title_of(rec.text), text=rec.text, text_sha256=digest,
                                 meta=rec.meta, imported_at=utcnow()))
        doc_ids = [] if not doc_rows else list(session.scalars(
            insert(Document).returning(Document.id, sort_by_parameter_order=True),
            [dict(row, tokens=pack_tokens(tokens)) for row, (tokens, _) in zip(doc_rows, results)]))
        report.added = [row["name"] for row in doc_rows]
        here.update((row["text_sha256"], (doc_id, row["name"])) for doc_id, row in zip(doc_ids, doc_rows))
        span_rows, state_rows = [], []
        teach = _Teach()
        taken: set[tuple[int, int]] = set()  # (document, layer) given spans by this import
        for doc_id, (rec, _), (_, ents) in zip(doc_ids, fresh, results):
            for start, end, label in ents:
                span_rows.append(dict(document_id=doc_id, annotator_id=model_layer, start=start, end=end,
                                      label=label, origin="model", status="suggested", model_run_id=run_id))
                seen_labels.add(label)
            if rec.spans:
                layer = get_annotator(session, as_layer or rec.annotator or "import").id
                taken.add((doc_id, layer))
                _layer_rows(session, rec, doc_id, layer, span_rows, state_rows, report, teach)
                seen_labels.update(sp.label for sp in rec.spans)
        report.spans = len(span_rows)
        held = _held(session, [here[digest][0] for _, digest in again])
        for rec, digest in again:
            doc_id, doc_name = here[digest]
            layer_name = as_layer or rec.annotator or "import"
            layer = get_annotator(session, layer_name).id
            if (doc_id, layer) in taken or (doc_id, layer) in held:
                report.layer_conflicts.append(f"{doc_name} ({layer_name})")
                continue
            taken.add((doc_id, layer))
            before = len(span_rows)
            _layer_rows(session, rec, doc_id, layer, span_rows, state_rows, report, teach)
            seen_labels.update(sp.label for sp in rec.spans)
            report.layered.append(f"{doc_name} ({layer_name})")
            report.layer_spans += len(span_rows) - before
        if span_rows:
            session.execute(insert(Span), span_rows)
        if state_rows:
            session.execute(insert(DocumentState), state_rows)
        report.learned_links = teach.apply(session)
        report.suggested_links = suggest_links(session, doc_ids)
        label_scheme.ensure(session, [*label_scheme.defaults(), *sorted(seen_labels)])
    return report


def _held(session: Session, doc_ids: list[int], chunk: int = 500) -> set[tuple[int, int]]:
    """(document, layer) pairs among `doc_ids` that a layer has already (opened, or spans in it): their
    work is not replaced. Read in a few queries, not two per document."""
    held: set[tuple[int, int]] = set()
    for i in range(0, len(doc_ids), chunk):
        part = doc_ids[i:i + chunk]
        for q in (select(DocumentState.document_id, DocumentState.annotator_id),
                  select(Span.document_id, Span.annotator_id).distinct()):
            held.update(tuple(r) for r in session.execute(q.where(q.selected_columns[0].in_(part))))
    return held


def _layer_rows(session: Session, rec: DocRecord, doc_id: int, layer: int, span_rows: list, state_rows: list,
                report: ImportReport, teach: _Teach) -> None:
    """The record's spans as rows of `layer` on the document, and the layer's state for it: the layer
    has the document now, so it exports, and the model's copy is not added when it is opened. Spans
    with the same start, end and label are stored once (a linked one kept) and counted."""
    state_rows.append(dict(document_id=doc_id, annotator_id=layer, status="in_progress", seconds_spent=0.0,
                           updated_at=utcnow()))
    unique: dict[tuple[int, int, str], SpanRecord] = {}
    for sp in rec.spans:
        key = (sp.start, sp.end, sp.label)
        if key in unique:
            report.duplicate_spans += 1
            if unique[key].kb_id is not None or sp.kb_id is None:
                continue
        unique[key] = sp
    entity_of = _entities_for_links(session, rec, report, teach)
    for sp in unique.values():
        entity_id = entity_of.get(sp.kb_id)
        span_rows.append(dict(document_id=doc_id, annotator_id=layer, start=sp.start, end=sp.end, label=sp.label,
                              origin="import", status=sp.status, entity_id=entity_id, nil=sp.kb_id == NIL))
        if entity_id is not None and sp.status == "accepted":
            teach.counts[(entity_id, rec.text[sp.start:sp.end])] += 1


def _entities_for_links(session: Session, rec: DocRecord, report: ImportReport, teach: _Teach) -> dict[str, int]:
    """kb_id → entity id for the record's linked spans; an id the KB lacks gets an entity named after
    its first mention, so that no imported link is lost (reported in `report.new_entities`); its name
    becomes its first alias."""
    wanted: dict[str, SpanRecord] = {}
    for sp in rec.spans:
        if sp.kb_id and sp.kb_id != NIL:
            wanted.setdefault(sp.kb_id, sp)  # the first mention names a new entity
    if not wanted:
        return {}
    found = dict(session.execute(select(Entity.kb_id, Entity.id).where(Entity.kb_id.in_(list(wanted)))).all())
    for kb_id, sp in wanted.items():
        if kb_id not in found:
            entity = Entity(kb_id=kb_id, name=rec.text[sp.start:sp.end], type=sp.label,
                            description="Created when importing a link to an id the knowledge base lacked.")
            session.add(entity)
            session.flush()
            found[kb_id] = entity.id
            report.new_entities.append(kb_id)
            teach.names.append((entity.id, entity.name))
    return found


@dataclass
class _Teach:
    """What imported links teach the knowledge base: each linked mention's text is an alias of its
    entity and counts toward that alias's prior (as a confirmed link in the window does), so the
    exported KB offers the entity for that text; a new entity's name is one of its aliases."""

    counts: Counter = field(default_factory=Counter)  # (entity id, mention text) -> linked mentions
    names: list[tuple[int, str]] = field(default_factory=list)  # (entity id, name) of new entities

    def apply(self, session: Session) -> int:
        for (entity_id, text), n in sorted(self.counts.items()):
            learn(session, entity_id, text, n)
        for entity_id, name in self.names:
            if session.scalar(select(Alias.id).where(Alias.entity_id == entity_id,
                                                     Alias.norm == normalize(name)).limit(1)) is None:
                session.add(Alias(entity_id=entity_id, text=name, norm=normalize(name), count=0))
        session.flush()
        return sum(self.counts.values())


def _unique_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}-{n}"
        n += 1
    return candidate


def import_paths(store: Store, paths: Iterable[str | Path], *, fmt: str = "auto", **kwargs) -> ImportReport:
    """`annotator import`: read everything first (a bad file stops before any write), then store."""
    return import_records(store, read_paths(paths, fmt), **kwargs)
