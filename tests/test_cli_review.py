"""`annotator agreement`, `merge`, `role` and the stats provenance section, run as a user would."""

from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score
from test_review import SEEDS, doc_id, label, layer_records, make_store, tokens_of

from annotator.cli import main
from annotator.core.db.annotators import set_role
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.review.agreement import compute

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


def cli(db, *args, user="lead"):
    return CliRunner().invoke(main, ["--db", str(db), "--user", user, *map(str, args)], catch_exceptions=False)


@pytest.fixture
def team(tmp_path, backend):
    """ana and bob on articles 0 and 1, cy on article 1, each marked done; lead a reviewer with no
    layer, who runs the commands (ana, the first person, owns the project). The first item
    is what `--db` is given: the SQLite file's URL, or the PostgreSQL database's."""
    store = make_store(tmp_path / "team.db", docs=(0, 1))
    d0, d1 = doc_id(store, 0), doc_id(store, 1)
    people = {n: Project(store, n) for n in ("ana", "bob", "cy")}
    for name, docs in (("ana", (d0, d1)), ("bob", (d0, d1)), ("cy", (d1,))):
        for d in docs:
            people[name].open_document(d)
    label(people["ana"], d0, "Kim Kwan-jin", "PERSON")
    label(people["bob"], d0, "Kim Kwan-jin", "PERSON")
    label(people["ana"], d0, "Japan", "GPE", kb="Q17")
    label(people["bob"], d0, "Japan", "GPE", kb="NIL")
    label(people["bob"], d0, "Naoki Tanaka", "PERSON")
    label(people["ana"], d0, "Naoki", "PERSON")
    label(people["ana"], d1, "Seoul", "GPE")
    label(people["cy"], d1, "Seoul", "ORG")
    label(people["bob"], d1, "South Korea", "GPE", kb="Q884")
    for name, docs in (("ana", (d0, d1)), ("bob", (d0, d1)), ("cy", (d1,))):
        for d in docs:  # agreement compares finished documents
            people[name].set_status(d, "done")
    set_role(store, "lead", "reviewer")  # who runs the commands: agreement is for reviewers
    yield store.url, store, people, (d0, d1)
    store.close()


def test_cli_review_agreement_json_equals_compute_on_the_same_layers(team):
    path, store, people, (d0, d1) = team
    result = cli(path, "agreement", "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert list(got) == ["pairs", "overall", "by_label", "by_document"]
    layers = {"ana": layer_records(people["ana"], (d0, d1)), "bob": layer_records(people["bob"], (d0, d1)),
              "cy": layer_records(people["cy"], (d1,))}
    assert got == compute(layers, tokens_of(store, (d0, d1))).to_json()
    some = json.loads(cli(path, "agreement", "--json", "--annotators", "ana,cy", "--labels", "GPE,ORG").output)
    assert some == compute({k: layers[k] for k in ("ana", "cy")}, tokens_of(store, (d0, d1)), ["GPE", "ORG"]).to_json()
    assert some["by_document"] == {SEEDS[1].stem: some["overall"]}


def _bio(spans, tokens):
    """BIO tags of non-overlapping spans that start and end on token boundaries."""
    tags = ["O"] * len(tokens)
    for s in spans:
        inside = [i for i, (a, b) in enumerate(tokens) if a >= s.start and b <= s.end]
        tags[inside[0]] = "B-" + s.label
        for i in inside[1:]:
            tags[i] = "I-" + s.label
    return tags


def test_cli_review_kappa_of_a_constructed_case_matches_scikit_learn(team):
    path, store, people, (d0, _) = team
    result = cli(path, "agreement", "--annotators", "ana,bob", "--json")
    overall = json.loads(result.output)["overall"]
    d1 = doc_id(store, 1)
    tokens = tokens_of(store, (d0, d1))
    y_ana, y_bob = [], []
    for d in (d0, d1):
        name = people["ana"].document(d).name
        y_ana += _bio(layer_records(people["ana"], (d,))[name], tokens[name])
        y_bob += _bio(layer_records(people["bob"], (d,))[name], tokens[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = cohen_kappa_score(y_ana, y_bob)
    assert 0 < expected < 1
    assert overall["token_kappa"] == pytest.approx(expected, rel=1e-12)


def test_cli_review_agreement_prints_a_table(team):
    path, *_ = team
    result = cli(path, "agreement")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Agreement of ana, bob, cy over 2 documents (- where undefined; per document: --json)"
    assert lines[1].split() == ["F1", "exact", "F1", "overlap", "kappa", "alpha", "links", "docs"]
    assert lines[2].startswith("overall ") and lines[2].split()[-1] == "2"
    assert [line.split()[0:3] for line in lines[3:6]] == [["ana", "/", "bob"], ["ana", "/", "cy"], ["bob", "/", "cy"]]
    assert any(line.startswith("label GPE ") for line in lines)


def test_cli_review_role_sets_lists_and_blinds(team):
    path, store, _, _ = team
    assert cli(path, "role", "rev", "reviewer").output == "Added rev as reviewer.\n"
    assert cli(path, "role", "ana", "reviewer").output == "ana is now reviewer (was annotator).\n"
    assert cli(path, "role", "ana", "reviewer").output == "ana is already reviewer.\n"
    assert cli(path, "role", "ana").output == "ana: reviewer\n"
    listing = cli(path, "role").output.splitlines()
    assert "bob: annotator" in listing and "rev: reviewer" in listing


def test_cli_review_merge_reports_and_is_idempotent(team, tmp_path):
    path, store, _, _ = team
    other = make_store(tmp_path / "other.db", docs=(1, 2), file=True)  # a colleague's file
    dora = Project(other, "dora")
    dora.open_document(doc_id(other, 2))
    label(dora, doc_id(other, 2), "Japan", "GPE")
    dora.edit_entity(1, description="changed by dora")
    other.close()
    first = cli(path, "merge", tmp_path / "other.db")
    assert first.exit_code == 0
    lines = first.output.splitlines()
    assert lines[0].startswith(f"Merged {tmp_path / 'other.db'}: 1 document, 1 layer document with 1 span")
    assert any(line.startswith("Conflict, entity ") and "changed by dora" in line for line in lines)
    second = cli(path, "merge", tmp_path / "other.db")
    assert "Nothing new: everything in it is already here." in second.output
    assert "1 layer document" not in second.output


def test_cli_review_stats_json_has_provenance(team):
    path, *_ = team
    data = json.loads(cli(path, "stats", "--json").output)
    assert set(data["provenance"]) == {"ana", "bob", "cy"}
    assert data["provenance"]["ana"]["totals"]["added"] == 4  # no model: all added
    assert "Model suggestions, ana: 0 accepted" in cli(path, "stats").output


@pytest.mark.parametrize("args, message", [
    (("agreement", "--annotators", "ana,zed"), "Error: [E050] Unknown annotator 'zed'. Known annotators: "),
    (("agreement", "--annotators", "ana"), "Error: [E154] Agreement needs two or more annotators' layers; "
                                            "found 1 (ana)."),
    (("agreement", "--labels", "PERSON,NOPE"), "Error: [E031] Unknown label 'NOPE'."),
    (("role", "ana", "boss"), "Error: [E155] Unknown role 'boss'. Use one of: annotator, reviewer.\n"),
    (("role", "zed"), "Error: [E050] Unknown annotator 'zed'."),
    (("merge", "/no/such/file.db"), "Error: [E010] '/no/such/file.db' does not exist. Check the path.\n"),
])
def test_cli_review_errors_are_one_coded_line_and_exit_1(team, args, message):
    path, *_ = team
    result = cli(path, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_cli_review_merge_of_a_non_project_and_of_itself(team, tmp_path):
    path, *_ = team  # the project's URL: merging it into itself is refused
    notes = tmp_path / "notes.db"
    notes.write_text("hello")
    for target, code in ((notes, "E003"), (path, "E158")):
        result = cli(path, "merge", target)
        assert result.exit_code == 1 and result.stderr.startswith(f"Error: [{code}] ")
    assert notes.read_text() == "hello"
    Store(path).close()


@pytest.mark.single_backend  # a project of its own, made through the command line
def test_cli_export_is_blind_for_annotators(tmp_path):
    """`annotator export` shows an annotator their own layer and the model's, never a colleague's."""
    from click.testing import CliRunner

    from annotator.cli import main
    from annotator.core.db.store import Store
    from annotator.core.project import Project
    from annotator.core.resources import seeds_dir

    db, out = tmp_path / "p.db", tmp_path / "out.jsonl"

    def run(user, *args):
        return CliRunner().invoke(main, ["--db", str(db), "--user", user, *map(str, args)])

    seed = seeds_dir() / "000_8c62d622aab8081a.txt"
    assert run("ana", "import", seed).exit_code == 0
    store = Store(db)
    Project(store, "ana").open_document(1)  # her layer starts as a copy of the model's
    store.close()
    assert run("ana", "export", "--format", "jsonl", "--out", out, "--status", "all").exit_code == 0  # her own layer
    result = run("bob", "export", "--format", "jsonl", "--out", out, "--layer", "ana")
    assert result.exit_code == 1 and result.output.startswith("Error: [E163] 'bob' cannot see the layer of 'ana'")
    promoted = run("rev", "role", "rev", "reviewer")  # no promoting oneself to read a colleague's layer
    assert promoted.exit_code == 1 and promoted.output == (
        "Error: [E165] 'rev' cannot give 'rev' the role reviewer: only a reviewer or the project's owner "
        "(ana) changes roles, so that annotation stays blind. Ask one of them to run "
        "`annotator role rev reviewer`.\n")
    assert run("ana", "role", "rev", "reviewer").exit_code == 0  # ana created the file: its owner
    assert run("rev", "export", "--format", "jsonl", "--out", out, "--layer", "ana", "--status", "all", "--force").exit_code == 0
