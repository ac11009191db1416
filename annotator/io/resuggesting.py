"""Re-suggest with a trained run, never touching what a person decided.

- The model layer (all suggestions, nobody's decision) gets the run's entities of the labels it
  was trained on (those it was scored on; a base model's others are left out) for the chosen
  documents: "unchecked" (nobody has opened them; their layers will start from these) or "all".
- With "all", a layer someone is working on (in progress, not done) has only its untouched suggestions
  (origin model, status suggested, no referent note: a note leaves a span unchecked but is a person's
  work) replaced. A new suggestion is left out where it would overlap a
  span still in that layer (accepted, relabelled, moved, added: a decision), or where the person
  deleted a span at those offsets (the history says so). Finished layers stay as they are, and so
  does gold, even while a document is being adjudicated: it holds reviewers' decisions only.
- A run with an entity linker (io/linker.py) links what it suggests: the linker's kb_id for a new
  suggestion becomes its suggested link (the project's entity with that kb_id), its `link_source`
  "linker". Where the linker has no candidate (NIL), or the entity is gone, the prior-based suggestion
  (core/kb/suggestions.py) fills in as before, as "prior": the link panel tells the two apart. Only
  new suggestions get links: a span or link a person decided is never one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, insert, select

from annotator.core import nlp as nlp_mod
from annotator.core.db.annotators import GOLD, MODEL_LAYER, get_annotator
from annotator.core.db.models import Annotator, Document, DocumentState, Event, Span, utcnow
from annotator.core.db.provenance_counts import refresh
from annotator.core.db.store import Store
from annotator.core.editing.permissions import check_reviewer_view
from annotator.core.kb.suggestions import LINKER, UNLINKABLE, suggest_links
from annotator.core.records import MERGED
from annotator.errors import AnnotatorError, Errors
from annotator.io import linker, model_runs

WHICH = ("unchecked", "all")


@dataclass
class SuggestReport:
    run: str
    documents: int = 0  # documents whose model layer got the run's suggestions
    suggestions: int = 0  # spans stored in the model layer
    layers: int = 0  # (document, person) layers in progress whose untouched suggestions were replaced
    replaced: int = 0  # untouched suggestions removed from those layers
    added: int = 0  # new suggestions added to them
    kept_out: int = 0  # new suggestions left out of them: a decision or a deletion stands there
    linked: int = 0  # new suggestions whose suggested link is the run's entity linker's choice


def _deleted_by_person(session, document_id: int, annotator_id: int) -> set[tuple[int, int]]:
    """(start, end) of spans deleted from this layer of this document (not undone), by its owner or a
    reviewer: the history holds each deleted span as it was. A deletion merged from a colleague's file
    (io/merging.py) counts too: its span's layer id is that file's, so one the layer's owner made there
    is known by who made it."""
    rows = session.execute(select(Event.command, Event.annotator_id, Event.payload).where(
        Event.document_id == document_id, Event.command.in_(["delete_span", MERGED]), ~Event.undone))
    out = set()
    for command, by, payload in rows:
        payload = payload or {}
        if command == MERGED:
            if payload.get("command") != "delete_span":
                continue
            payload = payload.get("payload") or {}
        before = payload.get("before") or {}
        if before.get("annotator_id") == annotator_id or (command == MERGED and by == annotator_id):
            out.add((before.get("start"), before.get("end")))
    return out


def _link(label: str, entity_id: int | None) -> dict:
    """A new suggestion's link: the linker's choice, said to be the linker's (the prior fills in later)."""
    if label in UNLINKABLE or entity_id is None:
        return {"entity_id": None, "link_source": None}
    return {"entity_id": entity_id, "link_source": LINKER}


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def resuggest(store: Store, run_name: str, documents: str = "unchecked", viewer: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> SuggestReport:
    if documents not in WHICH:
        raise AnnotatorError(Errors.E034.format(status=documents))
    run = model_runs.find_run(store, run_name)
    if viewer is not None:
        with store.Session() as s:
            check_reviewer_view(s, viewer, "re-suggesting changes every layer's suggestions")
    nlp = nlp_mod.load_model(str(run.path))
    report = SuggestReport(run.name)
    with store.atomic() as s:
        run_id = run.id
        model = get_annotator(s, MODEL_LAYER, is_model=True).id
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        opened = {}
        for doc_id, annotator_id, status in s.execute(select(DocumentState.document_id, DocumentState.annotator_id,
                                                             DocumentState.status)):
            if annotator_id != model:
                opened.setdefault(doc_id, []).append((annotator_id, status))
        q = select(Document.id, Document.text).order_by(Document.id)
        docs = [(i, t) for i, t in s.execute(q) if documents == "all" or i not in opened]
        ids = [i for i, _ in docs]
        now = utcnow()
        if progress:
            progress(0, len(docs))
        texts = (t for _, t in docs)
        has_linker = linker.has_linker(nlp)  # a name of its own: the generator below reads it lazily
        learned = set(run.labels)  # a base model's other labels (DATE, NORP...) were neither learned nor scored
        found = (([e[:3] for e in ents], {(a, b): kb for a, b, _, kb in ents if kb}) if has_linker else (ents, {})
                 for ents in ([e for e in ents if not learned or e[2] in learned]
                              for _, ents in nlp_mod.suggest(nlp, texts, links=has_linker)))
        entity_of: dict[str, int | None] = {}
        for n, ((doc_id, _), (ents, links)) in enumerate(zip(docs, found), 1):
            s.execute(delete(Span).where(Span.document_id == doc_id, Span.annotator_id == model))
            row = dict(document_id=doc_id, origin="model", status="suggested", model_run_id=run_id, entity_id=None,
                       nil=False, referent_note="", created_at=now, updated_at=now, version=1, link_source=None)
            unknown = [k for k in links.values() if k not in entity_of]
            if unknown:
                entity_of.update(dict.fromkeys(unknown))
                entity_of.update(linker.entity_ids(s, unknown))
            chosen = {ab: entity_of[k] for ab, k in links.items() if entity_of[k] is not None}
            rows = [dict(row, annotator_id=model, start=a, end=b, label=label, **_link(label, chosen.get((a, b))))
                    for a, b, label in ents]
            report.documents += 1
            report.suggestions += len(rows)
            for annotator_id, status in opened.get(doc_id, []):
                if status == "done" or annotator_id == gold:  # gold holds reviewers' decisions only
                    continue
                report.layers += 1
                untouched = (Span.document_id == doc_id, Span.annotator_id == annotator_id, Span.origin == "model",
                             Span.status == "suggested", Span.referent_note == "")  # a note is a person's
                report.replaced += s.execute(delete(Span).where(*untouched)).rowcount
                decided = [(a, b) for a, b in s.execute(select(Span.start, Span.end).where(
                    Span.document_id == doc_id, Span.annotator_id == annotator_id))]
                deleted = _deleted_by_person(s, doc_id, annotator_id)
                for a, b, label in ents:
                    if _overlaps(a, b, decided) or (a, b) in deleted:
                        report.kept_out += 1
                        continue
                    rows.append(dict(row, annotator_id=annotator_id, start=a, end=b, label=label,
                                     **_link(label, chosen.get((a, b)))))
                    report.added += 1
            if rows:
                report.linked += sum(r["entity_id"] is not None for r in rows if r["annotator_id"] == model)
                s.execute(insert(Span), rows)
            if progress:
                progress(n, len(docs))
        refresh(s, [i for i in ids if i in opened])  # the model's spans changed under these layers
        linkable = [i for i in ids if all(status != "done" for _, status in opened.get(i, []))]
        if linkable:  # a finished layer's suggestions stay as they are, links too
            suggest_links(s, linkable)
    return report
