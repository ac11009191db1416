"""`annotator merge` week after week: a colleague's file merged again after both sides worked on. A
layer document is merged three ways against what it was when the last merge left it (io/merge_layers.py),
and copies of their events follow their undone flag. Through the command line, on both backends."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from test_merge import _adjudicated, _disagree, _review_items, alias_counts, layer
from test_review import SEEDS, doc_id, label, make_store

from annotator.cli import main
from annotator.core.db import schema
from annotator.core.db.annotators import set_role
from annotator.core.db.models import Annotator, DocumentState, Event
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.records import MERGED
from annotator.core.review.facade import Review

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)

X = SEEDS[1].stem  # the document both work on


def merge_cli(ours: Store, theirs: Path) -> list[str]:
    """`annotator merge THEIRS` into this project, as a user types it: the lines it prints."""
    result = CliRunner().invoke(main, ["--db", str(ours.path or ours.url), "merge", str(theirs)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def conflicts(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("Conflict, layer")]


def her_file(path: Path) -> Path:
    """Her project file: ana labelled Seoul in article 1."""
    theirs = make_store(path, docs=(1,), file=True)
    ana = Project(theirs, "ana")
    ana.open_document(doc_id(theirs, 1))
    label(ana, doc_id(theirs, 1), "Seoul", "GPE", kb="NIL")
    theirs.close()
    return path


def work(path: Path, edit) -> None:
    """ana goes on working in her own file."""
    theirs = Store(path)
    try:
        edit(Project(theirs, "ana"), doc_id(theirs, 1))
    finally:
        theirs.close()


def hers(path: Path) -> list[tuple]:
    theirs = Store(path, upgrade=False)
    try:
        return layer(theirs, "ana", 1)
    finally:
        theirs.close()


@pytest.fixture
def weekly(tmp_path):
    """This project (articles 0 and 1, lee's own work) after a first merge of her file."""
    ours = make_store(tmp_path / "ours.db", docs=(0, 1))
    lee = Project(ours, "lee")
    lee.open_document(doc_id(ours, 0))
    label(lee, doc_id(ours, 0), "Japan", "GPE")
    path = her_file(tmp_path / "theirs.db")
    first = merge_cli(ours, path)
    assert first[0].startswith(f"Merged {path}: 0 documents, 1 layer document with 1 span")
    assert layer(ours, "ana", 1) == hers(path)
    yield ours, path
    ours.close()


def test_merge_again_takes_her_later_correction_of_a_layer_nobody_here_touched(weekly):
    """She corrected her layer of X after the first merge; nobody here touched it. The second merge
    reported a conflict and kept her old version, at every merge after the first."""
    ours, path = weekly
    keys = [("Q884", "South Korea")]
    before = alias_counts(ours, *keys)

    def correct(ana, d):
        ana.relabel(ana.spans(d)[0].id, "LOC")
        label(ana, d, "South Korea", "GPE", kb="Q884")
        ana.set_status(d, "done")

    work(path, correct)
    lines = merge_cli(ours, path)
    assert not conflicts(lines)
    assert ", 1 layer document brought up to their later version, " in lines[0]
    assert f"Layer ana in document {X}: their later version replaced this one (unchanged here since the last " \
           "merge)." in lines
    assert layer(ours, "ana", 1) == hers(path)
    assert [sp[2] for sp in layer(ours, "ana", 1)] == ["LOC", "GPE"]
    with ours.Session() as s:
        ana = s.scalar(select(Annotator.id).where(Annotator.name == "ana"))
        assert s.get(DocumentState, (doc_id(ours, 1), ana)).status == "done"
    assert alias_counts(ours, *keys) == [before[0] + 1]  # her new link, counted once

    again = merge_cli(ours, path)
    assert again[-1] == "Nothing new: everything in it is already here." and not conflicts(again)
    assert alias_counts(ours, *keys) == [before[0] + 1]


def test_merge_again_keeps_a_change_made_here_without_a_conflict(weekly):
    """X changed here since the last merge and not in her file: ours is the later version, kept, and no
    conflict is reported (her file simply has not caught up)."""
    ours, path = weekly
    here = Project(ours, "ana")  # her layer, corrected here (she works on this machine too)
    d = doc_id(ours, 1)
    here.relabel(here.spans(d)[0].id, "FAC")
    mine = layer(ours, "ana", 1)
    lines = merge_cli(ours, path)
    assert not conflicts(lines)
    assert f"Layer ana in document {X}: changed here since the last merge, not there; kept this one." in lines
    assert layer(ours, "ana", 1) == mine != hers(path)


def test_merge_again_when_both_changed_it_is_a_conflict_and_ours_is_kept(weekly):
    ours, path = weekly
    here = Project(ours, "ana")
    here.relabel(here.spans(doc_id(ours, 1))[0].id, "FAC")
    mine = layer(ours, "ana", 1)
    work(path, lambda ana, d: ana.relabel(ana.spans(d)[0].id, "LOC"))
    lines = merge_cli(ours, path)
    assert conflicts(lines) == [f"Conflict, layer ana in document {X}: both files have it and they differ; kept "
                                "this one."]
    assert ", 0 layer documents brought up to their later version, " in lines[0]
    assert layer(ours, "ana", 1) == mine
    assert merge_cli(ours, path)[-1] == conflicts(lines)[0]  # and again next week: nobody's base moved


def test_merge_again_a_decision_undone_in_her_file_is_no_longer_in_force_here(tmp_path):
    """Her reviewer undid a decision after the first merge: our copy kept `undone` false, so here the
    rejected span stayed decided for ever. Redone there, it is in force here again."""
    theirs = _adjudicated(tmp_path / "theirs.db")
    decided = _review_items(theirs)
    theirs.close()
    ours = make_store(tmp_path / "ours.db", docs=(0,))
    try:
        merge_cli(ours, tmp_path / "theirs.db")
        assert _review_items(ours) == decided
        theirs = Store(tmp_path / "theirs.db")
        rev = Project(theirs, "rev")
        rev.stack.undo()  # "gold done"
        rev.stack.undo()  # the rejection of ana's extra span
        reopened = _review_items(theirs)
        theirs.close()
        assert [x[3] is None for x in reopened] == [False, True]
        lines = merge_cli(ours, tmp_path / "theirs.db")
        assert _review_items(ours) == reopened
        assert not conflicts(lines)
        assert "2 history events merged before were undone or redone there since: updated here." in lines
        with ours.Session() as s:
            undone = s.execute(select(Event.undone, Event.payload).where(
                Event.command == MERGED, Event.payload["command"].as_string() == "adjudicate_reject")).one()
        assert undone.undone and undone.payload["undone"] is True

        theirs = Store(tmp_path / "theirs.db")
        Project(theirs, "rev").stack.redo()
        theirs.close()
        merge_cli(ours, tmp_path / "theirs.db")
        assert _review_items(ours) == decided
    finally:
        ours.close()


def test_merge_again_her_gold_taken_after_ours_was_undone_brings_her_decisions_into_force(tmp_path):
    """Our own gold of the document was kept at the first merge (a conflict), so her decisions came
    "superseded". Our reviewer then undid that adjudication; the next merge brought her gold, but her
    decisions stayed superseded: every disagreement open here beside her finished gold."""
    _adjudicated(tmp_path / "theirs.db").close()
    ours = make_store(tmp_path / "ours.db", docs=(1,))
    try:
        d = _disagree(ours)
        set_role(ours, "lead", "reviewer")
        Review(Project(ours, "lead")).adjudicate(d, ["ana", "bob"])
        lines = merge_cli(ours, tmp_path / "theirs.db")
        assert conflicts(lines) == [f"Conflict, layer gold in document {X}: both files have it and they differ; "
                                    "kept this one."]
        assert all(x[3] is None for x in _review_items(ours))
        Project(ours, "lead").stack.undo()  # the agreed spans out of gold again: no gold here
        lines = merge_cli(ours, tmp_path / "theirs.db")
        assert not conflicts(lines) and lines[0].startswith(f"Merged {tmp_path / 'theirs.db'}: 0 documents, 1 layer "
                                                            "document with 2 spans")
        assert [x[3] for x in _review_items(ours)] == [("take", "rev", "bob"), ("reject", "rev", None)]
    finally:
        ours.close()


@pytest.mark.single_backend  # an SQLite file at revision 0016, upgraded
def test_merge_again_a_project_upgraded_from_0016_merges_as_before_then_three_ways(tmp_path):
    """A project from before 0017 has no bases: a layer document that differs is a conflict, as before;
    one a merge found equal gets its base then, and her later change of it is taken at the next merge."""
    ours_path, theirs_path = tmp_path / "ours.db", tmp_path / "theirs.db"
    shutil.copy(Path(__file__).parent / "data" / "project-0001.db", ours_path)
    engine = create_engine(f"sqlite:///{ours_path}")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0016")
    engine.dispose()
    conn = sqlite3.connect(ours_path)  # the committed file's digests are placeholders: the real ones
    conn.executemany("UPDATE documents SET text_sha256 = ? WHERE id = ?", [
        (hashlib.sha256(text.encode()).hexdigest(), i) for i, text in conn.execute("SELECT id, text FROM documents")])
    conn.commit()
    conn.close()
    result = CliRunner().invoke(main, ["--db", str(ours_path), "db", "upgrade"])
    assert result.exit_code == 0 and result.output.startswith(f"Upgraded {ours_path} from schema 0016 to {schema.HEAD}.")
    conn = sqlite3.connect(ours_path)
    assert [r[1] for r in conn.execute("PRAGMA table_info(merge_bases)")] == ["document_id", "annotator_id", "digest", "seq"]
    assert conn.execute("SELECT count(*) FROM merge_bases").fetchone() == (0,)
    conn.close()
    shutil.copy(ours_path, theirs_path)  # her copy of the project, from before any merge
    ours = Store(ours_path)
    try:
        theirs = Store(theirs_path)
        ana = Project(theirs, "ana")
        ana.relabel(next(sp.id for sp in ana.spans(1) if sp.label == "GPE"), "LAW")
        theirs.close()
        lines = merge_cli(ours, theirs_path)
        assert conflicts(lines) == ["Conflict, layer ana in document a1: both files have it and they differ; kept "
                                    "this one."]
        assert ours.execute("SELECT count(*) FROM merge_bases") == [(2,)]  # (model, a1), (ana, a2): equal

        theirs = Store(theirs_path)
        ana = Project(theirs, "ana")
        ana.relabel(next(sp.id for sp in ana.spans(2) if sp.label == "GPE"), "PERSON")
        expected = [(sp.start, sp.end, sp.label) for sp in ana.spans(2)]
        theirs.close()
        lines = merge_cli(ours, theirs_path)
        assert "Layer ana in document a2: their later version replaced this one (unchanged here since the last " \
               "merge)." in lines
        assert conflicts(lines) == ["Conflict, layer ana in document a1: both files have it and they differ; kept "
                                    "this one."]
        assert [(sp.start, sp.end, sp.label) for sp in Project(ours, "ana").spans(2)] == expected
    finally:
        ours.close()
