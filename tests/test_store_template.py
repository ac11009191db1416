"""A new SQLite project is a copy of the empty project Alembic made once, in a child process
(core/db/template.py): the copy must be exactly what migrating in place makes, a damaged cached copy
is never used, and without a cache the project is still made."""

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from annotator.core.db import schema, template
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


ROOT = Path(__file__).resolve().parents[1]
CONLL = ROOT / "tests" / "data" / "conll" / "eng.testb.head.conll"


def annotator_cli(*args) -> subprocess.CompletedProcess:
    """The annotator command in another process, with this test's cache and user."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ANNOTATOR_USER": "ana"}
    return subprocess.run([sys.executable, "-m", "annotator", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def rows(path, sql) -> list[tuple]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_store_template_another_process_creating_it_meanwhile_keeps_its_work(tmp_path, cache, monkeypatch):
    """Two imports into the same new project at once: while this one gets its copy of the empty
    project, another process makes the project and imports into it. This one then opens that
    project: nothing it committed is overwritten (the copy used to be written over it)."""
    path = tmp_path / "p.db"
    real = template.empty_project
    other: list[subprocess.CompletedProcess] = []

    def meanwhile(*args):
        found = real(*args)
        other.append(annotator_cli("--db", path, "import", CONLL, "--format", "conll", "--no-model"))
        return found

    monkeypatch.setattr(template, "empty_project", meanwhile)
    store = Store(path)
    assert other[0].returncode == 0, other[0].stderr
    imported = rows(path, "SELECT count(*) FROM documents")[0][0]
    assert imported > 0
    assert store.schema.action == "current"  # theirs, not made here
    assert store.execute("SELECT count(*) FROM documents") == [(imported,)]
    store.close()
    assert rows(path, "SELECT name, role FROM annotators WHERE role = 'reviewer'") == [("ana", "reviewer")]
    assert rows(path, "SELECT count(*) FROM documents") == [(imported,)]
    assert [p.name for p in tmp_path.iterdir() if ".new-" in p.name] == []  # no copy left beside it


def test_store_template_interrupted_creation_leaves_nothing_then_creates(tmp_path, cache, monkeypatch):
    """Ctrl-C while the child builds the empty project: no half-made file stays at the project's name
    (one used to, refused ever after with E001); the next start makes the project."""
    path = tmp_path / "p.db"

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(template, "empty_project", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Store(path)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("p.db")] == []
    monkeypatch.undo()
    store = Store(path)
    assert store.schema.action == "created"
    assert store.execute("SELECT version_num FROM alembic_version") == [(HEAD,)]
    store.close()


def test_store_template_empty_sqlite_file_is_a_new_project(tmp_path, cache):
    """An SQLite file with a header but nothing in it (application id 0, no tables: what a creation
    killed while migrating in its process leaves) is made a project, not refused with E001."""
    path = tmp_path / "p.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")  # writes the header, as opening the new file did
    conn.close()
    assert path.stat().st_size > 0 and rows(path, "PRAGMA application_id") == [(0,)]
    store = Store(path)
    assert store.schema.action == "created"
    assert store.execute("PRAGMA application_id") == [(APPLICATION_ID,)]
    assert store.execute("SELECT version_num FROM alembic_version") == [(HEAD,)]
    store.close()


def test_store_template_key_follows_the_sqlite_library(tmp_path, cache, monkeypatch):
    """0002 and 0005 make the trigram index only with SQLite 3.34 or later: an empty project made
    under one SQLite library is not the one for another (the key named only the migration files)."""
    Store(tmp_path / "first.db").close()
    newer = template.key()
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    assert template.key() != newer
    assert not (cache / f"empty-{HEAD}-{template.key()}.db").exists()  # a copy for 3.31 is made apart
    assert (cache / f"empty-{HEAD}-{newer}.db").exists()


def test_store_template_without_hard_links_migrates_in_place(tmp_path, cache, monkeypatch):
    """A file system without hard links (some network or FAT disks): the project is still made, in
    this process, and no copy is left beside it."""
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted", str(dst))

    monkeypatch.setattr(template.os, "link", no_links)
    store = Store(tmp_path / "p.db")
    assert store.schema.action == "created"
    assert store.execute("PRAGMA application_id") == [(APPLICATION_ID,)]
    assert store.execute("SELECT version_num FROM alembic_version") == [(HEAD,)]
    store.close()
    assert [p.name for p in tmp_path.iterdir() if ".new-" in p.name] == []


def test_store_template_project_made_meanwhile_in_place_is_not_this_ones(tmp_path, monkeypatch):
    """Without a cached copy both processes migrate in place: the second waits for the first's write
    lock, finds the project made, and keeps it; it does not claim to have created it (its user would
    be recorded as the project's owner too)."""
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # no cache: both migrate in place
    path = tmp_path / "p.db"
    real = schema.migrate
    other: list[subprocess.CompletedProcess] = []

    def meanwhile(store, *args, **kwargs):
        other.append(annotator_cli("--db", path, "db", "init"))  # it sees the empty file this one opened
        return real(store, *args, **kwargs)

    monkeypatch.setattr(schema, "migrate", meanwhile)
    store = Store(path)
    assert other[0].returncode == 0 and "Created a new project" in other[0].stdout, other[0].stderr
    assert store.schema.action == "current"
    assert store.execute("SELECT version_num FROM alembic_version") == [(HEAD,)]
    store.close()
    assert rows(path, "SELECT name, role FROM annotators") == [("ana", "reviewer")]
