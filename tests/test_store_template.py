"""A new SQLite project is a copy of the empty project Alembic made once, in a child process
(core/db/template.py): the copy must be exactly what migrating in place makes, a damaged cached copy
is never used, and without a cache the project is still made."""

import sqlite3
import sys

import pytest

from annotator.core.db import template
from annotator.core.db.schema import APPLICATION_ID, HEAD
from annotator.core.db.store import Store


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The user cache directory, this test's own (platformdirs reads XDG_CACHE_HOME)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "annotator"


def dump(path) -> tuple:
    conn = sqlite3.connect(path)
    try:
        return (conn.execute("PRAGMA application_id").fetchone(), conn.execute("PRAGMA journal_mode").fetchone(),
                conn.execute("PRAGMA user_version").fetchone(), list(conn.iterdump()))
    finally:
        conn.close()


def test_store_template_copy_is_what_migrating_in_place_makes(tmp_path, cache):
    copied = Store(tmp_path / "copied.db")
    migrated = Store(tmp_path / "migrated.db", template=False)
    assert copied.schema.action == migrated.schema.action == "created"
    copied.close()
    migrated.close()
    assert [p.name for p in cache.glob("empty-*.db")] == [f"empty-{HEAD}-{template.key()}.db"]
    assert dump(tmp_path / "copied.db") == dump(tmp_path / "migrated.db")
    assert dump(tmp_path / "copied.db")[0] == (APPLICATION_ID,)


def test_store_template_is_made_in_a_child_process(tmp_path, cache):
    """Creating a project loads no Alembic here: it runs in the child that builds the cached copy."""
    alembic_before = "alembic" in sys.modules
    Store(tmp_path / "p.db").close()
    assert ("alembic" in sys.modules) == alembic_before
    assert Store(tmp_path / "p.db").execute("SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_store_template_damaged_is_rebuilt_not_copied(tmp_path, cache):
    Store(tmp_path / "first.db").close()
    cached = next(cache.glob("empty-*.db"))
    cached.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # a torn or tampered file
    store = Store(tmp_path / "second.db")
    assert store.execute("SELECT version_num FROM alembic_version") == [(HEAD,)]
    assert {"documents", "spans", "alembic_version"} <= set(store.table_names())
    store.close()
    assert dump(cached)[0] == (APPLICATION_ID,)


def test_store_template_without_a_cache_migrates_in_place(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # the cache folder cannot be made
    store = Store(tmp_path / "p.db")
    assert store.schema.action == "created"
    assert store.execute("PRAGMA application_id") == [(APPLICATION_ID,)]
    assert store.execute("SELECT version_num FROM alembic_version") == [(HEAD,)]
    store.close()
