"""Prodigy and doccano files from the tools' own repositories (tests/data/*/README.md): what the project
does not model (hashes, tokens, answers, options, relations) comes through an import and goes back out
with the same document; entity-linking tasks become links; blank and bad tasks are skipped and listed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import new_db, new_store, write_jsonl
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.models import Document, DocumentState, Entity, Span
from annotator.core.records import CARRIED
from annotator.errors import AnnotatorError
from annotator.formats import doccano, jsonl
from annotator.io.exporting import export
from annotator.io.importing import import_paths

DATA = Path(__file__).parent / "data"
NEL = DATA / "prodigy" / "nel_emerson.jsonl"  # explosion/projects: Prodigy entity-linking tasks
REL = DATA / "prodigy" / "rel_annotations.jsonl"  # explosion/projects: Prodigy relation tasks
RE = DATA / "doccano" / "relation_extraction.jsonl"  # doccano: entities + relations
OVERLAP = DATA / "doccano" / "overlapping.jsonl"  # doccano: the same span twice


@pytest.fixture
def store(tmp_path):
    return new_store(tmp_path / "p.db")


def tasks(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def round_trip(store, path: Path, fmt: str, out: Path, **kwargs) -> list[dict]:
    import_paths(store, [path], fmt=fmt, use_model=False, **kwargs)
    export(store, fmt, out, layer="import", status="all")
    return tasks(out)


def spans_of(task: dict) -> list[tuple]:
    return sorted((s["start"], s["end"], s["label"]) for s in task["spans"])


def test_prodigy_entity_linking_tasks_become_links_and_go_back_as_they_came(store, tmp_path):
    original = tasks(NEL)
    back = round_trip(store, NEL, "jsonl", tmp_path / "out.jsonl")
    with store.Session() as s:  # every task's accepted option is its span's link, in the database
        linked = s.execute(select(Document.text, Span.start, Span.end, Entity.kb_id)
                           .join(Span, Span.document_id == Document.id).join(Entity, Entity.id == Span.entity_id)
                           .order_by(Document.id)).all()
    assert [(text, start, end, kb_id) for text, start, end, kb_id in linked] == [
        (t["text"], t["spans"][0]["start"], t["spans"][0]["end"], t["accept"][0]) for t in original]
    assert len(back) == len(original) == 4
    for old, new in zip(original, back):
        for key in ("text", "_input_hash", "_task_hash", "options", "accept", "answer", "_view_id", "_session_id"):
            assert new[key] == old[key], key
        assert spans_of(new) == spans_of(old)
        [span], [was] = new["spans"], old["spans"]
        assert {k: span[k] for k in was} == was  # rank, score, source, input_hash kept
        assert span["kb_id"] == old["accept"][0]
        assert new["meta"]["score"] == old["meta"]["score"]


def test_prodigy_relation_tasks_keep_tokens_relations_and_token_indices(store, tmp_path):
    original = tasks(REL)
    back = round_trip(store, REL, "jsonl", tmp_path / "out.jsonl")
    assert len(back) == len(original) == 3
    for old, new in zip(original, back):
        for key in ("_input_hash", "_task_hash", "tokens", "relations", "answer", "_view_id", "_session_id"):
            assert new[key] == old[key], key
        assert spans_of(new) == spans_of(old)
        # token indices count Prodigy's own tokens ("Act-RIA" is tokens 11-13), not spaCy's
        assert [{k: s[k] for k in ("start", "end", "label", "token_start", "token_end", "type")}
                for s in new["spans"]] == [
            {k: s[k] for k in ("start", "end", "label", "token_start", "token_end", "type")}
            for s in sorted(old["spans"], key=lambda s: (s["start"], s["end"], s["label"]))]
    with store.Session() as s:  # carried in the document's meta, apart from the meta the file gave
        meta = s.scalar(select(Document.meta).order_by(Document.id))
    assert meta["source"] == original[0]["meta"]["source"]
    assert meta[CARRIED]["prodigy"]["relations"] == original[0]["relations"]


def test_prodigy_relations_of_a_deleted_span_are_left_out():
    [rec] = jsonl.read(REL)[:1]
    kept = [s for s in rec.spans if s.start != 79]  # the second "Id1": one relation named it
    rec.spans = kept
    task = jsonl.to_task(rec)
    assert len(task["relations"]) == 3
    assert all(r["child_span"]["start"] != 79 for r in task["relations"])


def test_prodigy_answer_reject_and_ignore_are_not_finished_work_nor_links(store, tmp_path):
    lines = tasks(NEL)[:3]
    for task, answer in zip(lines, ("accept", "reject", "ignore")):
        task["answer"], task["_annotator_id"] = answer, "bob"
    path = write_jsonl(tmp_path / "answers.jsonl", lines)
    import_paths(store, [path], use_model=False, by="ana")
    with store.Session() as s:
        states = s.execute(select(Document.text, DocumentState.status)
                           .join(DocumentState, DocumentState.document_id == Document.id).order_by(Document.id)).all()
        links = s.scalars(select(Span.entity_id).order_by(Span.document_id)).all()
    assert [status for _, status in states] == ["done", "in_progress", "in_progress"]
    assert links[0] is not None and links[1:] == [None, None]
    export(store, "jsonl", tmp_path / "out.jsonl", layer="bob", status="all")
    assert [t["answer"] for t in tasks(tmp_path / "out.jsonl")] == ["accept", "reject", "ignore"]


def test_prodigy_nil_options_mean_nil():
    task = tasks(NEL)[0]
    task["accept"] = ["NIL_otherLink"]
    rec = jsonl._from_task(task, NEL, 1)
    assert rec.spans[0].kb_id == "NIL"
    assert jsonl.to_task(rec)["accept"] == ["NIL_otherLink"]


def test_a_blank_task_is_skipped_and_counted_not_fatal(store, tmp_path):
    """Regression: one task whose text was a single space refused the whole file (E016)."""
    lines = tasks(REL)
    path = write_jsonl(tmp_path / "rel.jsonl", [lines[0], {**lines[1], "text": " ", "spans": [],
                                                           "relations": [], "tokens": []}, lines[2]])
    report = import_paths(store, [path], use_model=False)
    assert len(report.added) == 2
    assert report.skipped == ["rel.jsonl, line 2: the text is empty or only whitespace"]
    assert sum(n for what, n in report.carried.items() if what.endswith('relations')) == len(lines[0]["relations"]) + len(lines[2]["relations"])


def test_a_bad_task_refuses_the_file_unless_skip_invalid(store, tmp_path):
    lines = tasks(NEL)[:3]
    lines[1]["spans"][0]["end"] = 999
    path = write_jsonl(tmp_path / "bad.jsonl", [lines[0], lines[1], lines[2]])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"text": "truncated\n')
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [path], use_model=False)
    assert e.value.code == "E016" and "line 2" in str(e.value)
    with store.Session() as s:
        assert s.scalar(select(Document.id)) is None
    report = import_paths(store, [path], use_model=False, skip_invalid=True)
    assert len(report.added) == 2
    assert [line.split(":")[0] for line in report.skipped] == ["bad.jsonl, line 2", "bad.jsonl, line 4"]
    assert "[E016] span 0-999 lies outside the text" in report.skipped[0]
    assert "[E015] invalid JSON" in report.skipped[1]


def test_cli_skip_invalid_and_summary_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_DB", new_db(tmp_path / "p.db"))
    monkeypatch.setenv("ANNOTATOR_USER", "ana")
    lines = tasks(REL)
    path = write_jsonl(tmp_path / "rel.jsonl", [lines[0], {"text": "", "answer": "ignore"}, {"spans": 3}])
    refused = CliRunner().invoke(main, ["import", str(path), "--no-model"])
    assert refused.exit_code != 0 and "[E016]" in refused.output and "line 3" in refused.output
    result = CliRunner().invoke(main, ["import", str(path), "--no-model", "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert f"written back by an export to the same format: prodigy relations {len(lines[0]['relations'])}." in result.output
    assert "Skipped 2 lines" in result.output
    assert "  rel.jsonl, line 2: the text is empty or only whitespace" in result.output
    assert "  rel.jsonl, line 3: [E016]" in result.output
    copy = tmp_path / "re.jsonl"
    shutil.copy(RE, copy)
    result = CliRunner().invoke(main, ["import", str(copy), "--no-model", "--format", "doccano"])
    assert "written back by an export to the same format: doccano relations 3." in result.output


def _relations_by_span(line: dict) -> list[tuple]:
    ents = {e["id"]: (e["start_offset"], e["end_offset"], e["label"]) for e in line["entities"]}
    return sorted((ents[r["from_id"]], ents[r["to_id"]], r["type"]) for r in line["relations"])


def test_doccano_relations_come_through_and_go_back(store, tmp_path):
    [original] = tasks(RE)
    report = import_paths(store, [RE], fmt="doccano", use_model=False)
    assert sum(n for what, n in report.carried.items() if what.endswith('relations')) == 3
    [back] = round_trip(store, RE, "doccano", tmp_path / "out.jsonl")
    assert back["text"] == original["text"]
    assert sorted((e["start_offset"], e["end_offset"], e["label"]) for e in back["entities"]) == sorted(
        (e["start_offset"], e["end_offset"], e["label"]) for e in original["entities"])
    assert _relations_by_span(back) == _relations_by_span(original)
    [again] = doccano.read(tmp_path / "out.jsonl")  # doccano's own variant, read again the same
    assert again.carried == doccano.read(RE)[0].carried


def test_doccano_relations_of_a_deleted_span_are_left_out():
    [rec] = doccano.read(RE)
    rec.spans = [s for s in rec.spans if s.label != "DATE"]
    line = doccano.to_line(rec)
    assert [r["type"] for r in line["relations"]] == ["foundedBy", "foundedBy"]
    assert len(line["entities"]) == 3


def test_doccano_overlapping_identical_spans_are_stored_once(store):
    report = import_paths(store, [OVERLAP], fmt="doccano", use_model=False)
    assert report.duplicate_spans == 1
    with store.Session() as s:
        assert s.execute(select(Span.start, Span.end, Span.label)).all() == [(0, 1, "LOC")]


def test_doccano_export_examples_read_and_written_in_their_own_variant(store, tmp_path):
    """doccano's own export examples: relations with ids come back the same; plain `label` lists stay so."""
    exported = DATA / "doccano" / "relation_extraction_export.jsonl"
    [back] = round_trip(store, exported, "doccano", tmp_path / "re.jsonl")
    assert _relations_by_span(back) == _relations_by_span(tasks(exported)[0])
    labels = DATA / "doccano" / "sequence_labeling.jsonl"
    lines = round_trip(store, labels, "doccano", tmp_path / "sl.jsonl")[1:]  # after the one above
    assert [(t["text"], t["label"]) for t in lines] == [(t["text"], t["label"]) for t in tasks(labels)]
    assert all("relations" not in t and "entities" not in t for t in lines)
