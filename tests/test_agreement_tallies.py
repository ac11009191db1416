"""Agreement summed from the stored counts (core/review/tallies.py, pooled.py) against the full
computation (`agreement.compute` over `agreement_inputs`): after random edit sequences of three
people through the real commands (links, statuses, undo and redo included), an import of a layer, a
merge and an upgrade, the two reports are equal, for every status filter and annotator subset, and
every document's stored rows are what counting it again gives."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, insert, select
from test_provenance_counts import add_model, model_spans, op, run
from test_review import doc_id, entity_id, make_store

from annotator.core.db.annotators import get_annotator, set_role
from annotator.core.db.models import AgreementLabel, AgreementPair, AgreementStale, AgreementTotal, Document, Span
from annotator.core.project import Project
from annotator.core.records import DocRecord, SpanRecord
from annotator.core.review.agreement import compute
from annotator.core.review.inputs import _resolve_layers, agreement_inputs, project_agreement
from annotator.core.review.pooled import stored_agreement
from annotator.core.review.tallies import LABEL_COLS, PAIR_COLS, count, freshen, rebuild
from annotator.errors import AnnotatorError
from annotator.io.importing import import_records
from annotator.io.merging import merge

BACKENDS = ("sqlite", "postgresql")
PEOPLE = ("ana", "bob", "cy")


def _rows(s, table, cols, keys):
    got = {}
    for r in s.execute(select(*(getattr(table, k) for k in keys), *(getattr(table, c) for c in cols))):
        got[tuple(r[:len(keys)])] = tuple(r[len(keys):])
    return got


def assert_same(store, subsets=(None,)) -> dict:
    """Stored == computed for both status filters and each subset; stored rows == counting again;
    totals == the label rows summed per pair, label and context."""
    reports = {}
    with store.Session() as s:
        freshen(s)
        assert not s.scalar(select(func.count()).select_from(AgreementStale))
        docs = list(s.scalars(select(Document.id)))
        pairs, labels = count(s, docs)
        keys = ("document_id", "layer_a", "layer_b")
        assert _rows(s, AgreementPair, PAIR_COLS + ("context",), keys) == {
            tuple(r[k] for k in keys): tuple(r[c] for c in PAIR_COLS + ("context",)) for r in pairs}
        assert _rows(s, AgreementLabel, LABEL_COLS, keys + ("label",)) == {
            tuple(r[k] for k in keys + ("label",)): tuple(r[c] for c in LABEL_COLS) for r in labels}
        summed = {}
        for r in labels:
            ctx = next(p["context"] for p in pairs if (p["document_id"], p["layer_a"], p["layer_b"]) ==
                       (r["document_id"], r["layer_a"], r["layer_b"]))
            key = (r["layer_a"], r["layer_b"], r["label"], ctx)
            summed[key] = tuple(x + r[c] for x, c in zip(summed.get(key, (0,) * len(LABEL_COLS)), LABEL_COLS))
        totals = _rows(s, AgreementTotal, LABEL_COLS, ("layer_a", "layer_b", "label", "context"))
        assert totals == summed  # no row of zeros left behind
        for subset in subsets:
            for status in ("done", "all"):
                try:
                    chosen = _resolve_layers(s, subset)
                except AnnotatorError:
                    continue
                stored = stored_agreement(s, chosen, status, None)
                assert stored is not None
                full = compute(*agreement_inputs(s, subset, status))
                if max(compute_coders(s, subset, status), default=0) <= 3:
                    assert stored.to_json() == full.to_json(), (subset, status)
                else:  # weights 1/3, 1/4 ... are rounded (pooled.py's docstring): α to the last bits
                    assert _approx(stored.to_json()) == _approx(full.to_json()), (subset, status)
                reports[subset, status] = stored.to_json()
    return reports


def compute_coders(s, subset, status) -> list[int]:
    layers, _ = agreement_inputs(s, subset, status)
    held = {}
    for table in layers.values():
        for d in table.docs:
            held[d] = held.get(d, 0) + 1
    return list(held.values())


def _approx(report):
    """The report with α rounded to 12 digits."""
    if isinstance(report, dict):
        return {k: (round(v, 12) if k == "token_alpha" and v is not None else _approx(v)) for k, v in report.items()}
    if isinstance(report, list):
        return [_approx(v) for v in report]
    return report


link_op = st.tuples(st.just("link"), st.integers(0, 2), st.integers(0, 1), st.integers(0, 20),
                    st.sampled_from(("Q90", "Q142", "NIL", None)))
three = st.one_of(st.tuples(op, st.integers(0, 2)).map(lambda x: (x[0][0], x[1], *x[0][2:])), link_op)


def run3(projects, docs, step) -> None:
    if step[0] != "link":
        return run(projects, docs, step)
    who = projects[step[1]]
    spans = who.spans(docs[step[2]])
    if not spans:
        return
    pick = spans[step[3] % len(spans)]
    try:
        if step[4] is None:
            who.unlink(pick.id)
        elif step[4] == "NIL":
            who.mark_nil(pick.id)
        elif entity_id(who.store, step[4]) is not None:
            who.link(pick.id, entity_id(who.store, step[4]))
    except AnnotatorError:
        pass


@pytest.mark.single_backend
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=st.tuples(model_spans, model_spans), steps=st.lists(three, min_size=1, max_size=30))
def test_stored_agreement_equals_the_computation_after_random_edits(tmp_path_factory, model, steps):
    store = make_store(tmp_path_factory.mktemp("p") / "p.db", docs=(0, 1), kb=True)
    try:
        docs = [doc_id(store, 0), doc_id(store, 1)]
        add_model(store, {docs[0]: model[0], docs[1]: model[1]})
        set_role(store, "ana", "reviewer")
        projects = [Project(store, name) for name in PEOPLE]
        for step in steps:
            run3(projects, docs, step)
        assert_same(store, (None, ("ana", "bob"), ("bob", "cy", "ana")))
    finally:
        store.close()


def _agree(p: Project, d: int, spans) -> None:
    p.open_document(d)
    for start, end, lab in spans:
        p.accept(p.add_span(d, start, end, lab))
    p.set_status(d, "done")


def test_stored_agreement_follows_edits_undo_import_and_merge(tmp_path):
    """A fixed history on both backends: three people, undo and redo, a layer imported onto documents
    already here, a colleague's file merged in; the report is the computed one after each step."""
    store = make_store(tmp_path / "ours.db", docs=(0, 1), kb=False)
    d0, d1 = doc_id(store, 0), doc_id(store, 1)
    ana, bob, cy = (Project(store, n) for n in PEOPLE)
    _agree(ana, d0, [(0, 5, "GPE"), (10, 20, "ORG"), (30, 40, "PERSON")])
    _agree(bob, d0, [(0, 5, "GPE"), (12, 20, "ORG"), (30, 40, "ORG")])
    _agree(cy, d0, [(0, 5, "GPE")])
    cy.open_document(d1)
    cy.accept(cy.add_span(d1, 0, 4, "ORG"))  # in progress: counts only with status "all"
    _agree(ana, d1, [(0, 4, "ORG"), (6, 9, "GPE")])
    before = assert_same(store, (None, ("ana", "cy")))
    assert before[None, "done"]["overall"]["n_docs"] == 1 and before[None, "all"]["overall"]["n_docs"] == 2
    for _ in range(4):
        ana.stack.undo()
        assert_same(store)
    for _ in range(4):
        ana.stack.redo()
    assert assert_same(store, (None, ("ana", "cy"))) == before
    with store.Session() as s:
        text = s.get(Document, d0).text
    again = DocRecord("again", text, spans=[SpanRecord(0, 5, "GPE"), SpanRecord(10, 20, "ORG")])
    import_records(store, [again], use_model=False, as_layer="dee")
    assert "dee" in {p["b"] for p in assert_same(store)[None, "done"]["pairs"]}
    theirs = make_store(tmp_path / "theirs.db", docs=(0, 1), kb=False, file=True)
    _agree(Project(theirs, "eve"), doc_id(theirs, 0), [(0, 5, "GPE"), (30, 40, "PERSON")])
    theirs.close()
    merge(store, tmp_path / "theirs.db")
    report = assert_same(store)[None, "done"]
    assert {p["b"] for p in report["pairs"]} >= {"eve"}
    assert project_agreement(store).to_json() == report
    store.close()


@pytest.mark.single_backend
def test_rows_written_behind_the_apps_back_are_counted_by_rebuild(tmp_path):
    """Raw SQL (a benchmark's project) bypasses the queue: `rebuild` counts everything, as the upgrade's
    queue does; a label restriction dropping a label in use falls back to the full computation."""
    store = make_store(tmp_path / "p.db", docs=(0,), kb=False)
    d0 = doc_id(store, 0)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    _agree(ana, d0, [(0, 5, "GPE")])
    _agree(bob, d0, [(0, 5, "GPE")])
    with store.atomic() as s:
        s.execute(insert(Span), [dict(document_id=d0, annotator_id=get_annotator(s, "bob").id, start=7, end=9,
                                      label="ORG", origin="human", status="accepted")])
        rebuild(s)
    assert assert_same(store)[None, "done"]["by_label"]["ORG"]["span_f1_exact"] == 0.0
    with store.Session() as s:
        assert stored_agreement(s, _resolve_layers(s, None), "done", ["GPE"]) is None
        assert stored_agreement(s, _resolve_layers(s, None), "done", ["PERSON", "GPE", "ORG"]) is not None
    only = project_agreement(store, labels=["GPE"]).to_json()
    with store.Session() as s:
        assert only == compute(*agreement_inputs(s), ["GPE"]).to_json()
    both = project_agreement(store, labels=["PERSON", "GPE", "ORG"]).to_json()
    assert list(both["by_label"]) == ["PERSON", "GPE", "ORG"] and both["by_label"]["PERSON"]["span_f1_exact"] is None
    store.close()

