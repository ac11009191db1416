"""Agreement counts decisions, not suggestions (DESIGN.md, "What counts as an annotation"), and the
command line keeps annotation blind: agreement for reviewers, roles given by reviewers or the owner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_review import SEEDS, doc_id, label, make_store, tokens_of

from annotator.cli import main
from annotator.core.db.annotators import set_role
from annotator.core.db.models import Annotator, DocumentState, Span
from annotator.core.project import Project
from annotator.core.records import SpanRecord
from annotator.core.review.agreement import compute
from annotator.core.review.inputs import project_agreement
from annotator.io.importing import import_records
from annotator.formats.jsonl import read as read_jsonl
from sqlalchemy import select


@pytest.fixture
def model_team(tmp_path):
    """Two articles with model suggestions in every layer opened: ana and bob check them and mark
    both done; rita only opens them (her layer is the model's copy, untouched)."""
    store = make_store(tmp_path / "m.db", docs=(0, 1), kb=False)
    d0, d1 = doc_id(store, 0), doc_id(store, 1)
    with store.atomic() as s:  # the model's suggestions, as pre-annotation writes them
        model = Annotator(name="model", is_model=True)
        s.add(model)
        s.flush()
        for d, text in ((d0, SEEDS[0].read_text()), (d1, SEEDS[1].read_text())):
            at = text.index("Japan")
            s.add(Span(document_id=d, annotator_id=model.id, start=at, end=at + 5, label="GPE",
                       origin="model", status="suggested"))
    people = {n: Project(store, n) for n in ("ana", "bob", "rita")}
    for p in people.values():
        for d in (d0, d1):
            p.open_document(d)  # the layer starts as a copy of the model's suggestions
    for name in ("ana", "bob"):
        p = people[name]
        for d in (d0, d1):
            for v in p.spans(d):
                p.accept(v.id)
        label(p, d0, "Kim Kwan-jin", "PERSON")
        p.set_status(d0, "done")
        p.set_status(d1, "done")
    label(people["bob"], d1, "South Korea", "GPE")
    yield store, people, (d0, d1)
    store.close()


def test_untouched_suggestions_do_not_agree_with_themselves(model_team):
    """Regression: a layer of copied suggestions gave F1 1.000 against another such layer."""
    store, people, docs = model_team
    report = project_agreement(store).to_json()
    pairs = {(p["a"], p["b"]): p for p in report["pairs"]}
    assert pairs[("ana", "rita")]["n_docs"] == 0 and pairs[("ana", "rita")]["documents"] == []
    assert pairs[("ana", "rita")]["span_f1_exact"] is None and pairs[("bob", "rita")]["span_f1_exact"] is None
    assert pairs[("ana", "bob")]["documents"] == [SEEDS[0].stem, SEEDS[1].stem]
    with store.Session() as s:  # the reference sees the accepted spans alone
        status = dict(s.execute(select(Span.id, Span.status)).all())
    accepted = {n: {people[n].document(d).name: [SpanRecord(v.start, v.end, v.label) for v in people[n].spans(d)
                                                  if status[v.id] == "accepted"] for d in docs}
                for n in ("ana", "bob")}
    expected = compute(accepted, tokens_of(store, docs)).to_json()
    assert pairs[("ana", "bob")] == expected["pairs"][0]
    assert report["overall"] == expected["overall"]


def test_status_all_takes_documents_in_progress_with_accepted_spans_only(model_team):
    store, people, (d0, d1) = model_team
    people["bob"].set_status(d1, "in_progress")
    done = project_agreement(store, ["ana", "bob"]).to_json()
    assert done["pairs"][0]["documents"] == [SEEDS[0].stem]
    both = project_agreement(store, ["ana", "bob"], status="all").to_json()
    assert both["pairs"][0]["documents"] == [SEEDS[0].stem, SEEDS[1].stem]
    rita = project_agreement(store, ["ana", "rita"], status="all").to_json()
    assert rita["pairs"][0]["n_docs"] == 2  # opened counts with --status all, but her suggestions do not:
    assert rita["pairs"][0]["span_f1_exact"] < 1.0  # she accepted nothing, ana did


def _tasks(path, tasks):
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
    return path


def test_an_imported_colleagues_file_counts_and_a_rejected_task_does_not(model_team, tmp_path):
    store, people, (d0, d1) = model_team
    texts = [people["ana"].document(d).text for d in (d0, d1)]
    at = texts[0].index("Kim Kwan-jin")
    tasks = [{"text": texts[0], "spans": [{"start": at, "end": at + 12, "label": "PERSON"}],
              "_annotator_id": "dora", "answer": "accept"},
             {"text": texts[1], "spans": [{"start": 0, "end": 5, "label": "GPE"}],
              "_annotator_id": "dora", "answer": "reject"}]
    import_records(store, read_jsonl(_tasks(tmp_path / "dora.jsonl", tasks)), use_model=False, by="lead")
    with store.Session() as s:
        dora = s.scalar(select(Annotator.id).where(Annotator.name == "dora"))
        assert dict(s.execute(select(DocumentState.document_id, DocumentState.status)
                              .where(DocumentState.annotator_id == dora)).all()) == {d0: "done", d1: "in_progress"}
    report = project_agreement(store, ["ana", "dora"]).to_json()
    assert report["pairs"][0]["documents"] == [SEEDS[0].stem]  # the rejected task is not finished work
    own = [{"text": texts[1], "spans": [{"start": 0, "end": 5, "label": "GPE"}], "answer": "accept"}]
    import_records(store, read_jsonl(_tasks(tmp_path / "mine.jsonl", own)), use_model=False, as_layer="eve",
                   by="eve")  # one's own layer brought back: still in progress
    with store.Session() as s:
        eve = s.scalar(select(Annotator.id).where(Annotator.name == "eve"))
        assert s.scalar(select(DocumentState.status).where(DocumentState.annotator_id == eve)) == "in_progress"


# --- blind annotation on the command line

def cli(db, user, *args):
    return CliRunner().invoke(main, ["--db", str(db), "--user", user, *map(str, args)])


def test_cli_agreement_is_for_reviewers_and_lists_the_documents(model_team):
    store, _, _ = model_team
    db = store.path
    refused = cli(db, "ana", "agreement")
    assert refused.exit_code == 1 and refused.output == (
        "Error: [E164] 'ana' is not a reviewer, and agreement shows colleagues' work: annotation is blind. "
        "A reviewer (or the project lead) can run `annotator role ana reviewer`.\n")
    set_role(store, "lead", "reviewer")
    shown = cli(db, "lead", "agreement")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "Documents compared: those both of a pair finished (done), with accepted spans only." in lines
    assert f"  ana / bob: {SEEDS[0].stem}, {SEEDS[1].stem}" in lines
    assert "  ana / rita: none in common" in lines
    data = json.loads(cli(db, "lead", "agreement", "--json", "--status", "all").output)
    assert {(p["a"], p["b"]): p["n_docs"] for p in data["pairs"]}[("ana", "rita")] == 2


def test_cli_roles_are_given_by_reviewers_or_the_owner_only(tmp_path):
    db = tmp_path / "p.db"
    assert cli(db, "lead", "db", "init").exit_code == 0  # lead creates the file: its owner, a reviewer
    assert cli(db, "lead", "role", "lead").output == "lead: reviewer\n"
    assert cli(db, "lead", "role", "ana", "annotator").exit_code == 0
    promoted = cli(db, "ana", "role", "ana", "reviewer")
    assert promoted.exit_code == 1 and promoted.output == (
        "Error: [E165] 'ana' cannot give 'ana' the role reviewer: only a reviewer or the project's owner "
        "(lead) changes roles, so that annotation stays blind. Ask one of them to run "
        "`annotator role ana reviewer`.\n")
    assert cli(db, "lead", "role", "ana").output == "ana: annotator\n"
    assert cli(db, "lead", "role", "bob", "reviewer").exit_code == 0
    assert cli(db, "bob", "role", "ana", "reviewer").output == "ana is now reviewer (was annotator).\n"


def test_cli_export_of_a_colleagues_layer_is_refused_with_the_windows_code(model_team, tmp_path):
    store, _, _ = model_team
    result = cli(store.path, "ana", "export", "--format", "jsonl", "--out", tmp_path / "o.jsonl", "--layer", "bob")
    assert result.exit_code == 1 and result.output == (
        "Error: [E163] 'ana' cannot see the layer of 'bob': annotation is blind, and only reviewers see "
        "colleagues' layers. Ask a reviewer to look at it, or to export it for you.\n")
    assert not (tmp_path / "o.jsonl").exists()
