"""A database server that goes away: an edit in flight is retried once on a new connection or reported
(E400) with nothing changed; an acknowledged edit is never lost and never done twice. The throwaway
server is really restarted, stopped, and its connections really terminated."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from test_review import doc_id, make_store

from annotator.core.db.models import Event, Span
from annotator.core.project import Project
from annotator.core.search import Filters, search
from annotator.errors import AnnotatorError, ConnectionLost

BACKENDS = ("postgresql",)


@pytest.fixture
def ana(tmp_path):
    store = make_store(tmp_path / "p.db", docs=(0,), kb=False)
    project = Project(store, "ana")
    d = doc_id(store, 0)
    project.open_document(d)
    return project, d


def add(project: Project, d: int, n: int) -> int:
    """The n-th distinct one-character span of the document."""
    return project.add_span(d, n, n + 1, "PERSON")


def counts(project: Project) -> tuple[int, int]:
    """(spans in ana's layer, add_span events of ana), read on a fresh connection."""
    with project.store.Session() as s:
        return (s.scalar(select(func.count()).select_from(Span).where(Span.annotator_id == project.annotator_id)),
                s.scalar(select(func.count()).select_from(Event).where(Event.annotator_id == project.annotator_id,
                                                                       Event.command == "add_span")))


def kill_when(project: Project, pg_cluster, hook: str, times: int, sql_prefix: str | None = None) -> list[int]:
    """Terminate the edit's own server connection (as an admin would) at `hook` ("before_cursor_execute"
    on a statement starting with `sql_prefix`, or "commit"), `times` times; returns the kill count."""
    killed: list[int] = []

    def kill(conn, *args):
        if len(killed) >= times or (sql_prefix and not args[1].startswith(sql_prefix)):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with pg_cluster.connect(autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        killed.append(pid)

    event.listen(project.store.engine, hook, kill)
    return killed


def test_team_connection_a_server_restart_between_edits_loses_nothing(ana, pg_cluster):
    project, d = ana
    for n in range(3):
        add(project, d, n)
    pg_cluster.restart()  # every pooled connection is now dead
    add(project, d, 3)  # the pool notices and reconnects: the user sees nothing
    project.stack.undo()
    project.stack.redo()
    pg_cluster.restart()
    assert counts(project) == (4, 4)
    assert project.stack.undo_text == "add PERSON"


@pytest.mark.parametrize("hook, prefix", [("before_cursor_execute", "INSERT INTO events"), ("commit", None)])
def test_team_connection_an_edit_whose_connection_drops_is_retried_once(ana, pg_cluster, hook, prefix):
    project, d = ana
    add(project, d, 0)
    killed = kill_when(project, pg_cluster, hook, 1, prefix)
    span_id = add(project, d, 1)  # dropped mid-edit (or at COMMIT), done again on a new connection
    assert len(killed) == 1
    assert counts(project) == (2, 2)  # once, not twice
    assert project.span(span_id).start == 1
    project.stack.undo()
    assert counts(project)[0] == 1


def test_team_connection_an_edit_that_cannot_get_through_is_reported_and_changes_nothing(ana, pg_cluster):
    project, d = ana
    add(project, d, 0)
    killed = kill_when(project, pg_cluster, "before_cursor_execute", 2, "INSERT INTO events")
    with pytest.raises(ConnectionLost) as e:
        add(project, d, 1)
    assert e.value.code == "E400" and "Nothing was changed" in str(e.value) and len(killed) == 2
    assert counts(project) == (1, 1)
    assert project.stack.undo_text == "add PERSON" and len(project.stack._undo) == 1


def test_team_connection_while_the_server_is_down_edits_and_reads_are_refused_with_a_code(ana, pg_cluster):
    project, d = ana
    first = add(project, d, 0)
    pg_cluster.stop()
    try:
        for attempt in (lambda: add(project, d, 1), lambda: project.relabel(first, "ORG"), project.stack.undo,
                        project.documents):
            with pytest.raises(AnnotatorError) as e:
                attempt()
            assert e.value.code == "E400"
    finally:
        pg_cluster.start()
    assert project.span(first).label == "PERSON" and counts(project) == (1, 1)
    add(project, d, 1)  # the server is back: edits go through again
    project.stack.undo()
    project.stack.undo()
    assert counts(project)[0] == 0


def test_team_connection_a_span_search_on_a_dropped_connection_is_e400(ana, pg_cluster):
    """Span filters run their statements straight through the driver (prepared): a connection the
    server dropped is still the coded E400, and the next search works on a new one."""
    project, d = ana
    add(project, d, 0)
    with project.store.Session() as s:
        pid = s.connection().connection.dbapi_connection.info.backend_pid
        with pg_cluster.connect(autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        with pytest.raises(ConnectionLost, match="E400"):
            search(s, project.annotator_id, filters=Filters(label="PERSON"))
    assert [(h.start, h.label) for h in project.search(filters=Filters(label="PERSON"))] == [(0, "PERSON")]
