"""Corpus import: text files, folders of them, and JSONL — all of it in one transaction, or nothing.
Records stream through: read, checked, tokenised and inserted in batches, so that memory stays
bounded whatever the size of the input.

A record that brings its own tokens (CoNLL, XMI, DocBin) keeps them: they are the document's tokens,
and the model, when asked, reads a Doc made of them, so its suggestions fall on the same tokens and a
token format exports token for token as it came in.

Plain text is normalised (BOM stripped, CRLF/CR → LF) before any offset exists; JSONL text is kept
byte-for-byte because its spans carry offsets into it.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections import Counter, deque
from collections.abc import Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.core import nlp as nlp_mod
from annotator.core.db.annotators import GOLD, MODEL_LAYER, get_annotator
from annotator.core.db.bulk import Bulk, analyze_after_load
from annotator.core.db.models import Document, ModelRun, utcnow
from annotator.core.db.store import Store
from annotator.core.editing import labels as label_scheme
from annotator.core.editing.permissions import check_reviewer
from annotator.core.kb.suggestions import LINKER, UNLINKABLE, suggest_links
from annotator.core.records import CARRIED, NIL, DocRecord, SpanRecord
from annotator.core.text import pack_tokens, title_of
from annotator.core.words import plural
from annotator.errors import AnnotatorError, Cancelled, Errors
from annotator.io import linker, model_runs
from annotator.io.import_rows import DOC_COLUMNS, Rows, Teach, entities_for_links, held, ids_of
from annotator.io.sources import estimate, iter_records, sources

ProgressFn = Callable[[int, int], None]
BATCH = 250  # documents stored per insert: ~7,500 span rows, large inserts; ~15 MB less peak than 1,000


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # same text as a document already there, no spans
    spans: int = 0  # model suggestions and imported spans stored with the added documents
    # Spans for documents already there become a layer of them (a colleague's work coming back):
    layered: list[str] = field(default_factory=list)  # "document (layer)" that got a layer
    layer_spans: int = 0
    layer_names: Counter = field(default_factory=Counter)  # layer -> documents already here it was added to
    layer_conflicts: list[str] = field(default_factory=list)  # "document (layer)": the layer had it; kept
    model: str | None = None
    new_entities: list[str] = field(default_factory=list)  # kb_ids created for imported links
    suggested_links: int = 0  # spans whose text is a known alias, given a suggested link
    duplicate_spans: int = 0  # a second span of a document with the same start, end and label: stored once
    learned_links: int = 0  # imported links whose mention text counted toward their entity's alias
    skipped: list[str] = field(default_factory=list)  # "file, line N: reason": blank tasks, bad ones with skip_invalid
    carried: Counter = field(default_factory=Counter)  # "brat relations": n ... kept whole, not as spans
    not_carried: Counter = field(default_factory=Counter)  # the same, read for documents already here: not kept
    left_out: Counter = field(default_factory=Counter)  # "xmi webanno.custom.Relation": n read, with no place here
    as_suggestions: int = 0  # spans a file gave the model's layer as decisions (accepted, NIL): stored as suggestions



def summary(report: ImportReport) -> list[str]:
    """What an import did, a line each, for the command line and the window: nothing is left unsaid
    (duplicates, layers kept, new entities, carried and not carried content, skipped lines)."""
    lines: list[str] = []
    if report.added or not (report.layered or report.layer_conflicts):  # else nothing new: say what came
        lines.append(f"Imported {plural(len(report.added), 'document')} with {plural(report.spans, 'span')}"
                     + (f" suggested by {report.model}" if report.model else "") + "."
                     + (f" {report.suggested_links} got a suggested link from the knowledge base."
                        if report.suggested_links else ""))
    if report.layered:
        names = sorted(report.layer_names)
        if len(names) == 1:
            lines.append(f"Added layer {names[0]} to {plural(len(report.layered), 'document')} already in the "
                         f"project, {plural(report.layer_spans, 'span')}: "
                         + ", ".join(doc.removesuffix(f" ({names[0]})") for doc in report.layered))
        else:
            lines.append(f"Added layers {', '.join(names)} to documents already in the project, "
                         f"{plural(len(report.layered), 'layer document')} with {plural(report.layer_spans, 'span')}: "
                         f"{', '.join(report.layered)}")
    if report.layer_conflicts:
        were = "it was" if len(report.layer_conflicts) == 1 else "they were"
        lines.append(f"Kept {plural(len(report.layer_conflicts), 'layer')} as {were} (the layer already had the "
                     f"document): {', '.join(report.layer_conflicts)}")
    if report.duplicates:
        lines.append(f"Skipped {len(report.duplicates)} already in the project: {', '.join(report.duplicates)}")
    if report.new_entities:
        lines.append(f"Added {plural(len(report.new_entities), 'new knowledge-base entity')} for links to ids it "
                     f"lacked: {', '.join(report.new_entities)}")
    if report.learned_links:
        lines.append(f"Counted {plural(report.learned_links, 'imported link')} toward the aliases of their entities.")
    if report.as_suggestions:
        lines.append(f"Stored {plural(report.as_suggestions, 'span')} the file gave the model's layer as decided "
                     "(accepted, or NIL) as unchecked suggestions: that layer holds nobody's decision. Import them "
                     "with --as-layer NAME to keep them as someone's work.")
    if report.duplicate_spans:
        lines.append(f"Stored {plural(report.duplicate_spans, 'duplicate span')} once (same start, end and label).")
    if report.carried:
        kept = ", ".join(f"{what} {n}" for what, n in sorted(report.carried.items()))
        lines.append(f"Kept with their documents, written back by an export to the same format: {kept}.")
    if report.not_carried:
        lost = ", ".join(f"{what} {n}" for what, n in sorted(report.not_carried.items()))
        lines.append(f"Not kept, the documents were already in the project (only their spans were added): {lost}.")
    if report.left_out:
        left = ", ".join(f"{what} {n}" for what, n in sorted(report.left_out.items()))
        lines.append(f"Not imported, the project has no place for them (the source files still hold them): {left}.")
    if report.skipped:
        lines.append(f"Skipped {plural(len(report.skipped), 'line')} (blank text, or unreadable with --skip-invalid):")
        for line in report.skipped:
            lines.append(f"  {line}")
    return lines


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _model_input(rec: DocRecord, vocab):
    """What the model reads: the text, or a Doc of the file's own tokens when the record has them
    (CoNLL, XMI, DocBin), so that its entities fall on those tokens."""
    return rec.text if rec.tokens is None else nlp_mod.doc_from_tokens(vocab, rec.text, rec.tokens)


def import_records(store: Store, records: Iterable[DocRecord], *, model: str | None = None,
                   use_model: bool = True, as_layer: str | None = None,
                   progress: ProgressFn | None = None, cancelled: Callable[[], bool] = lambda: False,
                   nlp=None, by: str | None = None, total: int | None = None) -> ImportReport:
    """Tokenise (and pre-annotate with spaCy unless `use_model` is false: with `model`, else the project's
    suggester run, with the labels it was trained on only, else the configured model), and store in one
    transaction.

    Records stream: rows are inserted in batches as they are read, and a bad record, an error or
    `cancelled()` anywhere rolls everything back. Only text hashes and names of the project's
    documents stay in memory. Spans carried by the records are stored in the layer `as_layer`, else
    the record's annotator, else "import". A document whose text is already in the project is not
    added again: the spans it carries become that layer of the existing document, unless the layer
    already has it (then it is kept as it is and reported); without spans it is reported as a
    duplicate. `by`, the person importing, must be a reviewer to bring spans into gold (E156).
    `progress(done, total)` counts records; `total` defaults to len(records) where it has one.
    """
    if total is None:
        total = len(records) if isinstance(records, Sized) else 0
    learned: set[str] = set()  # the suggester's labels: a run suggests only what it was trained on
    suggester = model_runs.active_run(store) if use_model and model is None and nlp is None else None
    if suggester is not None and suggester.exists:
        model, learned = str(suggester.path), set(suggester.labels)
    with store.atomic() as session:
        run = _Run(session, as_layer, by, ImportReport())
        fresh = run.fresh(records)
        feed = fresh.feed()
        first = next(feed, None)  # the model is loaded (and a run recorded) only for a new document
        feed = iter(()) if first is None else itertools.chain([first], feed)
        if use_model and first is not None:
            nlp = nlp or nlp_mod.load_model(model)
            run.report.model = "%s-%s" % nlp_mod.model_id(nlp)
            run.start_model(*nlp_mod.model_id(nlp), linking=linker.has_linker(nlp))
            n_process = nlp_mod.processes_for(total)
            analysed = nlp_mod.suggest(nlp, (_model_input(rec, nlp.vocab) for rec, _ in feed),
                                       n_process=n_process, links=run.linking)
            if learned:
                analysed = ((tokens, [e for e in ents if e[2] in learned]) for tokens, ents in analysed)
        else:
            analysed = nlp_mod.tokens_only(rec.text if rec.tokens is None else list(rec.tokens) for rec, _ in feed)
        batch = []
        for tokens, ents in analysed:
            if cancelled():
                raise Cancelled()
            rec, digest = fresh.take()
            batch.append((rec, digest, tokens if rec.tokens is None else list(rec.tokens), ents))
            if len(batch) >= BATCH:
                run.store_fresh(batch)
                batch = []
            if progress:
                progress(fresh.done, max(total, fresh.done))
        if cancelled():
            raise Cancelled()
        run.store_fresh(batch)
        run.store_again(final=True)
        run.report.learned_links = run.teach.apply(session)
        if progress:
            progress(fresh.done, max(total, fresh.done))
        label_scheme.ensure(session, [*label_scheme.defaults(), *sorted(run.seen_labels)])
    analyze_after_load(store.engine, len(run.report.added) + len(run.report.layered))
    return run.report


class _Fresh:
    """The records stream split: new texts go on to the tokenizer (`feed`), in order (`take`);
    duplicates are counted and texts already here with spans are handed to the run as they come."""

    def __init__(self, run: _Run, records: Iterable[DocRecord]):
        self.run, self.records, self.pending, self.done = run, records, deque(), 0

    def feed(self) -> Iterator[tuple[DocRecord, str]]:
        run = self.run
        for rec in self.records:
            digest = sha256(rec.text)
            if run.layered(rec):
                run.check_layer(run.layer_of(rec))
            if digest in run.known:
                self.done += 1
                if run.layered(rec):
                    run.again.append((rec, digest))
                    if len(run.again) >= BATCH:
                        run.store_again()
                else:
                    run.report.duplicates.append(rec.name)
                continue
            run.known.add(digest)
            self.pending.append((rec, digest))
            yield rec, digest

    def take(self) -> tuple[DocRecord, str]:
        self.done += 1
        return self.pending.popleft()


class _Run:
    """One import's transaction: what is known of the project (hashes, names, layers) and the rows
    stored so far."""

    def __init__(self, session: Session, as_layer: str | None, by: str | None, report: ImportReport):
        self.session, self.as_layer, self.by, self.report = session, as_layer, by, report
        self.here = {sha: doc_id for doc_id, sha in session.execute(select(Document.id, Document.text_sha256))}
        self.names = set(session.scalars(select(Document.name)))
        self.known = set(self.here)
        self.again: list[tuple[DocRecord, str]] = []  # a text already here (or earlier in this import) with spans
        self.later: list[tuple[DocRecord, str]] = []  # ... whose document is not stored yet
        self.taken: set[tuple[int, int]] = set()  # (document, layer) given spans by this import
        self.layers: dict[str, int] = {}
        self.seen_labels: set[str] = set()
        self.run_id = self.model_layer = None
        self.checked = False
        self.teach = Teach()  # what the imported links teach the knowledge base

    def fresh(self, records: Iterable[DocRecord]) -> _Fresh:
        return _Fresh(self, records)

    def layer_of(self, rec: DocRecord) -> str:
        return self.as_layer or rec.annotator or "import"

    def layered(self, rec: DocRecord) -> bool:
        """Whether the record is someone's work: it carries spans, or its source holds an annotation of
        it with none (a brat .ann, a Prodigy task's "spans": [] ...). A document checked and found to hold
        no entity is data: it gets its layer state, so it is exported and compared like the others."""
        return bool(rec.spans or rec.annotated)

    def layer_id(self, name: str) -> int:
        if name not in self.layers:
            self.layers[name] = get_annotator(self.session, name).id
        return self.layers[name]

    def check_layer(self, name: str) -> None:
        if name == GOLD and self.by is not None and not self.checked:
            check_reviewer(self.session, get_annotator(self.session, self.by).id)
            self.checked = True

    linking = False  # the model has a trained entity linker: its choices are the suggested links

    def start_model(self, name: str, version: str, linking: bool = False) -> None:
        """The suggestions' run. A pipeline with a trained entity linker is recorded as one; its choices
        are the suggested links, with "linker" as their source (the prior fills in the rest, as "prior":
        core/kb/suggestions.py), so the link panel marks the linker's own only."""
        self.linking = linking
        run = ModelRun(model_name=name, model_version=version, scores={"linker": {"trained": True}} if linking else None)
        self.session.add(run)
        self.session.flush()
        self.run_id = run.id
        self.model_layer = get_annotator(self.session, MODEL_LAYER, is_model=True).id

    def store_fresh(self, batch: list) -> None:
        """New documents with their tokens, the model's spans and the spans they carry."""
        if not batch:
            return
        session, now = self.session, utcnow()
        docs = Bulk(session.connection(), Document.__table__, DOC_COLUMNS)
        as_json, at = docs.converter("meta"), docs.value("imported_at", now)
        doc_rows, names = [], []
        for rec, digest, tokens, _ in batch:
            name = _unique_name(rec.name, self.names)
            self.names.add(name)
            names.append(name)
            meta = {**rec.meta, CARRIED: rec.carried} if rec.carried else rec.meta  # exported back (exporting.py)
            _count_carried(rec, self.report.carried)
            self.report.left_out.update(rec.left_out)
            doc_rows.append((name, rec.title or title_of(rec.text), rec.text, digest, as_json(meta), at,
                             tokens if isinstance(tokens, bytes) else pack_tokens(tokens)))
        docs.insert(doc_rows)  # no RETURNING: SQLite would insert one row per statement to keep their order
        del doc_rows
        doc_ids = ids_of(session, names)
        self.report.added.extend(names)
        rows = self.rows(now)
        model_row = (self.model_layer, "model", "suggested", None, False, self.run_id, "", rows.at, rows.at, 1, None)
        entity_of = self.linked_entities(batch)
        for doc_id, (rec, digest, _, ents) in zip(doc_ids, batch):
            self.here[digest] = doc_id
            for start, end, label, *kb in ents:
                if kb and kb[0] in entity_of and label not in UNLINKABLE:  # the linker's choice, suggested
                    rows.spans.append((doc_id, start, end, label, self.model_layer, "model", "suggested",
                                       entity_of[kb[0]], *model_row[4:-1], LINKER))
                else:
                    rows.spans.append((doc_id, start, end, label, *model_row))
                self.seen_labels.add(label)
            if self.layered(rec):
                name = self.layer_of(rec)
                layer = self.layer_id(name)
                self.taken.add((doc_id, layer))
                self._layer_rows(rec, doc_id, layer, rows, name)
        self.report.spans += len(rows.spans)
        rows.insert()
        self.report.suggested_links += suggest_links(session, doc_ids)

    def linked_entities(self, batch: list) -> dict[str, int]:
        """kb_id → entity id of the entity linker's choices in `batch` that the knowledge base has."""
        if not self.linking:
            return {}
        return linker.entity_ids(self.session, {e[3] for *_, ents in batch for e in ents if e[3]})

    def rows(self, now) -> Rows:
        return Rows(self.session, now)

    def store_again(self, final: bool = False) -> None:
        """Spans for documents already here become a layer of them, unless the layer has it."""
        if final:
            self.again.extend(self.later)
            self.later = []
        todo = [(rec, digest) for rec, digest in self.again if digest in self.here]
        self.later.extend((rec, digest) for rec, digest in self.again if digest not in self.here)
        self.again = []
        if not todo:
            return
        ids = sorted({self.here[digest] for _, digest in todo})
        already = held(self.session, ids)
        names = dict(self.session.execute(select(Document.id, Document.name).where(Document.id.in_(ids))).all())
        rows = self.rows(utcnow())
        for rec, digest in todo:
            doc_id, layer_name = self.here[digest], self.layer_of(rec)
            layer = self.layer_id(layer_name)
            doc_name = names[doc_id]
            if (doc_id, layer) in self.taken or (doc_id, layer) in already:
                self.report.layer_conflicts.append(f"{doc_name} ({layer_name})")
                continue
            self.taken.add((doc_id, layer))
            before = len(rows.spans)
            self._layer_rows(rec, doc_id, layer, rows, layer_name)
            _count_carried(rec, self.report.not_carried)  # the document here keeps its own
            self.report.left_out.update(rec.left_out)
            self.report.layered.append(f"{doc_name} ({layer_name})")
            self.report.layer_names[layer_name] += 1
            self.report.layer_spans += len(rows.spans) - before
        rows.insert()

    def _layer_rows(self, rec: DocRecord, doc_id: int, layer: int, rows: Rows, layer_name: str) -> None:
        """The record's spans as rows of `layer` on the document, and the layer's state for it: the layer
        has the document now, so it exports, and the model's copy is not added when it is opened. A
        colleague's file is their finished work (`_finished`): done, so it enters agreement and `--status
        done` exports; one's own layer stays in progress."""
        model = layer_name == MODEL_LAYER  # suggestions only, and no state: nobody works in it
        if not model:
            status = "done" if _finished(rec, layer_name, self.by) else "in_progress"
            rows.states.append((doc_id, layer, status, 0.0, rows.at))
        unique: dict[tuple[int, int, str], SpanRecord] = {}  # the same start, end and label: stored once
        for sp in rec.spans:
            key = (sp.start, sp.end, sp.label)
            if key in unique:
                self.report.duplicate_spans += 1
                if unique[key].kb_id is not None or sp.kb_id is None:
                    continue  # a linked one is kept
            unique[key] = sp
        entity_of = entities_for_links(self.session, rec, self.report.new_entities, self.teach)
        at, spans = rows.at, rows.spans
        for sp in unique.values():
            entity_id, status, nil = entity_of.get(sp.kb_id), sp.status, sp.kb_id == NIL
            if model and (status != "suggested" or nil):
                self.report.as_suggestions += 1
                status, nil = "suggested", False
            spans.append((doc_id, sp.start, sp.end, sp.label, layer, "import", status, entity_id,
                          nil, None, sp.note, at, at, 1, None))  # the file does not say who linked
            if entity_id is not None and status == "accepted":
                self.teach.counts[(entity_id, rec.text[sp.start:sp.end])] += 1
        self.seen_labels.update(sp.label for sp in rec.spans)


def _count_carried(rec: DocRecord, into: Counter) -> None:
    for fmt, content in rec.carried.items():
        into.update({f"{fmt} {what}": n for what, n in content.get("counts", {}).items()})


UNFINISHED_ANSWERS = ("reject", "ignore")  # Prodigy answers that say the task was not accepted


def _finished(rec: DocRecord, layer_name: str, by: str | None) -> bool:
    """Whether a record's layer is a colleague's finished work: someone else's layer (not the
    importer's own, and the importer known), unless the file says otherwise (Prodigy reject/ignore)."""
    return by is not None and layer_name != by and rec.answer not in UNFINISHED_ANSWERS


def _unique_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}-{n}"
        n += 1
    return candidate


def import_paths(store: Store, paths: Iterable[str | Path], *, fmt: str = "auto", skip_invalid: bool = False,
                 **kwargs) -> ImportReport:
    """`annotator import`: the files streamed into one transaction (a bad file anywhere stores nothing,
    a bad line too unless `skip_invalid`: then it is left out and listed in the report's `skipped`)."""
    found = sources(paths, fmt)
    if store.path is not None:  # read, it would be opened and closed here: SQLite's locks on it dropped (store.py)
        for _, path in found:
            if path.exists() and store.path.exists() and os.path.samefile(path, store.path):
                raise AnnotatorError(Errors.E548.format(path=path))
    skipped: list[str] = []
    report = import_records(store, iter_records(found, skip_invalid, skipped), total=estimate(found), **kwargs)
    report.skipped = skipped
    return report
