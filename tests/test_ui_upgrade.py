"""Opening an older project in the window: the user agrees to the upgrade, which then runs off the UI
thread behind a modal progress dialog naming its steps; the event loop keeps turning, the dialog
cannot be dismissed, and the project's window (where editing happens) opens only once it is done. A
failed upgrade is one coded line (E549) and leaves the file as it was. On real SQLite files: the
committed project made at revision 0001 (tests/data), grown to many spans so the upgrade takes a while."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog
from sqlalchemy import create_engine
from test_schema_upgrade import OLD, dump

from annotator.core.db import schema
from annotator.errors import AnnotatorError
from annotator.ui import qt_app
from annotator.ui.qt_main_window import QtMainWindow

SPANS = 100_000  # added to the old file: its upgrade then takes seconds, not milliseconds


def grow(path: Path, n: int) -> None:
    """n more spans in ana's layer of the first article, written as the 0001 annotator would have."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < ?) "
                     'INSERT INTO spans (document_id, annotator_id, start, "end", label, entity_id, nil, referent_note, '
                     "origin, status, model_run_id, created_at, updated_at, version) "
                     "SELECT 1, 2, i % 70, i % 70 + 3, 'PERSON', NULL, 0, '', 'human', 'accepted', NULL, "
                     "'2025-03-01 09:30:00', '2025-03-01 09:30:00', 1 FROM k", (n - 1,))
    conn.close()


def scalar(path: Path, sql: str):
    """The one value `sql` gives on the file, read without the app (and without writing to it)."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def revision(path: Path) -> str:
    return scalar(path, "SELECT version_num FROM alembic_version")


def span_count(path: Path) -> int:
    return scalar(path, "SELECT count(*) FROM spans")


def project_windows() -> list[QtMainWindow]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QtMainWindow) and w.isVisible()]


class Watcher:
    """What the user sees while the upgrade runs, looked at every 10 ms by the event loop: the modal
    dialog's text, whether a project window exists, and how long the loop went without turning.
    Once it shows a step, it presses Escape on the dialog (which must stay)."""

    def __init__(self):
        self.seen: list[str] = []
        self.windows = 0
        self.ticks: list[float] = []
        self.escaped = False
        self.timer = QTimer()
        self.timer.timeout.connect(self.look)
        self.timer.start(10)

    def look(self) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and "[E005]" in box.text():
            box.button(QMessageBox.StandardButton.Yes).click()  # the user agrees to upgrade
            return
        if not isinstance(box, QProgressDialog):
            return
        self.ticks.append(time.monotonic())
        assert box.objectName() == "upgradeProgress" and box.isModal()
        if "(step " in box.labelText() and (not self.seen or self.seen[-1] != box.labelText()):
            self.seen.append(box.labelText())
        self.windows += len(project_windows())
        if not self.escaped and self.seen:
            self.escaped = True
            box.reject()  # what Escape does

    @property
    def longest_gap(self) -> float:
        return max((b - a for a, b in zip(self.ticks, self.ticks[1:])), default=0.0)


@pytest.fixture
def big_old(tmp_path) -> Path:
    path = tmp_path / "old.db"
    shutil.copy(OLD, path)
    grow(path, SPANS)
    return path


def test_ui_upgrade_runs_behind_a_progress_dialog_and_opens_the_window_after(big_old, qtbot):
    spans = span_count(big_old)
    watcher = Watcher()
    started = time.monotonic()
    window = qt_app.launch(big_old, "ana", import_seeds=False)
    took = time.monotonic() - started
    watcher.timer.stop()
    qtbot.addWidget(window)
    n = len(schema.REVISIONS) - 1
    assert watcher.seen[0] == f"Upgrading the project file (step 1 of {n})"
    assert watcher.seen[-1].endswith(f"of {n})") and len(watcher.seen) > 2  # steps went by
    assert all(s.startswith("Upgrading the project file (step ") for s in watcher.seen)
    assert watcher.escaped and watcher.windows == 0  # the dialog stayed; no window to edit in meanwhile
    # the event loop turned all along: no pause near the upgrade's length (a frozen window's would be it all)
    assert len(watcher.ticks) > 10 and watcher.longest_gap < 0.6 * took, (len(watcher.ticks), watcher.longest_gap, took)
    assert QApplication.activeModalWidget() is None
    assert window.statusBar().currentMessage().startswith(f"Upgraded the project from schema 0001 to {schema.HEAD}")
    assert [d.name for d in window.documents.model.docs] == ["a1", "a2"]
    assert revision(big_old) == schema.HEAD and span_count(big_old) == spans
    print(f"upgrade of {spans} spans behind the dialog: {took:.1f} s, {len(watcher.ticks)} loop turns seen, "
          f"longest gap {watcher.longest_gap * 1000:.0f} ms")
    window.close()
    window.project.store.close()


def test_ui_upgrade_that_fails_is_one_coded_line_and_changes_nothing(tmp_path, qtbot):
    """0012 cannot rename a table a view refers to: the upgrade from 0011 fails at its first step;
    the user gets E549 in one line, no window opens, and the file is as it was (still 0011)."""
    path = tmp_path / "old.db"
    shutil.copy(OLD, path)
    engine = create_engine(f"sqlite:///{path}")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0011")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE VIEW entity_names AS SELECT name FROM entities")
    engine.dispose()
    before = dump(path)
    watcher = Watcher()
    with pytest.raises(AnnotatorError) as e:
        qt_app.launch(path, "ana", import_seeds=False)
    watcher.timer.stop()
    assert e.value.code == "E549" and "\n" not in str(e.value)
    assert f"from schema 0011 to {schema.HEAD}" in str(e.value) and "entity_names" in str(e.value)
    assert watcher.seen[0] == f"Upgrading the project file (step 1 of {len(schema.REVISIONS) - 11})"
    assert not project_windows()
    assert QApplication.activeModalWidget() is None
    assert revision(path) == "0011" and dump(path) == before


def test_ui_upgrade_done_meanwhile_by_another_process_claims_no_upgrade(tmp_path, qtbot, monkeypatch):
    """While the user reads the question, a colleague's `annotator db upgrade` upgrades the file: the
    window opens on it and says nothing of an upgrade it did not make (it said "Upgraded the project
    from schema None to ...")."""
    path = tmp_path / "old.db"
    shutil.copy(OLD, path)
    asked = qt_app.ask_upgrade
    elsewhere: list[subprocess.CompletedProcess] = []

    def ask_while_another_upgrades(message: str) -> bool:
        root = Path(__file__).resolve().parents[1]
        elsewhere.append(subprocess.run([sys.executable, "-m", "annotator", "--db", str(path), "db", "upgrade"],
                                        capture_output=True, text=True, cwd=root, timeout=300,
                                        env={**os.environ, "PYTHONPATH": str(root)}))
        return asked(message)

    monkeypatch.setattr(qt_app, "ask_upgrade", ask_while_another_upgrades)
    watcher = Watcher()  # the user answers Yes
    window = qt_app.launch(path, "ana", import_seeds=False)
    watcher.timer.stop()
    qtbot.addWidget(window)
    assert elsewhere[0].returncode == 0 and "from schema 0001" in elsewhere[0].stdout, elsewhere[0].stderr
    assert "Upgraded" not in window.statusBar().currentMessage()
    assert [d.name for d in window.documents.model.docs] == ["a1", "a2"]
    assert revision(path) == schema.HEAD
    assert len(list(tmp_path.glob("old.before-*.db"))) == 1  # the colleague's backup; none made here
    window.close()
    window.project.store.close()
