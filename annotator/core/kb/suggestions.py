"""Link suggestions: known aliases on import, and propagation of a link to identical mentions.

A suggested link is a span with `entity_id` set and `status == "suggested"`: the span and its link
await the analyst together (Enter confirms both, through `LinkSpan`, which also teaches the alias
count). A confirmed link is `entity_id` set and `status == "accepted"`. A suggested link travels with
its suggested span wherever the span goes (the copy of the model layer into an analyst's, exports that
carry the span's status). Propagating onto an accepted span that has no link puts it back to
"suggested" — it has a pending suggestion again — and rejecting that suggestion (`UnlinkSpan`)
accepts it unlinked.

Who chose it is `Span.link_source` (records.LINK_SOURCES, migration 0018): the run's trained entity
linker, the alias prior (`suggest_links`, also where that linker had no candidate), or propagation.
`suggested_by` tells the link panel which, so "model's choice" is said of the linker's own only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from annotator.core.db.models import Document, DocumentState, Entity, ModelRun, Span
from annotator.core.kb.candidates import alias_rows, prior, score, type_fit
from annotator.core.kb.entities import mention_keys
from annotator.core.records import LINK_SOURCES
from annotator.core.text import Tokens
from annotator.errors import AnnotatorError, Errors

# Labels that never name an entity of the knowledge base.
UNLINKABLE = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
SCOPES = ("document", "corpus")
CORPUS_BATCH = 1000  # documents whose spans are read at a time by suggest_links_everywhere
NORMS_PER_QUERY = 100  # a UNION ALL of this many parts stays under SQLite's compound-select limit
LINKER, PRIOR, PROPAGATED, PERSON = LINK_SOURCES
UNKNOWN = "unknown"  # a suggested link of a run with a trained linker, from before sources were kept (0018)


def _best_entities(session: Session, keys_by_span: dict[int, tuple[list[str], str]]) -> dict[int, int]:
    """span id → the most likely entity among exact alias matches (prior and type fit)."""
    conn = session.connection()
    norms = sorted({k for keys, _ in keys_by_span.values() for k in keys})
    by_norm: dict[str, list[tuple[int, int]]] = {}
    for i in range(0, len(norms), NORMS_PER_QUERY):
        for entity_id, _, norm, count in alias_rows(conn, norms[i:i + NORMS_PER_QUERY]):
            by_norm.setdefault(norm, []).append((entity_id, count))
    if not by_norm:
        return {}
    ids = sorted({e for rows in by_norm.values() for e, _ in rows})
    types: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        types.update((r.id, r.type) for r in session.execute(
            select(Entity.id, Entity.type).where(Entity.id.in_(ids[i:i + 500]))))
    best: dict[int, int] = {}
    for span_id, (keys, label) in keys_by_span.items():
        options = []
        for key in keys:
            counts: dict[int, int] = {}
            for entity_id, count in by_norm.get(key, []):
                counts[entity_id] = counts.get(entity_id, 0) + count
            total = sum(counts.values())
            for entity_id, count in counts.items():
                value = score(1.0, True, prior(count, total, len(counts)), type_fit(label, types[entity_id]), False)
                options.append((value, count, -entity_id))
        if options:
            best[span_id] = -max(options)[2]
    return best


def _link_candidates(session: Session, where: list) -> int:
    """Give the unchecked, unlinked, not-NIL spans matching `where` whose text is a known alias a
    suggested link to the most likely entity (only their surface text is read, never a whole text)."""
    keys_by_span: dict[int, tuple[list[str], str]] = {}
    # `+ 0`: SQLite without statistics walked ix_spans_entity (every unlinked span of the corpus) for each
    # batch of a document range instead of the range's spans: 100,000 documents, 86 s instead of 26
    rows = session.execute(
        select(Span.id, Span.label, func.substr(Document.text, Span.start + 1, Span.end - Span.start))
        .join(Document, Document.id == Span.document_id)
        .where(*where, Span.status == "suggested", (Span.entity_id + 0).is_(None), Span.nil.is_(False),
               Span.label.not_in(UNLINKABLE)))
    keys_of: dict[str, list[str]] = {}  # a corpus repeats its names: each surface normalised once
    for span_id, label, surface in rows:
        keys = keys_of.get(surface)
        if keys is None:
            keys = keys_of[surface] = mention_keys(surface)
        keys_by_span[span_id] = (keys, label)
    best = _best_entities(session, keys_by_span)
    if best:  # a new version: a view of the span from before (another desktop) cannot confirm it unseen (E037)
        spans = Span.__table__
        session.execute(spans.update().where(spans.c.id == bindparam("sid"))
                        .values(entity_id=bindparam("eid"), link_source=PRIOR, version=spans.c.version + 1),
                        [{"sid": sid, "eid": eid} for sid, eid in best.items()])
    return len(best)


def suggest_links(session: Session, document_ids: list[int]) -> int:
    """Give each unreviewed, unlinked span of these documents (any layer) whose text is a known alias
    a suggested link to its most likely entity. Returns how many spans got one.

    Called at the end of an import (in its transaction); the model layer's suggested links are copied
    into an analyst's layer when they open the document.
    """
    return sum(_link_candidates(session, [Span.document_id.in_(document_ids[i:i + 500])])
               for i in range(0, len(document_ids), 500))


def suggest_links_everywhere(session: Session, progress: Callable[[int, int], None] | None = None,
                             batch: int = CORPUS_BATCH) -> int:
    """After the knowledge base grew (a KB import, the starter KB): what an import would have given
    the corpus's unchecked suggestions had the knowledge base been there. Every layer but a finished
    one (a layer marked done stays as it was left, as re-suggesting leaves it); a span a person
    checked, a NIL and an existing link are never touched. A batch of documents at a time, so memory
    stays bounded at any corpus size. Returns how many spans got a suggested link."""
    total = session.scalar(select(func.count()).select_from(Document)) or 0
    finished = (select(DocumentState.document_id)
                .where(DocumentState.document_id == Span.document_id, DocumentState.annotator_id == Span.annotator_id,
                       DocumentState.status == "done").exists())
    linked, done, last = 0, 0, 0
    while True:
        ids = list(session.scalars(select(Document.id).where(Document.id > last).order_by(Document.id).limit(batch)))
        if not ids:
            break
        last = ids[-1]
        linked += _link_candidates(session, [Span.document_id.between(ids[0], last), ~finished])
        done += len(ids)
        if progress:
            progress(done, max(total, done))
    return linked


def suggested_by(session: Session, span_id: int | None) -> tuple[int, str] | None:
    """(entity, who chose it) for the span's suggested link: a LINK_SOURCES name but PERSON (a
    person's link is not a suggestion), or UNKNOWN; None when the span has no suggested link or its
    source is not known and cannot matter.

    A link without a recorded source (before 0018) is UNKNOWN when its run had a trained entity
    linker: the linker chose it, or the prior filled in where the linker had none, and nothing kept
    which. It is not called the model's choice, nor the prior's. Without such a run it was never the
    linker's, and it is shown as it always was, unmarked."""
    if span_id is None:
        return None
    row = session.execute(select(Span.entity_id, Span.link_source, ModelRun.scores)
                          .outerjoin(ModelRun, ModelRun.id == Span.model_run_id)
                          .where(Span.id == span_id, Span.status == "suggested")).first()
    if row is None or row.entity_id is None or row.link_source == PERSON:
        return None
    if row.link_source is not None:
        return row.entity_id, row.link_source
    return (row.entity_id, UNKNOWN) if ((row.scores or {}).get("linker") or {}).get("trained") else None


def linker_choice(session: Session, span_id: int | None) -> int | None:
    """The entity the run's trained entity linker itself chose for this span (its suggested link)."""
    found = suggested_by(session, span_id)
    return found[0] if found is not None and found[1] == LINKER else None


@dataclass
class Targets:
    """Where a link could propagate: unlinked spans with the same text, and unannotated occurrences."""

    entity_id: int
    label: str
    surface: str
    existing: list[int] = field(default_factory=list)
    new: list[tuple[int, int, int]] = field(default_factory=list)  # (document id, start, end)
    per_document: dict[int, int] = field(default_factory=dict)  # document id → mentions it would touch

    @property
    def total(self) -> int:
        return len(self.existing) + len(self.new)

    def elsewhere(self, document_id: int) -> int:
        """Mentions outside `document_id`: what corpus scope adds to document scope."""
        return sum(n for doc, n in self.per_document.items() if doc != document_id)


def occurrences(text: str, surface: str, tokens: Tokens) -> list[tuple[int, int]]:
    """Where `surface` occurs in `text` on token boundaries (never inside a longer word)."""
    starts, ends = set(tokens.starts), set(tokens.ends)
    found, i = [], text.find(surface)
    while i >= 0:
        j = i + len(surface)
        if starts and ends:
            aligned = i in starts and j in ends
        else:
            aligned = (i == 0 or not text[i - 1].isalnum()) and (j == len(text) or not text[j].isalnum())
        if aligned:
            found.append((i, j))
        i = text.find(surface, i + 1)
    return found


def propagation_targets(session: Session, span_id: int, annotator_id: int, scope: str = "document") -> Targets:
    """Identical mentions of a linked span in its document, or in every document of the same layer
    the annotator has started (a layer not yet started gets its suggestions from the learned alias
    when the document is opened)."""
    if scope not in SCOPES:
        raise AnnotatorError(Errors.E215.format(scope=scope))
    source = session.get(Span, span_id)
    if source is None:
        raise AnnotatorError(Errors.E032.format(span_id=span_id))
    if source.entity_id is None:
        raise AnnotatorError(Errors.E214.format(span_id=span_id))
    surface = session.scalar(select(func.substr(Document.text, source.start + 1, source.end - source.start))
                             .where(Document.id == source.document_id))
    targets = Targets(source.entity_id, source.label, surface)
    q = select(Document.id, Document.text, Document.tokens)
    if scope == "document":
        q = q.where(Document.id == source.document_id)
    else:
        started = select(DocumentState.document_id).where(DocumentState.annotator_id == annotator_id)
        q = q.where((Document.id == source.document_id)
                    | (Document.id.in_(started) & Document.text.contains(surface, autoescape=True)))
    for doc_id, text, packed in session.execute(q.order_by(Document.id)):
        spans = session.execute(select(Span.id, Span.start, Span.end, Span.entity_id, Span.nil)
                                .where(Span.document_id == doc_id, Span.annotator_id == annotator_id)).all()
        before = targets.total
        for start, end in occurrences(text, surface, Tokens(packed)):
            if doc_id == source.document_id and (start, end) == (source.start, source.end):
                continue
            same = [s for s in spans if (s.start, s.end) == (start, end)]
            if same:
                targets.existing += [s.id for s in same if s.entity_id is None and not s.nil]
            elif not any(s.start < end and start < s.end for s in spans):
                targets.new.append((doc_id, start, end))
        if targets.total > before:
            targets.per_document[doc_id] = targets.total - before
    return targets


def corpus_targets(store, span_id: int, annotator_id: int) -> Targets | None:
    """`propagation_targets` over the corpus on a background task's own store; None when the span has
    lost its link (or is gone) meanwhile."""
    with store.Session() as s:
        try:
            return propagation_targets(s, span_id, annotator_id, "corpus")
        except AnnotatorError:
            return None
