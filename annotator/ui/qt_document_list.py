"""The left panel: the project's documents with this user's status and progress, and a filter box.

Rows change one at a time (a document's status or counts); a reset happens only when the list is
first filled. New documents from an import are inserted as rows.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace

from PySide6.QtCore import QModelIndex, QSignalBlocker, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from annotator.core.project import DocumentInfo
from annotator.ui.qt_span_panel import fixed_columns
from annotator.ui.qt_tables import QtRowsModel, row_table

COLUMNS = ("Document", "Status")
STATUS_TEXT = {"new": "new", "in_progress": "in progress", "done": "✓ done"}
Role = Qt.ItemDataRole


class QtDocumentListModel(QtRowsModel):
    columns = COLUMNS
    rows: list[DocumentInfo]

    @property
    def docs(self) -> list[DocumentInfo]:
        """The listed documents, in order (the rows)."""
        return self.rows

    def data(self, index: QModelIndex, role=Role.DisplayRole):
        if not index.isValid():
            return None
        doc, col = self.rows[index.row()], index.column()
        if role == Role.DisplayRole:
            if col == 0:
                return doc.title or doc.name
            return status_text(doc)
        if role == Role.ToolTipRole:
            return f"{doc.title}\n{doc.name}\n{doc.spans} spans, {doc.suggested} still suggestions"
        if role == Role.ForegroundRole and col == 1 and doc.status == "done":
            return QColor("#2E7D32")
        if role == Role.UserRole:
            return doc.id
        if role == Role.UserRole + 1:  # what the filter box matches
            return f"{doc.name} {doc.title} {STATUS_TEXT.get(doc.status, doc.status)}"
        return None

    def set_documents(self, docs: list[DocumentInfo]) -> None:
        """Update rows in place, insert new documents, and drop vanished ones."""
        if not self.rows:
            self.set_rows(docs)
            return
        fresh = {d.id: d for d in docs}
        for row in reversed(range(len(self.rows))):
            if self.rows[row].id not in fresh:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.rows[row]
                self.endRemoveRows()
        known = {d.id for d in self.rows}
        for row, doc in enumerate(self.rows):
            if fresh[doc.id] != doc:
                self.update(doc.id, **{f: getattr(fresh[doc.id], f) for f in ("name", "title", "status",
                                                                              "spans", "suggested")})
        added = [doc for doc in docs if doc.id not in known]
        if len(added) > 100:  # a big import (here or by a colleague): one reset, not n sorted inserts
            self.beginResetModel()
            self.rows = sorted(self.rows + added, key=lambda d: d.name)
            self.endResetModel()
            return
        for doc in added:
            row = bisect_right(self.rows, doc.name, key=lambda d: d.name)
            self.beginInsertRows(QModelIndex(), row, row)
            self.rows.insert(row, doc)
            self.endInsertRows()

    def update(self, document_id: int, **changes) -> None:
        row = self.row_of(document_id)
        if row < 0:
            return
        new = replace(self.rows[row], **changes)
        if new != self.rows[row]:
            self.rows[row] = new
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def row_of(self, document_id: int) -> int:
        return next((i for i, d in enumerate(self.rows) if d.id == document_id), -1)

    def done_count(self) -> tuple[int, int]:
        return sum(1 for d in self.rows if d.status == "done"), len(self.rows)


def status_text(doc: DocumentInfo) -> str:
    """"new", "12/40 checked" (accepted or added / all spans) while in progress, "✓ done"."""
    if doc.status == "in_progress":
        return f"{doc.spans - doc.suggested}/{doc.spans} checked"
    return STATUS_TEXT.get(doc.status, doc.status)


class QtDocumentList(QWidget):
    """Emits `activated(document id)` when the user picks a document."""

    activated = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("documentList")
        self.model = QtDocumentListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterRole(Role.UserRole + 1)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setDynamicSortFilter(False)  # a status change must not drop the open row under the user
        self.current_id: int | None = None
        self.heading = QLabel("Documents")
        self.heading.setObjectName("panelHeading")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name, title or status")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)
        self.table = row_table(self.proxy)
        self.table.setShowGrid(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        fixed_columns(self.table, {1: "000/000 checked"})
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 4, 10)
        layout.addWidget(self.heading)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)

    def _filter(self, text: str) -> None:
        """Filtering only changes what is listed: it never opens another document."""
        with QSignalBlocker(self.table.selectionModel()):
            self.proxy.setFilterFixedString(text)
        if self.current_id is not None:
            self.select(self.current_id)

    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self.table.following and current.isValid() and current.data(Role.UserRole) != self.current_id:
            self.activated.emit(current.data(Role.UserRole))

    def select(self, document_id: int) -> None:
        """Show `document_id` as the selected row without emitting `activated`."""
        self.current_id = document_id
        row = self.model.row_of(document_id)
        if row < 0:
            return
        self.table.follow(self.proxy.mapFromSource(self.model.index(row, 0)))

    def neighbour(self, document_id: int | None, direction: int) -> int | None:
        """The document shown above (-1) or below (+1) `document_id` in the filtered list."""
        count = self.proxy.rowCount()
        if count == 0:
            return None
        row = self.model.row_of(document_id) if document_id is not None else -1
        index = self.proxy.mapFromSource(self.model.index(row, 0)) if row >= 0 else QModelIndex()
        target = index.row() + direction if index.isValid() else (0 if direction > 0 else count - 1)
        if not 0 <= target < count:
            return None
        return self.proxy.index(target, 0).data(Role.UserRole)
