"""The Model menu as a reviewer uses it: Train… (a tiny training), the runs table, Use this run, Cancel
that stops spaCy, and Navigate → Next uncertain document; the uncertainty order on a small case with two
rule-based pipelines (real spaCy, no model to load)."""

import json

import pytest
import spacy
from click.testing import CliRunner
from PySide6.QtCore import Qt

from annotator.cli import main
from annotator.core.db.models import ModelRun
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.errors import Cancelled
from annotator.io import model_runs
from annotator.io.uncertainty import disagreement, first_unchecked, rank, uncertain_order
from annotator.ui.qt_app import make_window

from conftest import show_active
from factories import write_jsonl
from plans import statements

PLACES = ["Seoul", "Tokyo", "Washington", "Canberra", "Manila", "Jakarta"]
PACTS = ["GSOMIA", "ACSA", "AUKUS", "RCEP"]


def task(i: int, done: bool = True) -> dict:
    a, b, x = PLACES[i % 6], PLACES[(i + 1) % 6], PACTS[i % 4]
    text = f"{a} and {b} renewed {x} this week. Report {i if done else i + 50}."
    spans = [{"start": text.index(w), "end": text.index(w) + len(w), "label": lab}
             for w, lab in ((a, "GPE"), (b, "GPE"), (x, "AGREEMENT"))]
    return {"text": text, "meta": {"name": f"{'doc' if done else 'new'}-{i:02d}"}, **({"spans": spans} if done else {})}


def cli(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), "--user", "rev", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def model_window(tmp_path, qtbot):
    db = tmp_path / "p.db"
    assert cli(db, "db", "init").exit_code == 0  # rev owns the project: a reviewer
    done = write_jsonl(tmp_path / "ana.jsonl", [task(i) for i in range(10)])
    assert cli(db, "import", done, "--format", "jsonl", "--as-layer", "ana", "--no-model").exit_code == 0
    fresh = write_jsonl(tmp_path / "new.jsonl", [task(i, done=False) for i in range(3)])
    assert cli(db, "import", fresh, "--format", "jsonl", "--no-model").exit_code == 0
    store = Store(str(db))
    w = make_window(Project(store, "rev"))
    w.persist_layout = False
    qtbot.addWidget(w)
    show_active(qtbot, w)
    w.refresh_documents()
    yield w
    w.close()
    store.close()


def menu(window, title):
    return next(a.menu() for a in window.menuBar().actions() if a.text() == title)


@pytest.mark.slow
def test_train_in_the_window_then_use_the_run_and_walk_uncertain_first(model_window, qtbot):
    w = model_window
    model = menu(w, "&Model")
    train_action = next(a for a in model.actions() if a.text() == "&Train…")
    assert train_action.isEnabled()
    train_action.trigger()
    dialog = w.model_tools.train_dialog
    assert dialog.isVisible()
    dialog.steps.setValue(4)
    with qtbot.waitSignal(w.model_tools.trainer.finished, timeout=120_000) as finished:
        qtbot.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
        assert dialog.close_button.text() == "Cancel"
    run = finished.args[0].run
    assert "Training on" in dialog.log.toPlainText()  # the progress lines, as they came
    assert f"Trained run {run.name}" in dialog.message.text()
    assert "stock" in run.scores  # the stock model on the same held-out documents
    dialog.reject()

    next(a for a in model.actions() if a.text() == "Model &runs…").trigger()
    runs = w.model_tools.runs_dialog
    assert runs.table.rowCount() == 1 and runs.table.item(0, 1).text() == run.name
    assert runs.table.item(0, 0).text() == "" and runs.table.item(0, 8).text().startswith(("+", "-"))
    assert runs.table.horizontalHeaderItem(9).text() == "Links F"
    assert runs.table.item(0, 9).text() == "no linker (0 links)"  # nothing linked: NER only, and why
    assert runs.detail.text().startswith("Select a run")
    runs.select_run(run.name)
    per_label = runs.detail.text().splitlines()  # the selected run, label by label, against the stock model
    assert per_label[0].startswith(f"{run.name}: trained on {run.documents} documents (ana {run.documents}),")
    assert any(line.startswith(f"{label}: P ") for label in run.scores["per_label"] for line in per_label[1:])
    qtbot.mouseClick(runs.use_button, Qt.MouseButton.LeftButton)
    assert runs.table.item(0, 0).text() == "●"
    with w.project.store.Session() as s:  # the database says so
        assert s.query(ModelRun.name).filter(ModelRun.active).scalar() == run.name
    assert model_runs.active_run(w.project.store).path == run.path

    ranked = uncertain_order(w.project.store)
    order = [u.document_id for u in ranked]
    assert len(order) == 3
    runs.reject()
    show_active(qtbot, w)
    with qtbot.waitSignal(w.model_tools.ranker.finished, timeout=60_000):  # ranked off the UI thread
        qtbot.keyClick(w.view, Qt.Key.Key_PageDown,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert "Ranking the unchecked documents" in w.statusBar().currentMessage()
    assert w.model.doc_id == order[0]
    qtbot.keyClick(w.view, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert w.model.doc_id == order[1]  # the order is walked, not recomputed
    listed = json.loads(cli(w.project.store.path, "queue", "--uncertain", "--json").output)
    assert [(d["name"], d["disagreement"]) for d in listed] == [(u.name, u.disagreement) for u in ranked]

    with qtbot.waitSignal(w.model_tools.resuggester.finished, timeout=60_000) as resuggested:
        next(a for a in model.actions() if a.text().startswith("Re-&suggest")).trigger()
    assert resuggested.args[0].run == run.name and resuggested.args[0].documents == 3


@pytest.mark.slow
def test_cancel_stops_a_training_and_records_nothing(model_window, qtbot):
    w = model_window
    dialog = w.model_tools.show_train()
    dialog.steps.setValue(100_000)
    with qtbot.waitSignal(w.model_tools.trainer.line, timeout=60_000,
                          check_params_cb=lambda line: line.startswith("Training on")):
        qtbot.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(w.model_tools.trainer.cancelled, timeout=60_000):
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)  # "Cancel"
    assert dialog.message.text() == "Training cancelled; nothing was recorded."
    assert dialog.close_button.text() == "Close" and dialog.train_button.isEnabled()
    assert model_runs.runs(w.project.store) == []
    folder = model_runs.models_folder(w.project.store)
    assert not folder.exists() or not any(folder.iterdir())  # the run's folder is gone


def test_annotators_cannot_train_from_the_window(tmp_path, qtbot):
    db = tmp_path / "p.db"
    assert cli(db, "db", "init").exit_code == 0
    store = Store(str(db))
    w = make_window(Project(store, "ann"))
    w.persist_layout = False
    qtbot.addWidget(w)
    assert not w.model_tools.train.isEnabled()
    assert w.model_tools.show_train() is None and "[E614]" in w.statusBar().currentMessage()
    w.model_tools.next_uncertain_doc()
    assert "[E612]" in w.statusBar().currentMessage()  # no run suggests yet
    tools = w.model_tools  # an order ranked for a run that is no longer the suggester is dropped
    tools.asked = (tools.generation, w.model.doc_id)
    tools.forget()  # what training, "Use this run" and re-suggesting do
    tools._on_ranked([101, 102])
    assert tools.queue == []
    tools.asked = (tools.generation, 999)  # the user opened another document while it ranked
    tools._on_ranked([101, 102])
    assert tools.queue == [101, 102] and "order is ready" in w.statusBar().currentMessage()
    w.close()
    store.close()
    assert "[E612]" in cli(db, "queue", "--uncertain").output
    assert "[E617]" in cli(db, "queue", "--limit", 0).output
    assert cli(db, "queue").output == "No unchecked document left.\n"
    fresh = write_jsonl(tmp_path / "new.jsonl", [task(i, done=False) for i in range(3)])
    assert cli(db, "import", fresh, "--format", "jsonl", "--no-model").exit_code == 0
    assert cli(db, "queue", "--limit", 2).output.split() == ["new-00", "new-01"]  # import order


def ruler(patterns):
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": lab, "pattern": p} for p, lab in patterns])
    return nlp


def test_uncertain_order_puts_the_most_disputed_tokens_first():
    run = ruler([("GSOMIA", "AGREEMENT"), ("Seoul", "GPE"), ("Tokyo", "GPE")])
    stock = ruler([("Seoul", "GPE"), ("Tokyo", "GPE"), ("Monday", "DATE")])
    docs = [(1, "calm", "Seoul and Tokyo met on Monday."),  # agree on every project label (DATE is not one)
            (2, "short", "GSOMIA lapsed."),  # 1 of 3 tokens disputed
            (3, "long", "Officials in Seoul said GSOMIA protects Tokyo and more.")]  # 1 of 10
    ranked = rank(docs, run, stock, {"AGREEMENT", "GPE"})
    assert [u.name for u in ranked] == ["short", "long", "calm"]
    assert ranked[0].disagreement == pytest.approx(1 / 3, abs=1e-4) and ranked[-1].disagreement == 0
    assert disagreement("Seoul met Tokyo", [(0, 5, "GPE")], [(0, 5, "ORG")]) == (pytest.approx(1 / 3), 3)
    tie = rank([(5, "b", "Nothing here."), (4, "a", "Nor here.")], run, stock, None)
    assert [u.name for u in tie] == ["b", "a"]  # ties keep the given (import) order


def test_ranking_reports_progress_and_stops_when_cancelled():
    """The window ranks in the background: it hears how far the ranking is, and Cancel ends it."""
    run, stock = ruler([("GSOMIA", "AGREEMENT")]), ruler([("Seoul", "GPE")])
    docs = [(i, f"d{i}", f"GSOMIA lapsed in Seoul {i}.") for i in range(5)]
    seen: list[tuple[int, int]] = []
    assert len(rank(docs, run, stock, None, progress=lambda d, t: seen.append((d, t)))) == 5
    assert seen == [(i, 5) for i in range(1, 6)]
    with pytest.raises(Cancelled):
        rank(docs, run, stock, None, progress=lambda d, t: seen.append((d, t)), cancelled=lambda: len(seen) >= 7)
    assert len(seen) == 7  # stopped at once, not after the last document


def test_queue_in_import_order_reads_no_text(project):
    """`annotator queue` without --uncertain lists the first unchecked documents found in SQL; it read
    every document's text before (at 100,000 documents: 0.97 s and 208 MB to list ten names)."""
    ids = [i for i, _ in first_unchecked(project.store)]
    assert len(ids) == 2  # of the three sample articles, the fixture's user has one open already
    project.open_document(ids[0])
    with statements(project.store) as seen:
        assert [i for i, _ in first_unchecked(project.store, 1)] == [ids[1]]
    assert seen and not any("text" in sql for sql, _ in seen)
    assert cli(project.store.path, "queue", "--limit", 5).output.split() == [
        n for i, n in first_unchecked(project.store) if i != ids[0]]


def test_uncertain_order_ranks_a_pool_and_the_window_ranks_the_next(model_window, qtbot, tmp_path):
    """Only the first `pool` unchecked documents are ranked (two models over every unchecked article of a
    big corpus took the better part of an hour); walked to its end, the window ranks the next pool
    instead of saying nothing is left."""
    w = model_window
    store = w.project.store
    run_dir, stock_dir = tmp_path / "run", tmp_path / "stock"
    for patterns, where in (([(p, "AGREEMENT") for p in PACTS], run_dir), ([(p, "GPE") for p in PLACES], stock_dir)):
        nlp = spacy.blank("en")  # a pipeline whose entity ruler stands where a model's ner does
        nlp.add_pipe("entity_ruler", name="ner").add_patterns([{"label": lab, "pattern": p} for p, lab in patterns])
        nlp.to_disk(where)
    model_runs.record_run(store, name="r1", path=run_dir, base=str(stock_dir), documents=10,
                          labels=["AGREEMENT", "GPE"], scores={})
    model_runs.use_run(store, "r1", viewer="rev")
    assert {u.name for u in uncertain_order(store, pool=2)} == {"new-00", "new-01"}
    assert "[E618]" in cli(store.path, "queue", "--uncertain", "--pool", 0).output
    assert len(json.loads(cli(store.path, "queue", "--uncertain", "--pool", 1, "--json").output)) == 1

    tools = w.model_tools
    names = {i: n for n, i in w.project.document_ids(["new-00", "new-01", "new-02"]).items()}
    tools.asked = (tools.generation, w.model.doc_id)
    first = next(i for i, n in names.items() if n == "new-00")
    tools._on_ranked([first])  # a pool of one, opened at once
    assert names[w.model.doc_id] == "new-00"
    tools.queue = [first]  # an order whose documents were all opened since
    with qtbot.waitSignal(tools.ranker.finished, timeout=30_000):
        tools.next_uncertain_doc()  # past the pool's end: the next one is ranked, not "none left"
    assert names.get(w.model.doc_id) in {"new-01", "new-02"}
