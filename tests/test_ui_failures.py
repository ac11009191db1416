"""The window when the machine fails under the project: an edit into a full disk, a read-only file or a
file deleted while open opens a dialog with the coded line; the article stays readable; nothing is
acknowledged as saved. Real failures (root: an immutable file, a tmpfs filled to the brim); see
tests/test_store_failures.py for how, and when these skip."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from conftest import show_active
from PySide6.QtCore import Qt
from test_store_failures import immutable, tiny_disk

from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.ui.qt_app import make_window

Key = Qt.Key
USER = "tester"


def open_window(qtbot, project: Project):
    w = make_window(project)
    w.use_model = False
    qtbot.addWidget(w)
    w.resize(1280, 800)
    show_active(qtbot, w)
    w.refresh_documents()
    w.open_document(w.documents.model.docs[0].id)
    w.view.highlighter.flush()
    return w


def label_by_keys(window, ui, needle: str) -> tuple[int, int]:
    """Select `needle` in the article with the mouse and press 2 (ORG), as a user does."""
    start = window.model.text.index(needle)
    ui.drag(window.view, start, start + len(needle))
    ui.key(window.view, Key.Key_2)
    return start, start + len(needle)


def file_spans(path: Path) -> int:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM spans").fetchone()[0]
    finally:
        conn.close()


def assert_failure_dialog(qtbot, window, code: str) -> None:
    qtbot.waitUntil(lambda: window.failure_box is not None and window.failure_box.isVisible(), timeout=3000)
    assert window.failure_box.text().startswith(f"[{code}] ")
    assert "Unexpected error" not in window.statusBar().currentMessage()
    window.failure_box.accept()


def test_ui_edit_on_a_full_disk_opens_a_dialog_and_loses_nothing(project, qtbot, ui, tmp_path):
    with tiny_disk(tmp_path / "disk", "1m") as disk:
        db = project.store.backup(disk / "p.db")
        window = open_window(qtbot, Project(Store(db), USER))
        try:
            before_text, before_spans = window.view.toPlainText(), dict(window.model.spans)
            saved = window.saved_label.text()
            with open(disk / "filler", "wb", buffering=0) as fh:  # another program fills the disk
                try:
                    while True:
                        fh.write(b"\0" * 4096)
                except OSError as e:
                    assert e.errno == errno.ENOSPC
            start, end = label_by_keys(window, ui, "Defense Minister")
            assert_failure_dialog(qtbot, window, "E007")
            assert window.view.selection() == (start, end)  # kept: the user can try again
            assert window.view.toPlainText() == before_text  # still readable
            assert window.model.spans == before_spans
            assert window.saved_label.text() == saved
            (disk / "filler").unlink()  # space again: the same edit goes through
            ui.key(window.view, Key.Key_2)
            assert (start, end, "ORG") in [(s.start, s.end, s.label) for s in window.project.spans(window.model.doc_id)]
        finally:
            window.close()
            window.project.store.close()


def test_ui_edit_on_a_read_only_file_opens_a_dialog(project, qtbot, ui, tmp_path):
    db = project.store.backup(tmp_path / "ro.db")
    spans = file_spans(db)
    with immutable(db):
        window = open_window(qtbot, Project(Store(db), USER))
        try:
            if window.failure_box is not None:  # opening a document records that work started: refused too
                window.failure_box.accept()
            assert window.view.toPlainText().startswith(window.model.text[:40])
            label_by_keys(window, ui, "Defense Minister")
            assert_failure_dialog(qtbot, window, "E006")
            assert "read-only" in window.statusBar().currentMessage()
        finally:
            window.close()
            window.project.store.close()
    assert file_spans(db) == spans


def test_ui_edit_after_the_file_was_deleted_is_refused(window, qtbot, ui):
    path = window.project.store.path
    saved = window.saved_label.text()
    before = len(window.project.spans(window.model.doc_id))
    path.unlink()  # another program (or the user in a file manager) deletes the project
    label_by_keys(window, ui, "Defense Minister")
    assert_failure_dialog(qtbot, window, "E009")
    assert "deleted" in window.failure_box.text()
    assert window.saved_label.text() == saved  # nothing acknowledged
    assert len(window.project.spans(window.model.doc_id)) == before  # nor written into the lost file
    assert window.view.toPlainText().startswith(window.model.text[:40])


def test_ui_edit_after_the_file_was_replaced_is_refused(window, qtbot, ui, tmp_path):
    path = window.project.store.path
    copy = window.project.store.backup(tmp_path / "other.db")  # a consistent copy, put in its place
    spans = file_spans(copy)
    shutil.move(copy, path)
    label_by_keys(window, ui, "Defense Minister")
    assert_failure_dialog(qtbot, window, "E009")
    assert "replaced" in window.failure_box.text()
    assert file_spans(path) == spans
