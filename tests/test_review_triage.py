"""Disagreements across documents, as the dashboard lists them (core/triage.py)."""

from __future__ import annotations

from test_review import SEEDS, doc_id, label, make_store

from annotator.core.db.annotators import set_role
from annotator.core.project import Project
from annotator.core.review import triage
from annotator.core.review.adjudication import start_adjudication
from annotator.core.review.inputs import project_agreement


def test_review_triage_lists_disagreements_with_their_decisions(tmp_path):
    store = make_store(tmp_path / "t.db", docs=(0, 1, 2))
    d0, d1, d2 = (doc_id(store, i) for i in (0, 1, 2))
    ana, bob, cy = Project(store, "ana"), Project(store, "bob"), Project(store, "cy")
    for p in (ana, bob):
        for d in (d0, d1):
            p.open_document(d)
        label(p, d1, "South Korea", "GPE")  # article 1: they agree
    label(ana, d0, "Naoki Tanaka", "PERSON")
    label(bob, d0, "Naoki Tanaka", "ORG")
    label(ana, d0, "Japanese", "NORP")
    cy.open_document(d2)  # only cy: never compared
    label(cy, d2, "Japan", "GPE")
    for p, docs in ((ana, (d0, d1)), (bob, (d0, d1)), (cy, (d2,))):
        for d in docs:  # agreement compares finished documents
            p.set_status(d, "done")

    report = project_agreement(store, ["ana", "bob", "cy"])
    assert triage.imperfect(report) == [SEEDS[0].stem]
    with store.Session() as s:
        assert triage.holders(s, d0, ["cy", "bob", "gold", "ana"]) == ["bob", "ana"]
        found = triage.items(s, ["ana", "bob", "cy"], [SEEDS[0].stem, SEEDS[1].stem, SEEDS[2].stem])
        # in text order: "Japanese" comes first
        assert [(i.document, i.annotators, i.disagreement.kind, i.decision) for i in found] == [
            (SEEDS[0].stem, ("ana", "bob"), "missing", None), (SEEDS[0].stem, ("ana", "bob"), "label", None)]
        assert [i.disagreement.kind for i in triage.items(s, ["ana", "bob"], [SEEDS[0].stem], "NORP")] == ["missing"]

    set_role(store, "rev", "reviewer")
    adj = start_adjudication(store, d0, Project(store, "rev").stack, ["ana", "bob"])
    adj.take(next(x for x in adj if x.kind == "label"), "bob")
    with store.Session() as s:
        [still_open, decided] = triage.document_items(s, d0, ["ana", "bob"])
    assert (decided.decision.kind, decided.decision.taken, decided.decision.reviewer) == ("take", "bob", "rev")
    assert decided.labels == {"PERSON", "ORG"} and still_open.decision is None
    store.close()
