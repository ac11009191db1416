"""What reaches gold is what a reviewer decided, and agreement figures are right: adjudication and
agreement on projects built through the real API (seeds imported with the model's suggestions,
several people editing as themselves), checked against an independent computation."""

from __future__ import annotations

import pytest
from factories import new_store
from sqlalchemy import select
from test_review import SEEDS, doc_id

from annotator.core.db.annotators import GOLD, set_role
from annotator.core.db.models import Annotator, Span
from annotator.core.project import Project
from annotator.core.review import triage
from annotator.core.review.adjudication import start_adjudication
from annotator.io.importing import import_paths
from annotator.io.kb_transfer import load_starter

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


def gold_rows(store, document_id) -> set[tuple[int, int, str]]:
    with store.Session() as s:
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        return set(s.execute(select(Span.start, Span.end, Span.label)
                             .where(Span.annotator_id == gold, Span.document_id == document_id)).all())


@pytest.fixture
def suggested(tmp_path):
    """The seeds imported with the model's suggestions and the starter KB; ana and bob have each
    accepted some of the suggestions of article 0 (their layers hold the rest unchecked); rev reviews."""
    store = new_store(tmp_path / "trust.db")
    import_paths(store, SEEDS, use_model=True)
    load_starter(store)
    set_role(store, "rev", "reviewer")
    d = doc_id(store, 0)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    yield store, d, ana, bob
    store.close()


def test_review_trust_unchecked_suggestions_never_reach_gold(suggested):
    """Two people who left the same suggestion unchecked did not agree on it: nobody decided it.
    Adjudication put every such suggestion into gold as "agreed" (66 of the 67 on article 0)."""
    store, d, ana, bob = suggested
    ana.open_document(d)
    bob.open_document(d)
    first, second = sorted((v.start, v.end, v.label) for v in ana.spans(d) if v.status == "suggested")[:2]
    for p in (ana, bob):
        p.accept(next(v.id for v in p.spans(d) if (v.start, v.end, v.label) == first))
    ana.accept(next(v.id for v in ana.spans(d) if (v.start, v.end, v.label) == second))
    assert sum(v.status == "suggested" for v in bob.spans(d)) > 10  # bob's layer holds them unchecked

    adj = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    assert gold_rows(store, d) == {first}  # the one span both accepted
    assert [(x.kind, x.start, x.end, {n: len(v) for n, v in x.spans.items()}) for x in adj] == [
        ("missing", second[0], second[1], {"ana": 1, "bob": 0})]  # bob's unchecked copy is no version
    with store.Session() as s:
        listed = triage.document_items(s, d, ["ana", "bob"])
    assert [(i.disagreement.kind, i.disagreement.start) for i in listed] == [("missing", second[0])]
    adj.take(adj[0], "bob")  # bob decided nothing there: gold gets nothing
    assert gold_rows(store, d) == {first}
