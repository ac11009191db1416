"""A project another program is writing to (an import, a merge, a knowledge base loading: each holds
SQLite's write lock until it ends) makes an edit wait the busy timeout, then refuses it with one coded
line (E022) and changes nothing. Regression: the command line printed SQLAlchemy's traceback
("database is locked"), and the window got an exception no edit path catches."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from PySide6.QtCore import Qt
from sqlalchemy import func, select
from test_store import project_with_a_span
from test_ui_review import open_window

from annotator.cli import main
from annotator.core.db import store as store_module
from annotator.core.db.models import Span
from annotator.errors import AnnotatorError

pytestmark = pytest.mark.single_backend


@pytest.fixture(autouse=True)
def short_wait(monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)  # the wait is 10 s; what follows it is tested


@contextmanager
def another_program_writing(path):
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def spans(store) -> int:
    with store.Session() as s:
        return s.scalar(select(func.count()).select_from(Span))


def test_store_busy_an_edit_is_refused_with_a_code_and_changes_nothing(tmp_path):
    path = tmp_path / "p.db"
    store, ana, doc = project_with_a_span(path)
    try:
        with another_program_writing(path):
            with pytest.raises(AnnotatorError) as e:
                ana.add_span(doc, 10, 15, "GPE")
        assert e.value.code == "E022" and str(path) in str(e.value)
        assert spans(store) == 1 and ana.stack.undo_text == "add GPE"  # the first span only
        ana.add_span(doc, 10, 15, "GPE")  # once the other program has finished
        assert spans(store) == 2
    finally:
        store.close()


def test_store_busy_the_command_line_says_one_coded_line(tmp_path):
    path = tmp_path / "p.db"
    store, _, _ = project_with_a_span(path)
    store.close()
    with another_program_writing(path):
        result = CliRunner().invoke(main, ["--db", str(path), "--user", "ana", "labels", "add", "FOOD"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: [E022]") and result.stderr.count("\n") == 1, result.stderr
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM labels WHERE name = 'FOOD'").fetchone() == (0,)


def test_store_busy_the_window_says_so_and_keeps_the_article_as_it_was(tmp_path, qtbot, ui):
    path = tmp_path / "p.db"
    store, ana, doc = project_with_a_span(path)
    w = open_window(qtbot, store, "ana", doc)
    try:
        before = dict(w.model.spans)
        with another_program_writing(path):
            ui.drag(w.view, 10, 15)  # "Tokyo"
            ui.key(w.view, Qt.Key.Key_1)  # the first label's key
        assert "[E022]" in w.statusBar().currentMessage()
        assert w.model.spans == before and spans(store) == 1
        assert w.view.textCursor().selectedText() == "Tokyo"  # still selected: the key again is enough
        ui.key(w.view, Qt.Key.Key_1)  # once the other program has finished
        assert spans(store) == 2 and len(w.model.spans) == 2
    finally:
        w.close()
        store.close()
