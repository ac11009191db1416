"""Where a person's edit goes: their own layer, never the model's.

A reviewer's layer of a document starts with their first edit (an analyst's on opening), and until
then the window shows the model's suggestions: an edit may name one of those. The command stack runs
`to_own_layer` before every edit it does (a first do and a redo): it starts the person's layer of the
document (a copy of the model's suggestions, `layers.open_layer`) and points the command at their copy
of the suggestion, in the edit's own transaction. What would still write into the model's layer is
refused by the stack's guard (`permissions.check_command`, E620): only an import or `suggest` writes
there. Undo is left alone: it puts back what was there, also for a history from before this rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, Document, DocumentState, Span
from annotator.core.editing.layers import open_layer
from annotator.core.editing.spans import span_conflict
from annotator.errors import AnnotatorError, Errors

# the span an edit names, with its layer's name: one primary-key look-up per edit
_SHOWN = (select(Span.document_id, Span.annotator_id, Span.start, Span.end, Span.label, Span.entity_id,
                 Span.version, Annotator.name.label("layer"))
          .join(Annotator, Annotator.id == Span.annotator_id).where(Span.id == bindparam("span_id")))
_STATE = select(DocumentState.status).where(DocumentState.document_id == bindparam("document_id"),
                                            DocumentState.annotator_id == bindparam("annotator_id"))
# the person's copy of a suggestion: same place and label; the copy itself before a span added there
_COPY = (select(Span.id, Span.entity_id, Span.nil, Span.status, Span.version)
         .where(Span.document_id == bindparam("document_id"), Span.annotator_id == bindparam("annotator_id"),
                Span.start == bindparam("start"), Span.end == bindparam("end"), Span.label == bindparam("label"))
         .order_by(Span.origin != "model", Span.id).limit(1))


def to_own_layer(session: Session, actor_id: int, command: Any) -> None:
    """Send `command` (run by `actor_id`) to the actor's own layer: an edit of a document in their layer
    starts that layer if it is not yet; an edit naming a model suggestion is pointed at their copy of
    it (E620 when they have none any more). Gold edits (adjudication) go where they say."""
    if getattr(command, "edits_gold", False):
        return
    document_id = getattr(command, "document_id", None)
    if getattr(command, "annotator_id", None) == actor_id and isinstance(document_id, int) and (
            session.connection().execute(_STATE, {"document_id": document_id, "annotator_id": actor_id}).first()
            is None):
        open_layer(session, document_id, actor_id, count=False)  # the stack counts what the edit touched
    span_id = getattr(command, "span_id", None)
    if not isinstance(span_id, int):
        return
    shown = session.connection().execute(_SHOWN, {"span_id": span_id}).first()
    if shown is None or shown.layer != MODEL_LAYER or shown.annotator_id == actor_id:
        return  # not a suggestion of the model's (or gone: the command says E032)
    _to_copy(session, actor_id, command, shown)


def _to_copy(session: Session, actor_id: int, command: Any, shown) -> None:
    """Point `command` at the actor's copy of the model's span `shown`, starting their layer first.

    The version the user saw was the model's: the edit goes on if the copy is still the suggestion
    they saw (else E037 with the copy as it is now, as for any span changed since it was shown). A
    redo of an edit made in the model's layer before this rule goes to the copy as well."""
    open_layer(session, shown.document_id, actor_id, count=False)
    copy = session.connection().execute(_COPY, dict(document_id=shown.document_id, annotator_id=actor_id,
                                                    start=shown.start, end=shown.end, label=shown.label)).first()
    if copy is None:
        doc = session.scalar(select(Document.name).where(Document.id == shown.document_id))
        raise AnnotatorError(Errors.E620.format(
            what=f"{command.text()} (span {command.span_id})",
            why=f"span {command.span_id} is a suggestion in the model's layer, and your layer of '{doc}' has no "
                "copy of it any more (you deleted it, or changed its label or boundaries)"))
    seen = getattr(command, "seen_version", None)
    if seen is not None and not getattr(command, "before", None):  # a redo checks the fields it set instead
        if shown.version != seen:
            raise span_conflict(session, command.span_id)
        if (copy.entity_id, bool(copy.nil), copy.status) != (shown.entity_id, False, "suggested"):
            raise span_conflict(session, copy.id)
        command.seen_version = copy.version
    command.span_id = copy.id
