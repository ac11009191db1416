"""Gold means checked: an export holds what a person finished (documents marked done, accepted spans),
a done document with no entity included; unchecked suggestions only on request and marked as such,
read back with their status by each format's real consumer."""

from __future__ import annotations

import json

import pytest
import spacy
from cassis import load_cas_from_xmi, load_typesystem
from click.testing import CliRunner
from PySide6.QtCore import Qt
from spacy.tokens import DocBin
from spacy.vocab import Vocab
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.annotators import MODEL_LAYER, get_annotator
from annotator.core.db.models import Span
from annotator.errors import AnnotatorError
from annotator.formats import brat, jsonl, labelstudio, registry
from annotator.io.exporting import export, summary
from annotator.io.importing import import_records
import factories

USER = "tester"  # conftest's `project`: the first seed holds Naoki Tanaka accepted, three suggestions
SUGGESTED = {"Kim Kwan-jin", "Japan", "South Korea"}


@pytest.fixture
def checked(project):
    """First document done (1 accepted span, 3 suggestions), second done with no entity, third in
    progress with one accepted span."""
    first, second, third = [d.id for d in project.documents()]
    for doc in (first, second, third):
        project.open_document(doc)
    project.set_status(first, "done")
    project.set_status(second, "done")
    project.add_span(third, 0, 3, "ORG")
    return project


def names(project) -> list[str]:
    return [d.name for d in project.documents()]


def surfaces(task) -> dict[str, str]:
    return {s["text"]: s["status"] for s in task["spans"]}


def test_default_export_leaves_out_suggestions_and_documents_not_done(checked, tmp_path):
    """Regression: unchecked suggestions were written as accepted spans, with every opened document."""
    out = tmp_path / "o.jsonl"
    report = export(checked.store, "jsonl", out, layer=USER)
    tasks = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [t["meta"]["name"] for t in tasks] == names(checked)[:2] and report.documents == 2
    assert surfaces(tasks[0]) == {"Naoki Tanaka": "accepted"} and tasks[1]["spans"] == []
    assert report.spans == 1

    export(checked.store, "jsonl", out, layer=USER, status="all", force=True)
    tasks = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [t["meta"]["name"] for t in tasks] == names(checked)
    assert [list(surfaces(t).values()) for t in tasks] == [["accepted"], [], ["accepted"]]


def test_include_suggestions_marks_them_and_our_importer_keeps_the_status(checked, tmp_path):
    out = tmp_path / "o.jsonl"
    export(checked.store, "jsonl", out, layer=USER, suggestions=True)
    tasks = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert surfaces(tasks[0]) == {"Naoki Tanaka": "accepted", **{s: "suggested" for s in SUGGESTED}}
    records = jsonl.read(out)
    assert {(r.text[s.start:s.end], s.status) for r in records for s in r.spans} == {
        ("Naoki Tanaka", "accepted"), *((s, "suggested") for s in SUGGESTED)}
    other = factories.new_store(tmp_path / "other.db")
    import_records(other, records, use_model=False, as_layer="ana")
    with other.Session() as s:
        statuses = sorted(s.scalars(select(Span.status)))
    assert statuses == ["accepted"] + ["suggested"] * 3


@pytest.mark.parametrize("fmt", registry.export_names())
def test_a_done_document_with_no_entity_is_exported_in_every_format(checked, tmp_path, fmt):
    """Regression: documents whose layer held no span were dropped from exports."""
    if fmt == "conll":  # it leaves out a document with unchecked suggestions (see below): here they are rejected
        reject(checked, *SUGGESTED)
    out = tmp_path / f"o{registry.info(fmt).suffix}"
    assert export(checked.store, fmt, out, layer=USER).documents == 2
    records = registry.get(fmt).read(out)
    assert len(records) == 2 and records[1].spans == []
    assert [len(r.spans) for r in records] == [1, 0]
    if fmt == "conll":
        lines = out.read_text("utf-8").split("-DOCSTART- -X- -X- O\n")[2].split()
        assert lines and set(lines[1::2]) == {"O"}  # every token of the empty document is O
    if fmt == "labelstudio":
        assert json.loads(out.read_text("utf-8"))[1]["annotations"][0]["result"] == []
    if fmt == "doccano":
        assert json.loads(out.read_text("utf-8").splitlines()[1])["label"] == []
    if fmt == "brat":
        empty = names(checked)[1]
        assert (out / f"{empty}.ann").read_text() == "" and (out / f"{empty}.txt").exists()


def test_spacy_suggestions_go_to_a_span_group_never_to_ents(checked, tmp_path):
    out = tmp_path / "o.spacy"
    export(checked.store, "spacy", out, layer=USER, suggestions=True)
    first, empty = DocBin().from_disk(out).get_docs(Vocab())
    assert [e.text for e in first.ents] == ["Naoki Tanaka"]
    assert {s.text for s in first.spans["suggested"]} == SUGGESTED
    assert list(empty.ents) == [] and "suggested" not in empty.spans


def test_xmi_suggestions_carry_inceptions_prediction_feature(checked, tmp_path):
    out = tmp_path / "xmi"
    export(checked.store, "xmi", out, layer=USER, suggestions=True)
    ts = load_typesystem(out / "TypeSystem.xml")
    with open(out / f"{names(checked)[0]}.xmi", "rb") as fh:
        cas = load_cas_from_xmi(fh, typesystem=ts)
    entities = cas.select("de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity")
    assert {(e.get_covered_text(), bool(e.get("inception_internal_predicted"))) for e in entities} == {
        ("Naoki Tanaka", False), *((s, True) for s in SUGGESTED)}
    with open(out / f"{names(checked)[1]}.xmi", "rb") as fh:
        assert not list(load_cas_from_xmi(fh, typesystem=ts).select(
            "de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity"))
    records = registry.get("xmi").read(out)
    assert sorted(s.status for s in records[0].spans) == ["accepted"] + ["suggested"] * 3


def test_brat_marks_suggestions_with_an_attribute(checked, tmp_path):
    out = tmp_path / "brat"
    export(checked.store, "brat", out, layer=USER, suggestions=True)
    ann = (out / f"{names(checked)[0]}.ann").read_text("utf-8")
    assert sum(line.startswith("A") and "\tSuggested T" in line for line in ann.splitlines()) == 3
    assert "Suggested\tArg:<ENTITY>" in (out / "annotation.conf").read_text()
    [first] = brat.read(out / f"{names(checked)[0]}.ann")
    assert {(first.text[s.start:s.end], s.status) for s in first.spans} == {
        ("Naoki Tanaka", "accepted"), *((s, "suggested") for s in SUGGESTED)}


def test_labelstudio_writes_suggestions_as_predictions(checked, tmp_path):
    out = tmp_path / "o.json"
    export(checked.store, "labelstudio", out, layer=USER, suggestions=True)
    task = json.loads(out.read_text("utf-8"))[0]
    [annotation] = task["annotations"]
    assert [r["value"]["text"] for r in annotation["result"] if r["type"] == "labels"] == ["Naoki Tanaka"]
    [prediction] = task["predictions"]
    assert prediction["model_version"] == labelstudio.MODEL_VERSION
    assert {r["value"]["text"] for r in prediction["result"] if r["type"] == "labels"} == SUGGESTED
    first = labelstudio.read(out)[0]
    assert sorted(s.status for s in first.spans) == ["accepted"] + ["suggested"] * 3


def test_formats_without_a_status_leave_suggestions_out_and_say_so(checked, tmp_path):
    out = tmp_path / "o.jsonl"
    report = export(checked.store, "doccano", out, layer=USER, suggestions=True)
    assert report.suggestions_left_out == 3 and report.spans == 1
    lines = summary(report, out)
    assert lines[-1] == ("3 unchecked suggestions in 1 document were left out: doccano cannot mark a span "
                         "as a suggestion, and a suggestion is never written as a decision.")
    assert [len(r.spans) for r in registry.get("doccano").read(out)] == [1, 0]


# --- an unchecked suggestion is no decision: neither an entity nor a non-entity
def reject(project, *surfaces: str) -> None:
    """A person deletes these suggestions of the first document: a rejection, a decision."""
    doc = project.documents()[0]
    text = project.document(doc.id).text
    for sp in project.spans(doc.id):
        if text[sp.start:sp.end] in surfaces:
            project.delete_span(sp.id)


def tokens_of(doc, surface: str) -> list[str]:
    """ent_iob_ of the tokens of the first `surface` in `doc`."""
    start = doc.text.index(surface)
    return [t.ent_iob_ for t in doc.char_span(start, start + len(surface))]


def run_export(project, *args):
    return CliRunner().invoke(main, ["--db", str(project.store.path), "--user", USER, "export", *map(str, args)])


def test_cli_spacy_export_marks_unchecked_suggestions_missing_and_rejections_o(checked, tmp_path):
    """Regression: a done document's unchecked suggestions ("Leave them out") were written as O, so
    `spacy train` learned "Kim Kwan-jin" as no entity. Their tokens are missing now; a suggestion a
    person deleted stays O, and the summary says what was done."""
    reject(checked, "Japan")
    out = tmp_path / "o.spacy"
    result = run_export(checked, "--format", "spacy", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Wrote 2 documents, 1 span to {out}.",
        "2 unchecked suggestions in 1 document: not entities in the file, their words marked missing "
        "(neither entity nor O), so training neither learns them nor learns against them."]
    first, empty = DocBin().from_disk(out).get_docs(spacy.blank("en").vocab)
    assert [e.text for e in first.ents] == ["Naoki Tanaka"] and tokens_of(first, "Naoki Tanaka") == ["B", "I"]
    assert tokens_of(first, "Kim Kwan-jin") == ["", "", "", ""]
    assert tokens_of(first, "South Korea") == ["", ""]
    assert tokens_of(first, "Japan") == ["O"]  # deleted: a person said no
    assert sum(t.ent_iob_ == "" for t in first) == 6 and {t.ent_iob_ for t in empty} == {"O"}
    assert suggested_in_db(checked) == ["Kim Kwan-jin", "South Korea"]  # the export changed nothing


def suggested_in_db(project) -> list[str]:
    doc = project.documents()[0]
    text = project.document(doc.id).text
    with project.store.Session() as s:
        rows = s.execute(select(Span.start, Span.end).where(Span.document_id == doc.id,
                                                           Span.status == "suggested")).all()
    return sorted(text[a:b] for a, b in rows)


def test_span_formats_say_how_many_unchecked_suggestions_they_left_out(checked, tmp_path):
    out = tmp_path / "o.jsonl"
    result = run_export(checked, "--format", "jsonl", "--out", out)
    assert result.exit_code == 0 and result.output.splitlines()[1:] == [
        "3 unchecked suggestions in 1 document were left out: nobody checked them (--include-suggestions "
        "writes them, marked as suggestions), and a suggestion is never written as a decision."]


@pytest.mark.parametrize("suggestions", [False, True])
def test_conll_leaves_out_documents_with_unchecked_suggestions_and_names_them(checked, tmp_path, suggestions):
    """CoNLL has no tag for "nobody checked": O would be a non-entity. The document is left out, named."""
    out = tmp_path / "o.conll"
    report = export(checked.store, "conll", out, layer=USER, suggestions=suggestions)
    first = names(checked)[0]
    assert (report.documents, report.documents_left_out, report.suggestions_left_out) == (1, [first], 3)
    assert summary(report, out)[-1] == (
        "1 document with 3 unchecked suggestions was left out: conll has no tag for a word nobody checked, "
        "and O would teach them as non-entities. Accept or delete them, or export --format spacy (marks their "
        f"words as not annotated): {first}")
    [record] = registry.get("conll").read(out)
    assert record.spans == [] and record.text.startswith("Back To Top")  # the second, empty document only


def test_conll_with_every_document_left_out_writes_nothing(checked, tmp_path):
    checked.set_status(checked.documents()[1].id, "in_progress")  # only the one with suggestions is done
    out = tmp_path / "o.conll"
    out.write_text("earlier export\n")
    result = run_export(checked, "--format", "conll", "--out", out, "--force")
    assert result.exit_code == 1
    assert result.output == (
        "Error: [E621] Nothing was written: every one of the 1 selected document(s) has suggestions nobody "
        "checked (3 in all), and conll has no tag for a word nobody checked: O would teach them as non-entities. "
        "Accept or delete them (Ctrl+Shift+Enter accepts the rest of a document), or export --format spacy, "
        "which marks their words as not annotated.\n")
    assert out.read_text() == "earlier export\n"  # the old output stays
    reject(checked, *SUGGESTED)  # a person decides: now it is all decisions
    assert run_export(checked, "--format", "conll", "--out", out, "--force").exit_code == 0
    assert [len(r.spans) for r in registry.get("conll").read(out)] == [1]


def test_model_layer_is_suggestions_only(project, tmp_path):
    with project.store.atomic() as s:
        get_annotator(s, MODEL_LAYER, is_model=True)
    out = tmp_path / "m.jsonl"
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "jsonl", out, layer=MODEL_LAYER, status="all")
    assert e.value.code == "E048" and "--include-suggestions" in str(e.value) and not out.exists()
    assert export(project.store, "jsonl", out, layer=MODEL_LAYER, suggestions=True).documents == 3


def test_cli_include_suggestions(checked, tmp_path):
    out = tmp_path / "o.jsonl"
    args = ["--db", str(checked.store.path), "--user", USER, "export", "--format", "jsonl", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and result.output.startswith("Wrote 2 documents, 1 span ")
    result = CliRunner().invoke(main, [*args, "--include-suggestions", "--status", "all", "--force"])
    assert result.exit_code == 0 and result.output.startswith("Wrote 3 documents, 5 spans")


def test_window_export_dialog_checkbox_adds_marked_suggestions(window, qtbot, tmp_path):
    project = window.project
    project.set_status(project.documents()[0].id, "done")
    qtbot.keyClick(window.view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = window._export
    assert dialog.status.currentData() == "done" and not dialog.suggestions.isChecked()
    qtbot.mouseClick(dialog.suggestions, Qt.MouseButton.LeftButton, pos=dialog.suggestions.rect().center())
    assert dialog.suggestions.isChecked() and 'status": "suggested' in dialog.hint.text()
    out = tmp_path / "mine.jsonl"
    dialog.path.setText(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=30_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    [task] = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert surfaces(task) == {"Naoki Tanaka": "accepted", **{s: "suggested" for s in SUGGESTED}}
    cli = tmp_path / "cli.jsonl"
    result = CliRunner().invoke(main, ["--db", str(project.store.path), "--user", USER, "export", "--format",
                                       "jsonl", "--include-suggestions", "--out", str(cli)])
    assert result.exit_code == 0 and cli.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("fmt", ["jsonl", "brat"])
def test_a_colleagues_documents_with_no_entity_come_in_and_go_out(tmp_path, fmt):
    """Regression: a colleague's file whose documents hold no span (a Prodigy task with "spans": [], a
    brat .ann left empty) lost those documents: they never joined the layer, so exports dropped them
    (a real evaluation set lost 109 of its 150 documents, a brat corpus 4 of 13)."""
    texts = [f"Document {i} about Seoul." if i % 3 == 0 else f"Document {i}, nothing to label." for i in range(13)]
    src = tmp_path / "theirs"
    if fmt == "jsonl":
        src = src.with_suffix(".jsonl")
        src.write_text("".join(json.dumps({"text": t, "name": f"d{i}", "_annotator_id": "bob", "answer": "accept",
                                           "spans": [{"start": t.index("Seoul"), "end": t.index("Seoul") + 5,
                                                      "label": "GPE"}] if "Seoul" in t else []}) + "\n"
                               for i, t in enumerate(texts)), encoding="utf-8")
    else:
        src.mkdir()
        for i, t in enumerate(texts):
            (src / f"d{i}.txt").write_text(t, encoding="utf-8")
            ann = f"T1\tGPE {t.index('Seoul')} {t.index('Seoul') + 5}\tSeoul\n" if "Seoul" in t else ""
            (src / f"d{i}.ann").write_text(ann, encoding="utf-8")
    db, out = tmp_path / "p.db", tmp_path / "out.jsonl"
    run = lambda *args: CliRunner().invoke(main, ["--db", str(db), "--user", "rev", *map(str, args)])  # noqa: E731
    assert run("import", src, "--no-model", "--format", fmt, "--as-layer", "bob").exit_code == 0
    result = run("export", "--format", "jsonl", "--out", out, "--layer", "bob")  # rev owns the file: a reviewer
    assert result.exit_code == 0, result.output
    tasks = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(tasks) == 13 and sum(1 for t in tasks if t["spans"] == []) == 8


def test_status_all_leaves_out_documents_set_back_to_new(checked, tmp_path):
    """Regression: `--status all` ("also those in progress") took every document the layer had a state
    for, so one a person set back to new went out with no entity, as if read and found empty."""
    third = checked.documents()[2].id
    checked.set_status(third, "new")
    out = tmp_path / "o.jsonl"
    report = export(checked.store, "jsonl", out, layer=USER, status="all")
    tasks = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [t["meta"]["name"] for t in tasks] == names(checked)[:2] and report.documents == 2
    checked.set_status(third, "in_progress")
    assert export(checked.store, "jsonl", out, layer=USER, status="all", force=True).documents == 3
