"""Failures of the machine under an SQLite project (read-only file or folder, full disk, damaged file,
file deleted or replaced while open) are one coded line, never a traceback, and lose nothing.

Real failures: the tests run as root, which file permissions do not stop, so "read-only" is an
immutable file or folder (`chattr +i`, which stops root too) and "full" is a project on a tmpfs of a
few hundred kB (`mount -t tmpfs`); a test skips when the machine allows neither.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.records import DocRecord
from annotator.core.resources import seeds_dir
from annotator.errors import AnnotatorError
from annotator.io.importing import import_records
from annotator.io.sources import read_paths

REPO = Path(__file__).parent.parent


def make_project(path: Path) -> Path:
    """A closed project file with the three sample articles (no -wal left next to it)."""
    store = Store(path)
    import_records(store, read_paths(sorted(seeds_dir().glob("*.txt"))), use_model=False, as_layer="ana")
    store.close()
    assert not Path(f"{path}-wal").exists()
    return path


def doc_count(path: Path) -> int:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    finally:
        conn.close()


def cli(db: Path, *args) -> subprocess.CompletedProcess:
    """`annotator --db DB ARGS` in its own process, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "ANNOTATOR_USER": "ana"}
    return subprocess.run([sys.executable, "-m", "annotator", "--db", str(db), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def assert_coded(result: subprocess.CompletedProcess, code: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Error: [{code}] "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@contextmanager
def immutable(path: Path):
    """Make `path` (file or folder) read-only even for root: chattr +i; undone at the end."""
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not possible here (not root, or a file system without it)")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextmanager
def tiny_disk(folder: Path, size: str):
    """A tmpfs of `size` mounted at `folder`; unmounted at the end."""
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.fixture
def project_file(tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return make_project(folder / "p.db")


@pytest.fixture
def text_file(tmp_path) -> Path:
    (tmp_path / "new.txt").write_text("A new article about Oslo.\n")
    return tmp_path / "new.txt"


# --- read-only
def test_read_only_file_import_and_role_are_coded(project_file, text_file):
    with immutable(project_file):
        assert_coded(imported := cli(project_file, "import", "--no-model", text_file), "E006")
        assert "project file" in imported.stderr and "chmod u+w" in imported.stderr
        assert_coded(cli(project_file, "role", "bob", "reviewer"), "E006")
    assert doc_count(project_file) == 3


def test_read_only_folder_names_the_folder(project_file, text_file):
    with immutable(project_file.parent):
        result = cli(project_file, "import", "--no-model", text_file)
    assert_coded(result, "E006")
    assert f"project folder '{project_file.parent}'" in result.stderr
    assert "-wal" in result.stderr
    assert doc_count(project_file) == 3


# --- full disk
def test_full_disk_import_is_coded_and_loses_nothing(tmp_path, project_file):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(6):
        (big / f"b{i}.txt").write_text(" ".join(f"word{j}x{i}" for j in range(8000)) + "\n")  # six distinct texts
    with tiny_disk(tmp_path / "disk", "640k") as disk:  # the 3-document project is ~300 KB
        db = Path(shutil.copy(project_file, disk / "p.db"))
        result = cli(db, "import", "--no-model", big)
        assert_coded(result, "E007")
        assert "Nothing was lost" in result.stderr and "Free at least" in result.stderr
        # read where there is room (reading in place needs SQLite's -shm, which a full disk may not give)
        saved = tmp_path / "saved"
        saved.mkdir()
        for name in ("p.db", "p.db-wal"):
            if (disk / name).exists():
                shutil.copy(disk / name, saved / name)
    assert doc_count(saved / "p.db") == 3
    assert sqlite3.connect(saved / "p.db").execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_full_database_is_coded_through_the_same_path(project_file):
    """SQLite's max_page_count gives SQLITE_FULL without a full disk: the same mapping answers."""
    store = Store(project_file)
    store.engine.dispose()
    pages = sqlite3.connect(project_file).execute("PRAGMA page_count").fetchone()[0]
    event.listen(store.engine, "connect", lambda conn, _r: conn.execute(f"PRAGMA max_page_count={pages + 2}"))
    try:
        with pytest.raises(AnnotatorError) as e:
            import_records(store, [DocRecord(name="big", text="word " * 50_000)], use_model=False)
        assert e.value.code == "E007"
        assert len(store.execute("SELECT id FROM documents")) == 3
    finally:
        store.close()


# --- damaged files
def test_truncated_project_is_coded(project_file, text_file):
    with open(project_file, "r+b") as fh:
        fh.truncate(project_file.stat().st_size // 2)
    for args in (("import", "--no-model", text_file), ("role",)):
        result = cli(project_file, *args)
        assert_coded(result, "E008")
        assert "PRAGMA integrity_check" in result.stderr and ".recover" in result.stderr


def test_garbage_on_page_two_is_coded(project_file, text_file):
    page = sqlite3.connect(project_file).execute("PRAGMA page_size").fetchone()[0]
    with open(project_file, "r+b") as fh:
        fh.seek(page)
        fh.write(b"\xde\xad" * (page // 2))
    assert_coded(cli(project_file, "import", "--no-model", text_file), "E008")
    assert_coded(cli(project_file, "role"), "E008")


# --- the file deleted or replaced while open
def first_doc(project: Project) -> int:
    return project.documents()[0].id


def test_edit_into_a_deleted_file_is_refused(project_file):
    project = Project(Store(project_file), "ana")
    try:
        doc = first_doc(project)
        project.add_span(doc, 0, 4, "ORG")
        project_file.unlink()
        with pytest.raises(AnnotatorError) as e:
            project.add_span(doc, 5, 9, "ORG")
        assert e.value.code == "E009" and "deleted" in str(e.value)
    finally:
        project.store.close()


def test_edit_into_a_replaced_file_is_refused_and_the_new_file_untouched(tmp_path, project_file):
    copy = Path(shutil.copy(project_file, tmp_path / "copy.db"))
    project = Project(Store(project_file), "ana")
    try:
        doc = first_doc(project)
        before = len(project.spans(doc))
        os.replace(copy, project_file)  # another program put a different file at the path
        with pytest.raises(AnnotatorError) as e:
            project.add_span(doc, 0, 4, "ORG")
        assert e.value.code == "E009" and "replaced" in str(e.value)
    finally:
        project.store.close()
    reopened = Project(Store(project_file), "ana")
    try:
        assert len(reopened.spans(doc)) == before  # nothing went into the new file either
    finally:
        reopened.store.close()


@pytest.mark.parametrize("kind", ["wal", "journal"])
def test_a_leftover_log_of_a_deleted_project_is_not_replayed_into_a_new_one(tmp_path, text_file, kind):
    """A project deleted while its write-ahead log (or rollback journal) stayed beside it: creating a
    project of that name is refused with E019 and creates nothing. Before, SQLite replayed the old log
    into the new file and the old project's documents appeared in it."""
    path = make_project(tmp_path / "p.db")
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("UPDATE documents SET title = 'from the earlier project'")
    con.commit()
    shutil.copy(f"{path}-wal", tmp_path / "saved")
    con.close()
    path.unlink()
    leftover = Path(f"{path}-{kind}")
    shutil.copy(tmp_path / "saved", leftover)
    with pytest.raises(AnnotatorError, match=r"^\[E019\] .*'p.db-" + kind):
        Store(path)
    assert_coded(cli(path, "import", text_file), "E019")
    assert not path.exists() and leftover.read_bytes() == (tmp_path / "saved").read_bytes()
    leftover.unlink()
    assert doc_count(make_project(path)) == 3  # the seeds, nothing of the earlier project


def test_a_hot_rollback_journal_of_a_deleted_project_is_refused(tmp_path):
    """A real hot journal (an earlier project in rollback mode, killed mid-transaction), not a log copied
    under a journal's name: SQLite would roll its pages back into the new project's file (the earlier
    project's documents in it, and a damaged file). E019, and nothing created."""
    old = make_project(tmp_path / "old.db")
    con = sqlite3.connect(old, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA cache_size=1")  # pages spill into the file: the journal holds their earlier images
    con.execute("BEGIN IMMEDIATE")
    con.execute("DELETE FROM documents")
    hot = Path(f"{old}-journal").read_bytes()
    con.execute("ROLLBACK")
    con.close()
    assert hot.startswith(bytes.fromhex("d9d505f920a163d7"))  # a rollback journal's magic number
    path = tmp_path / "p.db"
    Path(f"{path}-journal").write_bytes(hot)
    with pytest.raises(AnnotatorError, match=r"^\[E019\] .*'p.db-journal'"):
        Store(path)
    assert not path.exists() and Path(f"{path}-journal").read_bytes() == hot
