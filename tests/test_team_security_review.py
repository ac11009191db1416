"""What each role's own login could still do with raw SQL after 0004 (migration 0020 refuses it): take a
colleague's provenance rows with an UPDATE that reads no column, read or forge the agreement counts, ask
a helper which entities colleagues linked, become a reviewer through a model row a reviewer made, change
or delete documents and history, call the helpers from outside the project, or create functions in a
schema PUBLIC may write. Members connect with their own login, as in tests/test_team_roles.py."""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy import select
from test_review import SEEDS, doc_id, entity_id
from test_team_roles import _n, as_login, cli, raw, team  # noqa: F401  (team: the fixture)

from annotator.core.db.grants import group_name
from annotator.core.db.models import Annotator
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.review.agreement import compute
from annotator.core.review.inputs import agreement_inputs, project_agreement

BACKENDS = ("postgresql",)


def layers(store) -> dict[str, int]:
    with store.Session() as s:
        return dict(s.execute(select(Annotator.name, Annotator.id)).all())


def admin_rows(store, sql: str, params=()) -> list[tuple]:
    """Rows as the admin sees them (the owner: no policy hides any)."""
    with store.engine.connect() as conn:
        return sorted(conn.exec_driver_sql(sql, params).all())


def test_team_security_review_an_update_reading_no_column_takes_no_colleagues_rows(team, pg_cluster):
    """`UPDATE t SET annotator_id = <me>` reads no column, so no read policy filtered it: it moved a
    colleague's provenance rows into the member's layer, where they read them and the colleague lost them."""
    store, d, projects, (ann, bob, rev) = team
    layer = layers(store)
    theirs = "SELECT * FROM {} WHERE annotator_id = %s"
    before = {t: admin_rows(store, theirs.format(t), (layer[bob],)) for t in ("provenance_counts", "provenance_totals")}
    assert all(before.values())
    with raw(pg_cluster, store, ann) as conn:
        for table in before:
            conn.execute(f"DELETE FROM {table}")  # their own rows, out of the way of the primary key
            assert conn.execute(f"UPDATE {table} SET annotator_id = %s", (layer[ann],)).rowcount == 0
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    assert {t: admin_rows(store, theirs.format(t), (layer[bob],)) for t in before} == before


def test_team_security_review_agreement_counts_are_the_reviewers(team, pg_cluster):
    """The counts of a pair hold the colleague's spans per label and document and every layer's state
    (`context`): an annotator neither reads nor writes them, nor takes a document off the queue."""
    store, d, projects, (ann, bob, rev) = team
    for name in (ann, bob):
        projects[name].set_status(d, "done")
    report = project_agreement(projects[rev].store, [ann, bob], viewer=rev).to_json()
    layer = layers(store)
    tables = ("agreement_pairs", "agreement_labels", "agreement_totals")
    before = {t: admin_rows(store, f"SELECT * FROM {t}") for t in tables}
    assert all(before.values())
    projects[ann].relabel(projects[ann].spans(d)[0].id, "ORG")  # queues the document, under row-level security
    queued = admin_rows(store, "SELECT document_id FROM agreement_stale")
    assert queued == [(d,)]
    with raw(pg_cluster, store, ann) as conn:
        for table in (*tables, "agreement_stale"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        assert conn.execute("UPDATE agreement_labels SET exact = 0, n_b = 9").rowcount == 0
        assert conn.execute("DELETE FROM agreement_pairs WHERE layer_b = %s", (layer[bob],)).rowcount == 0
        assert conn.execute("DELETE FROM agreement_stale").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO agreement_pairs VALUES (%s, %s, %s, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 'x')",
                         (doc_id(store, 1), layer[ann], layer[bob]))
    assert {t: admin_rows(store, f"SELECT * FROM {t}") for t in tables} == before
    assert admin_rows(store, "SELECT document_id FROM agreement_stale") == queued
    with raw(pg_cluster, store, rev) as conn:  # the reviewer's to read
        assert conn.execute("SELECT count(*) FROM agreement_pairs").fetchone()[0] == len(before["agreement_pairs"])
    after = project_agreement(projects[rev].store, [ann, bob], viewer=rev).to_json()
    with store.Session() as s:
        assert after == compute(*agreement_inputs(s, [ann, bob])).to_json() != report
    assert admin_rows(store, "SELECT document_id FROM agreement_stale") == []


def test_team_security_review_no_helper_tells_who_linked_an_entity(team, pg_cluster):
    """annotator_linked_elsewhere(entity, me) answered anyone, for any entity and layer, whether someone
    else had linked it; an annotator still deletes their own entity only while no other layer links it."""
    store, d, projects, (ann, bob, rev) = team
    korea = entity_id(store, "Q884")
    projects[bob].link(projects[bob].spans(d)[0].id, korea)
    with raw(pg_cluster, store, ann) as conn:
        for sql in ("SELECT annotator_linked_elsewhere(%s, -1)", "SELECT annotator_linked_elsewhere(%s, 0)"):
            with pytest.raises(psycopg.errors.UndefinedFunction):
                conn.execute(sql, (korea,))
        assert conn.execute("SELECT annotator_may_delete_entity(%s)", (korea,)).fetchone() == (False,)
        made = [conn.execute("INSERT INTO entities (kb_id, name, type, description, created_by, created_at, version) "
                             "VALUES (%s, %s, 'ORG', '', annotator_me(), now(), 1) RETURNING id",
                             (f"local:{name}{os.getpid()}", name)).fetchone()[0] for name in ("kept", "gone")]
    projects[bob].link(projects[bob].spans(d)[0].id, made[0])
    with store.engine.begin() as conn:  # should TEMPORARY come back, an empty `spans` of their own changes nothing
        conn.exec_driver_sql(f'GRANT TEMPORARY ON DATABASE "{store.engine.url.database}" TO "{ann}"')
    with raw(pg_cluster, store, ann) as conn:
        conn.execute("SET search_path = pg_temp, public")
        conn.execute("CREATE TEMP TABLE spans (entity_id int, annotator_id int)")
        assert [conn.execute("DELETE FROM entities WHERE id = %s", (e,)).rowcount for e in made] == [0, 1]
    assert admin_rows(store, "SELECT id FROM entities WHERE id = ANY (%s)", (made,)) == [(made[0],)]


def test_team_security_review_a_model_row_makes_nobody_a_reviewer(team, pg_cluster):
    """A reviewer could add a model row (role reviewer) named after a colleague's login to come: the admin's
    `db users add` then failed (E157) after the login was made, and that login was a reviewer whose layer
    every annotator read. Now the row is refused, the add fails before any login, and a login that
    still matches a model row (the admin's own doing) is nobody."""
    store, d, projects, (ann, bob, rev) = team
    carol, mallory = f"carol{os.getpid()}_{next(_n)}", f"mal{os.getpid()}_{next(_n)}"
    with raw(pg_cluster, store, rev) as conn:
        for sql in ("INSERT INTO annotators (name, role, is_model) VALUES (%s, 'reviewer', true)",
                    "INSERT INTO annotators (name, role, is_model) VALUES (%s, 'reviewer', false)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql, (carol,))
        conn.execute("INSERT INTO annotators (name, role, is_model) VALUES (%s, 'annotator', true)", (carol,))
    result = cli(store.url, "db", "users", "add", carol)
    assert result.exit_code == 1 and result.stderr.startswith("Error: [E157] ")
    assert admin_rows(store, "SELECT rolname FROM pg_roles WHERE rolname = %s", (carol,)) == []
    with store.engine.begin() as conn:  # an admin's own mistake: a login for a model row, in the group
        conn.exec_driver_sql("INSERT INTO annotators (name, role, is_model) VALUES (%s, 'reviewer', true)", (mallory,))
        conn.exec_driver_sql(f'CREATE ROLE "{mallory}" LOGIN')
        conn.exec_driver_sql(f'GRANT "{group_name(conn)}" TO "{mallory}"')
    theirs = projects[bob].spans(d)[0].id
    with raw(pg_cluster, store, mallory) as conn:
        assert conn.execute("SELECT annotator_me(), annotator_is_reviewer()").fetchone() == (None, False)
        assert conn.execute("SELECT count(*) FROM spans WHERE id = %s", (theirs,)).fetchone() == (0,)
    with raw(pg_cluster, store, ann) as conn:  # the people are who they were
        assert conn.execute("SELECT annotator_me(), annotator_is_reviewer()").fetchone() == (layers(store)[ann], False)
    with raw(pg_cluster, store, rev) as conn:
        assert conn.execute("SELECT annotator_me(), annotator_is_reviewer()").fetchone() == (layers(store)[rev], True)


def test_team_security_review_documents_and_history_stay(team, pg_cluster):
    """Nothing in the app changes or deletes a document or a step of the history: the server refuses it to
    every member (a reviewer's DELETE cascaded into every layer and gold). A reviewer still imports."""
    store, d, projects, (ann, bob, rev) = team
    before = admin_rows(store, "SELECT id, title, text_sha256 FROM documents")
    spans = admin_rows(store, "SELECT id FROM spans")
    events = admin_rows(store, "SELECT id FROM events")
    for login, sql in ((rev, "DELETE FROM documents"), (rev, "UPDATE documents SET text = 'x'"),
                       (ann, "DELETE FROM events"), (rev, "DELETE FROM events"),
                       (rev, "LOCK TABLE documents IN ACCESS EXCLUSIVE MODE")):  # would stop everyone's work
        with raw(pg_cluster, store, login) as conn, conn.transaction(force_rollback=True):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    assert admin_rows(store, "SELECT id, title, text_sha256 FROM documents") == before
    assert admin_rows(store, "SELECT id FROM spans") == spans and admin_rows(store, "SELECT id FROM events") == events
    result = cli(as_login(pg_cluster, store, rev), "import", str(SEEDS[2]), "--no-model")
    assert result.exit_code == 0, result.output
    assert len(admin_rows(store, "SELECT id FROM documents")) == len(before) + 1


def test_team_security_review_the_helpers_and_the_schema_are_the_members_own(team, pg_cluster):
    """A login of another project on the same server connected and called the helpers; on a schema that
    PUBLIC may create in (PostgreSQL before 15), a member's function could be picked up by another's
    query. Adding a member takes both away."""
    store, d, projects, (ann, bob, rev) = team
    eve = f"eve{os.getpid()}_{next(_n)}"
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{eve}" LOGIN')
        conn.exec_driver_sql("GRANT CREATE ON SCHEMA public TO PUBLIC")  # as PostgreSQL 14 had it
    assert cli(store.url, "db", "users", "add", f"dan{os.getpid()}_{next(_n)}").exit_code == 0
    with raw(pg_cluster, store, eve) as conn:
        for helper in ("annotator_me()", "annotator_is_reviewer()", "annotator_visible_layers()",
                       "annotator_may_write(1)", "annotator_may_delete_entity(1)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT {helper}")
    with raw(pg_cluster, store, ann) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE FUNCTION public.lower(character varying) RETURNS text LANGUAGE sql "
                         "AS $$ SELECT 'x' $$")
        assert conn.execute("SELECT annotator_is_reviewer()").fetchone() == (False,)
    member = Store(as_login(pg_cluster, store, ann))  # the app still works for a member
    try:
        assert Project(member).spans(d)
    finally:
        member.close()
