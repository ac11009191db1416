"""The project's label scheme: defaults from the model's labels, shortcuts 1–9 and 0."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.core.db.models import Label
from annotator.core.resources import resource

DIGITS = "1234567890"
FALLBACK_COLOURS = ["#F0C8A0", "#A0C8F0", "#C8F0A0", "#F0A0C8", "#C8A0F0", "#A0F0C8"]


@dataclass(frozen=True)
class LabelInfo:
    name: str
    colour: str
    shortcut: str | None
    description: str


@lru_cache(maxsize=1)
def defaults() -> dict[str, dict]:
    data = json.loads(resource("labels.json").read_text(encoding="utf-8"))
    return {item["name"]: item for item in data["labels"]}


def ensure(session: Session, names: Iterable[str]) -> None:
    """Add any of `names` not yet in the scheme, with its default colour and the next free digit."""
    existing = {row.name: row for row in session.scalars(select(Label))}
    missing = [n for n in dict.fromkeys(names) if n not in existing]
    if not missing:
        return
    order = list(defaults())
    missing.sort(key=lambda n: (order.index(n) if n in order else len(order), n))
    used = {row.shortcut for row in existing.values()}
    position = (session.scalar(select(func.max(Label.position))) or 0) + 1
    for i, name in enumerate(missing):
        default = defaults().get(name, {})
        shortcut = next((d for d in DIGITS if d not in used), None)
        used.add(shortcut)
        colour = default.get("colour") or FALLBACK_COLOURS[(len(existing) + i) % len(FALLBACK_COLOURS)]
        session.add(Label(name=name, colour=colour, shortcut=shortcut,
                          description=default.get("description", ""), position=position + i))
    session.flush()


def ensure_defaults(session: Session) -> None:
    ensure(session, defaults())


def all_labels(session: Session) -> list[LabelInfo]:
    rows = session.scalars(select(Label).order_by(Label.position, Label.name))
    return [LabelInfo(r.name, r.colour, r.shortcut, r.description) for r in rows]
