"""Knowledge-base files in and out: `annotator kb import` / `kb export`, and the starter KB.

Re-importing. A row whose id is already in the knowledge base (or, for a row without an id, whose
name and type are) is skipped and reported, never applied: a file must not silently overwrite names,
descriptions, or the alias counts that analysts' links have taught. `KbImportReport.conflicting`
names the skipped entities whose row differs from what is stored, so they can be edited by hand.

Suggested links. An import gives mentions whose text is a known alias a suggested link; a knowledge
base loaded after the articles does the same for the corpus's unchecked suggestions, in the same
transaction (`suggest_links_everywhere`: never a checked span, a NIL, an existing link or a finished
layer). Only the link changes, so the provenance and agreement counts (offsets, labels, statuses;
accepted spans only) stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.core.db.models import Alias, Entity
from annotator.core.db.store import Store
from annotator.core.kb.entities import CHUNK, _alias_rows, add_entities
from annotator.core.editing.permissions import check_kb_importer
from annotator.core.kb.suggestions import suggest_links_everywhere
from annotator.core.records import KbEntry
from annotator.core.resources import seeds_dir
from annotator.core.words import plural
from annotator.errors import AnnotatorError, Errors
from annotator.formats import kb_files, spacy_kb
from annotator.io import outputs

EXPORT_FORMATS = ("jsonl", "csv", "spacy-kb")
STARTER_KB = "kb.jsonl"


@dataclass
class KbImportReport:
    path: str
    added: list[str] = field(default_factory=list)  # kb ids of new entities
    skipped: list[str] = field(default_factory=list)  # already in the knowledge base: left as they are
    conflicting: list[str] = field(default_factory=list)  # skipped, and the file says something else
    aliases: int = 0  # aliases stored for the new entities
    suggested_links: int = 0  # unchecked mentions already in the project that got a suggested link


def summary(report: KbImportReport) -> list[str]:
    """What a knowledge-base import did, a line each, for the command line and the window."""
    linked = (f"{plural(report.suggested_links, 'unchecked mention')} got a suggested link"
              if report.suggested_links else "no unchecked mention's text is a known alias, so none got a suggested "
              "link")
    lines = [f"Added {plural(len(report.added), 'entity')} with "
             f"{plural(report.aliases, 'alias')}; {linked}."]
    if report.skipped:
        lines.append(f"Skipped {len(report.skipped)} already in the knowledge base"
                     + (f"; {len(report.conflicting)} differ from the file: {', '.join(report.conflicting[:10])}"
                        if report.conflicting else "") + ".")
    return lines


def _differs(entity: Entity, entry: KbEntry, stored_aliases: set[str]) -> bool:
    return ((entity.name, entity.type, entity.description) != (entry.name, entry.type, entry.description)
            or not set(entry.aliases) <= stored_aliases)


def import_kb(store: Store, path: str | Path, *, by: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> KbImportReport:
    """`annotator kb import FILE`: every row checked first, then all stored in one transaction with
    the suggested links the corpus's unchecked mentions get from it. `by`, the person importing, must
    be allowed to (E629); `progress(done, total)` counts documents of the suggestion pass."""
    path = Path(path)
    if by is not None:
        with store.Session() as s:
            check_kb_importer(s, by, server=not store.is_sqlite, admin=store.is_admin)
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
        report.suggested_links = suggest_links_everywhere(s, progress)
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


def export_kb(store: Store, fmt: str, out: str | Path, *, force: bool = False) -> int:
    """`annotator kb export --format jsonl|csv|spacy-kb --out PATH`; returns the entities written.
    spacy-kb writes a directory (spaCy's `InMemoryLookupKB.to_disk`). Checked and swapped in like a
    document export (io/outputs.py): an existing output is replaced only with `force`."""
    if fmt not in EXPORT_FORMATS:
        raise AnnotatorError(Errors.E208.format(fmt=fmt, known=", ".join(EXPORT_FORMATS)))
    out = Path(out)
    folder = fmt == "spacy-kb"
    if folder and out.exists() and not out.is_dir():
        raise AnnotatorError(Errors.E209.format(path=out, reason="a file is in the way; spacy-kb writes a directory"))
    if not folder and out.is_dir():
        raise AnnotatorError(Errors.E209.format(path=out, reason="it is a folder"))
    outputs.check(out, project=store.path, force=force, folder=folder)
    with store.Session() as s:
        items = list(entries(s))
    write = {"spacy-kb": spacy_kb.write_kb, "jsonl": kb_files.write_jsonl, "csv": kb_files.write_csv}[fmt]
    try:
        if not folder:
            out.parent.mkdir(parents=True, exist_ok=True)
        return outputs.replace(out, lambda path: write(items, path), folder=folder)
    except OSError as e:
        raise AnnotatorError(Errors.E209.format(path=out, reason=e.strerror or e)) from None


def load_starter(store: Store) -> KbImportReport:
    """The starter KB for the sample corpus (idempotent: known ids are skipped); like any KB import it
    suggests links for the documents already imported, so the order of first-run steps does not matter."""
    return import_kb(store, seeds_dir() / STARTER_KB)
