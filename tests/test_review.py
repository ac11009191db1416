"""Roles, blind visibility, the gold guard, and agreement read from a project (core/review.py).

Projects are built with the real core (import, Project edits); the helpers here are shared by the
other review, merge and provenance tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from factories import new_store
from sqlalchemy import insert, select

from annotator.core.db.annotators import GOLD, get_annotator, set_role
from annotator.core.db.models import Annotator, Document, Entity, Event, Span
from annotator.core.db.store import Store
from annotator.core.editing import spans as cmd
from annotator.core.editing.permissions import check_command, check_visible, visible_layers
from annotator.core.project import Project
from annotator.core.records import SpanRecord
from annotator.core.resources import seeds_dir
from annotator.core.review.agreement import compute
from annotator.core.review.arrays import SpanTable
from annotator.core.review.inputs import agreement_inputs, document_layers, project_agreement
from annotator.errors import AnnotatorError
from annotator.io.importing import import_records
from annotator.io.sources import read_paths
from annotator.io.kb_transfer import load_starter

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)

SEEDS = sorted(seeds_dir().glob("*.txt"))


# --- helpers shared with the other review tests

def make_store(path: Path, docs=(0, 1, 2), kb: bool = True, file: bool = False) -> Store:
    """A project with some of the sample articles (no model: fast) and the starter KB; on the test's
    backend, or an SQLite file whatever the backend (`file`: a colleague's file to merge)."""
    store = Store(path) if file else new_store(path)
    import_records(store, read_paths([SEEDS[i] for i in docs]), use_model=False)
    if kb:
        load_starter(store)
    return store


def doc_id(store: Store, index: int) -> int:
    """The id of sample article number `index` (names are the file stems)."""
    with store.Session() as s:
        return s.scalar(select(Document.id).where(Document.name == SEEDS[index].stem))


def entity_id(store: Store, kb_id: str) -> int:
    with store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


def label(project: Project, document_id: int, surface: str, name: str, *, nth: int = 0, kb: str | None = None,
          extend: int = 0) -> int:
    """Label the nth occurrence of `surface` (its end moved by `extend`) and link it to `kb`."""
    text = project.document(document_id).text
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    span_id = project.add_span(document_id, start, start + len(surface) + extend, name)
    if kb == "NIL":
        project.mark_nil(span_id)
    elif kb is not None:
        project.link(span_id, entity_id(project.store, kb))
    return span_id


def layer_records(project: Project, document_ids) -> dict[str, list[SpanRecord]]:
    """The project user's layer as {document name: [SpanRecord]}, read through the Project API."""
    out = {}
    with project.store.Session() as s:
        kb = dict(s.execute(select(Entity.id, Entity.kb_id)).all())
    for d in document_ids:
        doc = project.document(d)
        out[doc.name] = [SpanRecord(v.start, v.end, v.label, "NIL" if v.nil else kb.get(v.entity_id))
                         for v in project.spans(d)]
    return out


def tokens_of(store: Store, document_ids) -> dict[str, list[tuple[int, int]]]:
    project = Project(store, "tokens-reader")
    return {project.document(d).name: project.document(d).tokens.pairs() for d in document_ids}


@pytest.fixture
def team(tmp_path):
    """ana and bob label articles 0 and 1, cy article 1, each marked done; rev is a reviewer who
    labels nothing."""
    store = make_store(tmp_path / "team.db")
    d0, d1 = doc_id(store, 0), doc_id(store, 1)
    ana, bob, cy = (Project(store, n) for n in ("ana", "bob", "cy"))
    for p in (ana, bob):
        p.open_document(d0)
        p.open_document(d1)
    cy.open_document(d1)
    label(ana, d0, "Kim Kwan-jin", "PERSON")
    label(bob, d0, "Kim Kwan-jin", "PERSON")
    label(ana, d0, "Japan", "GPE", kb="Q17")
    label(bob, d0, "Japan", "GPE", kb="Q17")
    label(ana, d0, "Naoki Tanaka", "PERSON")
    label(bob, d0, "Naoki Tanaka", "ORG")
    label(ana, d0, "Defense Minister", "ORG", extend=0)
    label(bob, d0, "Minister Kim", "PERSON")
    label(ana, d1, "South Korea", "GPE", kb="Q884")
    label(bob, d1, "South Korea", "GPE", kb="NIL")
    label(cy, d1, "South Korea", "GPE", kb="Q884")
    label(cy, d1, "Seoul", "GPE")
    label(bob, d1, "Japan", "GPE")
    for p, docs in ((ana, (d0, d1)), (bob, (d0, d1)), (cy, (d1,))):
        for d in docs:  # agreement compares finished documents
            p.set_status(d, "done")
    set_role(store, "rev", "reviewer")
    yield store, {"ana": ana, "bob": bob, "cy": cy}, (d0, d1)
    store.close()


# --- roles and visibility

def test_review_visible_layers_are_blind_for_annotators(team):
    store, _, _ = team
    with store.atomic() as s:
        get_annotator(s, "model", is_model=True)
        names = lambda who: [i.name for i in visible_layers(s, who)]  # noqa: E731
        assert names("ana") == ["ana", "model"]
        assert names("rev") == ["ana", "bob", "cy", "model", "rev"]
        with pytest.raises(AnnotatorError) as e:
            check_visible(s, "ana", "bob")
        assert e.value.code == "E163"
        check_visible(s, "rev", "bob")
        check_visible(s, "ana", "ana")
        assert names("nobody") == ["model"]  # a user new to the project has no layer yet
        with pytest.raises(AnnotatorError) as e:
            check_visible(s, "nobody", "ana")
        assert e.value.code == "E163"


def test_review_set_role_records_and_refuses_model_and_gold(team):
    store, _, _ = team
    change = set_role(store, "ana", "reviewer", by="rev")
    assert (change.before, change.role) == ("annotator", "reviewer")
    with store.Session() as s:
        assert s.scalar(select(Annotator.role).where(Annotator.name == "ana")) == "reviewer"
        event = s.scalars(select(Event).where(Event.command == "set_role").order_by(Event.id.desc())).first()
        assert event.payload == {"annotator": "ana", "role": "reviewer", "before": "annotator"}
        assert s.get(Annotator, event.annotator_id).name == "rev"
        assert [i.name for i in visible_layers(s, "ana")] == ["ana", "bob", "cy", "rev"]
    assert set_role(store, "dora", "annotator").before is None  # created
    for name, role, code in (("ana", "boss", "E155"), (GOLD, "annotator", "E157")):
        if name == GOLD:
            with store.atomic() as s:
                get_annotator(s, GOLD, role="reviewer")
        with pytest.raises(AnnotatorError) as e:
            set_role(store, name, role)
        assert e.value.code == code
    with store.atomic() as s:
        get_annotator(s, "model", is_model=True)
    with pytest.raises(AnnotatorError, match=r"\[E157\] 'model' is the model layer"):
        set_role(store, "model", "reviewer")


def test_review_check_command_lets_only_reviewers_edit_gold(team):
    store, people, (d0, _) = team
    with store.atomic() as s:
        gold = get_annotator(s, GOLD, role="reviewer").id
        rev = s.scalar(select(Annotator.id).where(Annotator.name == "rev"))
        gold_span = s.execute(insert(Span).values(document_id=d0, annotator_id=gold, start=0, end=5, label="GPE")
                              .returning(Span.id)).scalar_one()
    ana = people["ana"]
    with store.Session() as s:
        for command in (cmd.AddSpan(d0, gold, 0, 3, "GPE"), cmd.DeleteSpan(gold_span),
                        cmd.RelabelSpan.make(gold_span, "ORG"), cmd.SetDocumentStatus(d0, gold, "done")):
            with pytest.raises(AnnotatorError) as e:
                check_command(s, ana.annotator_id, command)
            assert e.value.code == "E156" and "'ana' is not a reviewer" in str(e.value)
            check_command(s, rev, command)  # a reviewer may
        own = ana.spans(d0)[0].id
        check_command(s, ana.annotator_id, cmd.RelabelSpan.make(own, "ORG"))  # own layer: fine
        check_command(s, ana.annotator_id, cmd.AddSpan(d0, ana.annotator_id, 0, 3, "GPE"))


# --- agreement from the database

def _records_layers(people, docs):
    """What each person opened (cy: the second article only), read through the Project API."""
    return {name: layer_records(p, docs[1:] if name == "cy" else docs) for name, p in people.items()}


def test_review_agreement_from_the_project_equals_compute_on_the_same_layers(team):
    store, people, docs = team
    layers = _records_layers(people, docs)
    expected = compute(layers, tokens_of(store, docs)).to_json()
    got = project_agreement(store).to_json()
    assert got == expected
    assert [(p["a"], p["b"], p["n_docs"]) for p in got["pairs"]] == [("ana", "bob", 2), ("ana", "cy", 1),
                                                                      ("bob", "cy", 1)]
    assert got["overall"]["link_agreement"] is not None
    two = project_agreement(store, ["bob", "ana"], ["GPE", "PERSON"]).to_json()
    assert two == compute({k: layers[k] for k in ("ana", "bob")}, tokens_of(store, docs), ["GPE", "PERSON"]).to_json()


def test_review_agreement_inputs_are_columns_and_numpy_tokens(team):
    store, _, docs = team
    with store.Session() as s:
        layers, tokens = agreement_inputs(s)
    assert sorted(layers) == ["ana", "bob", "cy"]  # not the reviewer who labelled nothing
    assert all(isinstance(t, SpanTable) for t in layers.values())
    assert layers["cy"].docs == [SEEDS[1].stem]
    for name, toks in tokens.items():
        assert isinstance(toks, np.ndarray) and toks.dtype == np.dtype("<i4") and toks.shape[1] == 2
        assert toks.tolist() == [list(t) for t in tokens_of(store, docs)[name]]


def test_review_agreement_counts_imported_layers_and_labels_outside_the_scheme(team):
    store, people, docs = team
    d0 = docs[0]
    with store.atomic() as s:  # an imported layer: spans, never opened; one label not in the scheme
        imp = get_annotator(s, "imported").id
        s.execute(insert(Span), [dict(document_id=d0, annotator_id=imp, start=0, end=7, label="VEHICLE"),
                                 dict(document_id=d0, annotator_id=imp, start=9, end=14, label="GPE")])
    report = project_agreement(store, ["ana", "imported"]).to_json()
    assert report["pairs"][0]["n_docs"] == 1
    assert "VEHICLE" in report["by_label"]
    with store.Session() as s:
        layers = document_layers(s, d0, ["ana", "imported"])
    assert [sp.label for sp in layers["imported"]] == ["VEHICLE", "GPE"]
    expected = compute({"ana": {SEEDS[0].stem: layers["ana"]}, "imported": {SEEDS[0].stem: layers["imported"]}},
                       tokens_of(store, [d0])).to_json()
    assert report == expected


@pytest.mark.parametrize("annotators, labels, code", [
    (["ana", "zed"], None, "E050"),
    (["ana"], None, "E154"),
    (None, ["PERSON", "NOPE"], "E031"),
])
def test_review_agreement_errors_are_coded(team, annotators, labels, code):
    store, _, _ = team
    with pytest.raises(AnnotatorError) as e:
        project_agreement(store, annotators, labels)
    assert e.value.code == code


def test_review_agreement_needs_two_layers_holding_documents(tmp_path):
    store = make_store(tmp_path / "p.db", docs=(0,), kb=False)
    Project(store, "ana").open_document(doc_id(store, 0))
    with pytest.raises(AnnotatorError, match=r"^\[E154\] .*found 1 \(ana\)"):
        project_agreement(store)
    store.close()
