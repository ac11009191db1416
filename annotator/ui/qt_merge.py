"""File → Merge project…: bring a colleague's project file in (core `merging.merge`, in a background
thread) and show what came in and what conflicted: where both changed something, this project's
version is kept.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFileDialog, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from annotator.io.merging import MergeReport
from annotator.ui.qt_files import file_dialog

PROJECT_FILES = "Annotator projects (*.db);;All files (*)"


def merge_file_dialog(parent: QWidget) -> QFileDialog:
    """The file chooser (qt_files: Qt's own, listing files by name only)."""
    dialog = file_dialog(parent, "Merge a colleague's project file", "", PROJECT_FILES)
    dialog.setObjectName("mergeFileDialog")
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    return dialog


def _sides(c) -> tuple[str, str]:
    """An entity's or a label's differing fields: (here, there)."""
    changed = [k for k in c.ours if c.ours[k] != c.theirs[k]]
    return "; ".join(f"{k}: {c.ours[k]}" for k in changed), "; ".join(f"{k}: {c.theirs[k]}" for k in changed)


def conflict_rows(report: MergeReport) -> list[tuple[str, str, str, str]]:
    """(kind, what, here, there) per conflict."""
    rows = [("entity", c.kb_id, *_sides(c)) for c in report.entity_conflicts]
    rows += [("label", c.name, *_sides(c)) for c in report.label_conflicts]
    rows += [("layer", f"{layer} in {doc}", "kept (this project's spans)", "differs (not copied)")
             for layer, doc in report.layer_conflicts]
    rows += [("setting", key, "kept (this project's)", "differs (not copied)") for key in report.setting_conflicts]
    return rows


class QtMergeReport(QDialog):
    """What a merge did: the summary line, notes, and the conflicts as a table."""

    def __init__(self, report: MergeReport, parent: QWidget | None = None):
        super().__init__(parent)
        self.report = report
        self.setObjectName("mergeReport")
        self.setWindowTitle("Merge report — annotator")
        self.resize(760, 420)
        self.summary = QLabel(report.summary())
        self.summary.setObjectName("mergeSummary")
        self.notes = QLabel("\n".join(report.notes()) or "No conflicts: nothing here differed from the other file.")
        self.notes.setObjectName("mergeNotes")
        for label in (self.summary, self.notes):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rows = conflict_rows(report)
        self.conflicts = QTableWidget(len(rows), 4)
        self.conflicts.setObjectName("mergeConflicts")
        self.conflicts.setHorizontalHeaderLabels(["Conflict", "What", "Here (kept)", "In the other file"])
        self.conflicts.verticalHeader().hide()
        self.conflicts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.conflicts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.conflicts.setItem(r, c, QTableWidgetItem(value))
        self.conflicts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.conflicts.horizontalHeader().setStretchLastSection(True)
        self.conflicts.setVisible(bool(rows))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.notes)
        layout.addWidget(self.conflicts, 1)
        layout.addWidget(buttons)
