"""A person's "Refers to" note on a span (Span.referent_note) leaves with it: JSONL writes it and reads
it back; a format with no place for it says how many notes it did not write. Regression: no export
wrote a note, and none said so."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.models import Span
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.records import DocRecord
from annotator.io.exporting import export, summary
from annotator.io.importing import import_paths, import_records

pytestmark = pytest.mark.single_backend
TEXT = "Seoul is pursuing the pacts, and Tokyo agreed."


@pytest.fixture
def noted(tmp_path):
    """ana's finished layer: "Seoul" GPE with a note, "Tokyo" GPE without."""
    store = Store(str(tmp_path / "p.db"))
    import_records(store, [DocRecord("d", TEXT)], use_model=False)
    ana = Project(store, "ana")
    doc = ana.documents()[0].id
    seoul = ana.add_span(doc, 0, 5, "GPE")
    ana.add_span(doc, TEXT.index("Tokyo"), TEXT.index("Tokyo") + 5, "GPE")
    ana.set_referent_note(seoul, "the South Korean government")
    ana.set_status(doc, "done")
    yield store, tmp_path
    store.close()


def test_export_notes_jsonl_writes_the_note_and_reads_it_back(noted):
    store, tmp = noted
    out = tmp / "ana.jsonl"
    report = export(store, "jsonl", out, layer="ana")
    assert len(summary(report, out)) == 1  # nothing left out
    [task] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(sp["text"], sp.get("note")) for sp in task["spans"]] == [
        ("Seoul", "the South Korean government"), ("Tokyo", None)]
    other = Store(str(tmp / "q.db"))
    try:
        import_paths(other, [out], use_model=False)
        with other.Session() as s:
            assert sorted(s.execute(select(Span.start, Span.referent_note))) == [
                (0, "the South Korean government"), (TEXT.index("Tokyo"), "")]
    finally:
        other.close()


@pytest.mark.parametrize("fmt, name", [("spacy", "x.spacy"), ("conll", "x.conll"), ("brat", "brat"),
                                       ("xmi", "xmi"), ("labelstudio", "x.json"), ("doccano", "x.jsonl")])
def test_export_notes_a_format_without_a_place_counts_them(noted, fmt, name):
    store, tmp = noted
    out = tmp / name
    report = export(store, fmt, out, layer="ana")
    assert report.notes_left_out == 1
    assert summary(report, out)[-1] == (f'1 span note ("Refers to") was not written: {fmt} has no place for them '
                                        "(--format jsonl keeps them).")


def test_export_notes_the_command_line_says_so(noted):
    store, tmp = noted
    result = CliRunner().invoke(main, ["--db", store.url, "--user", "ana", "export", "--format", "conll",
                                       "--layer", "ana", "--out", str(tmp / "y.conll")])
    assert result.exit_code == 0, result.output
    assert '1 span note ("Refers to") was not written: conll' in result.output
