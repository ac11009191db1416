"""Who may see and edit which layer.

Annotation is blind: an annotator sees their own layer and the model's suggestions; a reviewer sees
every layer (`visible_layers`, `check_visible`: in core/db/visibility.py, without the ORM, for the
commands that only read). Only reviewers edit the gold layer: `check_command` is the command stack's guard, and the
adjudication commands (`core/review/decisions.py`) check too. Nobody edits the model's layer (E620): a
person's edit of a suggestion goes to their copy of it (`targets.py`). Agreement is for reviewers
(`check_reviewer_view`, E164). Who may change roles is decided where roles are set
(`core/db/annotators.py`, E165). Who may import a knowledge base: `check_kb_importer` (E629).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from annotator.core.db.annotators import GOLD, MODEL_LAYER, owner
from annotator.core.db.models import Annotator, Span
from annotator.core.db.visibility import check_visible, visible_layers  # noqa: F401 (the rule, without the ORM)
from annotator.errors import AnnotatorError, Errors


def check_reviewer_view(session: Session, viewer: str, what: str) -> None:
    """E164 unless `viewer` is a reviewer: `what` shows colleagues' work (agreement, their layers)."""
    role = session.scalar(select(Annotator.role).where(Annotator.name == viewer))
    if role != "reviewer":
        raise AnnotatorError(Errors.E164.format(name=viewer, what=what))


def check_kb_importer(session: Session, name: str, *, server: bool = False, admin: bool = False) -> None:
    """E629 unless `name` may import a knowledge base. Its entities are everyone's and it gives every
    unfinished layer's unchecked mentions suggested links: on a team server (`server`) the admin or a
    reviewer (the server lets nobody else add entities of no one's, migration 0003); on a project file
    with other people in it, a reviewer or the owner; on one's own file, its user."""
    row = session.scalar(select(Annotator).where(Annotator.name == name))
    if row is not None and row.role == "reviewer":
        return
    if server:
        if admin:
            return
        raise AnnotatorError(Errors.E629.format(user=name, who="a reviewer or the server's admin"))
    people = set(session.scalars(select(Annotator.name).where(~Annotator.is_model, Annotator.name != GOLD)))
    who = owner(session)
    if people <= {name} or name == who:
        return
    raise AnnotatorError(Errors.E629.format(user=name, who=f"a reviewer or the project's owner ('{who}')"))


def check_edit(session: Session, actor_id: int, layer_id: int) -> None:
    """E156 when `actor_id` would edit the gold layer without being a reviewer."""
    if session.scalar(select(Annotator.name).where(Annotator.id == layer_id)) == GOLD:
        check_reviewer(session, actor_id)


def check_reviewer(session: Session, actor_id: int) -> None:
    """E156 unless `actor_id` is a reviewer."""
    row = session.get(Annotator, actor_id)
    if row is None or row.role != "reviewer":
        raise AnnotatorError(Errors.E156.format(name=row.name if row else actor_id))


_LAYER_NAME = select(Annotator.name).where(Annotator.id == bindparam("annotator_id"))
_SPAN_LAYER_NAME = (select(Annotator.name).join(Span, Span.annotator_id == Annotator.id)
                    .where(Span.id == bindparam("span_id")))


def check_command(session: Session, actor_id: int, command: Any) -> None:
    """The command stack's guard (called before `command.do`): only reviewers edit gold, and nobody
    edits the model's layer (E620: only an import or `suggest` writes it; `targets.to_own_layer` has
    sent an edit of a suggestion to the person's copy before this runs).

    A command edits the layer named by its `annotator_id`, the layer of its `span_id`, or gold
    when it says so (`edits_gold`, the adjudication commands). It runs on every edit, so: one
    prepared primary-key look-up per layer, on the session's connection."""
    if getattr(command, "edits_gold", False):
        check_reviewer(session, actor_id)
        return
    conn = session.connection()
    names = []
    layer = getattr(command, "annotator_id", None)
    if isinstance(layer, int) and layer != actor_id:  # one's own layer (the usual edit) needs no look-up
        names.append(conn.execute(_LAYER_NAME, {"annotator_id": layer}).scalar())
    if isinstance(getattr(command, "span_id", None), int):
        names.append(conn.execute(_SPAN_LAYER_NAME, {"span_id": command.span_id}).scalar())
    if MODEL_LAYER in names:
        what = f"{command.text()}" + (f" (span {command.span_id})" if isinstance(getattr(command, "span_id", None), int)
                                      else "")
        raise AnnotatorError(Errors.E620.format(what=what, why="that edit would write into the model's layer"))
    if GOLD in names:
        check_reviewer(session, actor_id)
