"""The rows an import writes, in bulk: documents, spans and layer states as tuples (core/db/bulk.py),
the entities its links need, and what those links teach the knowledge base."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.core.db.bulk import Bulk
from annotator.core.db.models import Alias, Document, DocumentState, Entity, Span
from annotator.core.db.provenance_counts import refresh
from annotator.core.kb.entities import normalize
from annotator.core.kb.linking import learn
from annotator.core.records import NIL, DocRecord, SpanRecord

DOC_COLUMNS = ("name", "title", "text", "text_sha256", "meta", "imported_at", "tokens")
SPAN_COLUMNS = ("document_id", "start", "end", "label", "annotator_id", "origin", "status", "entity_id", "nil",
                "model_run_id", "referent_note", "created_at", "updated_at", "version", "link_source")
STATE_COLUMNS = ("document_id", "annotator_id", "status", "seconds_spent", "updated_at")


class Rows:
    """One batch's span and layer-state rows, tuples in SPAN_COLUMNS / STATE_COLUMNS order (every
    column given, so no Python default runs), with `at`, the batch's time as the database stores it."""

    def __init__(self, session: Session, now):
        self.session = session
        conn = session.connection()
        self.span_bulk = Bulk(conn, Span.__table__, SPAN_COLUMNS)
        self.state_bulk = Bulk(conn, DocumentState.__table__, STATE_COLUMNS)
        self.at = self.span_bulk.value("created_at", now)
        self.spans: list[tuple] = []
        self.states: list[tuple] = []

    def insert(self) -> None:
        self.span_bulk.insert(self.spans)
        self.state_bulk.insert(self.states)
        refresh(self.session, {row[0] for row in self.states})  # layers added to documents count in provenance
        self.spans, self.states = [], []


def ids_of(session: Session, names: list[str], chunk: int = 500) -> list[int]:
    """The ids of the documents named `names` (each name is unique), in that order."""
    ids: dict[str, int] = {}
    for i in range(0, len(names), chunk):
        part = names[i:i + chunk]
        ids.update(session.execute(select(Document.name, Document.id).where(Document.name.in_(part))).all())
    return [ids[name] for name in names]


def held(session: Session, doc_ids: list[int], chunk: int = 500) -> set[tuple[int, int]]:
    """(document, layer) pairs among `doc_ids` that a layer has already (opened, or spans in it): their
    work is not replaced. Read in a few queries, not two per document."""
    held: set[tuple[int, int]] = set()
    for i in range(0, len(doc_ids), chunk):
        part = doc_ids[i:i + chunk]
        for q in (select(DocumentState.document_id, DocumentState.annotator_id),
                  select(Span.document_id, Span.annotator_id).distinct()):
            held.update(tuple(r) for r in session.execute(q.where(q.selected_columns[0].in_(part))))
    return held


def entities_for_links(session: Session, rec: DocRecord, new_entities: list[str], teach: Teach) -> dict[str, int]:
    """kb_id → entity id for the record's linked spans; an id the KB lacks gets an entity named after
    its first mention, so that no imported link is lost (listed in `new_entities`); its name
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
            new_entities.append(kb_id)
            teach.names.append((entity.id, entity.name))
    return found


@dataclass
class Teach:
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
