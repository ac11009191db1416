"""The left panel: the project's documents with this user's status and progress, and a filter box.

The list is a window onto SQL (Project.documents): it knows how many documents match the filter and
reads the rows it shows a page at a time, so it opens as fast on a hundred thousand documents as on
three. Filter and sort are queries. Rows change one at a time (a document's status or counts) and keep
their place until the list is read again, so a status change never drops the open row under the user.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from annotator.core.project import DocumentInfo, Project
from annotator.ui.qt_span_panel import fixed_columns
from annotator.ui.qt_tables import row_table

COLUMNS = ("Document", "Status")
SORTS = ("name", "status")  # by column: the first shows the title, but the list is in name order
STATUS_TEXT = {"new": "new", "in_progress": "in progress", "done": "✓ done"}
PAGE = 200
Role = Qt.ItemDataRole


class QtDocumentListModel(QAbstractTableModel):
    """The documents matching `text` in `sort` order, read from the project a page at a time."""

    def __init__(self, project: Project, parent=None):
        super().__init__(parent)
        self.project = project
        self.text = ""
        self.sort_key, self.descending = "name", False
        self.count = 0
        self.pages: dict[int, list[DocumentInfo]] = {}
        self.rows_by_id: dict[int, int] = {}  # document id → row, for the rows read

    # --- Qt
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else self.count

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Role.DisplayRole):  # noqa: N802 (Qt name)
        if orientation == Qt.Orientation.Horizontal and role == Role.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Role.DisplayRole):
        if not index.isValid():
            return None
        doc, col = self.doc(index.row()), index.column()
        if doc is None:
            return None
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
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key, descending = SORTS[column], order == Qt.SortOrder.DescendingOrder
        if (key, descending) != (self.sort_key, self.descending):
            self.sort_key, self.descending = key, descending
            self.reload()

    # --- rows
    def doc(self, row: int) -> DocumentInfo | None:
        """The document at `row`, its page read on first need."""
        if not 0 <= row < self.count:
            return None
        page = self.pages.get(row // PAGE)
        if page is None:
            page = self._read(row // PAGE)
        return page[row % PAGE] if row % PAGE < len(page) else None

    @property
    def docs(self) -> list[DocumentInfo]:
        """Every listed document, in order: reads every page (for small lists and tests)."""
        return [d for d in (self.doc(row) for row in range(self.count)) if d is not None]

    def _read(self, number: int) -> list[DocumentInfo]:
        page = self.project.documents(number * PAGE, PAGE, self.text, self.sort_key, self.descending)
        self.pages[number] = page
        self.rows_by_id.update((d.id, number * PAGE + i) for i, d in enumerate(page))
        return page

    def row_of(self, document_id: int | None) -> int:
        """`document_id`'s row; -1 when the filter hides it."""
        if document_id is None:
            return -1
        row = self.rows_by_id.get(document_id)
        if row is None:
            row = self.project.document_row(document_id, self.text, self.sort_key, self.descending)
        return row

    def reload(self) -> None:
        """Read the list again from the start (a new filter or order)."""
        self.beginResetModel()
        self.pages.clear()
        self.rows_by_id.clear()
        self.count = self.project.count_documents(self.text)
        self.endResetModel()

    def refresh(self) -> None:
        """Catch up with the database: the same number of documents repaints the rows read that
        changed; another number (an import, here or by a colleague) reads the list again."""
        if self.project.count_documents(self.text) != self.count or not self.count:
            self.reload()
            return
        for number, old in list(self.pages.items()):
            for id_ in (d.id for d in old):
                self.rows_by_id.pop(id_, None)
            new = self._read(number)
            for i, (was, now) in enumerate(zip(old, new)):
                if was != now:
                    row = number * PAGE + i
                    self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def update(self, document_id: int, **changes) -> None:
        """One document changed (status, counts): repaint its row if it was read."""
        row = self.rows_by_id.get(document_id)
        if row is None:
            return
        page = self.pages[row // PAGE]
        new = replace(page[row % PAGE], **changes)
        if new != page[row % PAGE]:
            page[row % PAGE] = new
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def done_count(self) -> tuple[int, int]:
        """(done, documents) over the whole project, whatever the filter."""
        return self.project.done_count()


def status_text(doc: DocumentInfo) -> str:
    """"new", "12/40 checked" (accepted or added / all spans) while in progress, "✓ done"."""
    if doc.status == "in_progress":
        return f"{doc.spans - doc.suggested}/{doc.spans} checked"
    return STATUS_TEXT.get(doc.status, doc.status)


class QtDocumentList(QWidget):
    """Emits `activated(document id)` when the user picks a document."""

    activated = Signal(int)

    def __init__(self, project: Project, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("documentList")
        self.model = QtDocumentListModel(project, self)
        self.current_id: int | None = None
        self.heading = QLabel("Documents")
        self.heading.setObjectName("panelHeading")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name, title or status")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)
        self.table = row_table(self.model)
        self.table.setShowGrid(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        fixed_columns(self.table, {1: "000/000 checked"})
        # a click on a column's heading sorts by it (again: the other way), in SQL (model.sort)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().sortIndicatorChanged.connect(lambda *_: self._reselect())
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 4, 10)
        layout.addWidget(self.heading)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        self.model.refresh()
        if self.current_id is not None:
            self.select(self.current_id)

    def _filter(self, text: str) -> None:
        """Filtering only changes what is listed: it never opens another document."""
        self.model.text = text
        self._reread()

    def _reread(self) -> None:
        with QSignalBlocker(self.table.selectionModel()):
            self.model.reload()
        self._reselect()

    def _reselect(self) -> None:
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
        self.table.follow(self.model.index(row, 0))

    def neighbour(self, document_id: int | None, direction: int) -> int | None:
        """The document shown above (-1) or below (+1) `document_id` in the filtered list."""
        count = self.model.rowCount()
        if count == 0:
            return None
        row = self.model.row_of(document_id)
        target = row + direction if row >= 0 else (0 if direction > 0 else count - 1)
        doc = self.model.doc(target)
        return None if doc is None else doc.id
