"""Row-level security that holds against an annotator's raw SQL (migration 0004): the attacks a member
can type at their own login are refused and change nothing, and reads are blind in the database as
in the app (own layer and the model's; no colleague's, no gold). Members connect with their own login
as in tests/test_team_roles.py."""

from __future__ import annotations

import psycopg
import pytest
from alembic import command
from sqlalchemy import select
from test_review import doc_id, entity_id, label, make_store
from test_team_concurrency import the_gold_span
from test_team_roles import cli, raw, team  # noqa: F401  (team: the fixture)

from annotator.core.db import edit_seconds, schema
from annotator.core.db.grants import group_name
from annotator.core.db.models import Annotator
from annotator.core.project import Project
from annotator.core.review.agreement import compute
from annotator.core.review.inputs import agreement_inputs, project_agreement
from annotator.core.review.provenance import provenance, recount

BACKENDS = ("postgresql",)
HELPERS = ("annotator_me", "annotator_is_reviewer", "annotator_may_write", "annotator_linked_elsewhere",
           "annotator_visible_layers", "annotator_may_delete_entity")  # the last two: 0004, 0020
# the attack: a temporary `annotators` that makes the caller a reviewer
SHADOW = ("CREATE TEMP TABLE annotators (id int, name text, role text, is_model bool)",
          "INSERT INTO annotators VALUES (0, current_user, 'reviewer', false)")


def snapshot(store) -> dict[str, list[tuple]]:
    """Every row that matters, read as the admin (the owner: no policy hides a row from them)."""
    queries = {"documents": "SELECT id, title FROM documents", "entities": "SELECT id, name FROM entities",
               "annotators": "SELECT id, name, role, is_model FROM annotators",
               "spans": 'SELECT id, annotator_id, label, start, "end", version FROM spans',
               "aliases": "SELECT id, text FROM aliases"}
    with store.engine.connect() as conn:
        return {t: sorted(conn.exec_driver_sql(q).all()) for t, q in queries.items()}


def model_span(store, d: int) -> int:
    """A span of a model's layer on `d` (the fixture imports without the model); its id."""
    with store.engine.begin() as conn:
        model = conn.exec_driver_sql("INSERT INTO annotators (name, role, is_model) VALUES "
                                     "('spacy-test', 'annotator', true) RETURNING id").scalar()
        return conn.exec_driver_sql(
            'INSERT INTO spans (document_id, annotator_id, start, "end", label, nil, referent_note, origin, status, '
            "created_at, updated_at, version) VALUES (%s, %s, 0, 3, 'ORG', false, '', 'model', 'suggested', now(), "
            "now(), 1) RETURNING id", (d, model)).scalar()


def attacks(conn, ids) -> None:
    """What a member who has made themselves a reviewer would try: each refused or finding no row."""
    theirs, gold, korea = ids
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # no member deletes a document (0020)
        conn.execute("DELETE FROM documents")
    assert conn.execute("UPDATE spans SET label = 'ORG' WHERE id = %s", (theirs,)).rowcount == 0
    assert conn.execute("DELETE FROM spans WHERE id = %s", (gold,)).rowcount == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE entities SET name = 'ROK' WHERE id = %s", (korea,))
    assert conn.execute("SELECT count(*) FROM spans WHERE id IN (%s, %s)", (theirs, gold)).fetchone() == (0,)


def ids(store, d, projects, names):
    ann, bob, rev = names
    return projects[bob].spans(d)[0].id, the_gold_span(projects[rev]).id, entity_id(store, "Q884")


def test_team_security_temporary_objects_are_refused(team, pg_cluster):
    store, d, projects, names = team
    before = snapshot(store)
    with raw(pg_cluster, store, names[0]) as conn:
        for sql in (SHADOW[0], "CREATE FUNCTION pg_temp.annotator_is_reviewer() RETURNS boolean LANGUAGE sql "
                               "AS $$ SELECT true $$",
                    "CREATE FUNCTION public.annotator_yes() RETURNS boolean LANGUAGE sql AS $$ SELECT true $$"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    with raw(pg_cluster, store, names[0]) as conn:  # the attack, as typed
        conn.autocommit = False
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(SHADOW[0])
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # no member deletes a document (0020)
            conn.execute("DELETE FROM documents")
        conn.rollback()
    assert snapshot(store) == before
    with store.engine.connect() as conn:  # neither the public nor the members' group may create temporary tables
        grantees = conn.exec_driver_sql(
            "SELECT array_agg(coalesce(r.rolname, 'PUBLIC')) FROM pg_database d, aclexplode(d.datacl) a "
            "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE d.datname = current_database() "
            "AND a.privilege_type = 'TEMPORARY'").scalar()
        assert "PUBLIC" not in grantees and group_name(conn) not in grantees


@pytest.mark.parametrize("search_path", [None, "pg_temp, public"])
def test_team_security_shadowing_changes_nothing_even_with_temporary_rights(team, pg_cluster, search_path):
    """Should TEMPORARY come back (an admin's GRANT), the helpers still read the project's tables:
    their search_path is pinned, their tables, operators and functions qualified."""
    store, d, projects, names = team
    ann = names[0]
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f'GRANT TEMPORARY ON DATABASE "{store.engine.url.database}" TO "{ann}"')
    before = snapshot(store)
    with raw(pg_cluster, store, ann) as conn:
        if search_path:
            conn.execute(f"SET search_path = {search_path}")
        for sql in SHADOW:
            conn.execute(sql)
        conn.execute("CREATE FUNCTION pg_temp.yes(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$")
        conn.execute("CREATE OPERATOR pg_temp.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_temp.yes)")
        conn.execute("CREATE FUNCTION pg_temp.annotator_is_reviewer() RETURNS boolean LANGUAGE sql "
                     "AS $$ SELECT true $$")
        attacks(conn, ids(store, d, projects, names))
    assert snapshot(store) == before


def test_team_security_set_role_gives_nothing(team, pg_cluster):
    store, d, projects, (ann, bob, rev) = team
    before = snapshot(store)
    with raw(pg_cluster, store, ann) as conn:
        for role in ("postgres", bob, rev):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f'SET ROLE "{role}"')
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f'SET SESSION AUTHORIZATION "{rev}"')
        group = conn.execute("SELECT current_database() || '_members'").fetchone()[0]
        conn.execute(f'SET ROLE "{group}"')  # theirs to take: it holds the grants, and is still them
        attacks(conn, ids(store, d, projects, (ann, bob, rev)))
    assert snapshot(store) == before


def test_team_security_reads_are_blind(team, pg_cluster):
    store, d, projects, (ann, bob, rev) = team
    model = model_span(store, d)
    mine, theirs = projects[ann].spans(d)[0].id, projects[bob].spans(d)[0].id
    gold = the_gold_span(projects[rev]).id
    layer = {}
    with store.engine.connect() as conn:
        for name in (ann, bob):
            layer[name] = conn.exec_driver_sql("SELECT id FROM annotators WHERE name = %s", (name,)).scalar()
    with raw(pg_cluster, store, ann) as conn:
        assert {r[0] for r in conn.execute("SELECT id FROM spans")} == {mine, model}
        assert conn.execute("SELECT count(*) FROM spans WHERE annotator_id = %s", (layer[bob],)).fetchone() == (0,)
        assert {r[0] for r in conn.execute("SELECT annotator_id FROM document_states")} <= {layer[ann]}
        assert {r[0] for r in conn.execute("SELECT annotator_id FROM events")} == {layer[ann]}
        # the shared tables stay open
        for table, rows in (("documents", 2), ("annotators", 5)):  # ann, bob, rev, model, gold (not the admin)
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (rows,)
        assert conn.execute("SELECT count(*) FROM entities").fetchone()[0] > 0
        # the own layer is theirs to edit; the model's theirs to read only
        assert conn.execute("UPDATE spans SET label = 'ORG' WHERE id = %s", (mine,)).rowcount == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE spans SET label = 'GPE' WHERE id = %s", (model,))
    assert [s.label for s in projects[ann].spans(d)] == ["ORG"]  # the app's own queries, as the annotator
    with raw(pg_cluster, store, rev) as conn:  # a reviewer reads every layer
        assert {mine, theirs, gold, model} <= {r[0] for r in conn.execute("SELECT id FROM spans")}
        assert {r[0] for r in conn.execute("SELECT annotator_id FROM events")} >= {layer[ann], layer[bob]}


def helpers(store) -> dict[str, tuple]:
    """name -> (SECURITY DEFINER?, its settings) of the policy helpers."""
    with store.engine.connect() as conn:
        return {r[0]: (r[1], r[2]) for r in conn.exec_driver_sql(
            "SELECT proname, prosecdef, proconfig FROM pg_proc WHERE proname = ANY (%s)", (list(HELPERS),))}


def test_team_security_a_0003_database_upgrades_and_is_then_immune(team, pg_cluster):
    store, d, projects, names = team
    ann = names[0]
    with store.engine.begin() as conn:  # the project as 0003 left it (0004's downgrade)
        command.downgrade(schema.alembic_config(conn), "0003")
    assert {name for name, (secdef, _) in helpers(store).items() if secdef} == {"annotator_linked_elsewhere"}
    with raw(pg_cluster, store, ann) as conn:  # the hole was there: the attack deletes every document
        conn.autocommit = False
        for sql in SHADOW:
            conn.execute(sql)
        assert conn.execute("DELETE FROM documents").rowcount == 2
        conn.rollback()
    before = snapshot(store)
    result = cli(store.url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert schema.current_revision(store) == schema.HEAD
    for name, (secdef, config) in helpers(store).items():
        assert secdef and config == ["search_path=pg_catalog, public, pg_temp"], name
    with raw(pg_cluster, store, ann) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(SHADOW[0])
        attacks(conn, ids(store, d, projects, names))
    assert snapshot(store) == before


def test_team_security_provenance_counts_are_per_layer(team, pg_cluster):
    """The stored provenance (migration 0011) is read and written like spans: a member's edits through
    the app keep it equal to the admin's full recount; their login reads only their own rows and
    cannot write a colleague's."""
    store, d, projects, (ann, bob, rev) = team
    projects[ann].relabel(projects[ann].spans(d)[0].id, "ORG")
    projects[bob].delete_span(projects[bob].spans(d)[0].id)
    projects[ann].stack.undo()
    projects[ann].stack.redo()
    with store.Session() as s:
        report = provenance(s)
        assert report == recount(s) and set(report) >= {ann, bob}
        layer = dict(s.execute(select(Annotator.name, Annotator.id)).all())
    assert report[bob]["totals"]["added"] == 0 and report[ann]["totals"]["added"] == 1
    with raw(pg_cluster, store, ann) as conn:
        for table in ("provenance_counts", "provenance_totals"):
            assert {r[0] for r in conn.execute(f"SELECT annotator_id FROM {table}")} == {layer[ann]}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO provenance_totals VALUES (%s, 'ORG', 9, 9, 9, 9, 9, 9)", (layer[bob],))
        assert conn.execute("DELETE FROM provenance_counts WHERE annotator_id = %s", (layer[bob],)).rowcount == 0
    with store.Session() as s:
        assert provenance(s) == report


def test_team_security_agreement_counts_are_per_pair(team, pg_cluster):
    """The stored agreement counts (migration 0014): members' edits queue their document, the reviewer's
    agreement counts it under row-level security and equals the full computation; the counts are the
    reviewer's: an annotator reads and writes none (0020; tests/test_team_security_review.py)."""
    store, d, projects, (ann, bob, rev) = team
    for name in (ann, bob):
        projects[name].set_status(d, "done")
    projects[ann].relabel(projects[ann].spans(d)[0].id, "ORG")
    report = project_agreement(projects[rev].store, [ann, bob], viewer=rev).to_json()
    with store.Session() as s:
        assert report == compute(*agreement_inputs(s, [ann, bob])).to_json()
        layer = dict(s.execute(select(Annotator.name, Annotator.id)).all())
    with raw(pg_cluster, store, ann) as conn:
        assert conn.execute("SELECT layer_a, layer_b FROM agreement_pairs").fetchall() == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO agreement_pairs VALUES (%s, %s, %s, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
                         (d, layer[bob], layer[rev]))
        assert conn.execute("DELETE FROM agreement_labels WHERE layer_a <> %s AND layer_b <> %s",
                            (layer[ann], layer[ann])).rowcount == 0


def test_team_security_edit_seconds_are_per_person(team, pg_cluster):
    """The stored time per person and day (migration 0015) is written with each member's own edits:
    it equals the admin's window over the whole history; a member's login reads and writes only
    their own rows, a reviewer reads everyone's."""
    store, d, projects, (ann, bob, rev) = team
    projects[ann].relabel(projects[ann].spans(d)[0].id, "ORG")
    projects[bob].delete_span(projects[bob].spans(d)[0].id)
    projects[ann].stack.undo()
    projects[ann].stack.redo()
    projects[bob].stack.undo()
    with store.Session() as s:
        kept = edit_seconds.stored(s)
        assert kept == edit_seconds.reference(s)
        layer = dict(s.execute(select(Annotator.name, Annotator.id)).all())
    assert {a for a, _ in kept} >= {layer[ann], layer[bob]}
    day = next(k for a, k in kept if a == layer[bob])
    with raw(pg_cluster, store, ann) as conn:
        assert {r[0] for r in conn.execute("SELECT annotator_id FROM edit_seconds")} == {layer[ann]}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO edit_seconds VALUES (%s, '2020-01-01', 9)", (layer[bob],))
        assert conn.execute("UPDATE edit_seconds SET micros = 9 WHERE annotator_id = %s", (layer[bob],)).rowcount == 0
        assert conn.execute("DELETE FROM edit_seconds WHERE annotator_id = %s", (layer[bob],)).rowcount == 0
    with raw(pg_cluster, store, rev) as conn:
        assert {r[0] for r in conn.execute("SELECT annotator_id FROM edit_seconds")} >= {layer[ann], layer[bob]}
    with store.Session() as s:
        assert edit_seconds.stored(s) == kept and (layer[bob], day) in kept


def test_team_security_merge_bases_are_read_like_spans_and_written_by_the_admin_only(team, pg_cluster, tmp_path):
    """What a merge left of each layer document (migration 0017): the admin merges and writes it; a
    member's login reads the rows of the layers they read (an annotator their own), and writes none."""
    store, d, projects, (ann, bob, rev) = team
    theirs = make_store(tmp_path / "theirs.db", docs=(0,), file=True)
    for name in (ann, bob):  # the same work as here: merged equal, each unit gets its base
        colleague = Project(theirs, name)
        colleague.open_document(doc_id(theirs, 0))
        label(colleague, doc_id(theirs, 0), "Kim Kwan-jin", "PERSON")
    theirs.close()
    assert cli(store.url, "merge", str(tmp_path / "theirs.db")).exit_code == 0
    with store.Session() as s:
        layer = dict(s.execute(select(Annotator.name, Annotator.id)).all())
    with store.engine.connect() as conn:
        assert {r[0] for r in conn.exec_driver_sql("SELECT annotator_id FROM merge_bases")} == {layer[ann], layer[bob]}
    with raw(pg_cluster, store, ann) as conn:
        assert {r[0] for r in conn.execute("SELECT annotator_id FROM merge_bases")} == {layer[ann]}
        for sql in ("INSERT INTO merge_bases VALUES (%s, %s, 'x')", "UPDATE merge_bases SET digest = 'x' WHERE "
                    "document_id = %s AND annotator_id = %s", "DELETE FROM merge_bases WHERE document_id = %s AND "
                    "annotator_id = %s"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql, (d, layer[ann]))
    with raw(pg_cluster, store, rev) as conn:
        assert {r[0] for r in conn.execute("SELECT annotator_id FROM merge_bases")} == {layer[ann], layer[bob]}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM merge_bases")
