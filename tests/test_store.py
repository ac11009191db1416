import hashlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from annotator.core.db.models import Base, Label
from annotator.core.db.store import APPLICATION_ID, Store
from annotator.core.project import Project
from annotator.core.records import DocRecord
from annotator.errors import AnnotatorError
from annotator.io.importing import import_paths, import_records


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_store_new_project_has_pragmas_and_application_id(tmp_path):
    store = Store(tmp_path / "p.db")
    assert store.execute("PRAGMA journal_mode")[0][0] == "wal"
    assert store.execute("PRAGMA foreign_keys")[0][0] == 1
    assert store.execute("PRAGMA synchronous")[0][0] == 2  # FULL
    assert store.execute("PRAGMA busy_timeout")[0][0] >= 5000
    assert store.execute("PRAGMA application_id")[0][0] == APPLICATION_ID
    assert {"documents", "spans", "events", "alembic_version"} <= set(store.table_names())


# ix_events_gaps (0013) indexes an expression, date(created_at): SQLite-only, made by the migration alone
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index ix_events_gaps")
def test_store_migrations_match_models(tmp_path):
    store = Store(tmp_path / "p.db")
    # the FTS5 indexes over aliases and document text are virtual tables maintained by triggers, not an ORM model
    def ours(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name.startswith(("alias_fts", "document_fts")))

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_store_refuses_a_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello")
    with pytest.raises(AnnotatorError) as e:
        Store(path)
    assert e.value.code == "E003"
    assert path.read_text() == "hello"


def test_store_refuses_another_applications_database_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(AnnotatorError) as e:
        Store(path)
    assert e.value.code == "E001"
    assert digest(path) == before
    assert not (tmp_path / "other.db-wal").exists()


def test_store_refuses_a_newer_schema_untouched(tmp_path):
    path = tmp_path / "p.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(AnnotatorError) as e:
        Store(path)
    assert e.value.code == "E002"
    assert digest(path) == before


def test_store_reopens_an_existing_project(tmp_path):
    Store(tmp_path / "p.db").close()
    assert "documents" in Store(tmp_path / "p.db").table_names()


def test_store_backup_is_a_consistent_copy(tmp_path):
    store = Store(tmp_path / "p.db")
    copy = store.backup(tmp_path / "copy.db")
    assert "documents" in Store(copy).table_names()


def test_store_reopens_a_project_whose_header_is_still_in_the_wal(tmp_path):
    """Regression: after a crash the application id may live only in the WAL, not the main file."""
    path = tmp_path / "p.db"
    store = Store(path)
    keep_open = sqlite3.connect(path)  # a reader keeps the WAL from being checkpointed away
    keep_open.execute("BEGIN")
    keep_open.execute("SELECT count(*) FROM documents").fetchall()
    with open(path, "r+b") as fh:  # what the main file says before a checkpoint
        fh.seek(68)
        fh.write(b"\x00\x00\x00\x00")
    store.execute("PRAGMA user_version")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")  # the header page, now in the WAL
    assert "documents" in Store(path).table_names()
    keep_open.close()


def test_store_revisions_from_file_names_match_alembic():
    from alembic.script import ScriptDirectory

    from annotator.core.db import schema

    scripts = ScriptDirectory.from_config(schema.alembic_config())
    assert schema.HEAD == scripts.get_current_head()
    assert sorted(rev.revision for rev in scripts.walk_revisions()) == schema.REVISIONS


def test_store_atomic_nests_with_savepoints(tmp_path):
    """Regression: a nested atomic() opened a second transaction, which waited 10 s for the first one's
    write lock and raised a raw "database is locked"."""
    store = Store(tmp_path / "p.db")
    started = time.monotonic()
    with store.atomic() as outer:
        outer.add(Label(name="A", colour="#000000", position=1))
        with store.atomic() as inner:
            assert inner is outer
            inner.add(Label(name="B", colour="#000000", position=2))
        with pytest.raises(ValueError):
            with store.atomic() as inner:
                inner.add(Label(name="C", colour="#000000", position=3))
                inner.flush()
                raise ValueError("rolls back this block only")
    assert time.monotonic() - started < 2
    with store.Session() as s:
        assert sorted(s.scalars(select(Label.name))) == ["A", "B"]
    with pytest.raises(ValueError):
        with store.atomic() as outer:
            outer.add(Label(name="D", colour="#000000", position=4))
            with store.atomic():
                pass
            raise ValueError("the outer block rolls back what the inner one did too")
    with store.Session() as s:
        assert sorted(s.scalars(select(Label.name))) == ["A", "B"]


GPE_COUNT = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
             "print(c.execute(\"SELECT count(*) FROM spans WHERE label = 'GPE'\").fetchone()[0]); c.close()")


def gpe_seen_elsewhere(path: Path) -> str:
    """The GPE spans another process finds, opening and closing the project (a command beside the window)."""
    return subprocess.run([sys.executable, "-c", GPE_COUNT, str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


def project_with_a_span(path: Path) -> tuple[Store, Project, int]:
    """A project at `path` with one document and ana's GPE span in it: (store, ana, document)."""
    store = Store(path)
    import_records(store, [DocRecord("d", "Seoul and Tokyo met.")], use_model=False)
    ana = Project(store, "ana")
    doc = ana.documents()[0].id
    ana.add_span(doc, 0, 5, "GPE")
    return store, ana, doc


def test_store_another_store_in_the_process_keeps_the_projects_locks(tmp_path):
    """A background task opens its own Store on the window's project, in the window's process. Its
    checks once read the file's header with open(): closing that handle dropped every POSIX lock the
    process held on the project, so the next other process to close it took itself for the last
    one, checkpointed and deleted the write-ahead log the window kept writing into. Edits made after
    that were invisible to every other process and lost with the window."""
    path = tmp_path / "p.db"
    store, ana, doc = project_with_a_span(path)
    Store(path).close()  # a background task's (ui/qt_jobs.py)
    assert gpe_seen_elsewhere(path) == "1"  # another process comes and goes (a command on the same project)
    ana.add_span(doc, 10, 15, "GPE")  # saved, as the window says
    assert Path(f"{path}-wal").exists()
    assert gpe_seen_elsewhere(path) == "2"
    store.close()


def test_store_importing_the_open_project_itself_is_refused_unread(tmp_path):
    """Reading it as an article file would open and close it here, dropping SQLite's locks (above)."""
    path = tmp_path / "p.db"
    store = Store(path)
    with pytest.raises(AnnotatorError) as e:
        import_paths(store, [tmp_path / "." / "p.db"])
    assert e.value.code == "E548"
    assert store.execute("SELECT count(*) FROM documents")[0][0] == 0
    store.close()
