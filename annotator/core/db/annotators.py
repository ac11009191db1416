"""Annotators: the people, the model and gold, each with a layer, and their roles.

An annotator's role is `annotator` or `reviewer`. The gold layer is the annotator named "gold" (role
reviewer, never a person's layer); the model layer is the annotator named "model" (`is_model`). Who
may see and edit which layer is decided in `core/editing/permissions.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from annotator.core.db.models import Annotator, Event
from annotator.core.db.store import Store
from annotator.core.db.visibility import GOLD, MODEL_LAYER, ROLES, LayerInfo, default_user  # noqa: F401 (kept importable here)
from annotator.errors import AnnotatorError, Errors


def get_annotator(session: Session, name: str, *, is_model: bool = False, role: str = "annotator") -> Annotator:
    """The annotator called `name`, created on first use. The name MODEL_LAYER is the model's layer
    whoever makes it: an import into a layer of that name (the model layer's own export brought back)
    made a person's layer the model's suggestions then went into, and no analyst saw them."""
    row = session.scalar(select(Annotator).where(Annotator.name == name))
    if row is None:
        row = Annotator(name=name, is_model=is_model or name == MODEL_LAYER, role=role)
        session.add(row)
        session.flush()
    elif name == MODEL_LAYER and not row.is_model:  # made so before the name was kept for the model
        row.is_model = True
        session.flush()
    return row


def find_annotator(session: Session, name: str) -> Annotator | None:
    """The annotator called `name`, or None: for whoever only reads or acts on others (a read-only
    command, the actor of a role change) and must not become an annotator by doing so."""
    return session.scalar(select(Annotator).where(Annotator.name == name))


def _info(row: Annotator) -> LayerInfo:
    return LayerInfo(row.id, row.name, row.role, row.is_model)


def _annotator(session: Session, who: Annotator | LayerInfo | str | int) -> Annotator:
    if isinstance(who, Annotator):
        return who
    if isinstance(who, LayerInfo):
        who = who.id
    row = (session.get(Annotator, who) if isinstance(who, int)
           else session.scalar(select(Annotator).where(Annotator.name == who)))
    if row is None:
        raise AnnotatorError(Errors.E050.format(name=who, known=known_annotators(session)))
    return row


def known_annotators(session: Session) -> str:
    return ", ".join(session.scalars(select(Annotator.name).order_by(Annotator.name))) or "(none yet)"


def is_reviewer(session: Session, annotator_id: int) -> bool:
    return session.scalar(select(Annotator.role).where(Annotator.id == annotator_id)) == "reviewer"


@dataclass(frozen=True)
class RoleChange:
    name: str
    role: str
    before: str | None  # None: the annotator was created with this role


def set_role(store: Store, name: str, role: str, *, by: str | None = None, guard: bool = False) -> RoleChange:
    """Give `name` the role `role` (created if new: a team can be set up before anyone opens the
    project). Recorded in the history as a `set_role` event of `by` when `by` is an annotator, else of
    `name` with `by` in the payload: running the command does not make its user an annotator. With
    `guard` (the command line on a project file), `by` must be a reviewer or the owner (E165)."""
    if role not in ROLES:
        raise AnnotatorError(Errors.E155.format(role=role))
    store.check_admin("change roles")  # on a team server; the database would refuse anyway
    with store.atomic() as s:
        if guard and by is not None:
            check_role_change(s, by, name, role)
        row = s.scalar(select(Annotator).where(Annotator.name == name))
        if row is not None and (row.is_model or row.name == GOLD):
            raise AnnotatorError(Errors.E157.format(name=name, what="model" if row.is_model else "gold"))
        before = None if row is None else row.role
        row = row or get_annotator(s, name, role=role)
        row.role = role
        actor = find_annotator(s, by) if by else None
        payload = {"annotator": name, "role": role, "before": before}
        if by and actor is None:
            payload["by"] = by
        s.execute(insert(Event).values(annotator_id=actor.id if actor else row.id, command="set_role",
                                       payload=payload))
    return RoleChange(name, role, before)


def roles(store: Store) -> list[LayerInfo]:
    with store.Session() as s:
        return [_info(r) for r in s.scalars(select(Annotator).order_by(Annotator.name))]


def gold_annotator(session: Session) -> Annotator:
    """The gold layer's annotator, created on first use; its role is always reviewer."""
    row = get_annotator(session, GOLD, role="reviewer")
    if row.role != "reviewer":  # e.g. a file imported --as-layer gold before any review
        row.role = "reviewer"
    return row


OWNER_EVENT = "create_project"


def record_owner(store: Store, name: str) -> None:
    """Record `name` as the person who created this project file: its owner, and a reviewer (they
    give the first roles). Called once, when the schema was just created; no migration needed: the
    owner is the author of the `create_project` event."""
    with store.atomic() as s:
        if s.scalar(select(Event.id).where(Event.command == OWNER_EVENT)) is not None:
            return
        row = get_annotator(s, name, role="reviewer")
        row.role = "reviewer"
        s.execute(insert(Event).values(annotator_id=row.id, command=OWNER_EVENT, payload={"owner": name}))


def owner(session: Session) -> str | None:
    """The project's owner: who created it (`record_owner`); for a file made before owners were
    recorded, or not from the command line, the first person it knew (not the model, not gold).
    None in a project with no person yet."""
    name = session.scalar(select(Annotator.name).join(Event, Event.annotator_id == Annotator.id)
                          .where(Event.command == OWNER_EVENT).order_by(Event.id).limit(1))
    return name or session.scalar(select(Annotator.name).where(~Annotator.is_model, Annotator.name != GOLD)
                                  .order_by(Annotator.id).limit(1))


def check_role_change(session: Session, actor: str, name: str, role: str) -> None:
    """E165 unless `actor` may give `name` the role `role`: a reviewer or the project's owner (else
    an annotator could make themselves a reviewer and read their colleagues' layers). A project with
    no person yet has nobody to protect: its first person may."""
    who = owner(session)
    if who is None or actor == who:
        return
    if session.scalar(select(Annotator.role).where(Annotator.name == actor)) != "reviewer":
        raise AnnotatorError(Errors.E165.format(user=actor, name=name, role=role, owner=who))
