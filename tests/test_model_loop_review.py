"""The model loop checked on a project built through the real API (tests/loop_project.py: the sample
articles imported with the model, two analysts editing as themselves, documents done with suggestions
left unchecked, gold from adjudication): the training examples against the database token by token,
the scores against a computation made here from the spans, re-suggesting against every row, and the
uncertain queue. One tiny training (a dozen steps) serves the module; each test works on a copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

import pytest
import spacy
from click.testing import CliRunner
from spacy.training import Corpus

import factories
import loop_project as lp
from annotator.cli import main
from annotator.core.db.models import Annotator, Document, DocumentState, Event, Span
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.records import DocRecord
from annotator.errors import AnnotatorError, Cancelled
from annotator.formats import registry
from annotator.io import resuggesting, training, uncertainty
from annotator.io.importing import import_records
from annotator.io.merging import merge
from annotator.ui.qt_model import details

pytestmark = pytest.mark.slow
LABELS = ["GPE", "ORG"]  # the run learns these two; the base model knows eighteen


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loop")
    store = lp.build(folder)
    training.train(store, labels=LABELS, max_steps=12, out=folder / "p.models" / "r1")
    store.close()
    return folder


@pytest.fixture
def store(built, tmp_path):
    shutil.copytree(built, tmp_path / "copy")
    found = Store(str(tmp_path / "copy" / "p.db"))
    yield found
    found.close()


def layer_of(store, name: str) -> int:
    with store.Session() as s:
        return s.query(Annotator.id).filter(Annotator.name == name).scalar()


def placed(doc, rows):
    """(first token, end token, label) of the accepted rows on token boundaries, without overlaps
    (the earlier, then longer one wins), as doc.ents can hold them."""
    starts = {t.idx: t.i for t in doc}
    ends = {t.idx + len(t): t.i + 1 for t in doc}
    out, until = [], -1
    for r in sorted((r for r in rows if r.status == "accepted"), key=lambda r: (r.start, r.start - r.end, r.label)):
        if r.start in starts and r.end in ends and starts[r.start] >= until:
            out.append((starts[r.start], ends[r.end], r.label))
            until = ends[r.end]
    return out


def expected_tags(doc, rows) -> list:
    """Per token: the entity label of an accepted span placed on it, None (missing) where any other
    span of the layer touches it (an unchecked suggestion, a span off token boundaries), else "O"."""
    ents = placed(doc, rows)
    out = []
    for t in doc:
        label = next((lab for i, j, lab in ents if i <= t.i < j), None)
        touched = any(r.start < t.idx + len(t) and t.idx < r.end for r in rows)
        out.append(label if label else (None if touched else "O"))
    return out


@pytest.mark.parametrize("source", ["done", "gold", lp.ANA, lp.BEN])
def test_training_examples_match_the_database_token_by_token(store, tmp_path, source):
    """Entity where a person accepted a span, missing where a suggestion is unchecked (or a person's
    span is off token boundaries), O elsewhere: for every source, each document from its layer."""
    chosen = training.selection(store, training.layers_of(store, [source], None))
    assert chosen and (source != "done" or {c.layer for c in chosen} == {"gold", lp.ANA, lp.BEN})
    registry.get("spacy").write(training.checked_records(store, chosen), tmp_path / "train.spacy")
    examples = list(Corpus(str(tmp_path / "train.spacy"))(spacy.blank("en")))
    assert [eg.reference.user_data["name"] for eg in examples] == [c.name for c in chosen]
    missing = 0
    with store.Session() as s:
        for c, eg in zip(chosen, examples):
            rows = s.query(Span).filter(Span.document_id == c.document_id,
                                        Span.annotator_id == layer_of(store, c.layer)).all()
            assert eg.reference.text == s.get(Document, c.document_id).text
            got = [None if tag is None else "O" if tag == "O" else tag.split("-", 1)[1]
                   for tag in eg.get_aligned_ner()]
            want = expected_tags(eg.predicted, rows)
            assert [(t.text, g) for t, g in zip(eg.predicted, got) if not t.is_space] == \
                   [(t.text, w) for t, w in zip(eg.predicted, want) if not t.is_space], c.name
            missing += got.count(None)
    assert missing > 0 or source == "gold"  # the unchecked suggestions are there, and missing (gold has none)


def own_scores(nlp, store, chosen, labels: set[str]) -> dict:
    """P/R/F computed here from the span rows: a prediction touching a missing token counts neither
    way; predictions and reference both of `labels` only."""
    tp, fp, fn = {}, {}, {}
    with store.Session() as s:
        for c in chosen:
            rows = [r for r in s.query(Span).filter(Span.document_id == c.document_id,
                                                     Span.annotator_id == layer_of(store, c.layer))
                    if r.status != "accepted" or r.label in labels]
            doc = nlp(s.get(Document, c.document_id).text)
            tags = expected_tags(doc, rows)
            gold = {(i, j, lab) for i, j, lab in placed(doc, rows)}
            for e in doc.ents:
                if e.label_ not in labels or any(tags[k] is None for k in range(e.start, e.end)):
                    continue
                hit = (e.start, e.end, e.label_) in gold
                (tp if hit else fp)[e.label_] = (tp if hit else fp).get(e.label_, 0) + 1
                gold.discard((e.start, e.end, e.label_))
            for _, _, lab in gold:
                fn[lab] = fn.get(lab, 0) + 1

    def prf(t, p, n):
        pr = t / (t + p) if t + p else 0.0
        rc = t / (t + n) if t + n else 0.0
        return {"p": round(pr, 4), "r": round(rc, 4), "f": round(2 * pr * rc / (pr + rc) if pr + rc else 0.0, 4)}

    every = set(tp) | set(fp) | set(fn)
    return {"overall": prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
            "per_label": {lab: prf(tp.get(lab, 0), fp.get(lab, 0), fn.get(lab, 0)) for lab in sorted(every)}}


def test_scores_count_only_the_runs_labels_on_both_sides(store):
    """Regression: the run learned GPE and ORG, yet its (and the stock model's) DATE, NORP... predictions
    were scored as false positives against reference data that had left those labels out."""
    run = training.model_runs.find_run(store, "r1")
    assert sorted(run.labels) == LABELS
    chosen = training.selection(store, training.layers_of(store, [lp.ANA], None))
    for nlp in (spacy.load(run.path), training.nlp_mod.load_model(run.base)):
        scores = training.score(nlp, training.checked_records(store, chosen, set(LABELS)), LABELS)
        want = own_scores(nlp, store, chosen, set(LABELS))
        assert set(scores["per_label"]) <= set(LABELS)
        assert {k: scores[k] for k in ("overall", "per_label")} == want
    evaluated = training.evaluate(store, "r1")  # the held-out documents, end to end
    _, held = training.split(training.selection(store, training.layers_of(store, ["done"], None)))
    assert {k: evaluated[k] for k in ("overall", "per_label")} == own_scores(spacy.load(run.path), store, held,
                                                                             set(LABELS))


def events(store) -> list[tuple]:
    with store.Session() as s:
        return [(e.id, e.command, e.undone, e.document_id) for e in s.query(Event).order_by(Event.id)]


def test_resuggest_unchecked_changes_only_the_model_layer_of_documents_nobody_opened(store):
    with store.Session() as s:
        model = s.query(Annotator.id).filter(Annotator.name == "model").scalar()
        opened = {d for d, a in s.query(DocumentState.document_id, DocumentState.annotator_id) if a != model}
    before, history = lp.layer_rows(store), events(store)
    report = resuggesting.resuggest(store, "r1", "unchecked")
    after = lp.layer_rows(store)
    untouched = {i: r for i, r in before.items() if r[0] in opened or r[1] != model}
    assert untouched == {i: r for i, r in after.items() if i in untouched} and events(store) == history
    new = [r for i, r in after.items() if i not in before]
    assert {r[0] for r in new} <= set(range(1, 100)) - opened and {r[1] for r in new} == {model}
    assert len(new) == report.suggestions and report.documents == 2 and report.layers == 0
    assert not [i for i, r in before.items() if r[0] not in opened and r[1] == model and i in after]


def test_resuggest_all_replaces_only_untouched_suggestions_row_by_row(store):
    resuggest_all_row_by_row(store, "r1")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_resuggest_all_row_by_row_on_a_team_server(backend, tmp_path):
    """The same on PostgreSQL: the project built there, the run's folder given (no project folder)."""
    store = lp.build(tmp_path, store=factories.new_store(tmp_path / "p.db"))
    training.train(store, labels=LABELS, max_steps=12, out=tmp_path / "runs" / "pg")
    resuggest_all_row_by_row(store, "pg")


def resuggest_all_row_by_row(store, run_name: str) -> None:
    """Every row before and after: finished layers, gold, and every span a person accepted, linked,
    marked NIL, moved, relabelled, added or annotated stay exactly as they were; only the model
    layer and the untouched suggestions of layers in progress are replaced, and never over a decision
    or a deletion. Regressions: a suggestion carrying a person's referent note was replaced (the note
    lost, and undoing it failed: E032); gold being adjudicated got the run's suggestions; a run trained
    on GPE and ORG suggested its base model's DATE, NORP, CARDINAL... too."""
    with store.Session() as s:
        names = dict(s.query(Annotator.id, Annotator.name))
        states = {(d, a): st for d, a, st in s.query(DocumentState.document_id, DocumentState.annotator_id,
                                                       DocumentState.status)}
    before, history = lp.layer_rows(store), events(store)
    ana = Project(store, lp.ANA)
    noted = [i for i, r in before.items() if names[r[1]] == lp.ANA and r[7] and r[9] == "suggested"
             and states[r[0], r[1]] == "in_progress"]
    assert noted  # the builder left a note on an unchecked suggestion in ana's work in progress
    report = resuggesting.resuggest(store, run_name, "all")
    after = lp.layer_rows(store)
    run_id = training.model_runs.find_run(store, run_name).id

    def replaceable(r) -> bool:
        return (names[r[1]] == "model" or states.get((r[0], r[1])) == "in_progress") and r[8] == "model" \
            and r[9] == "suggested" and r[7] == ""

    assert {i: r for i, r in before.items() if not replaceable(r)} == \
           {i: r for i, r in after.items() if i in before}  # every other row, every field
    assert not any(replaceable(r) for i, r in after.items() if i in before)  # the untouched all replaced
    new = [r for i, r in after.items() if i not in before]
    assert {(r[8], r[9], r[10], r[7], r[6]) for r in new} == {("model", "suggested", run_id, "", False)}
    assert {r[4] for r in new} == set(LABELS)  # what the run learned, not the base model's DATE or NORP
    people = [r for r in new if names[r[1]] != "model"]
    assert len(people) == report.added and report.layers == sum(st == "in_progress" for (_, a), st in states.items()
                                                                   if names[a] in (lp.ANA, lp.BEN))
    # gold, even while a document is being adjudicated, is what reviewers decided: never a suggestion
    assert any(names[a] == "gold" and st == "in_progress" for (_, a), st in states.items())
    assert not any(names[r[1]] == "gold" for r in people)
    assert events(store) == history  # nobody's edit: the history and every undo stack are as they were
    kept = [r for r in after.values() if r not in new]
    for r in people:  # a new suggestion overlaps nothing kept in its layer
        assert not any(k[0] == r[0] and k[1] == r[1] and k[2] < r[3] and r[2] < k[3] for k in kept)
    for _ in range(3):  # ana's last edits, back to her note: the span is still there to take it from
        ana.stack.undo()
        if lp.layer_rows(store)[noted[-1]][7] == "":
            break
    assert lp.layer_rows(store)[noted[-1]][7] == ""


def test_evaluate_never_scores_a_document_the_run_was_trained_on(store, tmp_path):
    """Regression: `evaluate --against LAYER` scored every finished document of the layer, those the run
    learned from too (README's own `train --from gold` then `evaluate --against gold` scored a run on
    its training data). Now they are left out and counted; with nothing else left: E627; a run whose
    record of them is gone: E628."""
    run = training.train(store, sources=["gold"], labels=LABELS, base="blank", max_steps=2,
                         out=tmp_path / "copy" / "p.models" / "gold-run").run
    trained = training.trained_on(run)
    gold_train, gold_held = training.split(training.selection(store, training.layers_of(store, ["gold"], None)))
    assert trained == {c.name for c in gold_train} and len(trained) == 2
    ana_done = training.selection(store, training.layers_of(store, [lp.ANA], None))
    assert trained <= {c.name for c in ana_done}  # gold was adjudicated from ana's finished documents
    result = training.evaluate(store, "gold-run", against=lp.ANA)
    assert result["documents"] == len(ana_done) - 2 and result["trained_on_left_out"] == 2
    unseen = [c for c in ana_done if c.name not in trained]
    assert {k: result[k] for k in ("overall", "per_label")} == own_scores(spacy.load(run.path), store, unseen,
                                                                          set(LABELS))
    assert training.evaluate(store, "gold-run", against="gold")["documents"] == len(gold_held) == 1
    with pytest.raises(AnnotatorError, match=r"\[E627\].*'r1'"):  # r1 learned from all of gold's
        training.evaluate(store, "r1", against="gold")
    (run.path.parent / "train.spacy").unlink()
    with pytest.raises(AnnotatorError, match=r"\[E628\]"):
        training.evaluate(store, "gold-run", against=lp.ANA)


def cli(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), "--user", lp.REVIEWER, *map(str, args)], catch_exceptions=False)


def test_cli_train_end_to_end_and_its_config_trains_again_on_an_export(store, tmp_path):
    """`annotator train --max-steps N` records a run with what it learned from (the sources and layers;
    before, only a count: whose work it was could not be told); its folder's config.cfg
    is the app's own, and `spacy train` runs it again on the `annotator export --format spacy` DocBin.
    Regression: the config sourced the NER from the run's base/ folder, deleted after training (E050)."""
    db = tmp_path / "copy" / "p.db"
    result = cli(db, "train", "--from", lp.ANA, "--max-steps", 4, "--out", tmp_path / "copy" / "p.models" / "r2")
    assert result.exit_code == 0, result.output
    assert "Training on 7 documents, 1 held out" in result.output and "Trained run r2 on 7 documents" in result.output
    run = training.model_runs.find_run(store, "r2")
    ana_train, _ = training.split(training.selection(store, training.layers_of(store, [lp.ANA], None)))
    assert run.documents == 7 and training.trained_on(run) == {c.name for c in ana_train}
    assert set(run.scores["overall"]) == {"p", "r", "f"} and run.base == training.nlp_mod.resolve_model(None)
    assert run.scores["trained_on"] == {"sources": [lp.ANA], "layers": {lp.ANA: 7}}  # whose work it learned
    r1 = training.model_runs.find_run(store, "r1").scores["trained_on"]
    assert r1["sources"] == ["done"] and set(r1["layers"]) == {"gold", lp.ANA, lp.BEN}
    assert sum(r1["layers"].values()) == training.model_runs.find_run(store, "r1").documents
    assert "r2: trained on 7 documents (ana 7), scored on 1 held out." in details(run)
    exported = tmp_path / "ana.spacy"
    assert cli(db, "export", "--format", "spacy", "--layer", lp.ANA, "--out", exported).exit_code == 0
    again = subprocess.run([sys.executable, "-m", "spacy", "train", str(run.path.parent / "config.cfg"),
                            "--output", str(tmp_path / "again"), "--paths.train", str(exported),
                            "--paths.dev", str(exported), "--training.max_steps", "2"],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    labels = spacy.load(tmp_path / "again" / "model-best").get_pipe("ner").labels
    assert set(LABELS) <= set(labels) and "EVENT" in labels  # the project's labels, added to the base's


def test_uncertain_queue_lists_only_unchecked_documents_in_a_stable_order(store):
    """Only documents nobody opened (gold and both analysts' work left out), most disputed first, ties
    in import order, the same order every time; a document opened meanwhile leaves the rest in order."""
    training.model_runs.use_run(store, "r1")
    with store.Session() as s:
        model = s.query(Annotator.id).filter(Annotator.name == "model").scalar()
        opened = {d for d, a in s.query(DocumentState.document_id, DocumentState.annotator_id) if a != model}
        unchecked = sorted(i for (i,) in s.query(Document.id) if i not in opened)
    assert len(unchecked) >= 2
    first = uncertainty.uncertain_order(store)
    assert sorted(u.document_id for u in first) == unchecked
    keys = [(-u.disagreement, unchecked.index(u.document_id)) for u in first]
    assert keys == sorted(keys) and first == uncertainty.uncertain_order(store)
    Project(store, lp.BEN).open_document(first[0].document_id)
    assert uncertainty.uncertain_order(store) == first[1:]


def test_cancel_while_the_run_is_scored_records_nothing_and_leaves_no_folder(store, tmp_path):
    """Regression: Cancel pressed after spaCy had finished, while the run was being scored on the
    held-out documents (both the run and the stock model read them), was ignored: the run was
    recorded. And a failure there left the folder behind with no run (a retry hit E606)."""
    asked = []

    def cancelled() -> bool:  # the window's Cancel, pressed once spaCy's process has ended
        if threading.current_thread() is threading.main_thread():
            asked.append(True)
        return len(asked) >= 2

    out = tmp_path / "copy" / "p.models" / "r3"
    with pytest.raises(Cancelled):
        training.train(store, base="blank", max_steps=2, out=out, cancelled=cancelled)
    assert not out.exists() and [r.name for r in training.model_runs.runs(store)] == ["r1"]
    with pytest.raises(AnnotatorError, match=r"\[E602\]"):
        training.model_runs.find_run(store, "r3")


def test_an_annotator_cannot_train_even_from_their_own_layer(store, tmp_path):
    """Regression: `annotator --user ana train --from ana` recorded a run in the project (the window
    and README say training is for reviewers; only --from done was refused, for showing others' work)."""
    db = tmp_path / "copy" / "p.db"
    out = tmp_path / "copy" / "p.models" / "by-ana"
    result = CliRunner().invoke(main, ["--db", str(db), "--user", lp.ANA, "train", "--from", lp.ANA, "--base",
                                       "blank", "--max-steps", 1, "--out", str(out)])
    assert result.exit_code == 1 and result.output.startswith("Error: [E614] Training is for reviewers: ana")
    assert not out.exists() and [r.name for r in training.model_runs.runs(store)] == ["r1"]


def test_resuggest_keeps_out_what_a_colleague_deleted_in_a_merged_file(store, tmp_path):
    """Regression: deletions merged from a colleague's project file (history events of command
    "merged") were not read, so `suggest --documents all` put back the suggestions they had deleted."""
    theirs_path = tmp_path / "theirs.db"
    shutil.copy(tmp_path / "copy" / "p.db", theirs_path)
    Project(store, "dora")  # here first: carl's id in this file is not his id in theirs
    theirs = Store(str(theirs_path))
    carl = Project(theirs, "carl")
    doc = uncertainty.unchecked(theirs)[0][0]
    opened = carl.open_document(doc)
    deleted = {(v.start, v.end) for v in opened if v.label in LABELS}
    for v in opened:
        if (v.start, v.end) in deleted:
            carl.delete_span(v.id)
    assert deleted
    theirs.close()
    merge(store, theirs_path)
    report = resuggesting.resuggest(store, "r1", "all")
    mine = Project(store, "carl")
    assert not {(v.start, v.end) for v in mine.spans(doc)} & deleted and report.kept_out >= len(deleted)


def test_resuggest_with_a_linker_after_a_document_with_no_link(store):
    """Regression: with a run that has an entity linker, a document where it linked nothing made the
    next one's entities arrive with their kb_ids still attached: ValueError (too many values to
    unpack), a traceback instead of suggestions."""
    run = training.model_runs.find_run(store, "r1")
    assert "links" in run.scores  # r1 has an entity linker
    import_records(store, [DocRecord(name="zz-calm", text="The weather was calm all week."),
                           DocRecord(name="zz-seoul", text="Seoul and Tokyo signed it. Japan agreed with South Korea.")],
                   use_model=False)
    report = resuggesting.resuggest(store, "r1", "unchecked")
    with store.Session() as s:
        model = s.query(Annotator.id).filter(Annotator.name == "model").scalar()
        doc = s.query(Document.id).filter(Document.name == "zz-seoul").scalar()
        rows = s.query(Span).filter(Span.document_id == doc, Span.annotator_id == model).all()
    assert report.documents == 4 and {r.label for r in rows} == {"GPE"} and len(rows) >= 3
    assert all(r.entity_id is not None for r in rows)  # the places, linked by the linker or the prior
