"""`merge`: two project files made with the real core — two users, overlapping documents, one
entity both know under the same kb_id but describe differently."""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import new_store
from sqlalchemy import func, select
from test_review import SEEDS, doc_id, entity_id, label, make_store
from test_team_roles import as_login, cli as cli_as

from annotator.cli import main
from annotator.core.db.annotators import GOLD, set_role
from annotator.core.db.models import Alias, Annotator, Document, DocumentState, Entity, Event, Label, ModelRun, Span
from annotator.core.db.store import Store
from annotator.core.editing.label_commands import scheme_command
from annotator.core.project import Project
from annotator.core.records import CARRIED
from annotator.core.review.facade import Review
from annotator.core.review.triage import document_items
from annotator.errors import AnnotatorError
from annotator.io.importing import import_paths
from annotator.io.merging import MERGED, merge
from annotator.io.model_runs import active_run, find_run, record_run, runs, use_run

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)

_logins = itertools.count(1)
BRAT = Path(__file__).parent / "data" / "brat"
TABLES = (Annotator, Document, DocumentState, Entity, Alias, Event, Label, Span)


def counts(store):
    with store.Session() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in TABLES}


def layer(store, user, document_index):
    """(start, end, label, kb_id or "NIL" or None, status) of a user's layer in a sample article."""
    with store.Session() as s:
        a = s.scalar(select(Annotator.id).where(Annotator.name == user))
        rows = s.execute(select(Span.start, Span.end, Span.label, Span.nil, Span.status, Entity.kb_id)
                         .outerjoin(Entity, Entity.id == Span.entity_id)
                         .where(Span.annotator_id == a, Span.document_id == doc_id(store, document_index))
                         .order_by(Span.start, Span.end)).all()
    return [(r.start, r.end, r.label, "NIL" if r.nil else r.kb_id, r.status) for r in rows]


def file_digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def two(tmp_path):
    """ours: ana on articles 0-1. theirs: bob on articles 1-2 (plus a label of its own, a new
    entity, Japan renamed), and an "ana" layer of article 1 that differs from ours."""
    ours = make_store(tmp_path / "ours.db", docs=(0, 1))
    ana = Project(ours, "ana")
    for i in (0, 1):
        ana.open_document(doc_id(ours, i))
    label(ana, doc_id(ours, 0), "Japan", "GPE", kb="Q17")
    label(ana, doc_id(ours, 1), "South Korea", "GPE", kb="Q884")

    theirs = make_store(tmp_path / "theirs.db", docs=(1, 2), file=True)
    bob = Project(theirs, "bob")
    d1, d2 = doc_id(theirs, 1), doc_id(theirs, 2)
    bob.open_document(d1)
    bob.open_document(d2)
    label(bob, d1, "South Korea", "GPE", kb="Q884")
    label(bob, d1, "Seoul", "GPE", kb="NIL")
    kim = label(bob, d1, "Kim Kwan-jin", "PERSON")
    bob.new_entity_from_span(kim, description="South Korean defence minister (2010-2014)")
    label(bob, d2, "Japan", "GPE", kb="Q17")
    bob.edit_entity(entity_id(theirs, "Q17"), name="Nippon", description="Japan, as bob calls it")
    bob.set_status(d2, "done")
    other_ana = Project(theirs, "ana")
    other_ana.open_document(d1)
    label(other_ana, d1, "Seoul", "GPE")
    theirs.close()
    yield ours, tmp_path / "theirs.db"
    ours.close()


def test_merge_copies_layers_documents_entities_and_history(two):
    ours, theirs_path = two
    before = file_digest(theirs_path)
    report = merge(ours, theirs_path)
    assert file_digest(theirs_path) == before  # the other file is only read

    assert report.documents == [SEEDS[2].stem] and report.annotators == ["bob"]
    assert report.entities == ["local:kim-kwan-jin-2"]  # the starter KB has "local:kim-kwan-jin"
    conflicts = [(c.kb_id, c.ours["name"], c.theirs["name"]) for c in report.entity_conflicts]
    assert conflicts == [("Q17", "Japan", "Nippon")]
    assert report.layer_conflicts == [("ana", SEEDS[1].stem)]
    assert report.layers == 2 and report.spans == 4 and report.states == 2

    other = Store(theirs_path, upgrade=False)
    try:
        for i in (1, 2):
            assert layer(ours, "bob", i) == layer(other, "bob", i)
        assert [sp[2:4] for sp in layer(ours, "ana", 1)] == [("GPE", "Q884")]  # ours, not their "ana"
        assert [sp[2:4] for sp in layer(other, "ana", 1)] == [("GPE", None)]
        with ours.Session() as s, other.Session() as t:
            d2 = doc_id(ours, 2)
            assert s.scalar(select(Document.tokens).where(Document.id == d2)) == \
                t.scalar(select(Document.tokens).where(Document.name == SEEDS[2].stem))
            japan = s.scalar(select(Entity).where(Entity.kb_id == "Q17"))
            assert (japan.name, japan.description) == ("Japan", "Island country in East Asia.")  # kept
            bob_id = s.scalar(select(Annotator.id).where(Annotator.name == "bob"))
            linked = s.scalar(select(Span.entity_id).where(Span.annotator_id == bob_id, Span.document_id == d2))
            assert linked == japan.id  # their link, to our entity
            kim = s.scalar(select(Entity).where(Entity.kb_id == "local:kim-kwan-jin-2"))
            assert kim.created_by == bob_id and kim.description.startswith("South Korean defence minister")
            assert {a.text for a in kim.aliases} == {"Kim Kwan-jin"}
            assert s.get(DocumentState, (d2, bob_id)).status == "done"
            their_events = t.scalar(select(func.count()).select_from(Event).where(
                Event.annotator_id == t.scalar(select(Annotator.id).where(Annotator.name == "bob"))))
            merged = s.scalars(select(Event).where(Event.annotator_id == bob_id)).all()
            assert len(merged) == their_events and {e.command for e in merged} == {MERGED}
            assert {e.payload["command"] for e in merged} >= {"add_span", "link_span", "new_entity_from_span",
                                                               "edit_entity", "set_document_status"}
    finally:
        other.close()
    bob_here = Project(ours, "bob")  # copied history is audit only: nothing of it to undo here
    assert not bob_here.stack.can_undo


def test_merge_twice_adds_nothing(two):
    ours, theirs_path = two
    merge(ours, theirs_path)
    after_first = counts(ours)
    again = merge(ours, theirs_path)
    assert counts(ours) == after_first
    assert not again.added_anything and again.spans == 0 and again.events == 0
    assert again.unchanged == 2  # bob's two documents; (ana, article 1) differs: a conflict again
    assert again.layer_conflicts == [("ana", SEEDS[1].stem)]
    assert [c.kb_id for c in again.entity_conflicts] == ["Q17"]  # still reported, still not applied


@pytest.mark.single_backend  # merges ours into theirs: ours must be a file too
def test_merge_back_and_forth_does_not_duplicate_history(two):
    ours, theirs_path = two
    merge(ours, theirs_path)
    theirs = Store(theirs_path)
    try:
        merge(theirs, ours.path)  # bob takes ours in, including his own history copied back
        with theirs.Session() as t:
            assert not t.scalar(select(func.count()).select_from(Event).where(
                Event.command == MERGED, Event.payload["command"].as_string() == "add_span",
                Event.annotator_id == t.scalar(select(Annotator.id).where(Annotator.name == "bob"))))
    finally:
        theirs.close()
    before = counts(ours)
    assert merge(ours, theirs_path).events == 0
    assert counts(ours) == before


def test_merge_is_one_transaction(two, monkeypatch):
    ours, theirs_path = two
    before = counts(ours)
    from annotator.io import merging

    def boom(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merging._Merge, "events", boom)  # fails after layers were written
    with pytest.raises(RuntimeError):
        merge(ours, theirs_path)
    assert counts(ours) == before


def test_merge_errors_are_coded(two, tmp_path):
    ours, _ = two
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    empty = tmp_path / "empty.db"
    empty.touch()
    cases = [(tmp_path / "missing.db", "E010"), (text, "E003"), (foreign, "E001"), (empty, "E001"),
             (tmp_path, "E622")]  # a folder
    if ours.path is not None:  # an SQLite project
        cases.append((ours.path, "E158"))
    for path, code in cases:
        with pytest.raises(AnnotatorError) as e:
            merge(ours, path)
        assert e.value.code == code, path
    assert empty.stat().st_size == 0  # not turned into a project


def _edit(path, sql):
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()


@pytest.mark.parametrize("sql, code", [
    ("UPDATE spans SET start = 5, \"end\" = 999999999, label = '' WHERE id = (SELECT min(id) FROM spans)", "E116"),
    ("UPDATE spans SET label = '' WHERE id = (SELECT min(id) FROM spans)", "E116"),
    ("UPDATE spans SET start = 'abc' WHERE id = (SELECT min(id) FROM spans)", "E116"),
    ("UPDATE spans SET status = 'maybe' WHERE id = (SELECT min(id) FROM spans)", "E116"),
    ("UPDATE spans SET start = 2.5 WHERE id = (SELECT min(id) FROM spans)", "E116"),
    ("UPDATE documents SET text = 'changed' WHERE id = (SELECT min(id) FROM documents)", "E116"),
    ("UPDATE labels SET name = '' WHERE name = 'GPE'", "E116"),
    ("UPDATE aliases SET count = -3 WHERE id = (SELECT min(id) FROM aliases)", "E116"),
    ("UPDATE spans SET created_at = 'yesterday' WHERE id = (SELECT min(id) FROM spans)", "E115"),
    ("UPDATE documents SET meta = '{not json' WHERE id = (SELECT max(id) FROM documents)", "E115"),
])
def test_merge_checks_the_other_file_like_an_import(two, sql, code):
    """A colleague's span at 5-999,999,999 with an empty label used to be merged unchecked."""
    ours, theirs_path = two
    _edit(theirs_path, sql)
    before = counts(ours)
    with pytest.raises(AnnotatorError) as e:
        merge(ours, theirs_path)
    assert e.value.code == code and str(theirs_path) in str(e.value)
    assert counts(ours) == before


def test_merge_of_a_damaged_file_is_coded_and_changes_nothing(two):
    """Pages overwritten in the middle of the other file: a DatabaseError traceback before."""
    ours, theirs_path = two
    before = counts(ours)
    data = bytearray(theirs_path.read_bytes())
    page = 4096
    rng = random.Random(7)
    for n in range(12):
        damaged = bytearray(data)
        start = page * rng.randrange(1, len(data) // page)
        damaged[start:start + page] = bytes(rng.randrange(256) for _ in range(page))
        copy = theirs_path.with_name(f"damaged{n}.db")
        copy.write_bytes(bytes(damaged))
        try:
            merge(ours, copy)
        except AnnotatorError as e:
            assert e.code in ("E115", "E116", "E003", "E001", "E005", "E002"), str(e)
            assert counts(ours) == before
        else:  # a page nobody reads (free, or an index): merged as it is
            before = counts(ours)


def test_opening_a_damaged_project_as_db_is_coded(tmp_path):
    path = tmp_path / "p.db"
    store = make_store(path, docs=(0,), kb=False, file=True)
    store.close()
    data = bytearray(path.read_bytes())
    data[4096 * 2:4096 * 6] = bytes(range(256)) * 64
    path.write_bytes(bytes(data))
    from click.testing import CliRunner

    from annotator.cli import main

    result = CliRunner().invoke(main, ["--db", str(path), "stats"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "[E008]" in result.output or "[E003]" in result.output, result.output


def test_merge_brings_spans_labelled_from_a_search(two):
    """A colleague who labelled every match of a search ("search" origin): their project merges and
    the spans keep their origin. Before, the merge refused the whole file ("unknown origin")."""
    ours, theirs_path = two
    theirs = Store(theirs_path)
    bob = Project(theirs, "bob")
    hits = bob.search("military supplies")
    assert hits
    created = bob.label_matches(hits, "ORG")
    theirs.close()
    report = merge(ours, theirs_path)
    assert report.spans > 0
    with ours.Session() as s:
        origins = s.scalars(select(Span.origin).join(Annotator, Annotator.id == Span.annotator_id)
                            .where(Annotator.name == "bob", Span.label == "ORG", Span.status == "suggested")).all()
    assert origins.count("search") == len(created) > 0


def _disagree(store, annotators=("ana", "bob")) -> int:
    d = doc_id(store, 1)
    ana, bob = Project(store, annotators[0]), Project(store, annotators[1])
    for p in (ana, bob):
        p.open_document(d)
        label(p, d, "South Korea", "GPE", kb="Q884")  # agreed
    label(ana, d, "Kim Kwan-jin", "PERSON")  # missing in bob's
    label(ana, d, "Seoul", "GPE")
    label(bob, d, "Seoul", "ORG")
    return d


def _adjudicated(path, annotators=("ana", "bob")):
    """A colleague's file: ana and bob disagree on article 1 (missing, label); rev took bob's label and
    rejected ana's extra span, then marked gold done."""
    theirs = make_store(path, docs=(1,), file=True)
    d = _disagree(theirs, annotators)
    set_role(theirs, "rev", "reviewer")
    rev = Project(theirs, "rev")
    adj = Review(rev).adjudicate(d, list(annotators))
    kinds = {x.kind: x for x in adj}
    adj.take(kinds["label"], annotators[1])
    adj.reject(kinds["missing"])
    adj.finish()
    return theirs


def _review_items(store, index=1):
    """What the review window lists for the document: each disagreement, and the decision on it."""
    with store.Session() as s:
        return [(i.disagreement.kind, i.disagreement.start, i.disagreement.end,
                 i.decision and (i.decision.kind, i.decision.reviewer, i.decision.taken))
                for i in document_items(s, doc_id(store, index), ["ana", "bob"])]


def test_merge_keeps_a_reviewers_adjudication_decisions(tmp_path, backend):
    """A colleague's adjudicated document: gold came over, but the decisions (read back from the history)
    did not, so every disagreement was open again here and a rejected span asked to be decided anew."""
    theirs = _adjudicated(tmp_path / "theirs.db")
    expected = _review_items(theirs)
    theirs.close()
    assert [x[3] is not None for x in expected] == [True, True]
    ours = make_store(tmp_path / "ours.db", docs=(0,))
    try:
        merge(ours, tmp_path / "theirs.db")
        assert _review_items(ours) == expected
        set_role(ours, "rev", "reviewer")  # a merge gives no role (test_merge_roles.py): given here
        rev = Project(ours, "rev")  # the reviewer here resumes: nothing left to decide
        assert len(Review(rev).adjudicate(doc_id(ours, 1), ["ana", "bob"])) == 0
        with ours.Session() as s:
            assert s.scalar(select(func.count()).select_from(Span).join(Annotator, Annotator.id == Span.annotator_id)
                            .where(Annotator.name == GOLD)) == 2  # South Korea, Seoul ORG: not Kim
    finally:
        ours.close()


def test_merge_does_not_apply_decisions_on_a_gold_kept_here(tmp_path, backend):
    """Where this project kept its own gold of the document (a conflict), their decisions do not close
    our disagreements: the regions stay open here."""
    _adjudicated(tmp_path / "theirs.db").close()
    ours = make_store(tmp_path / "ours.db", docs=(1,))
    try:
        d = _disagree(ours)  # the same disagreements here
        set_role(ours, "lead", "reviewer")
        Review(Project(ours, "lead")).adjudicate(d, ["ana", "bob"])  # gold here: the agreed span only
        report = merge(ours, tmp_path / "theirs.db")
        assert report.layer_conflicts == [("gold", SEEDS[1].stem)]
        items = _review_items(ours)
        assert len(items) == 2 and all(x[3] is None for x in items)
    finally:
        ours.close()


GUIDE = "# Guidelines\n\n## GPE\nCountries, cities and their governments (metonymy: keep GPE, link the referent).\n"


def test_merge_brings_the_guidelines_a_project_lacks_and_keeps_its_own(two):
    """A reviewer's guidelines in the colleague's file were left behind: the project here showed none.
    Where both have guidelines and they differ, ours stay and the report says so."""
    ours, theirs_path = two
    theirs = Store(theirs_path)
    set_role(theirs, "rev", "reviewer")
    Project(theirs, "rev").set_guidelines(GUIDE)
    theirs.close()
    report = merge(ours, theirs_path)
    assert Project(ours, "ana").guidelines() == GUIDE
    assert "The project's guidelines came from it (this project had none)." in report.notes()
    again = merge(ours, theirs_path)
    assert not again.added_anything and not again.setting_conflicts

    set_role(ours, "lead", "reviewer")
    Project(ours, "lead").set_guidelines("# Ours\n")
    report = merge(ours, theirs_path)
    assert Project(ours, "ana").guidelines() == "# Ours\n"
    assert report.setting_conflicts == ["guidelines"] and not report.added_anything
    assert ("Conflict, the project's guidelines: both files have them and they differ; kept this one."
            in report.notes())


def test_merge_keeps_a_new_label_hidden_as_they_hid_it(two):
    """A label the colleague added and then hid (not offered for new spans) arrived shown: a digit key,
    a chip and a place in the picker here for a label their project had retired."""
    ours, theirs_path = two
    theirs = Store(theirs_path)
    bob = Project(theirs, "bob")
    bob.stack.push(scheme_command("add", "RUMOUR", colour="#888888", description="unconfirmed claims"))
    bob.stack.push(scheme_command("hide", "RUMOUR"))
    theirs.close()
    report = merge(ours, theirs_path)
    assert "RUMOUR" in report.labels
    [rumour] = [lab for lab in Project(ours, "ana").labels() if lab.name == "RUMOUR"]
    assert rumour.hidden and (rumour.colour, rumour.description) == ("#888888", "unconfirmed claims")


def test_merge_keeps_who_taught_an_alias(two):
    """An alias bob's link taught arrived as if it came with the knowledge base (no one's): on a team
    server bob could no longer remove his own alias, and nothing said whose it was."""
    ours, theirs_path = two
    merge(ours, theirs_path)
    with ours.Session() as s:
        taught = dict(s.execute(select(Alias.text, Annotator.name).join(Entity, Entity.id == Alias.entity_id)
                                .outerjoin(Annotator, Annotator.id == Alias.created_by)
                                .where(Entity.kb_id.in_(["Q17", "local:kim-kwan-jin-2"]))).all())
    assert taught["Kim Kwan-jin"] == "bob"  # his new entity's first alias
    assert taught["Japan"] is None  # the starter knowledge base's, here already


def test_merge_history_names_each_merged_edit_as_it_was_made(two):
    """`annotator history` and the history window listed every one of bob's merged edits as "merged":
    the audit trail was there, but nobody could read what he had done."""
    ours, theirs_path = two
    theirs = Store(theirs_path)
    bob = Project(theirs, "bob")
    d1 = doc_id(theirs, 1)
    label(bob, d1, "Japan", "GPE")
    bob.stack.undo()
    set_role(theirs, "rev", "reviewer")
    expected = [(e.user, e.text, e.undone) for e in Project(theirs, "rev").history(user="bob")]
    theirs.close()
    merge(ours, theirs_path)
    set_role(ours, "rev", "reviewer")
    got = [(e.user, e.text, e.undone) for e in Project(ours, "rev").history(user="bob")]
    assert got == [(u, f"{text} (merged from theirs.db)", undone) for u, text, undone in expected]
    assert any(text.startswith("undo: ") for _, text, _ in got)


def _run(store, folder, name, f):
    (folder / "model-best").mkdir(parents=True)
    (folder / "meta.json").write_text("{}")
    return record_run(store, name=name, path=folder, base="blank", documents=3, labels=["GPE", "ORG"],
                      scores={"ents_f": f})


def test_merge_brings_a_trained_run_by_name_with_its_folder_and_scores(two, tmp_path):
    """A colleague's trained run arrived without its name, folder or scores: `annotator models` did not
    list it, `suggest --model` and `evaluate` could not find it, and their suggestions pointed at a run
    nobody could name."""
    ours, theirs_path = two
    mine = _run(ours, tmp_path / "mine" / "ner", "ner", 0.5)
    use_run(ours, "ner")
    theirs = Store(theirs_path)
    theirs_run = _run(theirs, tmp_path / "theirs.models" / "ner", "ner", 0.8)  # stored beside their file
    with theirs.Session() as s:
        assert not Path(s.scalar(select(ModelRun.path).where(ModelRun.name == "ner"))).is_absolute()
    theirs.close()
    report = merge(ours, theirs_path)
    assert "Model run 'ner' is 'ner-2' here (the name was taken by another run)." in report.notes()
    found = find_run(ours, "ner-2")
    assert found.path == theirs_run.path and found.scores == {"ents_f": 0.8} and found.documents == 3
    assert found.labels == ["GPE", "ORG"] and not found.active
    assert active_run(ours).id == mine.id  # our suggester stays ours
    assert [r.name for r in runs(ours)] == ["ner", "ner-2"]
    assert merge(ours, theirs_path).model_runs == 0


def test_merge_says_what_their_copy_of_a_document_here_carried_is_not_kept(tmp_path):
    """Their brat import of an article this project has as plain text: their layer came, its relations,
    events and notes did not (the document here keeps its own), and the merge said nothing of it."""
    theirs = Store(tmp_path / "theirs.db")
    import_paths(theirs, [BRAT], fmt="brat", use_model=False, as_layer="colleague")
    theirs.close()
    (tmp_path / "txt").mkdir()
    shutil.copy(BRAT / "000-introduction.txt", tmp_path / "txt")
    ours = new_store(tmp_path / "ours.db")
    import_paths(ours, [tmp_path / "txt"], use_model=False)
    report = merge(ours, tmp_path / "theirs.db")
    assert ("Not kept, the documents were already here (only their layers came): brat attributes 5, brat event "
            "triggers 1, brat events 1, brat notes 1, brat relations 2.") in report.notes()
    assert report.layers == 3 and report.documents == ["PMID-16379001", "PMID-18054500"]  # theirs only: kept
    with ours.Session() as s:
        assert CARRIED not in s.scalar(select(Document.meta).where(Document.name == "000-introduction"))


def test_merge_takes_an_alias_a_whitespace_span_taught(two):
    """A space selected character by character (Alt), labelled and linked, teaches the alias " ": the
    project keeps it, but merge refused the colleague's whole file for it (E116, "alias has no text")."""
    ours, theirs_path = two
    theirs = Store(theirs_path)
    bob = Project(theirs, "bob")
    d1 = doc_id(theirs, 1)
    space = bob.document(d1).text.index(" ")
    bob.link(bob.add_span(d1, space, space + 1, "GPE"), entity_id(theirs, "Q884"))
    theirs.close()
    merge(ours, theirs_path)
    with ours.Session() as s:
        assert s.scalar(select(Alias.count).join(Entity, Entity.id == Alias.entity_id)
                        .where(Entity.kb_id == "Q884", Alias.text == " ")) == 1
    assert (space, space + 1, "GPE", "Q884", "accepted") in layer(ours, "bob", 1)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_merge_into_a_team_server_by_a_member_says_the_admin_merges(tmp_path, pg_cluster, backend):
    """A reviewer merging into the team server was told to "ask the admin for the reviewer role" they
    already have: the server lets no member write other people's layers and history (E543 says so)."""
    _adjudicated(tmp_path / "theirs.db").close()
    ours = make_store(tmp_path / "ours.db", docs=(0,))
    login = f"lead{os.getpid()}_{next(_logins)}"  # logins belong to the whole server
    assert cli_as(ours.url, "db", "users", "add", login, "--role", "reviewer").exit_code == 0
    before = counts(ours)
    result = cli_as(as_login(pg_cluster, ours, login), "merge", str(tmp_path / "theirs.db"))
    assert result.exit_code == 1 and result.output.startswith(
        f"Error: [E543] '{login}' cannot merge '{tmp_path / 'theirs.db'}' into the team database: the server "
        "refused it (new row violates row-level security policy for table \"annotators\").")
    assert "ask the admin to run `annotator merge`" in result.output and counts(ours) == before
    assert cli_as(ours.url, "merge", str(tmp_path / "theirs.db")).exit_code == 0  # the admin merges
    assert [x[3] for x in _review_items(ours)] == [("take", "rev", "bob"), ("reject", "rev", None)]


def test_merge_does_not_bring_back_an_entity_merged_away_here(two):
    """ana merged "Korea" into South Korea here; bob's file still had it, linked. The merge added it
    again (the duplicate back in the knowledge base, bob's mention on it), and ana's Ctrl+Z of her
    knowledge-base merge then failed on the kb_id taken."""
    ours, theirs_path = two
    ana = Project(ours, "ana")
    ana.merge_entities(entity_id(ours, "local:korea"), entity_id(ours, "Q884"))
    theirs = Store(theirs_path)
    bob = Project(theirs, "bob")
    d2 = doc_id(theirs, 2)
    korea = label(bob, d2, "Korea", "GPE", kb="local:korea")
    start = bob.span(korea).start
    theirs.close()
    report = merge(ours, theirs_path)
    assert "local:korea" not in report.entities and entity_id(ours, "local:korea") is None
    assert "Entity local:korea was merged into Q884 here: their mentions of it link to Q884." in report.notes()
    assert (start, start + len("Korea"), "GPE", "Q884", "accepted") in layer(ours, "bob", 2)
    again = merge(ours, theirs_path)
    assert not again.added_anything and ("bob", SEEDS[2].stem) not in again.layer_conflicts
    ana.stack.undo()  # her knowledge-base merge, undone: "Korea" is back, her mentions with it
    assert entity_id(ours, "local:korea") is not None


def alias_counts(store, *keys):
    with store.Session() as s:
        rows = dict(((kb, text), n) for kb, text, n in s.execute(
            select(Entity.kb_id, Alias.text, Alias.count).join(Entity, Entity.id == Alias.entity_id)))
    return [rows.get(k) for k in keys]


def test_merge_counts_their_links_toward_the_aliases_here(two):
    """bob's confirmed links came with his layers, but the aliases here did not count them: the
    candidates ranked as if nobody had linked "South Korea" or "Japan" there (an import counts them)."""
    ours, theirs_path = two
    keys = (("Q884", "South Korea"), ("Q17", "Japan"), ("local:kim-kwan-jin-2", "Kim Kwan-jin"))
    before = alias_counts(ours, *keys)
    report = merge(ours, theirs_path)
    after = alias_counts(ours, *keys)
    assert after[:2] == [before[0] + 1, before[1] + 1]  # his article 1 and 2 links (Seoul is NIL)
    assert before[2] is None and after[2] == 1  # his new entity's alias, copied with his count
    assert report.learned_links == 2 and "Counted 2 of their links toward the aliases of their entities." in \
        report.notes()
    assert merge(ours, theirs_path).learned_links == 0 and alias_counts(ours, *keys) == after


def test_merge_names_their_knowledge_base_merge_it_does_not_apply(two):
    """bob merged "Korea" into South Korea; here both stay (a merge changes nothing here), and the
    report did not say so: the duplicate he removed went unnoticed."""
    ours, theirs_path = two
    theirs = Store(theirs_path)
    Project(theirs, "bob").merge_entities(entity_id(theirs, "local:korea"), entity_id(theirs, "Q884"))
    theirs.close()
    report = merge(ours, theirs_path)
    assert report.not_merged == [("local:korea", "Q884")]
    assert ("They merged entity local:korea into Q884; both are still here (merge them in the entity view if you "
            "agree).") in report.notes()
    assert entity_id(ours, "local:korea") is not None


def test_merge_reports_a_label_they_recoloured_described_or_hid(two):
    """bob recoloured ORG, described GPE anew and hid LAW; here the scheme stays as it is, and the merge
    said nothing of it (entities that differ were reported, labels were not)."""
    ours, theirs_path = two
    theirs = Store(theirs_path)
    bob = Project(theirs, "bob")
    for command in (scheme_command("recolour", "ORG", "#654321"), scheme_command("describe", "GPE", "Countries"),
                    scheme_command("hide", "LAW")):
        bob.stack.push(command)
    theirs.close()
    before = {lab.name: lab for lab in Project(ours, "ana").labels()}
    report = merge(ours, theirs_path)
    assert {lab.name: lab for lab in Project(ours, "ana").labels()} == before
    assert sorted((c.name, c.difference()) for c in report.label_conflicts) == [
        ("GPE", f"description: {before['GPE'].description!r} here, 'Countries' there"),
        ("LAW", "hidden: 'shown' here, 'hidden' there"),
        ("ORG", f"colour: {before['ORG'].colour!r} here, '#654321' there")]
    assert f"Conflict, label ORG kept as it is here — colour: {before['ORG'].colour!r} here, '#654321' there" in \
        report.notes()


def test_merge_of_an_older_colleague_file_says_how_to_upgrade_that_file(two, tmp_path):
    """A file made by an older annotator was refused with E005's "run `annotator db upgrade`": run as
    written, that upgrades this project, never the colleague's file, and the merge is refused again."""
    ours, _ = two
    old = tmp_path / "old colleague.db"
    shutil.copy(Path(__file__).parent / "data" / "project-0001.db", old)
    before, digest = counts(ours), file_digest(old)
    with pytest.raises(AnnotatorError) as e:
        merge(ours, old)
    assert e.value.code == "E544" and f"`annotator --db '{old}' db upgrade`" in str(e.value)
    assert counts(ours) == before and file_digest(old) == digest
    assert CliRunner().invoke(main, ["--db", str(old), "db", "upgrade"]).exit_code == 0  # as it says
    conn = sqlite3.connect(old)  # the committed file's digests are placeholders: the real ones, as a project has
    conn.executemany("UPDATE documents SET text_sha256 = ? WHERE id = ?", [
        (hashlib.sha256(text.encode()).hexdigest(), i) for i, text in conn.execute("SELECT id, text FROM documents")])
    conn.commit()
    conn.close()
    assert merge(ours, old).documents
