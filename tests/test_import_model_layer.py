"""A file imported into the model's layer (`--as-layer model`, or `_annotator_id: model`) brings only
suggestions: spans it gives as decided (accepted, NIL) are stored unchecked, said in the summary, and the
layer gets no document state. Regression: they were stored as accepted (and NIL), with the document
"done" in the model's layer, which holds nobody's decision (a person's copy started from them checked)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, DocumentState, Span
from annotator.core.db.store import Store

pytestmark = pytest.mark.single_backend
TEXT = "Seoul and Tokyo renewed the pact."


def run(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), "--user", "ana", *map(str, args)], catch_exceptions=False)


def model_rows(db) -> tuple[list[tuple], list[tuple]]:
    store = Store(str(db))
    try:
        with store.Session() as s:
            model = s.scalar(select(Annotator.id).where(Annotator.name == MODEL_LAYER))
            spans = [tuple(r) for r in s.execute(select(Span.start, Span.status, Span.nil)
                                                 .where(Span.annotator_id == model).order_by(Span.start))]
            states = [tuple(r) for r in s.execute(select(DocumentState.document_id)
                                                  .where(DocumentState.annotator_id == model))]
        return spans, states
    finally:
        store.close()


@pytest.mark.parametrize("how", ["--as-layer", "_annotator_id"])
def test_import_model_layer_decisions_arrive_as_suggestions(tmp_path, how):
    task = {"text": TEXT, "meta": {"name": "pact"},
            "spans": [{"start": 0, "end": 5, "label": "GPE", "status": "accepted"},
                      {"start": 10, "end": 15, "label": "GPE", "kb_id": "NIL"},
                      {"start": 28, "end": 32, "label": "LAW", "status": "suggested"}]}
    if how == "_annotator_id":
        task["_annotator_id"] = MODEL_LAYER
    data = tmp_path / "tasks.jsonl"
    data.write_text(json.dumps(task) + "\n", encoding="utf-8")
    db = tmp_path / "p.db"
    args = ["import", data, "--format", "jsonl", "--no-model"] + (["--as-layer", MODEL_LAYER] if how == "--as-layer"
                                                                   else [])
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    assert ("Stored 2 spans the file gave the model's layer as decided (accepted, or NIL) as unchecked "
            "suggestions") in result.output
    spans, states = model_rows(db)
    assert spans == [(0, "suggested", False), (10, "suggested", False), (28, "suggested", False)]
    assert states == []


def test_import_model_layer_its_own_export_comes_back_as_it_was(tmp_path):
    """A model-layer export (suggestions only) re-imported into another project: nothing to say."""
    db = tmp_path / "p.db"
    source = tmp_path / "a.txt"
    source.write_text(TEXT, encoding="utf-8")
    assert run(db, "import", source).exit_code == 0  # the model's suggestions
    out = tmp_path / "model.jsonl"
    result = run(db, "export", "--format", "jsonl", "--layer", MODEL_LAYER, "--include-suggestions", "--out", out)
    assert result.exit_code == 0, result.output
    other = tmp_path / "q.db"
    result = run(other, "import", out, "--format", "jsonl", "--as-layer", MODEL_LAYER, "--no-model")
    assert result.exit_code == 0 and "as unchecked suggestions" not in result.output
    assert model_rows(other)[0] == model_rows(db)[0] and model_rows(other)[1] == []
