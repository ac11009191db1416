"""The knowledge base: entities and their aliases, ids, and the normal forms look-ups compare.

Ids. `Entity.kb_id` is an external id (a Wikidata QID such as "Q884") or a local id the app mints:
"local:" + a slug of the name ("local:kim-kwan-jin", then "local:kim-kwan-jin-2", ...). Local ids are
readable in exports, can never be mistaken for a QID, and do not change when the entity is renamed.

Aliases. `Alias.norm` (see `normalize`) is what look-ups compare; every entity's name is one of its
aliases. `Alias.count` is how often analysts confirmed a link from that text to the entity.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from annotator.core.db.models import Alias, Entity
from annotator.core.records import KbEntry

LOCAL_PREFIX = "local:"
CHUNK = 500

# Typographic variants that news text mixes freely: curly quotes, the many dashes.
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "`": "'",
                       "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                       "\u2015": "-", "\u2212": "-"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalize(text: str) -> str:
    """What alias look-up compares: NFKC, casefolded, quotes and dashes folded, control characters
    and runs of spaces made one space."""
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFKC", text)).translate(_FOLD).casefold().split())


def mention_keys(text: str) -> list[str]:
    """Normalised forms a mention may be listed under: as written, without a leading "the",
    without a possessive "'s" ("Seoul's" → "seoul")."""
    keys = [normalize(text)]
    for key in list(keys):
        if key.startswith("the ") and len(key) > 4:
            keys.append(key[4:])
    for key in list(keys):
        if key.endswith("'s") and len(key) > 2:
            keys.append(key[:-2])
        elif key.endswith("s'") and len(key) > 2:
            keys.append(key[:-1])
    return list(dict.fromkeys(k for k in keys if k))


def slug(name: str) -> str:
    return re.sub(r"[^\w]+", "-", normalize(name)).strip("-_") or "entity"


def mint_kb_id(session: Session, name: str, taken: set[str] = frozenset()) -> str:
    """A new local id from the name, unique in the knowledge base and in `taken`."""
    base = LOCAL_PREFIX + slug(name)
    candidate, n = base, 2
    while candidate in taken or session.scalar(select(Entity.id).where(Entity.kb_id == candidate)) is not None:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _alias_rows(entry: KbEntry) -> list[tuple[str, int]]:
    """(text, count) per distinct normal form, the name first; variants of one form ("Seoul",
    "SEOUL") are one alias, their counts added: look-ups compare normal forms, and priors count
    one alias per entity and form."""
    merged: dict[str, list] = {normalize(entry.name): [entry.name, 0]}
    for text, count in zip(entry.aliases, entry.counts or [0] * len(entry.aliases)):
        merged.setdefault(normalize(text), [text, 0])[1] += count
    return [(text, count) for text, count in merged.values()]


def add_entities(session: Session, entries: list[KbEntry], created_by: int | None = None) -> list[int]:
    """Insert entities (minting missing ids) and their aliases; returns the new entity ids in order."""
    taken: set[str] = set()
    for e in entries:
        if e.kb_id is None:
            e.kb_id = mint_kb_id(session, e.name, taken)
        taken.add(e.kb_id)
    ids: list[int] = []
    for i in range(0, len(entries), CHUNK):
        chunk = entries[i:i + CHUNK]
        ids += list(session.scalars(
            insert(Entity).returning(Entity.id, sort_by_parameter_order=True),
            [dict(kb_id=e.kb_id, name=e.name, type=e.type, description=e.description, created_by=created_by)
             for e in chunk]))
    alias_rows = [dict(entity_id=eid, text=text, norm=normalize(text), count=count)
                  for eid, e in zip(ids, entries) for text, count in _alias_rows(e)]
    for i in range(0, len(alias_rows), CHUNK * 10):
        session.execute(insert(Alias), alias_rows[i:i + CHUNK * 10])
    return ids


def kb_ids(session: Session, entity_ids: Iterable[int]) -> dict[int, str]:
    """entity id → kb_id, for exporters."""
    wanted = sorted(set(entity_ids))
    found: dict[int, str] = {}
    for i in range(0, len(wanted), CHUNK):
        found.update((r.id, r.kb_id) for r in session.execute(
            select(Entity.id, Entity.kb_id).where(Entity.id.in_(wanted[i:i + CHUNK]))))
    return found


