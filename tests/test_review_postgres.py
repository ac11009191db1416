"""Review on a real, throwaway PostgreSQL: agreement read from the server (the row path, not SQLite's
group_concat), merging an SQLite file into it twice, and adjudication."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from test_review import doc_id, label, make_store

from annotator.core.db.annotators import set_role
from annotator.core.db.models import Event, Span
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.review.adjudication import start_adjudication
from annotator.core.review.inputs import project_agreement
from annotator.io.merging import merge

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_empty(pg_cluster):
    name = pg_cluster.create_database()
    store = Store(pg_cluster.url(name))
    yield store
    store.close()
    pg_cluster.drop_database(name)


def test_review_postgres_merge_agreement_and_adjudication(pg_empty, tmp_path):
    sqlite = make_store(tmp_path / "team.db", docs=(0, 1))
    d0 = doc_id(sqlite, 0)
    ana, bob = Project(sqlite, "ana"), Project(sqlite, "bob")
    for p in (ana, bob):
        p.open_document(d0)
        label(p, d0, "Japan", "GPE", kb="Q17")
    label(ana, d0, "Kim Kwan-jin", "PERSON")
    label(bob, d0, "Naoki Tanaka", "PERSON", kb="NIL")
    expected = project_agreement(sqlite).to_json()
    sqlite.close()

    first = merge(pg_empty, tmp_path / "team.db")
    assert len(first.documents) == 2 and first.spans == 4 and first.events > 0
    with pg_empty.Session() as s:
        n_events = s.scalar(select(func.count()).select_from(Event))
    again = merge(pg_empty, tmp_path / "team.db")
    assert not again.added_anything
    with pg_empty.Session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == n_events
        assert s.scalar(select(func.count()).select_from(Span)) == 4

    assert project_agreement(pg_empty).to_json() == expected

    set_role(pg_empty, "rev", "reviewer")
    d0_pg = doc_id(pg_empty, 0)
    adj = start_adjudication(pg_empty, d0_pg, Project(pg_empty, "rev").stack, ["ana", "bob"])
    assert adj.agreed == 1 and sorted(d.kind for d in adj) == ["missing", "missing"]
    adj.take(adj[0], "ana")
    adj.undo()
    assert len(adj) == 2
