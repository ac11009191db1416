"""Uncertain first: the unchecked documents ordered by how much two models disagree on them.

spaCy's small pipelines decode NER greedily, so they give no entity scores or beam to read a
confidence from. What is always at hand is a committee of two: the project's suggester (the active
run) and a reference — the stock model it started from, or, for a run from a blank pipeline, the run
before it. Where they disagree at least one of them is wrong, so a person's decision there teaches
the most (query by committee). The measure is per token: the share of a document's tokens whose
label (or none) differs between the two, counting only the labels the run was trained on — the stock
model's other labels (DATE, CARDINAL…) are no disagreement about this project. Ties keep import order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from sqlalchemy import select

from annotator.core import nlp as nlp_mod
from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, Document, DocumentState
from annotator.core.db.store import Store
from annotator.errors import AnnotatorError, Cancelled, Errors
from annotator.io import model_runs

TOKEN = re.compile(r"\w+|[^\w\s]")
# Documents ranked at a time: the first this many unchecked ones in import order. Both models read every
# document ranked, at about 13,000 words/s each here (the speed table's raw nlp.pipe): all of 100,000
# unchecked news articles would take the better part of an hour; a pool is ranked within a minute, and
# the next one once these are opened.
POOL = 2000

Spans = Iterable[tuple[int, int, str]]
Progress = Callable[[int, int], None]
Stop = Callable[[], bool]


@dataclass(frozen=True)
class Uncertain:
    document_id: int
    name: str
    disagreement: float  # share of tokens labelled differently by the two models, 0..1
    tokens: int


def token_labels(text: str, spans: Spans, keep: set[str] | None = None) -> list[str | None]:
    """The label (or None) of each word or punctuation token of `text`, from the spans covering it."""
    spans = sorted((a, b, lab) for a, b, lab in spans if keep is None or lab in keep)
    out: list[str | None] = []
    for m in TOKEN.finditer(text):
        out.append(next((lab for a, b, lab in spans if a < m.end() and m.start() < b), None))
    return out


def disagreement(text: str, a: Spans, b: Spans, keep: set[str] | None = None) -> tuple[float, int]:
    """(share of tokens the two span sets label differently, number of tokens)."""
    left, right = token_labels(text, a, keep), token_labels(text, b, keep)
    if not left:
        return 0.0, 0
    return sum(x != y for x, y in zip(left, right)) / len(left), len(left)


def _opened_query():
    return select(DocumentState.document_id).join(Annotator, Annotator.id == DocumentState.annotator_id).where(
        Annotator.name != MODEL_LAYER)


def unchecked(store: Store, limit: int | None = None) -> list[tuple[int, str, str]]:
    """(id, name, text) of the first `limit` documents nobody has opened (only the model layer has
    them), by id."""
    return _unchecked(store, limit, Document.id, Document.name, Document.text)


def first_unchecked(store: Store, limit: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the first `limit` documents nobody has opened, by id: the import-order queue reads
    no text (it read every document's text to list ten names)."""
    return _unchecked(store, limit, Document.id, Document.name)


def _unchecked(store: Store, limit: int | None, *columns) -> list[tuple]:
    with store.Session() as s:
        q = select(*columns).where(Document.id.not_in(_opened_query())).order_by(Document.id)
        return [tuple(r) for r in s.execute(q if limit is None else q.limit(limit))]


def opened(store: Store, ids: Iterable[int]) -> set[int]:
    """Which of `ids` someone has opened since: the walk skips them without reading every text again."""
    ids = list(ids)
    with store.Session() as s:
        return set(s.scalars(_opened_query().where(DocumentState.document_id.in_(ids)))) if ids else set()


def rank(docs: list[tuple[int, str, str]], nlp_a, nlp_b, keep: set[str] | None,
         progress: Progress | None = None, cancelled: Stop | None = None) -> list[Uncertain]:
    """The documents by disagreement of the two pipelines, most first; ties in the given order.
    `progress(done, total)` after each document; Cancelled as soon as `cancelled()` is true."""
    texts = [t for _, _, t in docs]
    scored = []
    pairs = zip(docs, nlp_mod.suggest(nlp_a, texts), nlp_mod.suggest(nlp_b, texts))
    for done, ((doc_id, name, text), (_, a), (_, b)) in enumerate(pairs, 1):
        if cancelled is not None and cancelled():
            raise Cancelled()
        share, n = disagreement(text, a, b, keep)
        scored.append(Uncertain(doc_id, name, round(share, 4), n))
        if progress is not None:
            progress(done, len(docs))
    return sorted(scored, key=lambda u: -u.disagreement)


def reference_of(store: Store, run: model_runs.RunInfo) -> str:
    """What the run is compared with: its stock base model, else the run recorded before it (E613)."""
    if run.base and run.base != "blank":
        return run.base
    earlier = [r for r in model_runs.runs(store) if r.id < run.id and r.exists]
    if not earlier:
        raise AnnotatorError(Errors.E613.format(name=run.name))
    return str(earlier[-1].path)


def uncertain_order(store: Store, run_name: str | None = None, reference: str | None = None,
                    limit: int | None = None, progress: Progress | None = None,
                    cancelled: Stop | None = None, pool: int | None = None) -> list[Uncertain]:
    """The first `pool` unchecked documents (import order), most uncertain first, for `run_name`
    (default: the suggester, E612). Once they are opened, the next pool is ranked."""
    if limit is not None and limit < 1:
        raise AnnotatorError(Errors.E617.format(limit=limit))
    if pool is not None and pool < 1:
        raise AnnotatorError(Errors.E618.format(pool=pool))
    if run_name is None:
        active = model_runs.active_run(store)
        if active is None:
            raise AnnotatorError(Errors.E612)
        run_name = active.name
    run = model_runs.find_run(store, run_name)
    docs = unchecked(store, pool or POOL)
    if not docs:
        return []
    other = reference or reference_of(store, run)
    ranked = rank(docs, nlp_mod.load_model(str(run.path)), nlp_mod.load_model(other), set(run.labels) or None,
                  progress, cancelled)
    return ranked[:limit] if limit else ranked
