"""File dialogs list files by name only: Qt's own dialog read each listed file to name its type, and
closing that read dropped this process's SQLite locks on the open project (ui/qt_files.py)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QFileDialog
from test_store import gpe_seen_elsewhere, project_with_a_span

from annotator.ui.qt_files import file_dialog

UI = Path(__file__).resolve().parents[1] / "annotator" / "ui"


def test_ui_files_a_dialog_on_the_projects_folder_keeps_its_locks(tmp_path, qtbot):
    """With QFileDialog(...) in place of file_dialog(...) the second read finds 1 (seen)."""
    path = tmp_path / "p.db"
    store, ana, doc = project_with_a_span(path)
    dialog = file_dialog(None, "Open project", str(tmp_path), "Annotator projects (*.db)")
    dialog.setViewMode(QFileDialog.ViewMode.Detail)  # the type column
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.wait(1500)  # the dialog's file model has listed the folder, types and icons
    assert gpe_seen_elsewhere(path) == "1"
    ana.add_span(doc, 10, 15, "GPE")  # saved, as the window says
    try:
        assert gpe_seen_elsewhere(path) == "2", "an edit saved after the dialog is invisible to other processes"
    finally:
        dialog.close()
        store.close()


def test_ui_files_every_file_dialog_comes_from_qt_files():
    """Only qt_files makes file dialogs (no static QFileDialog.get... and no QFileDialog(...))."""
    made = {p.name for p in UI.glob("qt_*.py") if p.name != "qt_files.py"
            and re.search(r"QFileDialog\(|QFileDialog\.get", p.read_text())}
    assert made == set()
