"""The knowledge base: entities and their aliases, imported from and exported to files.

Ids. `Entity.kb_id` is an external id (a Wikidata QID such as "Q884") or a local id the app mints:
"local:" + a slug of the name ("local:kim-kwan-jin", then "local:kim-kwan-jin-2", ...). Local ids are
readable in exports, can never be mistaken for a QID, and do not change when the entity is renamed.

Re-importing. A row whose id is already in the knowledge base (or, for a row without an id, whose
name and type are) is skipped and reported, never applied: a file must not silently overwrite names,
descriptions, or the alias counts that analysts' links have taught. `KbImportReport.conflicting`
names the skipped entities whose row differs from what is stored, so they can be edited by hand.

Aliases. `Alias.norm` (see `normalize`) is what look-ups compare; every entity's name is one of its
aliases. `Alias.count` is how often analysts confirmed a link from that text to the entity.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from annotator.core import kb_files
from annotator.core.kb_files import KbEntry
from annotator.core.models import Alias, Document, Entity
from annotator.core.store import Store
from annotator.errors import AnnotatorError, Errors

LOCAL_PREFIX = "local:"
EXPORT_FORMATS = ("jsonl", "csv", "spacy-kb")
STARTER_KB = "kb.jsonl"
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


@dataclass
class KbImportReport:
    path: str
    added: list[str] = field(default_factory=list)  # kb ids of new entities
    skipped: list[str] = field(default_factory=list)  # already in the knowledge base: left as they are
    conflicting: list[str] = field(default_factory=list)  # skipped, and the file says something else
    aliases: int = 0  # aliases stored for the new entities


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


def _differs(entity: Entity, entry: KbEntry, stored_aliases: set[str]) -> bool:
    return ((entity.name, entity.type, entity.description) != (entry.name, entry.type, entry.description)
            or not set(entry.aliases) <= stored_aliases)


def import_kb(store: Store, path: str | Path) -> KbImportReport:
    """`annotator kb import FILE`: every row checked first, then all stored in one transaction."""
    path = Path(path)
    rows = [entry for _, entry in kb_files.read(path)]
    report = KbImportReport(path=str(path))
    with store.atomic() as s:
        known: dict[str, Entity] = {}
        with_id = [e.kb_id for e in rows if e.kb_id]
        for i in range(0, len(with_id), CHUNK):
            known.update((e.kb_id, e) for e in s.scalars(select(Entity).where(Entity.kb_id.in_(with_id[i:i + CHUNK]))))
        by_name: dict[tuple[str, str], Entity] = {}
        names = sorted({e.name for e in rows if not e.kb_id})
        for i in range(0, len(names), CHUNK):
            chunk = select(Entity).where(Entity.name.in_(names[i:i + CHUNK]))
            by_name.update(((e.name, e.type), e) for e in s.scalars(chunk))
        fresh: list[KbEntry] = []
        for entry in rows:
            found = known.get(entry.kb_id) if entry.kb_id else by_name.get((entry.name, entry.type))
            if found is None:
                fresh.append(entry)
                continue
            report.skipped.append(found.kb_id)
            if _differs(found, entry, set(s.scalars(select(Alias.text).where(Alias.entity_id == found.id)))):
                report.conflicting.append(found.kb_id)
        add_entities(s, fresh)
        report.added = [e.kb_id for e in fresh]
        report.aliases = sum(len(_alias_rows(e)) for e in fresh)
    return report


def entries(session: Session) -> Iterator[KbEntry]:
    """Every entity with its aliases (name first, then in the order they were added)."""
    aliases: dict[int, list[tuple[str, int]]] = {}
    for entity_id, text, count in session.execute(select(Alias.entity_id, Alias.text, Alias.count)
                                                  .order_by(Alias.entity_id, Alias.id)):
        aliases.setdefault(entity_id, []).append((text, count))
    for e in session.execute(select(Entity.id, Entity.kb_id, Entity.name, Entity.type, Entity.description)
                             .order_by(Entity.id)):
        pairs = aliases.get(e.id, [])
        pairs.sort(key=lambda p: p[0] != e.name)  # stable: the name first
        yield KbEntry(name=e.name, kb_id=e.kb_id, type=e.type, description=e.description,
                      aliases=[t for t, _ in pairs], counts=[c for _, c in pairs])


def export_kb(store: Store, fmt: str, out: str | Path) -> int:
    """`annotator kb export --format jsonl|csv|spacy-kb --out PATH`; returns the entities written.
    spacy-kb writes a directory (spaCy's `InMemoryLookupKB.to_disk`)."""
    if fmt not in EXPORT_FORMATS:
        raise AnnotatorError(Errors.E208.format(fmt=fmt, known=", ".join(EXPORT_FORMATS)))
    out = Path(out)
    with store.Session() as s:
        items = list(entries(s))
    try:
        if fmt == "spacy-kb":
            from annotator.formats import spacy_kb

            return spacy_kb.write_kb(items, out)
        out.parent.mkdir(parents=True, exist_ok=True)
        return (kb_files.write_jsonl if fmt == "jsonl" else kb_files.write_csv)(items, out)
    except OSError as e:
        raise AnnotatorError(Errors.E209.format(path=out, reason=e.strerror or e)) from None


def kb_ids(session: Session, entity_ids: Iterable[int]) -> dict[int, str]:
    """entity id → kb_id, for exporters."""
    wanted = sorted(set(entity_ids))
    found: dict[int, str] = {}
    for i in range(0, len(wanted), CHUNK):
        found.update((r.id, r.kb_id) for r in session.execute(
            select(Entity.id, Entity.kb_id).where(Entity.id.in_(wanted[i:i + CHUNK]))))
    return found


def load_starter(store: Store) -> KbImportReport:
    """The starter KB for the sample corpus (idempotent: known ids are skipped), then link
    suggestions for every document already imported, so the order of first-run steps does not matter."""
    from annotator.core.resources import seeds_dir
    from annotator.core.suggestions import suggest_links

    report = import_kb(store, seeds_dir() / STARTER_KB)
    with store.atomic() as s:
        suggest_links(s, list(s.scalars(select(Document.id))))
    return report
