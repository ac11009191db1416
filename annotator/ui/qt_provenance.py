"""Model provenance (Review → Model provenance…): how each analyst changed the model's suggestions,
per label — the core's `provenance` report as a table (computed in a background thread).

Blind annotation holds here too: an annotator sees only their own rows; a reviewer sees everyone's.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QVBoxLayout, QWidget

from annotator.core.review.facade import provenance_report
from annotator.core.words import plural
from annotator.ui.qt_actions import make_action
from annotator.ui.qt_agreement import caption
from annotator.ui.qt_tables import QtRowsModel, row_table
from annotator.ui.qt_tasks import QtStoreTask
from annotator.ui.qt_text_line import plain_label

Role = Qt.ItemDataRole
# (outcome key in the core report, column title)
OUTCOMES = [("accepted", "Accepted as-is"), ("relabelled", "Relabelled"), ("boundary", "Boundary changed"),
            ("deleted", "Deleted"), ("added", "Added"), ("suggested", "Left as suggestion")]
COLUMNS = ["Annotator", "Label"] + [title for _, title in OUTCOMES]
ALL = "all labels"


class QtProvenanceModel(QtRowsModel):
    """Per analyst: a row of totals ("all labels"), then a row per label; a row is (annotator, label,
    counts, documents)."""

    columns = COLUMNS

    def set_report(self, report: dict[str, dict]) -> None:
        rows = []
        for name, data in report.items():
            rows.append((name, ALL, data["totals"], data["documents"]))
            rows += [(name, label, counts, data["documents"]) for label, counts in data["by_label"].items()]
        self.set_rows(rows)

    def data(self, index: QModelIndex, role=Role.DisplayRole):
        if not 0 <= index.row() < len(self.rows):
            return None
        name, label, counts, docs = self.rows[index.row()]
        col = index.column()
        if role in (Role.DisplayRole, Role.UserRole):
            if col == 0:
                return name if label == ALL else ""
            if col == 1:
                return label
            value = counts.get(OUTCOMES[col - 2][0], 0)
            return str(value) if role == Role.DisplayRole else value
        if role == Role.TextAlignmentRole and col > 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Role.FontRole and label == ALL:
            bold = QFont()
            bold.setBold(True)
            return bold
        if role == Role.ForegroundRole and col > 1 and counts.get(OUTCOMES[col - 2][0], 0) == 0:
            return QColor("#A8A49C")
        if role == Role.ToolTipRole and col == 0:
            return f"{name}: {plural(docs, 'document')} opened"
        return None

    def value(self, annotator: str, label: str, outcome: str) -> int | None:
        """The count shown for (annotator, label or "all labels", outcome); None without such a row."""
        row = next((r for r in self.rows if r[0] == annotator and r[1] == label), None)
        return None if row is None else row[2].get(outcome, 0)


class QtProvenancePanel(QWidget):
    def __init__(self, project, reviewer: bool, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.project = project
        self.reviewer = reviewer
        self.setObjectName("provenancePanel")
        self.setWindowTitle("Model provenance — annotator")
        self.resize(900, 520)
        self.heading = caption("How analysts changed the model's suggestions")
        self.note = plain_label(name="muted")
        self.note.setMinimumHeight(self.note.fontMetrics().lineSpacing() * 2 + 6)  # never clipped by the table
        self.model = QtProvenanceModel(self)
        self.table = row_table(self.model, "provenanceTable")
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.task = QtStoreTask(self)
        self.task.finished.connect(self._on_report)
        self.task.failed.connect(self._on_failed)
        self.addAction(make_action(self, "Refresh", ["F5"], self.refresh, "Compute the report again"))
        self.addAction(make_action(self, "Close", ["Escape"], self.close, "Close the panel"))

    def refresh(self) -> bool:
        self.note.setText("Computing…")
        return self.task.start(self.project.store.url, provenance_report, what="The provenance report")

    def _on_report(self, report: dict) -> None:
        if not self.reviewer:  # blind: only the user's own rows
            report = {k: v for k, v in report.items() if k == self.project.user}
        self.model.set_report(report)
        who = "every analyst" if self.reviewer else "you (annotation is blind: colleagues' rows are for reviewers)"
        self.note.setText(f"Per label, for {who}, in the documents they opened: the model's spans accepted as "
                          "they were, relabelled, with a boundary moved, deleted or left as suggestions, and the "
                          "spans the analyst added." if report else
                          "No analyst has opened a document with model suggestions yet.")

    def _on_failed(self, message: str) -> None:
        self.note.setText(message)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.task.wait()
        super().closeEvent(event)
