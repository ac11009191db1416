"""The agreement dashboard (Review → Agreement…, reviewers only): the core's agreement report as
tables (pairs and overall, per label, per document), a bar chart per label, and click-through to the
disagreements behind the numbers.

Activating a document row lists that document's disagreements; activating a label row or its bar lists
the disagreements involving that label; activating a disagreement asks the window to open the
adjudication view at it (`openDisagreement`). The report is computed in a background thread.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSplitter, QTableView,
                               QVBoxLayout, QWidget)

from annotator.core.changes import Change
from annotator.core.review import triage
from annotator.core.review.agreement import AgreementReport, Measures
from annotator.core.review.facade import Review, agreement_report, label_items
from annotator.ui.qt_actions import make_action
from annotator.ui.qt_disagreements import QtDisagreementModel
from annotator.ui.qt_label_bars import MUTED_COLOUR, QtLabelBars, cell
from annotator.ui.qt_tables import QtRowsModel, row_table
from annotator.ui.qt_tasks import QtStoreTask
from annotator.ui.qt_text_line import plain_label

def entered_text(n: int) -> str:
    """The dashboard's line on what entered the numbers (DESIGN.md, "What counts as an annotation")."""
    return (f"{n} document{'s' if n != 1 else ''} entered. Only documents two or more of them finished "
            "(marked done; a colleague's imported file counts as done) count, with their accepted spans: "
            "suggestions nobody checked are left out.")


Role = Qt.ItemDataRole
ValueRole = Role.UserRole  # the raw value of a cell (float or None; the row's key in column 0)
SortRole = Role.UserRole + 1
LABEL_PAGE = 100  # disagreements a label's list reads at a time (a few screens)
MEASURES = [("span_f1_exact", "F1 exact"), ("span_f1_overlap", "F1 overlap"), ("token_kappa", "κ tokens"),
            ("token_alpha", "α tokens"), ("link_agreement", "Links"), ("n_docs", "Docs")]


class QtMeasuresModel(QtRowsModel):
    """Rows of (key, title, Measures); column 0 the title (headed `first`), then one column per measure."""

    rows: list[tuple[object, str, Measures]]

    def __init__(self, first: str, parent=None):
        super().__init__(parent)
        self.columns = [first] + [title for _, title in MEASURES]

    def data(self, index: QModelIndex, role=Role.DisplayRole):
        if not 0 <= index.row() < len(self.rows):
            return None
        key, title, m = self.rows[index.row()]
        col = index.column()
        value = None if col == 0 else getattr(m, MEASURES[col - 1][0])
        if role == Role.DisplayRole:
            return title if col == 0 else cell(value)
        if role == ValueRole:
            return key if col == 0 else value
        if role == SortRole:
            if col == 0:
                return title
            return -1.0 if value is None else float(value)
        if role == Role.ToolTipRole and col == 0 and isinstance(key, str) and key != title:
            return f"{title} (document {key})"
        if role == Role.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Role.ForegroundRole and col > 0 and value is None:
            return MUTED_COLOUR
        return None


def _table(model: QAbstractTableModel, name: str, sortable: bool = False) -> QTableView:
    table = row_table(model, name)
    if sortable:
        proxy = QSortFilterProxyModel(table)
        proxy.setSourceModel(model)
        proxy.setSortRole(SortRole)
        table.setModel(proxy)
        table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the report's order first
        table.setSortingEnabled(True)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(False)
    metrics = table.fontMetrics()
    for col, (_, title) in enumerate(MEASURES, start=1):
        table.setColumnWidth(col, max(metrics.horizontalAdvance(title), metrics.horizontalAdvance("0.000")) + 26)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setMinimumSectionSize(40)
    table.verticalHeader().setDefaultSectionSize(metrics.height() + 10)
    return table


def caption(text: str) -> QLabel:
    """A section heading of the review panels."""
    return plain_label(text, "panelHeading", "color: #5F5B53; font-weight: 600; padding: 4px 0 2px 0", wrap=False)


class QtAgreementDashboard(QWidget):
    """The dashboard window of one reviewer's project. `openDisagreement(document_id, annotators,
    (start, end))` asks for the adjudication view."""

    openDisagreement = Signal(int, object, object)
    failed = Signal(str)

    def __init__(self, project, labels: dict, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.project = project
        self.review = Review(project)
        self.labels = labels  # name -> LabelInfo, for the bar colours
        self.report: AgreementReport | None = None
        self.annotators: list[str] = []  # compared in the report shown
        self.pending: list[str] = []  # compared in the report being computed
        self.doc_ids: dict[str, int] = {}
        self.titles: dict[str, str] = {}  # document name -> title: documents are shown by title
        self.listing: tuple[str, str] | None = None  # ("document" | "label", name) listed now
        self.label_docs: list[str] = []  # a label's list: the documents it runs over, page by page
        self.label_next = 0  # where its next page starts in `label_docs`
        self.setObjectName("agreementDashboard")
        self.setWindowTitle("Agreement — annotator")
        self.resize(1280, 800)

        self.task = QtStoreTask(self)
        self.task.finished.connect(self._on_report)
        self.task.failed.connect(self._on_failed)
        self.list_task = QtStoreTask(self)
        self.list_task.finished.connect(self._on_items)
        self.list_task.failed.connect(self._on_list_failed)

        # who is compared
        self.choice = QHBoxLayout()
        self.choice.setContentsMargins(0, 0, 0, 0)
        self.checks: dict[str, QCheckBox] = {}
        self.compute_button = QPushButton("Compute (F5)")
        self.compute_button.setToolTip("Compute agreement between the checked annotators (F5)")
        self.compute_button.clicked.connect(self.compute)
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.entered = QLabel()  # how many documents entered, and which ones count
        self.entered.setObjectName("agreementEntered")
        self.entered.setTextFormat(Qt.TextFormat.PlainText)
        self.entered.setWordWrap(True)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #B00020")
        self.error.hide()

        self.pairs_model = QtMeasuresModel("Annotators", self)
        self.labels_model = QtMeasuresModel("Label", self)
        self.documents_model = QtMeasuresModel("Document", self)
        self.pairs = _table(self.pairs_model, "agreementPairs")
        self.label_table = _table(self.labels_model, "agreementLabels", sortable=True)
        self.documents = _table(self.documents_model, "agreementDocuments", sortable=True)
        self.bars = QtLabelBars()
        self.disagreement_model = QtDisagreementModel(parent=self)
        self.disagreement_model.fetcher = self._next_label_page
        self.disagreements = row_table(self.disagreement_model, "agreementDisagreements")
        self.disagreements.horizontalHeader().setStretchLastSection(True)
        self.disagreements.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.list_heading = caption("Disagreements")
        self.list_hint = QLabel("Activate a document or a label (Enter, double-click, or a click on its bar) "
                                "to list its disagreements; Enter on one opens the adjudication view there.")
        self.list_hint.setObjectName("muted")
        self.list_hint.setTextFormat(Qt.TextFormat.PlainText)
        self.list_hint.setWordWrap(True)

        def box(*parts) -> QWidget:
            widget = QWidget()
            column = QVBoxLayout(widget)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            for part in parts:
                column.addWidget(part, 0 if isinstance(part, QLabel) else 1)
            return widget

        tables = QSplitter(Qt.Orientation.Vertical)
        tables.addWidget(box(caption("Per label (activate one to list its disagreements)"), self.label_table))
        tables.addWidget(box(caption("Per document (sort by a column to find the worst)"), self.documents))
        tables.setSizes([250, 350])
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(caption("Pairs and overall"))
        left_column.addWidget(self.pairs)
        left_column.addWidget(tables, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(box(caption("F1 per label (click a bar to list its disagreements)"), self.bars))
        right.addWidget(box(self.list_heading, self.list_hint, self.disagreements))
        right.setSizes([220, 480])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([700, 580])
        head = QHBoxLayout()
        head.addWidget(QLabel("Compare:"))
        head.addLayout(self.choice)
        head.addStretch(1)
        head.addWidget(self.compute_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addLayout(head)
        layout.addWidget(self.status)
        layout.addWidget(self.entered)
        layout.addWidget(self.error)
        layout.addWidget(split, 1)

        self.documents.activated.connect(self._on_document)
        self.label_table.activated.connect(self._on_label_row)
        self.bars.labelActivated.connect(self.list_label)
        self.disagreements.activated.connect(self._on_disagreement)
        self.addAction(make_action(self, "Compute", ["F5"], self.compute, "Compute agreement again"))
        self.addAction(make_action(self, "Close", ["Escape"], self.close, "Close the dashboard"))
        self.set_annotators()

    # --- who is compared
    def set_annotators(self) -> None:
        """One check box per person's layer holding a document, all checked, as `annotator agreement`
        compares them. The reviewer's own is a layer like any other: opening a document no longer
        starts one (it starts with their first edit), and only finished documents with accepted spans
        count, so an untouched copy of the model's suggestions could never enter the numbers."""
        names = self.review.people_layers()
        for box in self.checks.values():
            box.deleteLater()
        self.checks = {}
        for name in names:
            box = QCheckBox(name)
            box.setChecked(True)
            self.checks[name] = box
            self.choice.addWidget(box)

    def chosen(self) -> list[str]:
        return [n for n, box in self.checks.items() if box.isChecked()]

    # --- computing
    def compute(self) -> bool:
        names = self.chosen()
        self.error.hide()
        started = self.task.start(self.project.store.url, agreement_report, names, what="Computing agreement")
        if started:
            self.pending = names
            self.status.setText(f"Computing agreement of {', '.join(names) or 'nobody'}…")
            self.compute_button.setEnabled(False)
        return started

    def _on_report(self, report: AgreementReport) -> None:
        self.compute_button.setEnabled(True)
        self.report, self.annotators = report, self.pending
        documents = self.review.documents()
        self.doc_ids = {name: documents[name][0] for name in report.by_document if name in documents}
        self.titles = {name: title for name, (_, title) in documents.items()}
        self.pairs_model.set_rows([("overall", "Overall", report.overall)] +
                                  [((p.a, p.b), f"{p.a} / {p.b}", p.measures) for p in report.pairs])
        self.labels_model.set_rows([(k, k, m) for k, m in report.by_label.items()])
        self.documents_model.set_rows([(k, self.titles.get(k, k), m) for k, m in report.by_document.items()])
        self.bars.set_rows([(k, m, QColor(self.labels[k].colour if k in self.labels else "#CCCCCC"))
                            for k, m in report.by_label.items()])
        self.bars.setMinimumHeight(self.bars.sizeHint().height())
        rows = self.pairs_model.rowCount()
        self.pairs.setFixedHeight(self.pairs.horizontalHeader().height() + 4
                                  + self.pairs.verticalHeader().defaultSectionSize() * min(rows, 6))
        n = report.overall.n_docs
        self.status.setText(f"Agreement of {', '.join(self.annotators)} over {n} document{'s' if n != 1 else ''} "
                            f"that two or more of them labelled (– where a value is undefined).")
        self.entered.setText(entered_text(n))
        if self.listing is not None:
            kind, name = self.listing
            (self.list_document if kind == "document" else self.list_label)(name)

    def _on_failed(self, message: str) -> None:
        self.compute_button.setEnabled(True)
        self.status.setText("")
        self.error.setText(message)
        self.error.show()
        self.failed.emit(message)

    def _on_list_failed(self, message: str) -> None:
        """A page of the list could not be read: said, and scrolling to the end asks for it again."""
        if self.listing is not None and self.listing[0] == "label":
            self.disagreement_model.more = self.label_next < len(self.label_docs)
        self._on_failed(message)

    # --- click-through
    def _on_document(self, index: QModelIndex) -> None:
        self.list_document(index.siblingAtColumn(0).data(ValueRole))

    def _on_label_row(self, index: QModelIndex) -> None:
        self.list_label(index.siblingAtColumn(0).data(ValueRole))

    def list_document(self, name: str) -> None:
        """The document's disagreements, at once (one document is quick)."""
        self.listing = ("document", name)
        self.disagreement_model.more = False
        doc_id = self.doc_ids.get(name)
        found = [] if doc_id is None else self.review.document_items(doc_id, self.annotators)
        self._show_items(found, f"Disagreements in {self.titles.get(name, name)}")

    def list_label(self, label: str) -> None:
        """Disagreements involving `label`, in the background, a page at a time: the first screen's
        worth from the worst documents first, more as the list is scrolled to its end."""
        self.listing = ("label", label)
        if self.report is None:
            return
        self.label_docs, self.label_next = triage.imperfect(self.report), 0
        self.disagreement_model.more = False
        self.list_heading.setText(f"Disagreements involving {label}: listing…")
        self._start_label_page()

    def _start_label_page(self) -> bool:
        # while another listing runs, this one starts when it ends (see _on_items)
        return self.list_task.start(self.project.store.url, label_items, self.annotators, self.label_docs,
                                    self.listing[1], self.label_next, LABEL_PAGE, what="Listing disagreements")

    def _next_label_page(self) -> None:
        if self.listing is not None and self.listing[0] == "label" and not self.list_task.running():
            self.disagreement_model.more = False  # until this page is in
            self._start_label_page()

    def _on_items(self, result) -> None:
        label, start, found, start_of_next = result
        if self.listing != ("label", label) or start != self.label_next:  # asked for something else meanwhile
            if self.listing is not None and self.listing[0] == "label":
                self._start_label_page()
            return
        first = start == 0
        self.label_next = start_of_next
        if first:
            self._show_items(found, f"Disagreements involving {label}")
        else:
            texts, titles = self._texts_of(found)
            self.disagreement_model.append_items(found, texts, titles)
            self._heading(f"Disagreements involving {label}")
        self.disagreement_model.more = start_of_next < len(self.label_docs)
        if self.disagreement_model.more:
            self._heading(f"Disagreements involving {label}")

    def _texts_of(self, found: list[triage.Item]) -> tuple[dict[int, str], dict[int, str]]:
        texts, titles = {}, {}
        for doc_id in {i.document_id for i in found} - set(self.disagreement_model.texts):
            doc = self.project.document(doc_id)
            texts[doc_id], titles[doc_id] = doc.text, doc.title or doc.name
        return texts, titles

    def _heading(self, title: str) -> None:
        n, open_ = len(self.disagreement_model.items), self.disagreement_model.open_count()
        more = " so far; more as you scroll" if self.disagreement_model.more else ""
        self.list_heading.setText(f"{title}: {n} ({open_} open){more}" if n else f"{title}: none{more}")

    def _show_items(self, found: list[triage.Item], title: str) -> None:
        self.disagreement_model.set_items(found, *self._texts_of(found))
        self._heading(title)
        self.disagreements.resizeColumnsToContents()
        if found and not self.disagreements.currentIndex().isValid():
            self.disagreements.setCurrentIndex(self.disagreement_model.index(0, 0))

    def _on_disagreement(self, index: QModelIndex) -> None:
        item = self.disagreement_model.item(index.row())
        if item is not None:
            d = item.disagreement
            self.openDisagreement.emit(item.document_id, list(item.annotators), (d.start, d.end))

    def _on_change(self, change) -> None:
        """A decision (anywhere) on a listed document: its rows' decisions follow."""
        if self.listing is None or change.document_id is None:
            return
        listed = {i.document_id for i in self.disagreement_model.items}
        if change.document_id not in listed:
            return
        kind, name = self.listing
        if kind == "document":
            self.list_document(name)
        else:
            fresh = self.review.document_items(change.document_id, self.annotators)
            fresh = [i for i in fresh if name in i.labels]
            items = [i for i in self.disagreement_model.items if i.document_id != change.document_id]
            at = next(k for k, i in enumerate(self.disagreement_model.items) if i.document_id == change.document_id)
            self._show_items(items[:at] + fresh + items[at:], f"Disagreements involving {name}")

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.project.changes.unsubscribe(self._on_change)
        self.task.wait()
        self.list_task.wait()
        super().closeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        # shown again after a close: listen again (subscribing twice delivers once)
        self.project.changes.subscribe(self._on_change, Change)
