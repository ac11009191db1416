"""`merge` of a colleague's project holding every kind of thing a user can make, built with the real
core and command line: model suggestions accepted, relabelled, moved and deleted; human, propagated,
search-labelled and imported spans; links, NIL, referent notes, a new entity, an entity edit and a
knowledge-base merge; undo, redo and "revert to here"; documents done and in progress; a label scheme
added to, recoloured, renamed and hidden; guidelines; a trained run; brat and XMI imports with their
relations and sentences; and a reviewer's adjudication into gold. It is merged into a project with
overlapping work of its own, layer by layer and entity by entity compared, twice, and back."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from test_merge import _run, _review_items, _disagree
from test_review import SEEDS, doc_id, entity_id, label, make_store

from annotator.cli import main
from annotator.core.db.annotators import set_role
from annotator.core.db.models import Alias, Annotator, Document, DocumentState, Entity, Event, Label, ModelRun, Span
from annotator.core.db.store import Store
from annotator.core.guidelines import guidelines
from annotator.core.project import Project
from annotator.core.records import MERGED
from annotator.core.review.facade import Review
from annotator.io.importing import import_records
from annotator.io.merging import merge
from annotator.io.sources import read_paths

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)

DATA = Path(__file__).parent / "data"
KB = [{"id": "local:dup-a", "name": "Dup A", "type": "ORG", "aliases": ["DupA", "the dup"]},
      {"id": "local:dup-b", "name": "Dup B", "type": "ORG", "aliases": ["DupB"]}]


def cli(db: Path, user: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), "--user", user, *args])
    assert result.exit_code == 0, (args, result.output)
    return result.output


def colleague(tmp_path: Path) -> Path:
    """Their project file: everything a user can make (see the module docstring)."""
    path = tmp_path / "theirs.db"
    store = make_store(path, docs=(0, 1), file=True)
    import_records(store, read_paths([SEEDS[2]]), use_model=True)  # the model layer, a model run
    _run(store, tmp_path / "theirs.models" / "ner", "ner", 0.7)
    store.close()
    cli(path, "bob", "labels", "add", "WEAPON", "--colour", "#123456", "--description", "arms")
    cli(path, "bob", "labels", "add", "SECRET")
    cli(path, "bob", "labels", "hide", "SECRET")
    cli(path, "bob", "labels", "recolour", "ORG", "#654321")
    cli(path, "bob", "labels", "rename", "FAC", "FACILITY")
    (tmp_path / "kb.jsonl").write_text("".join(json.dumps(e) + "\n" for e in KB))
    cli(path, "bob", "kb", "import", str(tmp_path / "kb.jsonl"))
    cli(path, "bob", "import", str(DATA / "brat"), "--format", "brat", "--no-model", "--as-layer", "colleague")
    shutil.copytree(DATA / "xmi", tmp_path / "xmi")
    cli(path, "bob", "import", str(tmp_path / "xmi"), "--format", "xmi", "--no-model", "--as-layer", "colleague")

    store = Store(path)
    d0, d1, d2 = (doc_id(store, i) for i in (0, 1, 2))
    bob = Project(store, "bob")
    bob.open_document(d0)
    bob.open_document(d2)  # the model's suggestions
    suggested = [v for v in bob.spans(d2) if v.status == "suggested"]
    bob.accept(suggested[0].id)
    bob.relabel(suggested[1].id, "WEAPON")
    bob.move(suggested[2].id, suggested[2].start, suggested[2].end - 1)
    bob.delete_span(suggested[3].id)
    korea = label(bob, d0, "South Korea", "GPE", kb="Q884")
    label(bob, d0, "Seoul", "GPE", kb="NIL")
    japan = label(bob, d0, "Japan", "GPE", kb="Q17")
    bob.set_referent_note(japan, "the Japanese government")
    kim = label(bob, d0, "Kim Kwan-jin", "PERSON")
    bob.new_entity_from_span(kim, description="defence minister")
    bob.edit_entity(entity_id(store, "Q17"), name="Nippon")
    bob.propagate(korea, scope="corpus")
    bob.label_matches(bob.search("military"), "WEAPON")
    label(bob, d0, "Tokyo", "GPE")
    bob.stack.undo()
    bob.stack.undo()
    bob.stack.redo()
    bob.merge_entities(entity_id(store, "local:dup-b"), entity_id(store, "local:dup-a"))
    bob.set_status(d0, "done")
    bob.set_status(d2, "in_progress")
    cy = Project(store, "cy")
    cy.open_document(d2)
    first = label(cy, d2, "Japan", "PERSON")  # (the model's GPE is in her layer already)
    label(cy, d2, "South Korea", "ORG")
    cy.relabel(first, "NORP")
    cy.revert_to(cy.history(document=d2)[0].event_id)
    _disagree(store)  # ana and bob on article 1
    ana = Project(store, "ana")
    ana.open_document(d0)  # ours has ana's article 0 too, differently: a conflict
    label(ana, d0, "Seoul", "ORG")
    set_role(store, "rev", "reviewer")
    adj = Review(Project(store, "rev")).adjudicate(d1, ["ana", "bob"])
    kinds = {x.kind: x for x in adj}
    adj.take(kinds["label"], "bob")
    adj.reject(kinds["missing"])
    adj.finish()
    store.close()
    (tmp_path / "guide.md").write_text("# Guidelines\n\n## GPE\nCountries and their governments.\n")
    cli(path, "rev", "guidelines", "set", str(tmp_path / "guide.md"))
    return path


def snapshot(store: Store) -> dict:
    """Everything merge may copy, keyed by what is the same in both files (names, text digests, kb_ids)."""
    out: dict = {}
    with store.Session() as s:
        names = dict(s.execute(select(Annotator.id, Annotator.name)).all())
        digest = dict(s.execute(select(Document.id, Document.text_sha256)).all())
        kb = dict(s.execute(select(Entity.id, Entity.kb_id)).all())
        runs = {r.id: (r.model_name, r.model_version) for r in s.scalars(select(ModelRun))}
        layers: dict = {}
        for r in s.scalars(select(Span)):
            layers.setdefault((names[r.annotator_id], digest[r.document_id]), []).append(
                (r.start, r.end, r.label, "NIL" if r.nil else kb.get(r.entity_id), r.status, r.origin,
                 r.referent_note, runs.get(r.model_run_id), r.version))
        out["layers"] = {k: sorted(v, key=repr) for k, v in layers.items()}
        out["states"] = {(names[r.annotator_id], digest[r.document_id]): (r.status, r.seconds_spent)
                         for r in s.scalars(select(DocumentState))}
        out["entities"] = {r.kb_id: (r.name, r.type, r.description, names.get(r.created_by))
                           for r in s.scalars(select(Entity))}
        out["aliases"] = {(kb[r.entity_id], r.text): (r.count, names.get(r.created_by))
                          for r in s.scalars(select(Alias))}
        out["labels"] = {r.name: (r.colour, r.description, r.hidden) for r in s.scalars(select(Label))}
        out["runs"] = {(r.model_name, r.model_version): (r.name, r.base, r.documents, r.labels, r.scores)
                       for r in s.scalars(select(ModelRun))}
        events: Counter = Counter()
        for r in s.scalars(select(Event)):
            command = r.payload["command"] if r.command == MERGED else r.command
            events[(names[r.annotator_id], r.created_at.replace(tzinfo=None), command, r.undone,
                    digest.get(r.document_id))] += 1
        out["events"] = events
        out["documents"] = {r.text_sha256: (r.title, r.meta, r.tokens) for r in s.scalars(select(Document))}
        out["guidelines"] = guidelines(s)
    return out


def ours_with_work(tmp_path: Path) -> Store:
    """This project: articles 0 and 1, ana's own (different) layer of article 0."""
    ours = make_store(tmp_path / "ours.db", docs=(0, 1))
    ana = Project(ours, "ana")
    d0 = doc_id(ours, 0)
    ana.open_document(d0)
    label(ana, d0, "Japan", "GPE", kb="Q17")
    ana.set_status(d0, "done")
    return ours


@pytest.fixture
def files(tmp_path):
    theirs_path = colleague(tmp_path)
    theirs = Store(theirs_path, upgrade=False)
    try:
        yield tmp_path, theirs_path, snapshot(theirs), {d: _review_items(theirs, 1) for d in (1,)}
    finally:
        theirs.close()


def test_merge_everything_loses_nothing_and_a_second_merge_adds_nothing(files):
    tmp_path, theirs_path, theirs, decided = files
    ours = ours_with_work(tmp_path)
    before = snapshot(ours)
    report = merge(ours, theirs_path)
    after = snapshot(ours)

    ana0 = ("ana", next(k[1] for k in before["layers"] if k[0] == "ana"))
    assert report.layer_conflicts == [("ana", SEEDS[0].stem)]
    assert [c.kb_id for c in report.entity_conflicts] == ["Q17"]
    assert [(c.name, c.theirs["colour"]) for c in report.label_conflicts] == [("ORG", "#654321")]
    for unit, spans in theirs["layers"].items():  # every layer document of theirs, span by span
        assert after["layers"][unit] == (before["layers"][unit] if unit == ana0 else spans), unit
    assert {o for spans in theirs["layers"].values() for *_, o, _, _, _ in spans} >= {"model", "human", "import",
                                                                                       "propagated", "search"}
    for unit, state in theirs["states"].items():
        assert after["states"][unit] == (before["states"][unit] if unit == ana0 else state), unit
    for kb_id, entity in theirs["entities"].items():  # entity by entity: theirs, or ours where we had it
        assert after["entities"][kb_id] == before["entities"].get(kb_id, entity), kb_id
    assert "local:dup-b" not in after["entities"]  # merged away there
    for key, alias in theirs["aliases"].items():
        assert key in after["aliases"], key
        if key not in before["aliases"]:
            assert after["aliases"][key] == alias, key
    for name, lab in theirs["labels"].items():
        assert after["labels"][name] == before["labels"].get(name, lab), name
    assert after["labels"]["SECRET"][2] is True
    assert after["runs"] == {**before["runs"], **theirs["runs"]}
    assert not theirs["events"] - after["events"]  # the whole history, undone flags included
    for digest, document in theirs["documents"].items():
        assert after["documents"][digest] == before["documents"].get(digest, document)
    assert after["guidelines"] == theirs["guidelines"]
    assert _review_items(ours, 1) == decided[1]

    again = merge(ours, theirs_path)
    assert not again.added_anything
    assert snapshot(ours) == after


@pytest.mark.single_backend  # merges ours into theirs: ours must be a file too
def test_merge_everything_back_keeps_theirs_and_adds_only_ours(files):
    tmp_path, theirs_path, theirs, decided = files
    ours = ours_with_work(tmp_path)
    mine = snapshot(ours)
    merge(ours, theirs_path)
    ours.close()
    back = Store(theirs_path)
    try:
        report = merge(back, tmp_path / "ours.db")
        after = snapshot(back)
        assert report.layer_conflicts == [("ana", SEEDS[0].stem)]
        assert {k: after["layers"][k] for k in theirs["layers"]} == theirs["layers"]
        assert after["events"] - theirs["events"] == mine["events"]  # ours, once; theirs not copied back
        assert _review_items(back, 1) == decided[1]
        assert not merge(back, tmp_path / "ours.db").added_anything
        assert snapshot(back) == after
    finally:
        back.close()
