"""Other tools' files, read from real samples (tests/data/conll, tests/data/labelstudio, see their
README.md), imported into a project and exported again: what they carry comes back, checked by the
peer's own reader (spaCy's CoNLL converter) or Label Studio's documented task schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import new_store
from spacy.training.converters import conll_ner_to_docs
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.models import Document, Span
from annotator.core.nlp import load_model, tokenize
from annotator.core.records import DocRecord, SpanRecord
from annotator.core.text import TITLE_MAX, Tokens
from annotator.errors import AnnotatorError
from annotator.formats import conll, labelstudio
from annotator.io.exporting import export
from annotator.io.importing import import_paths, import_records
from annotator.io.sources import check_tokens

DATA = Path(__file__).parent / "data"
CONLL = DATA / "conll" / "eng.testb.head.conll"  # CoNLL-2003 test set, CRLF, IOB1, 4 columns
ALLENNLP = DATA / "conll" / "allennlp-conll2003.txt"  # tab-separated
LS_NER = DATA / "labelstudio" / "completions-348.json"  # from_name "ner", region ids, "completions"
LS_BACKEND = DATA / "labelstudio" / "ml-backend-spacy.json"  # an ML backend's predictions only


@pytest.fixture
def store(tmp_path):
    return new_store(tmp_path / "p.db")


def spacy_view(text: str) -> list[tuple]:
    """What spaCy's own CoNLL reader makes of a file: token, POS, entity tag, sentence start."""
    docs = conll_ner_to_docs(text.replace("\r", ""), n_sents=10, no_print=True)
    return [(t.text, t.tag_, t.ent_iob_ + "-" + t.ent_type_, t.is_sent_start)
            for d in docs for t in d if t.text != "-DOCSTART-"]  # the first document has no header


def stored_tokens(store) -> list[list[str]]:
    with store.Session() as s:
        return [[d.text[a:b] for a, b in Tokens(d.tokens).pairs()] for d in s.scalars(select(Document).order_by(Document.id))]


@pytest.mark.parametrize("use_model", [False, True])
def test_conll_import_keeps_the_files_tokens_and_exports_them_token_for_token(store, tmp_path, use_model):
    report = import_paths(store, [CONLL], fmt="conll", use_model=use_model,
                          nlp=load_model() if use_model else None)
    assert len(report.added) == 3
    tokens = stored_tokens(store)
    assert sum(map(len, tokens)) == 1074
    assert sum(len(tokenize(d.text)) for d in conll.read(CONLL)) > 1074  # what import used to store
    assert "AL-AIN" in tokens[0] and "1996-12-06" in tokens[0]
    if use_model:  # the model read the file's tokens: its spans start and end on them
        with store.Session() as s:
            docs = list(s.scalars(select(Document).order_by(Document.id)))
            spans = list(s.scalars(select(Span).where(Span.origin == "model")))
        bounds = {d.id: ({a for a, _ in Tokens(d.tokens).pairs()}, {b for _, b in Tokens(d.tokens).pairs()}) for d in docs}
        assert spans and all(sp.start in bounds[sp.document_id][0] and sp.end in bounds[sp.document_id][1]
                             for sp in spans)
    out = tmp_path / "out.conll"
    export(store, "conll", out, layer="import", status="all")
    assert spacy_view(out.read_text()) == spacy_view(CONLL.read_text())  # words, POS, entities, sentences


def test_conll_tab_separated_allennlp_fixture_round_trips(store, tmp_path):
    import_paths(store, [ALLENNLP], fmt="conll", use_model=False)
    out = tmp_path / "out.conll"
    export(store, "conll", out, layer="import", status="all")
    assert spacy_view(out.read_text()) == spacy_view(ALLENNLP.read_text())
    assert "U.N. NNP I-NP B-ORG" in out.read_text().splitlines()


def test_conll_pos_and_chunk_travel_in_meta(tmp_path):
    docs = conll.read(ALLENNLP)
    assert docs[0].carried["conll"]["values"][:2] == [["NNP", "I-NP"], ["NN", "I-NP"]]
    docs[0].carried["conll"]["values"].pop()  # no longer one per token: written as "_ _", never misplaced
    conll.write(docs, tmp_path / "o.conll")
    lines = (tmp_path / "o.conll").read_text().splitlines()
    assert "U.N. _ _ B-ORG" in lines and "AI2 NNP I-NP B-ORG" in lines


def test_tokens_that_do_not_fit_the_text_are_a_coded_error(store, tmp_path):
    bad = DocRecord("d", "Kim visits", tokens=[(0, 3), (2, 10)])
    with pytest.raises(AnnotatorError) as err:
        check_tokens(bad, tmp_path / "x.xmi", 1)
    assert err.value.code == "E140" and "token 2 ((2, 10))" in str(err.value)
    import_records(store, [DocRecord("d", "Kim visits", tokens=[(0, 3), (4, 10)])], use_model=False)
    assert stored_tokens(store) == [["Kim", "visits"]]


def check_schema(tasks: list) -> None:
    """Label Studio's task format, as label-studio-converter reads it: every task has an id and
    data.text; every labels region an id, from_name, to_name and value start/end/text/labels."""
    assert len({t["id"] for t in tasks}) == len(tasks) and all(type(t["id"]) is int for t in tasks)
    for task in tasks:
        assert isinstance(task["data"]["text"], str)
        for item in task["annotations"] + task.get("predictions", []):
            for r in item["result"]:
                assert {"id", "from_name", "to_name", "type", "value"} <= set(r)
                if r["type"] == "labels":
                    v = r["value"]
                    assert task["data"]["text"][v["start"]:v["end"]] == v["text"] and v["labels"]


def test_labelstudio_real_export_keeps_task_id_names_and_region_ids(store, tmp_path):
    import_paths(store, [LS_NER], fmt="labelstudio", use_model=False)
    out = tmp_path / "out.json"
    export(store, "labelstudio", out, layer="import", status="all")
    tasks = json.loads(out.read_text())
    check_schema(tasks)
    original = json.loads(LS_NER.read_text())
    assert tasks[0]["id"] == original["id"] == 348
    got = {(r["id"], r["from_name"], r["to_name"], r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
           for r in tasks[0]["annotations"][0]["result"]}
    want = {(r["id"], r["from_name"], r["to_name"], r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
            for r in original["completions"][0]["result"]}
    assert got == want and len(got) == 38
    assert "labelstudio" not in tasks[0]["data"]["meta"]


def test_labelstudio_a_one_line_text_is_not_its_own_title(store, tmp_path):
    """The task's text is one line of 920 characters and no title: the title is its start, cut after a
    word (it was the whole text, stored and exported twice)."""
    import_paths(store, [LS_NER], fmt="labelstudio", use_model=False)
    text = json.loads(LS_NER.read_text())["data"]["text"]
    with store.Session() as s:
        [title] = s.execute(select(Document.title)).scalars().all()
    line = text.strip()
    assert len(text) == 920 and "\n" not in text
    assert len(title) <= TITLE_MAX and title.endswith("…") and line.startswith(title[:-1])
    assert line[len(title) - 1] == " "  # cut after a word
    out = tmp_path / "out.json"
    export(store, "labelstudio", out, layer="import", status="all")
    assert json.loads(out.read_text())[0]["data"]["title"] == title


def test_labelstudio_ml_backend_predictions_come_in_as_suggestions_and_go_back_out(store, tmp_path):
    """An ML backend's predictions (model_version "SpacyMLBackend-v0.0.1") were dropped silently;
    they are the task's unchecked suggestions now, and other data keys travel."""
    original = json.loads(LS_BACKEND.read_text())
    original[0]["data"]["article_id"] = "a-17"
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(original))
    report = import_paths(store, [path], fmt="labelstudio", use_model=False)
    assert report.spans == 3
    out = tmp_path / "out.json"
    export(store, "labelstudio", out, layer="import", status="all", suggestions=True)
    tasks = json.loads(out.read_text())
    check_schema(tasks)
    task = tasks[0]
    assert (task["id"], task["data"]["article_id"]) == (1428, "a-17")
    assert task["annotations"] == [{"result": [], "was_cancelled": False}]
    (prediction,) = task["predictions"]
    assert prediction["model_version"] == "SpacyMLBackend-v0.0.1"
    assert [(r["from_name"], r["to_name"], r["value"]["text"], r["value"]["labels"]) for r in prediction["result"]] == [
        (r["from_name"], r["to_name"], r["value"]["text"], r["value"]["labels"])
        for r in original[0]["predictions"][0]["result"]]


def test_labelstudio_names_are_configurable_and_every_task_gets_an_id(tmp_path):
    docs = [DocRecord("a", "Kim", spans=[SpanRecord(0, 3, "PER")]), DocRecord("b", "Lee")]
    labelstudio.write(docs, tmp_path / "o.json", from_name="ner", to_name="doc")
    tasks = json.loads((tmp_path / "o.json").read_text())
    check_schema(tasks)
    assert [t["id"] for t in tasks] == [1, 2]
    r = tasks[0]["annotations"][0]["result"][0]
    assert (r["from_name"], r["to_name"]) == ("ner", "doc")


def test_labelstudio_export_takes_the_target_projects_tag_names(tmp_path):
    """`--from-name/--to-name`: the names of the Labels and Text tags in the Label Studio project the
    file goes to (a region under another name is not shown there); without them a document keeps
    the names it came with. Other formats refuse them (E624) and write nothing."""
    db = str(tmp_path / "p.db")

    def cli(*args):
        return CliRunner().invoke(main, ["--db", db, "--user", "ana", *map(str, args)], catch_exceptions=False)

    assert cli("import", LS_NER, "--format", "labelstudio", "--no-model").exit_code == 0
    kept, renamed = tmp_path / "kept.json", tmp_path / "renamed.json"
    base = ["export", "--format", "labelstudio", "--layer", "import", "--status", "all"]
    assert cli(*base, "--out", kept).exit_code == 0
    assert cli(*base, "--out", renamed, "--from-name", "entities", "--to-name", "body").exit_code == 0
    regions = [r for t in json.loads(kept.read_text()) for a in t["annotations"] for r in a["result"]]
    assert {(r["from_name"], r["to_name"]) for r in regions} == {("ner", "text")}  # as it came
    renamed_tasks = json.loads(renamed.read_text())
    check_schema(renamed_tasks)
    regions = [r for t in renamed_tasks for a in t["annotations"] for r in a["result"]]
    assert len(regions) == 38 and {(r["from_name"], r["to_name"]) for r in regions} == {("entities", "body")}
    refused = cli("export", "--format", "jsonl", "--layer", "import", "--status", "all", "--out",
                  tmp_path / "x.jsonl", "--from-name", "entities")
    assert refused.exit_code == 1 and refused.output.startswith("Error: [E624]") and not (tmp_path / "x.jsonl").exists()
