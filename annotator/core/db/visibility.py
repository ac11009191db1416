"""The layers' fixed names and who may see which layer, in raw SQL on a connection.

Annotation is blind: an annotator sees their own layer and the model's suggestions; a reviewer sees
every layer. The rule lives here, without the ORM, so that a command that only reads (`annotator
export`) loads neither the mapped models nor sqlalchemy.orm (start-up, issue 18); the ORM code
(`core/editing/permissions.py`, the project facade) calls the same functions with its session.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import Any

from annotator.core.db.raw import rows
from annotator.errors import AnnotatorError, Errors

GOLD = "gold"
ROLES = ("annotator", "reviewer")
MODEL_LAYER = "model"
_SELECT = "SELECT id, name, role, is_model FROM annotators"


def default_user() -> str:
    """ANNOTATOR_USER, else the OS login. Here, not in project.py, so that a command that only needs
    the name (import, export) does not load the project facade (start-up)."""
    return os.environ.get("ANNOTATOR_USER") or getpass.getuser() or "analyst"


@dataclass(frozen=True)
class LayerInfo:
    id: int
    name: str
    role: str
    is_model: bool

    @property
    def is_gold(self) -> bool:
        return self.name == GOLD


def connection(db: Any):
    """A Connection from a Connection or an ORM Session; a session's pending changes are flushed
    first, as its own queries would (autoflush)."""
    if hasattr(db, "exec_driver_sql"):
        return db
    db.flush()
    return db.connection()


def _infos(found) -> list[LayerInfo]:
    return [LayerInfo(i, name, role, bool(is_model)) for i, name, role, is_model in found]


def known_layers(db: Any) -> str:
    return ", ".join(info.name for info in _infos(rows(connection(db), f"{_SELECT} ORDER BY name"))) or "(none yet)"


def find_layer(db: Any, who: Any) -> LayerInfo | None:
    """The annotator `who` (a name, an id, or a row or LayerInfo with an id), or None."""
    key = getattr(who, "id", who)
    column = "id" if isinstance(key, int) else "name"
    found = _infos(rows(connection(db), f"{_SELECT} WHERE {column} = ?", [key]))
    return found[0] if found else None


def layer(db: Any, who: Any) -> LayerInfo:
    """As `find_layer`; E050 when there is no such annotator."""
    found = find_layer(db, who)
    if found is None:
        raise AnnotatorError(Errors.E050.format(name=getattr(who, "id", who), known=known_layers(db)))
    return found


def visible_layers(db: Any, annotator: Any) -> list[LayerInfo]:
    """The layers `annotator` may see, by name: every layer for a reviewer; else their own and the
    model's (blind annotation: no colleague's layer, and not gold). A user not in the project yet
    has no layer of their own: they see the model's."""
    conn = connection(db)
    row = find_layer(conn, annotator) if isinstance(annotator, str) else layer(conn, annotator)
    if row is None:
        return _infos(rows(conn, f"{_SELECT} WHERE is_model ORDER BY name"))
    if row.role != "reviewer":
        return _infos(rows(conn, f"{_SELECT} WHERE id = ? OR is_model ORDER BY name", [row.id]))
    return _infos(rows(conn, f"{_SELECT} ORDER BY name"))


def check_visible(db: Any, viewer: Any, layer_name: str) -> None:
    """E163 unless `viewer` may see `layer_name` (E050 for an unknown layer)."""
    conn = connection(db)
    target = layer(conn, layer_name)
    if target.id not in {info.id for info in visible_layers(conn, viewer)}:
        name = viewer if isinstance(viewer, str) else layer(conn, viewer).name
        raise AnnotatorError(Errors.E163.format(viewer=name, layer=target.name))
