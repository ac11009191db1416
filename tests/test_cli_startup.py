"""Start-up is paid per command: a small import or export loads nothing it does not use (issue 18:
a one-file import ≤ 0.5 s, a small export ≤ 0.3 s, an import into a new project ≤ 150 MB). Each
command runs in a fresh interpreter that reports, at exit, which heavy modules it loaded."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from factories import new_db

from annotator.core.db.schema import APPLICATION_ID, HEAD
from annotator.core.db.store import Store

from annotator.core.nlp import tokenize
from annotator.core.text import Tokens

ROOT = Path(__file__).resolve().parents[1]
CONLL = ROOT / "tests" / "data" / "conll" / "eng.testb.head.conll"
HEAVY = ("spacy", "numpy", "alembic", "PySide6", "annotator.core.project", "annotator.core.commands")
ORM = ("sqlalchemy.orm", "annotator.core.db.models", "alembic")  # what reading with raw SQL needs none of
MIGRATING = ("alembic", "mako", "pygments")  # Alembic and what it loads


def run_code(watch) -> str:
    return ("import atexit, sys\n"
            f"atexit.register(lambda: print('LOADED', *[m for m in {watch!r} if m in sys.modules], file=sys.stderr))\n"
            "from annotator.cli import main\n"
            "sys.argv[0] = 'annotator'\n"
            "main()\n")


def project(tmp_path) -> str:
    """An existing project (a new one is made through Alembic: a cost paid once, not measured here)."""
    db = new_db(tmp_path / "p.db")
    Store(db).close()
    return db


def loaded(*args, watch=HEAVY, env=None) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", run_code(watch), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "ANNOTATOR_USER": "ana", "PATH": "/usr/bin:/bin",
                                         **(env or {})})
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stderr.splitlines() if x.startswith("LOADED")][-1]
    return set(line.split()[1:])


def test_cli_startup_export_loads_no_spacy_qt_or_project_facade(tmp_path):
    db = project(tmp_path)
    (tmp_path / "a.jsonl").write_text('{"text": "Kim visits Seoul.", "spans": [{"start": 0, "end": 3, '
                                      '"label": "PERSON"}]}\n')
    assert loaded("--db", db, "import", tmp_path / "a.jsonl", "--no-model", "--as-layer", "ana") == {"spacy", "numpy"}  # tokenising
    assert loaded("--db", db, "export", "--format", "jsonl", "--out", tmp_path / "out.jsonl", "--layer", "ana",
                  "--status", "all") == set()
    assert '"label": "PERSON"' in (tmp_path / "out.jsonl").read_text()


def test_cli_startup_import_of_a_file_with_its_own_tokens_needs_no_spacy(tmp_path):
    """--no-model import of CoNLL keeps the file's tokens, so spaCy is not loaded; and a document
    made of text keeps spaCy's tokens, the ones `tokenize` gives."""
    db = project(tmp_path)
    assert loaded("--db", db, "import", CONLL, "--format", "conll", "--no-model") == set()
    (tmp_path / "b.txt").write_text("U.S.-based e-mail (a@b.co), 3/4 — 東京 😀 done.\n\nNext  line.")
    loaded("--db", db, "import", tmp_path / "b.txt", "--no-model")
    with sqlite3.connect(db) as con:
        text, packed = con.execute("SELECT text, tokens FROM documents WHERE name = 'b'").fetchone()
        conll = con.execute("SELECT count(*) FROM documents WHERE name != 'b'").fetchone()[0]
    assert Tokens(packed).pairs() == tokenize(text)
    assert conll > 0


def test_cli_startup_export_module_and_command_load_no_orm(tmp_path):
    """`annotator export` reads with raw SQL (io/exporting.py, core/db/visibility.py): neither its
    module nor the command loads sqlalchemy.orm or the mapped models (~0.1 s of its start-up)."""
    code = f"import sys, annotator.cli, annotator.io.exporting; print(*[m for m in {ORM!r} if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True)
    assert proc.stdout.split() == []
    db = project(tmp_path)
    (tmp_path / "a.jsonl").write_text('{"text": "Kim visits Seoul.", "meta": {"source": "wire"}, "spans": '
                                      '[{"start": 0, "end": 3, "label": "PERSON"}]}\n')
    loaded("--db", db, "import", tmp_path / "a.jsonl", "--no-model", "--as-layer", "ana")
    assert loaded("--db", db, "export", "--format", "jsonl", "--out", tmp_path / "out.jsonl", "--layer", "ana",
                  "--status", "all", watch=ORM) == set()
    task = json.loads((tmp_path / "out.jsonl").read_text())
    assert (task["text"], task["meta"]["source"]) == ("Kim visits Seoul.", "wire")
    assert [(s["start"], s["end"], s["label"]) for s in task["spans"]] == [(0, 3, "PERSON")]


def test_cli_startup_import_into_a_new_project_loads_no_alembic(tmp_path):
    """A new project is a copy of the empty project Alembic made once in a child process
    (core/db/template.py): the import into it loads no Alembic, Mako or Pygments, whether that copy
    is made now (an empty cache) or was cached before."""
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    for name in ("cold.db", "warm.db"):  # CoNLL carries its tokens: spaCy (which loads Pygments too) stays out
        assert loaded("--db", tmp_path / name, "import", CONLL, "--format", "conll", "--no-model", watch=MIGRATING,
                      env=env) == set()
        with sqlite3.connect(tmp_path / name) as con:
            assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
            assert con.execute("SELECT count(*) FROM spans").fetchone()[0] > 0
            # the person who made the project owns it (a reviewer), as when Alembic ran here
            assert con.execute("SELECT role FROM annotators WHERE name = 'ana'").fetchone() == ("reviewer",)
    assert len(list((tmp_path / "cache" / "annotator").glob("empty-*.db"))) == 1
