"""The project's linking and knowledge-base methods (candidates, links, entities, propagation): a
mixin of `Project` (core/project.py), kept here so that module stays small. It works on the
project's store, user and undo stack; each edit is one undoable command.
"""

from __future__ import annotations

from sqlalchemy import func, select

from annotator.core.db.models import Annotator, Entity, Span
from annotator.core.db.store import Store
from annotator.core.editing.stack import CommandStack
from annotator.core.kb import candidates as cand, linking, mentions, propagating, suggestions


class LinkingFacade:
    """`Project`'s methods for linking mentions to entities and browsing the knowledge base."""

    store: Store
    stack: CommandStack
    annotator_id: int

    def candidates(self, document_id: int, surface: str, label: str, limit: int = 10,
                   span_id: int | None = None) -> list[cand.Candidate]:
        """Ranked entities for a mention of this layer (its document, text and label, as the window
        holds them), each with a snippet of a mention linked to it; with `span_id`, the span's suggested
        link is marked with who chose it (`Candidate.suggested`), and ranks up if a trained linker did."""
        with self.store.Session() as s:
            return cand.candidates(s, surface, label=label, document_id=document_id,
                                   annotator_id=self.annotator_id, limit=limit,
                                   suggested=suggestions.suggested_by(s, span_id))

    def search_entities(self, query: str, label: str | None = None, limit: int = 20) -> list[cand.Candidate]:
        with self.store.Session() as s:
            return cand.search(s, query, label=label, annotator_id=self.annotator_id, limit=limit)

    def near_duplicates(self, name: str, label: str | None = None) -> list[cand.Candidate]:
        """Entities a new one named `name` would likely duplicate (asked before creating it)."""
        with self.store.Session() as s:
            return cand.near_duplicates(s, name, label=label, annotator_id=self.annotator_id)

    def existing_entities(self, entity_ids: list[int]) -> set[int]:
        """Those of `entity_ids` still in the knowledge base (a candidate shown may have been undone)."""
        with self.store.Session() as s:
            return set(s.scalars(select(Entity.id).where(Entity.id.in_(entity_ids))))

    def span_link(self, span_id: int) -> mentions.SpanLink | None:
        with self.store.Session() as s:
            return mentions.span_link(s, span_id)

    def link(self, span_id: int, entity_id: int, version: int | None = None) -> None:
        self.stack.push(linking.LinkSpan.make(span_id, entity_id, version))

    def mark_nil(self, span_id: int, version: int | None = None) -> None:
        self.stack.push(linking.NilSpan.make(span_id, version))

    def unlink(self, span_id: int, version: int | None = None) -> None:
        self.stack.push(linking.UnlinkSpan.make(span_id, version))

    def set_referent_note(self, span_id: int, note: str, version: int | None = None) -> None:
        self.stack.push(linking.SetReferentNote.make(span_id, note, version))

    def new_entity_from_span(self, span_id: int, name: str = "", type: str = "", description: str = "",
                             kb_id: str | None = None, version: int | None = None) -> int:
        command = linking.NewEntityFromSpan(span_id, entity_name=name, entity_type=type, description=description,
                                            kb_id=kb_id, created_by=self.annotator_id, seen_version=version)
        self.stack.push(command)
        return command.entity_id

    def propagation_preview(self, span_id: int, scope: str = "document") -> suggestions.Targets:
        """What `propagate` would queue, so the window can offer it ("3 more in this document")."""
        with self.store.Session() as s:
            return suggestions.propagation_targets(s, span_id, self.annotator_id, scope)

    def span_documents(self, span_ids: list[int]) -> dict[int, int]:
        """Document id → how many of the spans it holds (where a propagation went)."""
        with self.store.Session() as s:
            return dict(s.execute(select(Span.document_id, func.count()).where(Span.id.in_(span_ids))
                                  .group_by(Span.document_id)).all())

    def propagate(self, span_id: int, scope: str = "document") -> list[int]:
        """Queue the span's link as suggestions on identical mentions; returns the spans touched."""
        return list(self.stack.push(propagating.PropagateLink(span_id, self.annotator_id, scope)).span_ids)

    def edit_entity(self, entity_id: int, version: int | None = None, **changes) -> None:
        self.stack.push(linking.EditEntity(entity_id, changes, seen_version=version))

    def merge_entities(self, source_id: int, target_id: int,
                       versions: tuple[int | None, int | None] | None = None) -> None:
        """`versions`: (source, target) as the user saw them (None: not seen, not checked)."""
        self.stack.push(linking.MergeEntities(source_id, target_id,
                                              seen_versions=list(versions) if versions else None))

    def _shown_layer(self, s) -> int | None:
        """Whose mentions the entity view shows: this user's layer, or every layer (None) for a reviewer."""
        reviewer = s.scalar(select(Annotator.role).where(Annotator.id == self.annotator_id)) == "reviewer"
        return None if reviewer else self.annotator_id

    def entity_mentions(self, entity_id: int, limit: int | None = None,
                        width: int = mentions.SNIPPET_WIDTH) -> list[mentions.Mention]:
        """Mentions linked to the entity, with `width` characters of context on each side: this user's
        layer, or every layer for a reviewer."""
        with self.store.Session() as s:
            return mentions.entity_mentions(s, entity_id, annotator_id=self._shown_layer(s), limit=limit,
                                            width=width)

    def entity(self, entity_id: int) -> mentions.EntityInfo | None:
        """One entity with its mention counts (None once merged away or deleted)."""
        found = self.entity_infos([entity_id])
        return found[0] if found else None

    def entity_infos(self, entity_ids: list[int]) -> list[mentions.EntityInfo]:
        with self.store.Session() as s:
            return mentions.entity_infos(s, entity_ids, annotator_id=self._shown_layer(s))

    def entities(self, type: str | None = None, limit: int = 200) -> list[mentions.EntityInfo]:
        """Entities to browse, the most mentioned first (see `mentions.entity_list`)."""
        with self.store.Session() as s:
            return mentions.entity_list(s, type=type, annotator_id=self._shown_layer(s), limit=limit)

    def entity_types(self) -> list[str]:
        with self.store.Session() as s:
            return mentions.entity_types(s)

    def link_stats(self) -> dict[str, mentions.LinkCounts]:
        with self.store.Session() as s:
            return mentions.link_stats(s, self.annotator_id)
