"""Candidate search and linking on a real, throwaway PostgreSQL: with pg_trgm, and degraded to LIKE."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from annotator.core.kb import candidates as cand, entities as kb
from annotator.formats.kb_files import KbEntry

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_cluster):
    from annotator.core.db.store import Store

    name = pg_cluster.create_database()
    store = Store(pg_cluster.url(name))
    with store.atomic() as s:
        kb.add_entities(s, [KbEntry("Kim Kwan-jin", "local:kim", "PERSON", "minister", ["Kim"]),
                            KbEntry("Seoul", "Q8684", "GPE", "city", []),
                            KbEntry("Government of South Korea", "local:gov", "ORG", "", ["Seoul"]),
                            KbEntry("General Security of Military Information Agreement", "local:gsomia", "LAW",
                                    "", ["GSOMIA"])])
    yield store
    store.close()
    pg_cluster.drop_database(name)


def kb_ids(found) -> list[str]:
    return [c.kb_id for c in found]


def check_candidates(store) -> None:
    with store.Session() as s:
        assert kb_ids(cand.candidates(s, "Seoul", label="GPE"))[:2] == ["Q8684", "local:gov"]
        assert kb_ids(cand.candidates(s, "Kim Kwan-jn", label="PERSON"))[0] == "local:kim"  # a typo
        assert kb_ids(cand.candidates(s, "Military Information", label="LAW"))[0] == "local:gsomia"  # inside
        assert kb_ids(cand.candidates(s, "gsom", label="LAW"))[0] == "local:gsomia"  # a prefix
        assert kb_ids(cand.search(s, "Q8684"))[0] == "Q8684"


def test_linking_postgres_candidates_with_pg_trgm(pg_store):
    with pg_store.Session() as s:
        assert cand.backend(s.connection()) == "pg_trgm"
    check_candidates(pg_store)


def test_linking_postgres_candidates_degrade_to_like(pg_store):
    from annotator.core.db.store import Store

    with pg_store.engine.begin() as conn:
        conn.exec_driver_sql("DROP EXTENSION pg_trgm CASCADE")
    again = Store(pg_store.url)  # a new engine finds out afresh what the database offers
    try:
        with again.Session() as s:
            assert cand.backend(s.connection()) == "like"
        check_candidates(again)
    finally:
        again.close()


def test_linking_postgres_commands_learn_and_undo(pg_store):
    from annotator.core.db.models import Alias, Entity
    from annotator.core.project import Project
    from annotator.core.records import DocRecord
    from annotator.io.importing import import_records

    import_records(pg_store, [DocRecord("a1", "Seoul said so. Seoul again.")], use_model=False)
    project = Project(pg_store, "ana")
    doc = project.documents()[0].id
    project.open_document(doc)
    first = project.add_span(doc, 0, 5, "GPE")
    with pg_store.Session() as s:
        gov = s.scalar(select(Entity.id).where(Entity.kb_id == "local:gov"))
    project.link(first, gov)
    assert len(project.propagate(first)) == 1
    new = project.new_entity_from_span(first, name="Seoul (test)")
    with pg_store.Session() as s:
        assert s.scalar(select(Alias.count).where(Alias.entity_id == gov, Alias.norm == "seoul")) == 0
        assert s.scalar(select(Alias.count).where(Alias.entity_id == new, Alias.norm == "seoul")) == 1
    for _ in range(3):
        project.stack.undo()
    with pg_store.Session() as s:
        assert s.scalar(select(Alias.count).where(Alias.entity_id == gov, Alias.norm == "seoul")) == 0
        assert s.get(Entity, new) is None
    assert [sp.entity_id for sp in project.spans(doc)] == [None]
