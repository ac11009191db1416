"""The history panel (Review → History…, Ctrl+Shift+H): who changed what, when, for the open document or
for one person (an annotator sees only their own edits; a reviewer everyone's). "Revert to here" on one
of the user's own edits of the open document undoes their later edits of it, newest first, as one
command: one Ctrl+Z brings them all back (core/history.py, core/commands.RevertTo)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QComboBox, QDockWidget, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from annotator.core.history import Entry, stamp
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_tables import QtRowsModel, row_table

LIMIT = 500
THIS_DOCUMENT, MINE = "This document", "My edits"


class QtHistoryModel(QtRowsModel):
    columns = ("When (UTC)", "Who", "Document", "Edit")

    def key(self, row: Entry) -> object:
        return row.event_id

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        e: Entry = self.rows[index.row()]
        return (stamp(e.when), e.user, e.document or "—",
                e.text + (" (undone)" if e.undone else ""))[index.column()]


class QtHistoryPanel(QDockWidget):
    def __init__(self, model: QtDocumentModel, parent: QWidget | None = None):
        super().__init__("History", parent)
        self.setObjectName("history")
        self.model = model
        self.scope = QComboBox()
        self.scope.addItems([THIS_DOCUMENT, MINE])
        self.scope.currentIndexChanged.connect(self.refresh)
        self.revert = QPushButton("&Revert to here")
        self.revert.setToolTip("Undo your later edits of this document, newest first, as one edit (Ctrl+Z brings "
                               "them back)")
        self.revert.clicked.connect(self.revert_to_selected)
        self.rows = QtHistoryModel(self)
        self.table = row_table(self.rows, "history")
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_button())
        top = QHBoxLayout()
        top.addWidget(self.scope, 1)
        top.addWidget(self.revert)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.setWidget(box)
        model.stackChanged.connect(self._refresh_if_shown)
        model.opened.connect(self._refresh_if_shown)

    def _refresh_if_shown(self, *_args) -> None:
        if self.isVisible():
            self.refresh()

    def refresh(self, *_args) -> None:
        project = self.model.project
        if self.scope.currentText() == THIS_DOCUMENT:
            rows = [] if self.model.doc_id is None else project.history(document=self.model.doc_id, limit=LIMIT)
        else:
            rows = project.history(user=project.user, limit=LIMIT)
        self.rows.set_rows(rows[::-1])  # newest first
        self._update_button()

    def selected(self) -> Entry | None:
        index = self.table.currentIndex()
        return self.rows.rows[index.row()] if index.isValid() else None

    def _update_button(self) -> None:
        e = self.selected()
        self.revert.setEnabled(e is not None and e.user == self.model.project.user and not e.undone
                               and e.command not in ("undo", "redo") and e.document is not None)

    def revert_to_selected(self) -> None:
        e = self.selected()
        if e is not None:
            self.model._run(self.model.project.revert_to, e.event_id)

    def present(self) -> None:
        self.show()
        self.raise_()
        self.refresh()
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
