"""Command-line habits: options after the command, read-only commands that create nothing, formats in
the help, and no annotator made of whoever runs a command."""

import os
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from annotator.cli import main
from annotator.core.db.annotators import default_user
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.resources import seeds_dir
from annotator.formats.registry import export_names

SEED = seeds_dir() / "000_8c62d622aab8081a.txt"


def invoke(*args, env=None):
    return CliRunner(env={"ANNOTATOR_DB": None, "ANNOTATOR_USER": None, **(env or {})}).invoke(
        main, [str(a) for a in args])


def project_of_ana(db) -> None:
    """One document, opened by ana (so that her layer has it)."""
    assert invoke("--db", db, "--user", "ana", "import", SEED, "--no-model").exit_code == 0  # ana creates it: the owner
    store = Store(db)
    try:
        project = Project(store, "ana")
        project.open_document(project.documents()[0].id)
    finally:
        store.close()


def annotators(db) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM annotators ORDER BY name")]


@pytest.mark.parametrize("args", [("stats",), ("export", "--format", "jsonl", "--out", "OUT"), ("agreement",),
                                  ("role",), ("db", "users")])
def test_cli_read_only_command_refuses_a_missing_project(tmp_path, args):
    db = tmp_path / "nowhere" / "p.db"
    result = invoke("--db", db, *[str(tmp_path / "o.jsonl") if a == "OUT" else a for a in args])
    assert result.exit_code == 1
    command = " ".join(a for a in args if not a.startswith("-") and a not in ("jsonl", "OUT"))
    assert result.stderr == (f"Error: [E054] No project at '{db}': the file does not exist, and `annotator "
                             f"{command}` works on an existing project, so it does not create one. Check --db (or "
                             "ANNOTATOR_DB); `annotator import` or `annotator db init` creates a project.\n")
    assert not (tmp_path / "nowhere").exists()
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_db_and_user_after_the_command(tmp_path):
    db = tmp_path / "p.db"
    result = invoke("import", SEED, "--no-model", "--db", db)
    assert result.exit_code == 0, result.output
    assert result.output == "Imported 1 document with 0 spans.\n"
    assert db.exists()
    project_of_ana(db)
    assert invoke("stats", "--db", db).output.startswith("Documents: 1\n")
    out = tmp_path / "ana.jsonl"
    result = invoke("export", "--format", "jsonl", "--out", out, "--status", "all", "--db", db, "--user", "ana")
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert invoke("--db", tmp_path / "other.db", "stats", "--db", db).output.startswith("Documents: 1\n")
    assert not (tmp_path / "other.db").exists()  # the option after the command wins


def test_cli_export_help_lists_the_formats():
    result = invoke("export", "--help")
    assert result.exit_code == 0
    listed = " ".join(result.output.split())
    assert f"Output format: {', '.join(export_names())}." in listed


def test_cli_reading_does_not_register_the_os_login(tmp_path):
    db = tmp_path / "p.db"
    project_of_ana(db)
    before = annotators(db)
    assert default_user() not in before
    for args in (("stats",), ("agreement",), ("role",), ("db", "users")):
        invoke("--db", db, *args)
    invoke("--db", db, "--user", "ana", "role", "bea", "reviewer")  # the owner names bea (E165 for others)
    assert annotators(db) == sorted([*before, "bea"])  # bea was named; the login running it was not


def test_cli_screenshot_as_an_unknown_user_adds_nobody(tmp_path):
    db = tmp_path / "p.db"
    project_of_ana(db)
    before = annotators(db)
    proc = subprocess.run([sys.executable, "-m", "annotator", "--db", str(db), "--user", "zed", "screenshot",
                           "--doc", SEED.stem, "--out", str(tmp_path / "s.png")],
                          capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 1
    assert proc.stderr == ("Error: [E055] 'zed' is not an annotator of this project, and looking does not make "
                           "them one. Known annotators: ana. Pass --user with one of them.\n")
    assert annotators(db) == before
    assert not (tmp_path / "s.png").exists()


def test_project_register_false_looks_up_only(tmp_path):
    store = Store(tmp_path / "p.db")
    try:
        Project(store, "ana")
        assert Project(store, "ana", register=False).annotator_id
        with pytest.raises(Exception, match=r"\[E055\]"):
            Project(store, "nobody", register=False)
        assert annotators(tmp_path / "p.db") == ["ana"]
    finally:
        store.close()
