"""The throwaway PostgreSQL server of the tests: it must not quietly turn into skips in CI."""

from __future__ import annotations

import pytest

from pg import unavailable


def test_pg_cluster_unavailable_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL TESTS CANNOT RUN: no binaries"):
        unavailable("no binaries")


def test_pg_cluster_unavailable_skips_loudly_on_a_developer_machine(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL TESTS CANNOT RUN: no binaries"):
        unavailable("no binaries")


def test_pg_cluster_runs_a_server_that_answers(pg_cluster):
    name = pg_cluster.create_database()
    with pg_cluster.connect(name) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == name
    pg_cluster.drop_database(name)
