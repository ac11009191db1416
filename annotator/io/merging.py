"""`annotator merge OTHER.db`: bring a colleague's project file into this one.

What is matched, and how (nothing already here is changed, but for a layer document nobody here
touched since a merge last wrote it, and their events' undone flags):
- annotators by name, never their role: a person new here arrives as an annotator (the least role;
  the report says who was a reviewer there), one already here keeps their role here; labels by name
  (a label new here comes as they have it, hidden or not; one here keeps its colour, description and
  visibility, a difference reported); model runs by (name, version, time), a trained run with its
  name (a "-2" suffix when taken), folder and scores; entities by kb_id; aliases by (entity, text)
  with who taught them (their confirmed links in the layers copied count toward the aliases here, as
  an import's do); documents by the SHA-256 of their text (a document only they have is added with
  its tokens; a name already taken gets a "-2" suffix, as on import);
- what their copy of a document here carried from its source format (brat relations, XMI sentences)
  is not kept, as on import (the document here keeps its own): the report counts it;
- a layer's document (one annotator, one document: their spans and their state) is the unit: copied
  whole when this project has nothing of that layer in that document; else merged three ways against
  what the unit was right after the last merge that wrote it or found it equal (io/merge_layers.py):
  unchanged here since, it takes their later version ("updated"); unchanged there since, ours is
  newer and stays; changed on both sides (or never merged equal before), ours stays — reported as a
  conflict when the spans differ;
- an entity whose kb_id is here already keeps this project's name, type and description; a
  difference is reported. Spans linked to it are linked to this project's entity; one this project
  merged into another (a knowledge-base merge that stands) is not added again: their spans and
  aliases go to the entity it was merged into, and the report says so; one they merged into another
  while both are here stays (the report names it);
- project settings (the guidelines) by key: copied when this project has none, else ours are kept —
  reported as a conflict when they differ;
- history events are copied under the command name "merged", with the original command, payload
  (its ids are those of the other file) and undone flag inside: the audit trail keeps them, and
  undo, which replays only known commands, never touches them. An event is identified by
  (annotator, time, command), so merging the same file again adds nothing; a copy here of an event of
  theirs they have undone or redone since takes their undone flag. An adjudication decision copied this
  way is in force here (core/review/decisions.py) when their gold layer of the document came too or
  later replaced ours; where this project kept its own gold of it, it is marked "superseded" and
  decides nothing.

All of it is one transaction. The other file is opened through `Store` without upgrading it (an
older one is E544, saying how to upgrade it), and only read.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, make_url, select, update
from sqlalchemy.orm import Session

from annotator.core.db import edit_seconds
from annotator.core.db.annotators import GOLD, ROLES
from annotator.core.db.models import Alias, Annotator, Document, Entity, Event, Label, ModelRun, ProjectSetting
from annotator.core.db.store import Store
from annotator.core.editing.labels import DIGITS
from annotator.core.kb.entities import normalize
from annotator.core.records import CARRIED, MERGED
from annotator.core.review.decisions import DECISIONS
from annotator.errors import AnnotatorError, Errors, SchemaOutdated
from annotator.formats.files import is_offset, kb_id_problem, label_problem
from annotator.io.merge_kb import merged_into, not_merged_here
from annotator.io.merge_layers import Layers
from annotator.io.merge_report import EntityConflict, LabelConflict, MergeReport
from annotator.io.merge_source import CHUNK, Theirs, bad, chunks, damaged, naive, open_other, utc

def _look(label) -> dict[str, str]:
    """What a label looks like to the people using it (its key is left out: keys move to make room)."""
    return {"colour": label.colour, "description": label.description or "", "hidden": "hidden" if label.hidden
            else "shown"}


def merge(store: Store, other: str | os.PathLike) -> MergeReport:
    """Copy what the project at `other` has and this one lacks (see the module docstring). The other
    file is checked like an import: a damaged file is E115, content the project cannot keep E116."""
    try:
        source = open_other(store, other)
    except SchemaOutdated:  # its advice (`annotator db upgrade`) would upgrade this project, not that file
        raise AnnotatorError(Errors.E544.format(path=other, quoted=shlex.quote(str(other)))) from None
    except AnnotatorError as e:
        raise damaged(e, other, Path(str(other))) from None
    try:
        with source.Session() as session, store.atomic() as ours:
            return _Merge(Theirs(session, str(other)), ours, MergeReport(str(other), team=not store.is_sqlite)).run()
    except AnnotatorError as e:
        if e.code == "E401" and store.member is not None:  # its advice (ask for the reviewer role) does not help
            reason = str(e).split("(", 1)[-1].split("):", 1)[0]
            raise AnnotatorError(Errors.E543.format(user=store.member, path=other, reason=reason,
                                                    database=make_url(store.url).database)) from None
        raise damaged(e, other, source.path) from None
    finally:
        source.close()


class _Merge(Layers):
    def __init__(self, theirs: Session, ours: Session, report: MergeReport):
        self.t, self.o, self.report = theirs, ours, report
        self.annotator: dict[int, int] = {}  # their id -> ours
        self.annotator_name: dict[int, str] = {}  # their id -> name
        self.run_id: dict[int, int] = {}
        self.entity: dict[int, int] = {}
        self.their_kb: dict[int, str] = {}  # their entity id -> kb_id (of the entity here, for one merged away)
        self.document: dict[int, int] = {}
        self.document_name: dict[int, str] = {}  # their id -> name here
        self.text_length: dict[int, int] = {}  # their document id -> characters
        self.aliases_copied: set[tuple[int, str]] = set()  # (entity here, normal form)
        self.gold_kept: set[int] = set()  # their document ids whose gold layer here is this project's own
        self.gold_taken: set[int] = set()  # their document ids whose gold here was replaced by theirs

    def run(self) -> MergeReport:
        self.annotators()
        self.labels()
        self.settings()
        self.model_runs()
        self.entities()
        self.documents()
        self.layers()
        self.events()
        return self.report

    def annotators(self) -> None:
        here = {r.name: r.id for r in self.o.execute(select(Annotator.name, Annotator.id))}
        for r in self.t.execute(select(Annotator.id, Annotator.name, Annotator.role, Annotator.is_model)
                                .order_by(Annotator.id)):
            if not isinstance(r.name, str) or not r.name.strip() or "\x00" in r.name or r.role not in ROLES:
                raise bad(self.t.path, f"annotator {r.name!r}", f"has no usable name or an unknown role {r.role!r}")
            if r.name not in here:  # never their role: a file from an annotator must not make them a reviewer
                role = "reviewer" if r.name == GOLD else "annotator"
                here[r.name] = self.o.execute(insert(Annotator).values(name=r.name, role=role, is_model=r.is_model)
                                              .returning(Annotator.id)).scalar_one()
                self.report.annotators.append(r.name)
                if r.role != role and not r.is_model:
                    self.report.roles_not_given.append(r.name)
            self.annotator[r.id] = here[r.name]
            self.annotator_name[r.id] = r.name

    def labels(self) -> None:
        ours = {r.name: _look(r) for r in self.o.scalars(select(Label))}.get
        here = {r.name: r.shortcut for r in self.o.execute(select(Label.name, Label.shortcut))}
        used = set(here.values())
        position = (self.o.scalar(select(func.max(Label.position))) or 0) + 1
        for r in self.t.execute(select(Label).order_by(Label.position, Label.name)).scalars():
            problem = label_problem(r.name)
            if problem:
                raise bad(self.t.path, "its label list", problem)
            if r.name in here:
                if ours(r.name) != _look(r):  # recoloured, described or hidden differently: ours kept
                    self.report.label_conflicts.append(LabelConflict(r.name, ours(r.name), _look(r)))
                continue
            shortcut = r.shortcut if r.shortcut and r.shortcut not in used else next(
                (d for d in DIGITS if d not in used), None)
            used.add(shortcut)
            self.o.execute(insert(Label).values(name=r.name, colour=r.colour, shortcut=shortcut,
                                                description=r.description, position=position, hidden=r.hidden))
            position += 1
            here[r.name] = shortcut
            self.report.labels.append(r.name)

    def settings(self) -> None:
        here = dict(self.o.execute(select(ProjectSetting.key, ProjectSetting.value)).all())
        for r in self.t.execute(select(ProjectSetting).order_by(ProjectSetting.key)).scalars():
            if not isinstance(r.value, str) or "\x00" in r.value:
                raise bad(self.t.path, f"project setting {r.key!r}", "is not text")
            if r.key not in here:
                self.o.execute(insert(ProjectSetting).values(key=r.key, value=r.value, updated_at=utc(r.updated_at),
                                                             updated_by=self.annotator.get(r.updated_by)))
                self.report.settings.append(r.key)
            elif here[r.key] != r.value:
                self.report.setting_conflicts.append(r.key)

    def model_runs(self) -> None:
        here = {(r.model_name, r.model_version, naive(r.created_at)): r.id for r in self.o.execute(
            select(ModelRun.id, ModelRun.model_name, ModelRun.model_version, ModelRun.created_at))}
        names = set(self.o.scalars(select(ModelRun.name).where(ModelRun.name.is_not(None))))
        for r in self.t.execute(select(ModelRun).order_by(ModelRun.id)).scalars():
            key = (r.model_name, r.model_version, naive(r.created_at))
            if key not in here:
                values = dict(model_name=r.model_name, model_version=r.model_version, created_at=utc(r.created_at))
                if r.name is not None:  # a trained run: listed, scored and usable here too
                    values.update(self._trained(r, names))
                here[key] = self.o.execute(insert(ModelRun).values(**values).returning(ModelRun.id)).scalar_one()
                self.report.model_runs += 1
            self.run_id[r.id] = here[key]

    def _trained(self, r: ModelRun, names: set[str]) -> dict[str, Any]:
        """A trained run's name (a "-2" suffix when taken here), its folder where it lies (their project
        stores it relative to their file's folder), what it saw and its scores; never our suggester."""
        if (not isinstance(r.name, str) or not r.name.strip() or not isinstance(r.path, str)
                or not isinstance(r.labels or [], list) or not isinstance(r.scores or {}, dict)):
            raise bad(self.t.path, f"model run {r.name!r}", "has no name or folder, or labels or scores of "
                       "the wrong kind")
        name, n = r.name, 2
        while name in names:
            name, n = f"{r.name}-{n}", n + 1
        names.add(name)
        if name != r.name:
            self.report.renamed_runs.append((r.name, name))
        path = Path(r.path)
        if not path.is_absolute() and "://" not in self.t.path:
            path = Path(self.t.path).expanduser().resolve().parent / path
        return dict(name=name, path=str(path), base=r.base, documents=r.documents, labels=r.labels, scores=r.scores,
                    active=False)

    def entities(self) -> None:
        here = {r.kb_id: r for r in self.o.execute(select(Entity.id, Entity.kb_id, Entity.name, Entity.type,
                                                          Entity.description))}
        merged_away = merged_into(self.o, here)
        for r in self.t.execute(select(Entity.id, Entity.kb_id, Entity.name, Entity.type, Entity.description,
                                       Entity.created_by, Entity.created_at, Entity.version).order_by(Entity.id)):
            problem = kb_id_problem(r.kb_id or "")
            if problem or not isinstance(r.name, str) or "\x00" in r.name:
                raise bad(self.t.path, f"entity {r.kb_id!r}", problem or "has a name that is not text")
            self.their_kb[r.id] = r.kb_id
            mine = here.get(r.kb_id)
            if mine is None and r.kb_id in merged_away:  # merged into another here: their mentions follow
                target = merged_away[r.kb_id]
                self.entity[r.id], self.their_kb[r.id] = target.id, target.kb_id
                self.report.merged_away.append((r.kb_id, target.kb_id))
                continue
            if mine is None:
                self.entity[r.id] = self.o.execute(insert(Entity).values(
                    kb_id=r.kb_id, name=r.name, type=r.type, description=r.description,
                    created_by=self.annotator.get(r.created_by), created_at=utc(r.created_at), version=r.version)
                    .returning(Entity.id)).scalar_one()
                self.report.entities.append(r.kb_id)
                continue
            self.entity[r.id] = mine.id
            ours = {"name": mine.name, "type": mine.type, "description": mine.description}
            theirs = {"name": r.name, "type": r.type, "description": r.description}
            if ours != theirs:
                self.report.entity_conflicts.append(EntityConflict(r.kb_id, ours, theirs))
        self.report.not_merged = not_merged_here(self.t, set(here), self.their_kb)
        here_aliases = set(self.o.execute(select(Alias.entity_id, Alias.text)).all())
        rows = []
        for r in self.t.execute(select(Alias.entity_id, Alias.text, Alias.norm, Alias.count, Alias.created_by)
                                .order_by(Alias.id)):
            if (r.entity_id not in self.entity or not isinstance(r.text, str) or not r.text
                    or "\x00" in r.text or not is_offset(r.count) or not 0 <= r.count < 2**31):
                raise bad(self.t.path, f"alias {r.text!r}", "has no entity, no text or a count that is not a "
                           "small non-negative integer")
            key = (self.entity[r.entity_id], r.text)
            if key not in here_aliases:
                here_aliases.add(key)
                rows.append(dict(entity_id=key[0], text=r.text, norm=r.norm or normalize(r.text), count=r.count,
                                 created_by=self.annotator.get(r.created_by)))  # whose link taught it
        for chunk in chunks(rows, CHUNK * 10):
            self.o.execute(insert(Alias), chunk)
        self.report.aliases = len(rows)
        self.aliases_copied = {(r["entity_id"], r["norm"]) for r in rows}  # their counts: their links in them

    def documents(self) -> None:
        here = dict(self.o.execute(select(Document.text_sha256, Document.id)).all())
        names = set(self.o.scalars(select(Document.name)))
        missing = []
        for r in self.t.execute(select(Document.id, Document.text_sha256, Document.name).order_by(Document.id)):
            self._check_document(r.id, r.name, r.text_sha256)
            if r.text_sha256 in here:
                self.document[r.id] = here[r.text_sha256]
            else:
                missing.append(r.id)
        self._not_carried(sorted(set(self.document)))
        for chunk in chunks(missing):
            for r in self.t.execute(select(Document).where(Document.id.in_(chunk)).order_by(Document.id)).scalars():
                name, n = r.name, 2
                while name in names:
                    name, n = f"{r.name}-{n}", n + 1
                names.add(name)
                self.document[r.id] = self.o.execute(insert(Document).values(
                    name=name, title=r.title, text=r.text, text_sha256=r.text_sha256, tokens=r.tokens,
                    meta=r.meta, imported_at=utc(r.imported_at)).returning(Document.id)).scalar_one()
                self.report.documents.append(name)
                if name != r.name:
                    self.report.renamed.append((r.name, name))
        ours = dict(self.o.execute(select(Document.id, Document.name)).all())
        self.document_name = {t: ours[o] for t, o in self.document.items()}

    def _not_carried(self, theirs: list[int]) -> None:
        """What their copy of a document here carries from its source format (brat relations, XMI
        sentences) stays with them, as on import: the document here keeps its own; counted for the report."""
        for chunk in chunks(theirs):
            carried = {d: m[CARRIED] for d, m in self.t.execute(select(Document.id, Document.meta)
                                                                 .where(Document.id.in_(chunk)))
                       if isinstance(m, dict) and isinstance(m.get(CARRIED), dict)}
            if not carried:
                continue
            ours = dict(self.o.execute(select(Document.id, Document.meta).where(
                Document.id.in_([self.document[d] for d in carried]))).all())
            for d, content in carried.items():
                if (ours[self.document[d]] or {}).get(CARRIED) != content:
                    for fmt, what in content.items():
                        counts = what.get("counts") if isinstance(what, dict) else None
                        self.report.not_carried.update({f"{fmt} {k}": n for k, n in (counts or {}).items()
                                                        if isinstance(n, int)})

    def _check_document(self, doc_id: int, name, digest) -> None:
        """Their document's text is text whose SHA-256 is the one stored (documents are matched by it)."""
        text = self.t.scalar(select(Document.text).where(Document.id == doc_id))
        if not isinstance(text, str) or not isinstance(name, str) or not text.strip() or "\x00" in text:
            raise bad(self.t.path, f"document {name!r}", "has no text, or text the project cannot keep")
        try:
            ok = hashlib.sha256(text.encode("utf-8")).hexdigest() == digest
        except UnicodeEncodeError:
            ok = False
        if not ok:
            raise bad(self.t.path, f"document {name!r}", "has a text that does not match its stored SHA-256")
        self.text_length[doc_id] = len(text)

    # --- history
    def events(self) -> None:
        ids = sorted(set(self.annotator.values()))
        known: dict[tuple, Any] = {}  # (annotator, time, command) -> our event
        for chunk in chunks(ids):
            for r in self.o.execute(select(Event.id, Event.annotator_id, Event.created_at, Event.command,
                                           Event.payload, Event.undone).where(Event.annotator_id.in_(chunk))):
                known[(r.annotator_id, naive(r.created_at), _original(r.command, r.payload))] = r
        rows = []
        for r in self.t.execute(select(Event).order_by(Event.id)).scalars():
            annotator = self.annotator[r.annotator_id]
            key = (annotator, naive(r.created_at), _original(r.command, r.payload))
            if key in known:
                if r.command != MERGED and known[key] is not None and known[key].command == MERGED:
                    self._follow(known[key], r, key[2])
                continue
            known[key] = None
            payload: dict[str, Any] = (dict(r.payload) if r.command == MERGED else
                                       {"command": r.command, "payload": r.payload, "undone": r.undone,
                                        "source_event": r.id, "source": Path(self.report.source).name})
            if key[2] in DECISIONS and r.document_id in self.gold_kept:
                payload["superseded"] = True  # their decision on a gold we did not take
            rows.append(dict(annotator_id=annotator, document_id=self.document.get(r.document_id),
                             created_at=utc(r.created_at), command=MERGED, payload=payload, undone=r.undone))
        written = []
        for chunk in chunks(rows, CHUNK * 10):
            written += self.o.execute(insert(Event).returning(Event.id), chunk).scalars().all()
        edit_seconds.record(self.o, written)  # their time, per person and day
        self.report.events = len(rows)

    def _follow(self, ours, theirs: Event, command: str) -> None:
        """Our merged copy of their event follows what became of it there: undone or redone since (their
        own event says; a copy they merged from elsewhere does not), and a decision of theirs is in force
        once their gold of its document replaced ours."""
        payload = dict(ours.payload) if isinstance(ours.payload, dict) else {}
        undone = bool(theirs.undone)
        changed = undone != bool(ours.undone)
        if changed:
            payload["undone"] = undone
            self.report.events_updated += 1
        if command in DECISIONS and theirs.document_id in self.gold_taken and payload.pop("superseded", False):
            changed = True
        if changed:
            self.o.execute(update(Event).where(Event.id == ours.id).values(undone=undone, payload=payload))

def _original(command: str, payload: Any) -> str:
    if command == MERGED and isinstance(payload, dict):
        return str(payload.get("command", MERGED))
    return command
