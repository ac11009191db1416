"""The progress dashboard (Review → Progress…, Ctrl+Shift+D): per person, documents done, spans checked,
time spent and suggestions accepted or corrected (core/progress.py, the same figures as `annotator
progress`), a table per day, and a bar chart drawn with QPainter (no chart library), saved as PNG."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from annotator.core.progress import TIME_RULE, Totals, clock
from annotator.core.project import Project
from annotator.ui.qt_files import Mode, choose

# what the chart can show: (menu text, value of a person's totals)
METRICS = {
    "Documents done": lambda t: t.documents_done,
    "Spans checked": lambda t: t.spans_checked,
    "Hours spent": lambda t: round(t.seconds / 3600, 2),
    "Suggestions accepted": lambda t: t.suggestions_accepted,
    "Suggestions corrected": lambda t: t.suggestions_corrected,
}
BAR = QColor("#0072B2")  # the colour-blind-safe palette's blue


class QtBarChart(QWidget):
    """Horizontal bars, one per name, each with its value written at its end."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bars: list[tuple[str, float]] = []
        self.setMinimumSize(360, 160)

    def set_bars(self, bars: list[tuple[str, float]]) -> None:
        self.bars = bars
        self.setMinimumHeight(40 + 28 * len(bars))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        p.setPen(self.palette().color(QPalette.ColorRole.Text))
        metrics = p.fontMetrics()
        label_w = max([metrics.horizontalAdvance(n) for n, _ in self.bars] + [40]) + 12
        value_w = max([metrics.horizontalAdvance(f"{v:g}") for _, v in self.bars] + [20]) + 12
        top, row = 12, 28
        most = max([v for _, v in self.bars] + [0]) or 1
        width = max(self.width() - label_w - value_w - 12, 10)
        for i, (name, value) in enumerate(self.bars):
            y = top + i * row
            p.drawText(QRectF(6, y, label_w - 12, row - 6), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       name)
            w = width * value / most
            p.fillRect(QRectF(label_w, y + 2, w, row - 10), BAR)
            p.drawText(QRectF(label_w + w + 6, y, value_w, row - 6), Qt.AlignmentFlag.AlignVCenter, f"{value:g}")
        p.end()


class QtProgressDialog(QDialog):
    def __init__(self, project: Project, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Progress")
        self.project = project
        self.report: list[Totals] = []
        self.chart_of = QComboBox()
        self.chart_of.addItems(list(METRICS))
        self.chart_of.currentIndexChanged.connect(self._draw)
        self.chart = QtBarChart()
        self.totals = QTableWidget(0, 6)
        self.totals.setHorizontalHeaderLabels(["Who", "Done", "Checked", "Time", "Accepted", "Corrected"])
        self.days = QTableWidget(0, 5)
        self.days.setHorizontalHeaderLabels(["Day (UTC)", "Who", "Done", "Checked", "Time"])
        for table in (self.totals, self.days):
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.verticalHeader().hide()
        self.save = QPushButton("&Save chart as PNG…")
        self.save.clicked.connect(self.save_dialog)
        refresh = QPushButton("&Refresh")
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(QLabel("Chart:"))
        top.addWidget(self.chart_of, 1)
        top.addWidget(refresh)
        top.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.chart)
        layout.addWidget(self.totals)
        layout.addWidget(self.days)
        rule = QLabel(TIME_RULE[0].upper() + TIME_RULE[1:] + ".")
        rule.setTextFormat(Qt.TextFormat.PlainText)
        rule.setWordWrap(True)
        layout.addWidget(rule)
        self.resize(720, 640)
        self.refresh()

    def refresh(self) -> None:
        self.report = self.project.progress()
        self._fill(self.totals, [[t.annotator, t.documents_done, t.spans_checked, clock(t.seconds),
                                  t.suggestions_accepted, t.suggestions_corrected] for t in self.report])
        self._fill(self.days, [[d.day, d.annotator, d.documents_done, d.spans_checked, clock(d.seconds)]
                               for t in self.report for d in t.days])
        self._draw()

    @staticmethod
    def _fill(table: QTableWidget, rows: list[list]) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(str(value)))
        table.resizeColumnsToContents()

    def _draw(self, *_args) -> None:
        value = METRICS[self.chart_of.currentText()]
        self.chart.set_bars([(t.annotator, value(t)) for t in self.report])

    def export_png(self, path: str) -> bool:
        return self.chart.grab().save(path, "PNG")

    def save_dialog(self) -> None:
        for path in choose(self, "Save chart", "progress.png", "PNG images (*.png)", mode=Mode.AnyFile, save=True):
            self.export_png(path)
