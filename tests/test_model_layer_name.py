"""The name "model" is the model's layer: the model layer's own export brought back into a project
makes the model's layer, whose suggestions analysts are given (before: a person's layer called
"model", which later pre-annotations went into too, and no analyst saw a suggestion); no person works
under that name (E547)."""

from __future__ import annotations

import factories
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.annotators import MODEL_LAYER, get_annotator
from annotator.core.db.models import Annotator, Document, Span
from annotator.core.project import Project
from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError
from annotator.io.exporting import export
from annotator.io.importing import import_paths, import_records

BACKENDS = ("sqlite", "postgresql")
TEXT = "Seoul and Tokyo met on Monday in Busan."


def suggestions_given(store, name: str) -> list[tuple[int, int, str]]:
    """An analyst opens the document `name`: the suggestions they are given."""
    ana = Project(store, "ana")
    [doc_id] = ana.document_ids([name]).values()
    return [(s.start, s.end, s.status) for s in ana.open_document(doc_id)]


def is_model(store) -> bool:
    with store.Session() as s:
        return s.scalar(select(Annotator.is_model).where(Annotator.name == MODEL_LAYER))


def test_the_model_layers_export_brought_back_is_the_model_layer(store, tmp_path):
    import_records(store, [DocRecord("a", TEXT, spans=[SpanRecord(0, 5, "GPE", status="suggested"),
                                                       SpanRecord(10, 15, "GPE", status="suggested")])],
                   use_model=False, as_layer=MODEL_LAYER)
    assert is_model(store)
    out = tmp_path / "model.jsonl"
    export(store, "jsonl", out, layer=MODEL_LAYER, status="all", suggestions=True)
    again = factories.new_store(tmp_path / "again.db")
    import_paths(again, [out], use_model=False)  # the file names its layer: "model"
    assert is_model(again)
    assert suggestions_given(again, "a") == [(0, 5, "suggested"), (10, 15, "suggested")]


def test_a_layer_called_model_made_before_is_read_as_the_model_layer(store):
    """A project where a person's layer got the name (made by the import above before this fix): its
    spans are the model's suggestions for analysts, and the next model import marks it the model's."""
    import_records(store, [DocRecord("a", TEXT)], use_model=False)
    with store.atomic() as s:
        row = Annotator(name=MODEL_LAYER, is_model=False)
        s.add(row)
        s.flush()
        doc = s.scalar(select(Document.id).where(Document.name == "a"))
        s.add(Span(document_id=doc, annotator_id=row.id, start=0, end=5, label="GPE", status="suggested",
                   origin="model"))
    assert suggestions_given(store, "a") == [(0, 5, "suggested")]
    with store.atomic() as s:
        assert get_annotator(s, MODEL_LAYER, is_model=True).is_model
    assert is_model(store)


def test_no_person_works_as_model(store):
    with pytest.raises(AnnotatorError) as e:
        Project(store, MODEL_LAYER)
    assert e.value.code == "E547"
    if store.path is not None:
        result = CliRunner().invoke(main, ["--db", str(store.path), "--user", MODEL_LAYER, "search", "Seoul"])
        assert result.exit_code == 1 and result.output.startswith("Error: [E547] ")
        assert len(result.output.strip().splitlines()) == 1
