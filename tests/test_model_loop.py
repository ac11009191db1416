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
from annotator.core.db.models import Alias, Document, Entity, ModelRun, Span
from annotator.core.db.store import Store
from annotator.core.kb.suggestions import linker_choice
from annotator.core.project import Project
from annotator.ui.qt_app import make_window

from conftest import show_active
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
    for sp in spans[:2]:  # the places are linked: 46 links of 6 entities in training, enough for a linker
        sp["kb_id"] = "local:" + text[sp["start"]:sp["end"]].lower()
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


def window_on(project: Project, doc: int, qtbot):
    """The window, shown and active, on document `doc` (the user's layout left alone)."""
    w = make_window(project)
    w.persist_layout = False
    qtbot.addWidget(w)
    w.resize(1280, 800)
    show_active(qtbot, w)
    w.refresh_documents()
    w.open_document(doc)
    return w


def test_train_records_a_run_trained_on_checked_spans_only(trained, project_dir):
    folder, output = trained
    assert "Training on 23 documents, 7 held out" in output  # the split by name hash, every time
    assert ("Entity linker: 46 linked mentions of 6 entities (at least 20 linked mentions of 2 entities): "
            "trained with the NER") in output
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
    assert all("Report" not in e.text for d in docs for e in d.ents)  # the suggestion was not learned ...
    reports = {d.user_data["name"]: [t.ent_iob_ for t in d if t.text == "Report"] for d in docs}
    assert reports.pop("doc-00") == [""] and set(map(tuple, reports.values())) == {("O",)}  # ... nor as O
    assert not any("suggested" in d.spans for d in docs)
    assert {e.label_ for d in docs for e in d.ents} == {"GPE", "AGREEMENT"}
    assert {e.kb_id_ for d in docs for e in d.ents if e.label_ == "GPE"} == {f"local:{p.lower()}" for p in PLACES}


def test_enough_links_train_an_entity_linker_from_the_knowledge_base(trained, project_dir):
    """The run has spaCy's entity_linker (after a sentencizer) with the project's KB, and says so."""
    [run] = json.loads(cli(project_dir / "p.db", "models", "--json").output)
    assert run["scores"]["linker"] == {"trained": True, "mentions": 46, "entities": 6, "min_mentions": 20,
                                       "min_entities": 2}
    assert set(run["scores"]["links"]) == {"p", "r", "f"}
    nlp = spacy.load(project_dir / "p.models/first/model-best")
    assert nlp.pipe_names == ["ner", "sentencizer", "entity_linker"]
    kb = nlp.get_pipe("entity_linker").kb
    assert {c.entity_ for c in kb.get_alias_candidates("Seoul")} == {"local:seoul"}
    assert (project_dir / "p.models/first/kb/contents").is_file()  # the spacy-kb export, in the run folder
    assert "links P " in cli(project_dir / "p.db", "models").output


def test_too_few_links_train_no_linker(tmp_path):
    db = tmp_path / "p.db"
    cli(db, "db", "init")
    tasks = [task(i) for i in range(6)]  # 6 documents, at most 10 links: too few
    data = write_jsonl(tmp_path / "ana.jsonl", tasks)
    assert cli(db, "import", data, "--format", "jsonl", "--as-layer", "ana", "--no-model").exit_code == 0
    result = cli(db, "train", "--max-steps", 2, "--out", tmp_path / "p.models" / "small")
    assert result.exit_code == 0, result.output
    assert "Entity linker: not trained, " in result.output
    [run] = json.loads(cli(db, "models", "--json").output)
    assert run["scores"]["linker"]["trained"] is False and "links" not in run["scores"]
    assert "entity_linker" not in spacy.load(tmp_path / "p.models/small/model-best").pipe_names


def test_evaluate_prints_scores_per_label(project_dir):
    result = cli(project_dir / "p.db", "evaluate", "--model", "first", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["overall"]) == {"p", "r", "f"} and all(0 <= v <= 1 for v in data["overall"].values())
    assert data["per_label"] and all(set(m) == {"p", "r", "f"} and all(0 <= v <= 1 for v in m.values())
                                     for m in data["per_label"].values())
    against = json.loads(cli(project_dir / "p.db", "evaluate", "--model", "first", "--against", "ana",
                             "--json").output)
    assert against["documents"] == 7 and against["trained_on_left_out"] == 23  # never what it learned from
    said = cli(project_dir / "p.db", "evaluate", "--model", "first", "--against", "ana").output.splitlines()[0]
    assert said == "first against ana (7 documents; 23 it was trained on left out)"
    text = cli(project_dir / "p.db", "evaluate", "--model", "first").output
    assert text.splitlines()[2].startswith("overall")
    # the entity linker, scored by spaCy on the mentions the analysts linked
    assert set(data["links"]) == {"p", "r", "f"} and all(0 <= v <= 1 for v in data["links"].values())
    assert set(against["links"]) == {"p", "r", "f"}
    assert text.splitlines()[-1].startswith("links")
    # --model also takes the run's folder (or its model-best), and any spaCy pipeline's folder
    for folder in (project_dir / "p.models" / "first", project_dir / "p.models" / "first" / "model-best"):
        by_folder = json.loads(cli(project_dir / "p.db", "evaluate", "--model", folder, "--json").output)
        assert by_folder["run"] == "first" and by_folder["overall"] == data["overall"]
    elsewhere = project_dir / "trained-elsewhere"
    shutil.copytree(project_dir / "p.models" / "first" / "model-best", elsewhere)
    outside = json.loads(cli(project_dir / "p.db", "evaluate", "--model", elsewhere, "--json").output)
    assert outside["run"] == str(elsewhere) and outside["overall"] == data["overall"]
    broken = project_dir / "broken"
    shutil.copytree(elsewhere, broken)
    (broken / "config.cfg").write_text("[nlp]\nlang = \"xx-unknown\"\n")  # spaCy cannot build it
    refused = cli(project_dir / "p.db", "evaluate", "--model", broken)
    assert refused.exit_code == 1 and refused.output.startswith("Error: [E625]") and "Traceback" not in refused.output


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
    assert first.exit_code == 0 and "in 1 document " in first.output, first.output
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


def test_resuggest_links_with_the_linker_and_leaves_decided_links_alone(project_dir):
    """The linker's kb_id becomes the suggested link; where it has no candidate (an entity added after
    training) the prior-based suggestion stays; a person's links and unlinked decisions never change."""
    db = project_dir / "p.db"
    store = Store(str(db))
    with store.atomic() as s:  # the project's aliases of the places are gone: the prior cannot link them
        s.query(Alias).filter(Alias.text.in_(PLACES)).delete(synchronize_session=False)
    gsomia = write_jsonl(project_dir / "kb.jsonl", [{"id": "local:gsomia", "name": "GSOMIA", "type": "AGREEMENT"}])
    assert cli(db, "kb", "import", gsomia).exit_code == 0  # not in the run's KB: the linker says NIL
    with store.Session() as s:
        entity = dict(s.query(Entity.kb_id, Entity.id).all())
    result = cli(db, "suggest", "--model", "first")
    assert result.exit_code == 0, result.output
    ben = Project(store, "ben")
    doc = ben.document_ids(["new-1"])["new-1"]
    text = ben.document(doc).text
    opened = {text[v.start:v.end]: v for v in ben.open_document(doc)}
    assert opened["Seoul"].entity_id == entity["local:seoul"] and opened["Seoul"].status == "suggested"
    assert opened["Manila"].entity_id == entity["local:manila"]
    assert opened["GSOMIA"].entity_id == entity["local:gsomia"]  # the prior's, where the linker had none
    ben.link(opened["Seoul"].id, entity["local:tokyo"])  # a person's decision, however odd
    ben.accept(opened["Tokyo"].id)
    ben.unlink(opened["Tokyo"].id)  # accepted, deliberately unlinked
    decided = {v.id: (v.start, v.end, v.label, v.status, v.entity_id) for v in ben.spans(doc)
               if v.status == "accepted"}
    assert len(decided) == 2
    result = cli(db, "suggest", "--model", "first", "--documents", "all")
    assert result.exit_code == 0, result.output
    after = {v.id: v for v in ben.spans(doc)}
    assert {i: (v.start, v.end, v.label, v.status, v.entity_id) for i, v in after.items()
            if v.status == "accepted"} == decided
    again = {text[v.start:v.end]: v for v in after.values() if v.status == "suggested"}
    assert again["Manila"].entity_id == entity["local:manila"]  # the untouched one: the linker's link again
    with store.Session() as s:
        model_layer = {text[r.start:r.end]: r.entity_id for r in s.query(Span).filter(
            Span.document_id == doc, Span.origin == "model", Span.status == "suggested")}
    assert model_layer["Seoul"] == entity["local:seoul"]
    store.close()


def test_importing_with_a_linking_suggester_suggests_the_linkers_links(project_dir):
    """New articles imported after training are pre-annotated by the suggester: its linker's choices
    are their suggested links (the prior cannot link them here: the places' aliases are gone), and
    the link panel's ranking knows them as the model's choice."""
    db = project_dir / "p.db"
    store = Store(str(db))
    with store.atomic() as s:
        s.query(Alias).filter(Alias.text.in_(PLACES)).delete(synchronize_session=False)
        entity = dict(s.query(Entity.kb_id, Entity.id).all())
    assert cli(db, "models", "use", "first").exit_code == 0
    fresh = write_jsonl(project_dir / "later.jsonl", [{"text": "Officials in Jakarta said RCEP protects Canberra.",
                                                       "meta": {"name": "later-1"}}])
    result = cli(db, "import", fresh, "--format", "jsonl")  # no --model: the suggester
    assert result.exit_code == 0, result.output
    with store.Session() as s:
        doc = s.query(Document.id).filter(Document.name == "later-1").scalar()
        rows = {r.start: r for r in s.query(Span).filter(Span.document_id == doc, Span.origin == "model")}
        text = s.get(Document, doc).text
        linked = {text[r.start:r.end]: r.entity_id for r in rows.values()}
        assert linked["Jakarta"] == entity["local:jakarta"] and linked["Canberra"] == entity["local:canberra"]
        assert all(r.status == "suggested" for r in rows.values())
        jakarta = next(r.id for r in rows.values() if text[r.start:r.end] == "Jakarta")
        assert linker_choice(s, jakarta) == entity["local:jakarta"]  # marked as the model's choice
    store.close()


def test_link_panel_ranks_the_linkers_choice_with_the_candidate_scores(project_dir, qtbot, ui):
    """In the window, the entity the run's linker chose leads the candidates and is marked as such,
    though the prior alone would put another reading of the same alias first."""
    db = project_dir / "p.db"
    government = write_jsonl(project_dir / "kb.jsonl", [{"id": "local:gov-kr", "name": "Government of South Korea",
                                                         "type": "ORG", "aliases": ["Seoul"],
                                                         "alias_counts": [200]}])
    assert cli(db, "kb", "import", government).exit_code == 0  # after training: not in the linker's KB
    assert cli(db, "suggest", "--model", "first").exit_code == 0
    store = Store(str(db))
    project = Project(store, "ben")
    doc = project.document_ids(["new-1"])["new-1"]
    w = window_on(project, doc, qtbot)
    text = project.document(doc).text
    seoul = next(v for v in project.spans(doc) if text[v.start:v.end] == "Seoul")
    ui.click(w.view, seoul.start + 1)
    assert w.model.current == seoul.id
    panel = w.link_panel
    qtbot.waitUntil(lambda: len(panel.entries) == 2, timeout=3000)
    assert [c.kb_id for c in panel.entries] == ["local:seoul", "local:gov-kr"]
    assert panel.entries[0].model and not panel.entries[1].model
    assert "model's choice" in panel.list.item(0).text() and "model's choice" not in panel.list.item(1).text()
    assert "entity linker" in panel.list.item(0).toolTip()
    prior_only = project.candidates(doc, "Seoul", "GPE")  # without the span: the prior's order
    assert [c.kb_id for c in prior_only] == ["local:gov-kr", "local:seoul"]
    with store.Session() as s:  # the database holds the linker's suggested link on ben's span
        row = s.get(Span, seoul.id)
        assert (row.entity_id, row.status) == (panel.entries[0].entity_id, "suggested")
        links = s.query(ModelRun.scores).filter(ModelRun.name == "first").scalar()["links"]
    runs = w.model_tools.show_runs()  # Model runs: the linker's held-out F beside the NER's
    assert runs.table.horizontalHeaderItem(9).text() == "Links F"
    assert runs.table.item(0, 9).text() == f"{links['f']:.3f}"
    runs.reject()
    w.close()
    store.close()
