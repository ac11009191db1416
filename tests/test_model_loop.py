"""The model learns from the analysts: train on checked work, record the run, evaluate it, re-suggest
without touching a person's decisions. One short training (a few steps, no network) serves the module;
each test works on its own copy of the project folder (the run's path is relative, so it is found)."""

import json
import shutil

import pytest
import spacy
from click.testing import CliRunner
from spacy.tokens import DocBin

from annotator.cli import main
from annotator.core.db.models import ModelRun, Span
from annotator.core.db.store import Store
from annotator.core.project import Project

from factories import write_jsonl

pytestmark = pytest.mark.slow
PLACES = ["Seoul", "Tokyo", "Washington", "Canberra", "Manila", "Jakarta"]
PACTS = ["GSOMIA", "ACSA", "AUKUS", "RCEP"]
TEMPLATES = ["{a} and {b} renewed {x} this week.", "Officials in {a} said {x} protects {b}.",
             "{x} talks between {a} and {b} resumed."]


def task(i: int) -> dict:
    a, b, x = PLACES[i % 6], PLACES[(i + 1) % 6], PACTS[i % 4]
    text = TEMPLATES[i % 3].format(a=a, b=b, x=x) + f" Report {i}."
    spans = [{"start": text.index(w), "end": text.index(w) + len(w), "label": lab}
             for w, lab in ((a, "GPE"), (b, "GPE"), (x, "AGREEMENT"))]
    if i == 0:  # an unchecked suggestion in a finished document: never learned
        at = text.index("Report")
        spans.append({"start": at, "end": at + 6, "label": "AGREEMENT", "status": "suggested"})
    return {"text": text, "meta": {"name": f"doc-{i:02d}"}, "spans": spans}


def cli(db, *args):
    result = CliRunner().invoke(main, ["--db", str(db), "--user", "rev", *map(str, args)], catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loop")
    db = folder / "p.db"
    assert cli(db, "db", "init").exit_code == 0  # rev owns the project: a reviewer
    data = write_jsonl(folder / "ana.jsonl", [task(i) for i in range(30)])
    assert cli(db, "import", data, "--format", "jsonl", "--as-layer", "ana", "--no-model").exit_code == 0
    fresh = write_jsonl(folder / "new.jsonl", [{"text": "Seoul and Tokyo renewed GSOMIA, and Manila signed ACSA.",
                                                "meta": {"name": "new-1"}}])
    assert cli(db, "import", fresh, "--format", "jsonl", "--no-model").exit_code == 0
    result = cli(db, "train", "--max-steps", 30, "--out", folder / "p.models" / "first")
    assert result.exit_code == 0, result.output
    return folder, result.output


@pytest.fixture
def project_dir(trained, tmp_path):
    shutil.copytree(trained[0], tmp_path / "copy")
    return tmp_path / "copy"


def test_train_records_a_run_trained_on_checked_spans_only(trained, project_dir):
    folder, output = trained
    assert "Training on 23 document(s), 7 held out" in output  # the split by name hash, every time
    assert "Trained run first on " in output and "Model: " in output
    listed = cli(project_dir / "p.db", "models")
    assert listed.exit_code == 0 and "first" in listed.output and "F " in listed.output
    [run] = json.loads(cli(project_dir / "p.db", "models", "--json").output)
    assert run["found"] and run["documents"] + 0 >= 20 and "AGREEMENT" in run["labels"]
    assert set(run["scores"]["overall"]) == {"p", "r", "f"}
    store = Store(str(project_dir / "p.db"))
    with store.Session() as s:
        row = s.query(ModelRun).filter(ModelRun.name == "first").one()
        assert row.path == "p.models/first/model-best"  # beside the project, relative to it
    store.close()
    nlp = spacy.blank("en")
    docs = [d for part in ("train", "dev") for d in DocBin().from_disk(folder / "p.models/first" / f"{part}.spacy")
            .get_docs(nlp.vocab)]
    assert len(docs) == 30  # every finished document, once; the unfinished one not
    assert all("Report" not in e.text for d in docs for e in d.ents)  # the suggestion was not learned
    assert not any("suggested" in d.spans for d in docs)
    assert {e.label_ for d in docs for e in d.ents} == {"GPE", "AGREEMENT"}


def test_evaluate_prints_scores_per_label(project_dir):
    result = cli(project_dir / "p.db", "evaluate", "--model", "first", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["overall"]) == {"p", "r", "f"} and all(0 <= v <= 1 for v in data["overall"].values())
    assert data["per_label"] and all(set(m) == {"p", "r", "f"} and all(0 <= v <= 1 for v in m.values())
                                     for m in data["per_label"].values())
    against = json.loads(cli(project_dir / "p.db", "evaluate", "--model", "first", "--against", "ana",
                             "--json").output)
    assert against["documents"] == 30
    text = cli(project_dir / "p.db", "evaluate", "--model", "first").output
    assert text.splitlines()[2].startswith("overall")


def test_unknown_run_and_too_little_data_are_coded(project_dir, tmp_path):
    assert "[E602]" in cli(project_dir / "p.db", "evaluate", "--model", "nope").output
    empty = tmp_path / "e.db"
    cli(empty, "db", "init")
    assert "[E600]" in cli(empty, "train", "--max-steps", 1).output
    assert "[E608]" in cli(project_dir / "p.db", "train", "--max-steps", 0).output
    assert "[E611]" in cli(project_dir / "p.db", "train", "--out", project_dir / "elsewhere" / "first").output


def test_models_use_makes_the_run_the_suggester(project_dir):
    db = project_dir / "p.db"
    assert "first is now the project's suggester" in cli(db, "models", "use", "first").output
    assert cli(db, "models").output.startswith("* first")
    other = write_jsonl(project_dir / "more.jsonl", [{"text": "Canberra and Jakarta renewed RCEP this week.",
                                                      "meta": {"name": "more-1"}}])
    result = cli(db, "import", other, "--format", "jsonl")
    assert result.exit_code == 0 and "suggested by" in result.output


def spans_of(store, layer_id, doc_id):
    with store.Session() as s:
        return {(r.start, r.end, r.label, r.origin, r.status, r.model_run_id)
                for r in s.query(Span).filter(Span.document_id == doc_id, Span.annotator_id == layer_id)}


def test_resuggest_replaces_untouched_suggestions_only(project_dir):
    db = project_dir / "p.db"
    first = cli(db, "suggest", "--model", "first")  # the unchecked document: the model layer
    assert first.exit_code == 0 and "in 1 document(s)" in first.output, first.output
    store = Store(str(db))
    ben = Project(store, "ben")
    doc = ben.document_ids(["new-1"])["new-1"]
    opened = ben.open_document(doc)  # ben's layer starts from the run's suggestions
    assert len(opened) >= 3 and {v.status for v in opened} == {"suggested"}, opened
    keep, relabel, drop, *untouched = opened
    ben.accept(keep.id)
    ben.relabel(relabel.id, "ORG")
    ben.delete_span(drop.id)
    text = ben.document(doc).text
    added = ben.add_span(doc, text.index("signed"), text.index("signed") + 6, "EVENT")
    before = {(v.start, v.end, v.label, v.status) for v in ben.spans(doc)
              if v.status == "accepted"}
    assert len(before) == 3
    result = cli(db, "suggest", "--model", "first", "--documents", "all")
    assert result.exit_code == 0, result.output
    after = ben.spans(doc)
    assert {(v.start, v.end, v.label, v.status) for v in after if v.status == "accepted"} == before
    assert (drop.start, drop.end) not in {(v.start, v.end) for v in after}  # deleted stays deleted
    assert ben.span(added) is not None
    # the untouched ones were replaced: each new suggestion overlaps no decision
    decided = [(v.start, v.end) for v in after if v.status == "accepted"]
    suggested = [v for v in after if v.status == "suggested"]
    assert all(not (a < v.end and v.start < b) for v in suggested for a, b in decided)
    assert {(v.start, v.end, v.label) for v in suggested} == {(v.start, v.end, v.label) for v in untouched}
    with store.Session() as s:
        run_id = s.query(ModelRun.id).filter(ModelRun.name == "first").scalar()
        rows = s.query(Span).filter(Span.document_id == doc, Span.status == "suggested").all()
        assert rows and {r.model_run_id for r in rows} == {run_id}
    assert "left out where a person's decision or deletion stands" in result.output
    store.close()
