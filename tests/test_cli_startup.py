"""Start-up is paid per command: a small import or export loads nothing it does not use (issue 18:
a one-file import ≤ 0.5 s, a small export ≤ 0.3 s). Each command runs in a fresh interpreter that
reports, at exit, which heavy modules it loaded."""

import sqlite3
import subprocess
import sys
from pathlib import Path

from factories import new_db

from annotator.core.db.store import Store

from annotator.core.nlp import tokenize
from annotator.core.text import Tokens

ROOT = Path(__file__).resolve().parents[1]
CONLL = ROOT / "tests" / "data" / "conll" / "eng.testb.head.conll"
HEAVY = ("spacy", "numpy", "alembic", "PySide6", "annotator.core.project", "annotator.core.commands")
RUN = ("import atexit, sys\n"
       f"atexit.register(lambda: print('LOADED', *[m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr))\n"
       "from annotator.cli import main\n"
       "sys.argv[0] = 'annotator'\n"
       "main()\n")


def project(tmp_path) -> str:
    """An existing project (a new one is made through Alembic: a cost paid once, not measured here)."""
    db = new_db(tmp_path / "p.db")
    Store(db).close()
    return db


def loaded(*args) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", RUN, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "ANNOTATOR_USER": "ana", "PATH": "/usr/bin:/bin"})
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
