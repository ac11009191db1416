"""Propagating a link: a span's link queued as suggestions on the identical mentions of its document,
or of the corpus (the targets come from `suggestions.propagation_targets`). One command, so one undo
takes back every suggestion it queued; its redo puts back the same spans, with their ids. Their link
source is "propagated" (a person's link, copied), never the model's; undo gives each its own back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from annotator.core.changes import Change
from annotator.core.db.models import Span, utcnow
from annotator.core.editing.command import Command
from annotator.core.kb.linking import span_row
from annotator.core.kb.suggestions import PROPAGATED, propagation_targets


@dataclass
class PropagateLink(Command):
    """Queue a span's link as suggestions on identical mentions (see `suggestions`)."""

    name: ClassVar[str] = "propagate_link"
    span_id: int
    annotator_id: int
    scope: str = "document"
    document_id: int | None = None
    updated: list[dict[str, Any]] = field(default_factory=list)  # span id + the fields it had
    created: list[int] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)  # where it queued suggestions
    made: list[list] = field(default_factory=list)  # [id, document, start, end, label] of each created span
    link_to: int | None = None  # the entity it suggested, once done

    def do(self, s: Session) -> Change:
        if self.link_to is not None:  # redo: the same spans again, with their ids (later edits name them)
            return self._again(s)
        targets = propagation_targets(s, self.span_id, self.annotator_id, self.scope)
        self.link_to = targets.entity_id
        self.document_id = span_row(s, self.span_id).document_id
        self.documents = sorted(targets.per_document)
        self.updated, self.created = [], []
        q = (select(Span.id, Span.entity_id, Span.status, Span.nil, Span.link_source)
             .where(Span.id.in_(targets.existing)))
        for row in s.execute(q):
            self.updated.append({"id": row.id, "entity_id": row.entity_id, "status": row.status, "nil": row.nil,
                                 "link_source": row.link_source})
        if targets.existing:
            s.execute(update(Span).where(Span.id.in_(targets.existing))
                      .values(entity_id=targets.entity_id, nil=False, status="suggested", link_source=PROPAGATED,
                              version=Span.version + 1, updated_at=utcnow()))
        for doc_id, start, end in targets.new:
            self.created.append(s.execute(insert(Span).values(
                document_id=doc_id, annotator_id=self.annotator_id, start=start, end=end, label=targets.label,
                entity_id=targets.entity_id, origin="propagated", status="suggested", link_source=PROPAGATED)
                .returning(Span.id)).scalar_one())
            self.made.append([self.created[-1], doc_id, start, end, targets.label])
        return Change(self.document_id, tuple(targets.existing) + tuple(self.created), documents=tuple(self.documents))

    def _again(self, s: Session) -> Change:
        ids = [b["id"] for b in self.updated]
        if ids:
            s.execute(update(Span).where(Span.id.in_(ids)).values(entity_id=self.link_to, nil=False, status="suggested",
                                                                  link_source=PROPAGATED, version=Span.version + 1,
                                                                  updated_at=utcnow()))
        if self.made:
            s.execute(insert(Span), [dict(id=i, document_id=d, annotator_id=self.annotator_id, start=a, end=b,
                                          label=lab, entity_id=self.link_to, origin="propagated",
                                          status="suggested", link_source=PROPAGATED)
                                     for i, d, a, b, lab in self.made])
        return Change(self.document_id, tuple(ids) + tuple(self.created), documents=tuple(self.documents))

    def undo(self, s: Session) -> Change:
        if self.created:
            s.execute(delete(Span).where(Span.id.in_(self.created)))
        for before in self.updated:
            s.execute(update(Span).where(Span.id == before["id"])
                      .values(entity_id=before["entity_id"], status=before["status"], nil=before["nil"],
                              link_source=before.get("link_source"), version=Span.version + 1, updated_at=utcnow()))
        return Change(self.document_id, tuple(b["id"] for b in self.updated) + tuple(self.created),
                      documents=tuple(self.documents))

    def text(self) -> str:
        n = len(self.updated) + len(self.created)
        where = " in the corpus" if self.scope == "corpus" else ""
        return f"propagate link to {n} mention{'s' if n != 1 else ''}{where}"


COMMANDS = (PropagateLink,)
