"""The corpus generator behind the scale benchmark: same output for the same seed, spans on the
text, and its JSONL and project file open in the app (200 documents: a smoke test, not a timing)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy import func, select

from annotator.core.db.models import Document, DocumentState, Span
from annotator.core.db.store import Store
from annotator.core.review.inputs import project_agreement
from annotator.core.stats import stats
from annotator.io.importing import import_paths

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))

import generate  # noqa: E402


def test_jsonl_is_deterministic_and_imports(tmp_path):
    assert generate.write_jsonl(tmp_path / "a.jsonl", 200) == (200, 6000)
    generate.write_jsonl(tmp_path / "b.jsonl", 200)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    tasks = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    words = [len(t["text"].split()) for t in tasks]
    assert 140 <= sum(words) / len(words) <= 170
    store = Store(tmp_path / "p.db")
    report = import_paths(store, [tmp_path / "a.jsonl"], use_model=False)
    assert len(report.added) == 200 and report.spans == 6000


def test_project_built_with_raw_sql_is_a_project(tmp_path):
    assert generate.write_project(tmp_path / "p.db", 200, layers=2, model_layer=True) == (200, 18000)
    store = Store(tmp_path / "p.db")
    with store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 200
        assert s.scalar(select(func.count()).select_from(DocumentState)) == 400
        bad = [(t[a:b], a, b) for t, a, b in s.execute(select(Document.text, Span.start, Span.end)
                                                       .join(Span, Span.document_id == Document.id))
               if not t[a:b].strip() or t[a:b] != t[a:b].strip()]
    assert bad == []
    figures = stats(store)
    assert figures["documents"] == 200 and figures["layers"]["layer1"]["spans"] == 6000
    assert figures["provenance"]["layer1"]["totals"]["accepted"] == 6000


def test_review_project_has_finished_differing_layers(tmp_path):
    """`review`: three people's finished layers that mostly agree, differently each time but the
    same for the same seed; the agreement of such layers is high but not perfect."""
    counts = [generate.write_project(tmp_path / f"{k}.db", 200, layers=3, review=True) for k in "ab"]
    assert counts[0] == counts[1] and 3 * 200 * 25 < counts[0][1] < 3 * 200 * 31
    dumps = []
    for k in "ab":
        store = Store(tmp_path / f"{k}.db")
        with store.Session() as s:
            dumps.append(s.execute(select(Span.document_id, Span.annotator_id, Span.start, Span.end, Span.label)
                                   .order_by(Span.id)).all())
            assert set(s.scalars(select(DocumentState.status))) == {"done"}
        report = project_agreement(store)
        store.close()
    assert dumps[0] == dumps[1]
    assert report.overall.n_docs == 200 and [(p.a, p.b) for p in report.pairs] == [
        ("layer1", "layer2"), ("layer1", "layer3"), ("layer2", "layer3")]
    assert 0.75 < report.overall.span_f1_exact < 0.95 and report.overall.span_f1_overlap > 0.9
