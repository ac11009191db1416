"""The search panel (Edit → Search the corpus, Ctrl+Shift+F): text or a regex over every document, and/or
spans of the user's layer by label, unlinked or suggested; the hits as a keyword-in-context table,
sortable by any column; Enter or a double-click shows the match in its document. "Label all matches
as …" adds each match as a suggestion to check, one undoable step; "Accept selected" confirms
suggestions. Article text is shown as plain text only (item text, plain-text labels)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDockWidget, QHBoxLayout, QHeaderView,
                               QLineEdit, QMainWindow, QPushButton, QVBoxLayout, QWidget)

from annotator.core.search import Filters, Hit, flat
from annotator.errors import AnnotatorError
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_tables import QtRowsModel, row_table
from annotator.ui.qt_text_line import plain_label

LIMIT = 500
ANY_LABEL = "Any label"


def link_text(hit: Hit) -> str:
    if hit.label is None:
        return ""
    link = "NIL" if hit.nil else hit.kb_id or "unlinked"
    return f"{hit.label} · {link}" + (" · suggested" if hit.status == "suggested" else "")


class QtHitsModel(QtRowsModel):
    """Hits as rows: document, left context, match, right context, label / link. The sort role orders the
    document column by document then offset, and the left context from its end (as KWIC is read)."""

    columns = ("Document", "Left", "Match", "Right", "Label / link")
    SortRole = Qt.ItemDataRole.UserRole + 1

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        hit: Hit = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (hit.title or hit.document, flat(hit.left)[-60:], flat(hit.match), flat(hit.right)[:60],
                    link_text(hit))[column]
        if role == self.SortRole:
            return (f"{(hit.title or hit.document).casefold()}\x00{hit.document_id:010d}{hit.start:010d}",
                    flat(hit.left)[::-1].casefold(), hit.match.casefold(), flat(hit.right).casefold(),
                    link_text(hit))[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return f"{hit.document}, {hit.start}-{hit.end}"
        return None


class QtSearchPanel(QDockWidget):
    """Emits `openHit(document id, start, end)` for the main window to show."""

    openHit = Signal(int, int, int)
    failed = Signal(str)  # a coded message: the edit was refused, nothing changed

    def __init__(self, model: QtDocumentModel, parent: QWidget | None = None):
        super().__init__("Search the corpus", parent)
        self.setObjectName("searchPanel")
        self.model = model
        self.project = model.project
        self.last: tuple | None = None  # the search shown, run again after edits
        body = QWidget()
        self.query = QLineEdit()
        self.query.setObjectName("searchQuery")
        self.query.setPlaceholderText("Text in any document (Enter searches)")
        self.query.setClearButtonEnabled(True)
        self.regex = QCheckBox("Regex")
        self.regex.setToolTip("A Python regular expression, case-sensitive ((?i) for either case)")
        self.label = QComboBox()
        self.label.setObjectName("searchLabel")
        self.unlinked = QCheckBox("Unlinked")
        self.unlinked.setToolTip("Only mentions not linked and not NIL (text no span covers counts)")
        self.suggested = QCheckBox("Suggested")
        self.suggested.setToolTip("Only suggestions still to check")
        go = QPushButton("Search")
        self.hits = QtHitsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.hits)
        self.proxy.setSortRole(QtHitsModel.SortRole)
        self.table = row_table(self.proxy, "searchHits")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # as found until the user sorts
        header = self.table.horizontalHeader()
        for column, mode in enumerate((QHeaderView.ResizeMode.Interactive, QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(column, mode)
        self.note = plain_label(name="muted", wrap=False)
        self.label_as = QComboBox()
        self.label_as.setObjectName("searchLabelAs")
        self.label_all = QPushButton("Label all matches as")
        self.label_all.setToolTip("Add each match as a suggestion to check, in your layer (one Ctrl+Z undoes it)")
        self.accept = QPushButton("Accept selected")
        self.accept.setToolTip("Confirm the selected suggestions")

        top = QHBoxLayout()
        top.addWidget(self.query, 1)
        for widget in (self.regex, self.label, self.unlinked, self.suggested, go):
            top.addWidget(widget)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        for widget in (self.label_all, self.label_as, self.accept):
            bottom.addWidget(widget)
        column = QVBoxLayout(body)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        column.addLayout(bottom)
        self.setWidget(body)
        self.reload_labels()

        self.query.returnPressed.connect(self.run)
        go.clicked.connect(self.run)
        self.table.activated.connect(self.open_hit)
        self.table.doubleClicked.connect(self.open_hit)
        self.label_all.clicked.connect(self.label_matches)
        self.accept.clicked.connect(self.accept_selected)
        self.pending = QTimer(self)  # one refresh for a burst of edits
        self.pending.setSingleShot(True)
        self.pending.setInterval(0)
        self.pending.timeout.connect(self.refresh)
        model.saved.connect(lambda _kind: self.pending.start() if self.isVisible() and self.last else None)

    def reload_labels(self) -> None:
        names = list(self.model.labels)
        for combo, first in ((self.label, [ANY_LABEL]), (self.label_as, [])):
            chosen = combo.currentText()
            combo.clear()
            combo.addItems(first + names)
            if chosen in first + names:
                combo.setCurrentText(chosen)

    def present(self) -> None:
        """Shown with a third of the window's height at least (a dock opens at its contents' minimum:
        two hits)."""
        opened = not self.isVisible()
        self.show()
        self.raise_()
        window = self.parentWidget()
        if opened and isinstance(window, QMainWindow) and not self.isFloating():
            window.resizeDocks([self], [max(self.height(), window.height() // 3)], Qt.Orientation.Vertical)
        self.query.setFocus()
        self.query.selectAll()

    # --- searching
    def filters(self) -> Filters:
        label = self.label.currentText()
        return Filters(label=None if label == ANY_LABEL else label, unlinked=self.unlinked.isChecked(),
                       suggested=self.suggested.isChecked())

    def run(self) -> None:
        self.last = (self.query.text(), self.regex.isChecked(), self.filters())
        if self.refresh() and self.proxy.rowCount():
            self.table.setFocus()
            self.table.setCurrentIndex(self.proxy.index(0, 0))

    def refresh(self) -> bool:
        """Run the last search again; a refused one (a bad regex) is said in the note."""
        if self.last is None:
            return False
        query, regex, filters = self.last
        try:
            hits = self.project.search(query, regex=regex, filters=filters, limit=LIMIT)
        except AnnotatorError as e:
            self.note.setText(str(e))
            return False
        self.hits.set_rows(hits)
        more = f" (the first {LIMIT})" if len(hits) == LIMIT else ""
        self.note.setText(f"{len(hits)} hit{'s' if len(hits) != 1 else ''}{more}")
        return True

    def hit_at(self, index: QModelIndex) -> Hit:
        return self.hits.rows[self.proxy.mapToSource(index).row()]

    def open_hit(self, index: QModelIndex) -> None:
        if index.isValid():
            hit = self.hit_at(index)
            self.openHit.emit(hit.document_id, hit.start, hit.end)

    # --- editing
    def label_matches(self) -> None:
        label = self.label_as.currentText()
        if not self.hits.rows or not label:
            return
        created = self._edit(self.project.label_matches, list(self.hits.rows), label)
        if created is not None:
            self.note.setText(f"Labelled {len(created)} match{'es' if len(created) != 1 else ''} as {label}, "
                              "as suggestions to check (Ctrl+Z undoes)")

    def accept_selected(self) -> None:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        for hit in (self.hits.rows[r] for r in rows):
            if hit.span_id is not None and hit.status == "suggested":
                self._edit(self.project.accept, hit.span_id, hit.version)

    def _edit(self, fn, *args):
        if self.model.read_only:
            self.failed.emit(self.model.read_only)
            return None
        try:
            return fn(*args)
        except AnnotatorError as e:  # a coded message; nothing changed
            self.model.after_error(e)
            self.failed.emit(str(e))
            return None
