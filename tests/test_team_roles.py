"""Roles held by the PostgreSQL server itself: each member connects with their own login, and an
annotator's connection cannot change another's layer, gold or the knowledge base, even with raw SQL.
The admin (the database's owner) adds people with `annotator db users add`."""

from __future__ import annotations

import itertools
import os

import psycopg
import pytest
from click.testing import CliRunner
from factories import new_store
from test_review import doc_id, entity_id, label, make_store
from test_team_concurrency import the_gold_span

from annotator.cli import main
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.errors import AnnotatorError

BACKENDS = ("postgresql",)
_n = itertools.count(1)


def cli(db, *args, user=None):
    return CliRunner().invoke(main, ["--db", db, *(["--user", user] if user else []), *args],
                              catch_exceptions=False)


def as_login(pg_cluster, store: Store, login: str) -> str:
    """The project's URL for `login` (the throwaway server trusts local logins; a real one asks for a password)."""
    return pg_cluster.url(store.engine.url.database, user=login)


@pytest.fixture
def team(tmp_path, pg_cluster):
    """The admin's project (two articles, the starter KB) with an annotator, a second annotator and a
    reviewer added through the CLI; ann and bob labelled article 0, the reviewer put their agreement
    into gold. Login names are unique per test: logins belong to the whole server."""
    store = make_store(tmp_path / "p.db", docs=(0, 1))
    n = f"{os.getpid()}_{next(_n)}"
    ann, bob, rev = f"ann{n}", f"bob{n}", f"rev{n}"
    for name, role in ((ann, "annotator"), (bob, "annotator"), (rev, "reviewer")):
        result = cli(store.url, "db", "users", "add", name, "--role", role)
        assert result.exit_code == 0, result.output
        assert result.stdout == f"Added {name} as {role} (new database login).\n"
    d = doc_id(store, 0)
    projects = {}
    for name in (ann, bob, rev):
        member = Store(as_login(pg_cluster, store, name))
        projects[name] = Project(member)  # works as its login
        assert projects[name].user == name
    for name in (ann, bob):
        projects[name].open_document(d)
        label(projects[name], d, "Kim Kwan-jin", "PERSON")
    from annotator.core.review.adjudication import start_adjudication

    start_adjudication(projects[rev].store, d, projects[rev].stack, [ann, bob])
    yield store, d, projects, (ann, bob, rev)
    for p in projects.values():
        p.store.close()


def raw(pg_cluster, store, login):
    return psycopg.connect(host=pg_cluster.sock, port=pg_cluster.port, user=login,
                           dbname=store.engine.url.database, autocommit=True)


def test_team_roles_db_users_lists_people_and_logins(team):
    store, _, _, (ann, bob, rev) = team
    assert cli(store.url, "db", "users").stdout.splitlines() == sorted(
        [f"{ann}: annotator", f"{bob}: annotator", f"{rev}: reviewer"])  # the admin adding them is not one
    result = cli(store.url, "db", "users", "add", ann, "--role", "reviewer")
    assert result.stdout == f"{ann} is now reviewer (was annotator).\n"


def test_team_roles_an_annotators_connection_is_refused_by_the_server(team, pg_cluster):
    store, d, projects, (ann, bob, rev) = team
    gold = the_gold_span(projects[rev])
    theirs = projects[bob].spans(d)[0]
    mine = projects[ann].spans(d)[0]
    korea = entity_id(store, "Q884")
    with raw(pg_cluster, store, ann) as conn:
        refused = [
            ("UPDATE spans SET annotator_id = annotator_me() WHERE id = %s", (theirs.id,)),  # taking it over
            ("INSERT INTO spans (document_id, annotator_id, start, \"end\", label, nil, referent_note, origin, "
             "status, created_at, updated_at, version) SELECT %s, id, 0, 3, 'ORG', false, '', 'human', "
             "'accepted', now(), now(), 1 FROM annotators WHERE name = 'gold'", (d,)),
            ("UPDATE entities SET name = 'ROK' WHERE id = %s", (korea,)),  # the KB
            ("UPDATE aliases SET text = 'Chosun' WHERE entity_id = %s", (korea,)),
            ("UPDATE annotators SET role = 'reviewer' WHERE name = current_user", ()),  # promoting oneself
            ("UPDATE documents SET title = 'x'", ()),
        ]
        for sql, params in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql, params)
        # a colleague's layer and gold are not there for an annotator (blind reads, 0004)
        for sql, params in [("UPDATE spans SET label = 'ORG' WHERE id = %s", (theirs.id,)),
                            ("UPDATE spans SET label = 'ORG' WHERE id = %s", (gold.id,)),
                            ("UPDATE events SET undone = true WHERE annotator_id <> annotator_me()", ())]:
            assert conn.execute(sql, params).rowcount == 0
        # a refused DELETE finds nothing to delete
        assert conn.execute("DELETE FROM spans WHERE id = %s", (theirs.id,)).rowcount == 0
        assert conn.execute("DELETE FROM entities WHERE id = %s", (korea,)).rowcount == 0
        assert conn.execute("DELETE FROM aliases WHERE entity_id = %s", (korea,)).rowcount == 0
        # the own layer is theirs to change
        assert conn.execute("UPDATE spans SET label = 'ORG' WHERE id = %s", (mine.id,)).rowcount == 1
    assert projects[bob].span(theirs.id).label == "PERSON" and the_gold_span(projects[rev]).label == "PERSON"
    assert projects[ann].entity(korea).name == "South Korea"
    with raw(pg_cluster, store, rev) as conn:  # a reviewer may edit gold and the KB
        assert conn.execute("UPDATE spans SET label = 'ORG' WHERE id = %s", (gold.id,)).rowcount == 1
        assert conn.execute("UPDATE entities SET description = 'ROK' WHERE id = %s", (korea,)).rowcount == 1


def test_team_roles_the_app_reports_a_refusal_with_a_code(team):
    store, d, projects, (ann, bob, rev) = team
    ana = projects[ann]
    korea = entity_id(store, "Q884")
    with pytest.raises(AnnotatorError) as e:  # no guard in the app stops this: the server does
        ana.edit_entity(korea, version=ana.entity(korea).version, name="ROK")
    assert e.value.code == "E401" and ann in str(e.value)
    assert not ana.stack.can_undo or ana.stack.undo_text != "edit entity"
    assert ana.entity(korea).name == "South Korea"
    theirs = projects[bob].spans(d)[0]
    with pytest.raises(AnnotatorError) as e:
        ana.relabel(theirs.id, "ORG")
    assert e.value.code == "E032"  # blind: a colleague's span is not there for her
    # what an annotator does do: label, link (the alias count learns), new entity from a span, undo
    span = label(ana, d, "Naoki Tanaka", "PERSON")
    ana.link(span, entity_id(store, "Q17"))
    new = ana.new_entity_from_span(label(ana, d, "Japanese counterpart", "PERSON"))
    assert ana.entity(new).name == "Japanese counterpart"
    for _ in range(4):  # new entity, its span, the link, the span
        ana.stack.undo()
    assert ana.entity(new) is None and [s.label for s in ana.spans(d)] == ["PERSON"]


def test_team_roles_only_the_admin_manages_the_project(team, pg_cluster):
    store, _, projects, (ann, bob, rev) = team
    url = as_login(pg_cluster, store, ann)
    result = cli(url, "db", "users", "add", "mallory")
    assert result.exit_code == 1 and result.stderr.startswith("Error: [E402] ") and f"'{ann}'" in result.stderr
    result = cli(url, "role", ann, "reviewer")
    assert result.exit_code == 1 and result.stderr.startswith("Error: [E402] ")
    with pytest.raises(AnnotatorError) as e:
        Project(Store(url), bob)
    assert e.value.code == "E403"


def test_team_roles_only_the_admin_upgrades_the_schema(team, pg_cluster):
    store, _, _, (ann, _, _) = team
    with store.engine.begin() as conn:  # the project as an older release left it (as far as anyone can tell)
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0002'")
    url = as_login(pg_cluster, store, ann)
    with pytest.raises(AnnotatorError) as e:
        Store(url)
    assert e.value.code == "E005"
    result = cli(url, "db", "upgrade")
    assert result.exit_code == 1 and result.stderr.startswith("Error: [E402] ")
    assert "upgrade the project" in result.stderr and f"'{ann}'" in result.stderr
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0002"


def test_team_roles_a_login_that_was_not_added_is_told_to_ask_the_admin(team, pg_cluster):
    store = team[0]
    name = f"eve{os.getpid()}_{next(_n)}"
    with pg_cluster.connect(autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN')
    with pytest.raises(AnnotatorError) as e:
        Store(as_login(pg_cluster, store, name))
    assert e.value.code == "E404" and f"annotator db users add {name}" in str(e.value)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_team_roles_db_users_on_sqlite_sets_the_role(tmp_path):
    store = new_store(tmp_path / "p.db")
    db = str(store.path)
    result = cli(db, "db", "users", "add", "rita", "--role", "reviewer", user="lead")
    assert result.stdout == "Added rita as reviewer.\n"
    assert cli(db, "db", "users", "add", "ann", user="lead").stdout == "Added ann as annotator.\n"
    assert cli(db, "db", "users").stdout == "ann: annotator\nrita: reviewer\n"  # lead only ran the command


def test_team_roles_the_window_works_for_an_annotators_login(team, qtbot, ui):
    """Everything an annotator does in the window goes through under row-level security."""
    from conftest import show_active
    from PySide6.QtCore import Qt

    from annotator.ui.qt_app import make_window

    store, d, projects, (ann, bob, rev) = team
    w = make_window(projects[ann])
    w.use_model = False
    qtbot.addWidget(w)
    w.resize(1280, 800)
    show_active(qtbot, w)
    w.refresh_documents()
    w.open_document(d)
    text = w.model.text
    start = text.index("Naoki Tanaka")
    ui.drag(w.view, start, start + len("Naoki Tanaka"))
    ui.key(w.view, Qt.Key.Key_1)  # PERSON
    span = w.model.current
    assert w.model.spans[span].label == "PERSON"
    ui.key(w.view, Qt.Key.Key_2)  # relabel ORG
    projects[ann].link(span, entity_id(store, "Q17"), version=w.model.spans[span].version)
    ui.key(w.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # mark done
    ui.key(w.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not w.statusBar().currentMessage().startswith("[E4")
    assert [(s.label, s.entity_id is not None) for s in projects[ann].spans(d) if s.start == start] == [("ORG", True)]
    w.close()
