"""The right side panel: the current span (label, status, text, offsets) and the document's span list.

The list is a table model kept in step with the document by row inserts, removals, moves and
dataChanged — never a reset, except when another document opens.
"""

from __future__ import annotations

from bisect import bisect_left

from PySide6.QtCore import QModelIndex, QSignalBlocker, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QHeaderView,
                               QLabel, QTableView, QToolButton, QVBoxLayout, QWidget)

from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_text_line import QtTextLine
from annotator.ui.spans import SpanRow
from annotator.ui.qt_tables import QtRowsModel, row_table

COLUMNS = ("Text", "Label", "Status")
Role = Qt.ItemDataRole
_ROLES = frozenset({Role.DisplayRole, Role.BackgroundRole, Role.ForegroundRole, Role.ToolTipRole, Role.UserRole})


def _key(span: SpanRow) -> tuple[int, int, int]:
    return span.start, span.end, span.id


def short(text: str, limit: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class QtSpanTableModel(QtRowsModel):
    """The open document's spans, a row per (start, end, id) key in order."""

    columns = COLUMNS
    rows: list[tuple[int, int, int]]

    def __init__(self, model: QtDocumentModel, parent=None):
        super().__init__(parent)
        self.model = model
        model.opened.connect(self._on_opened)
        model.loaded.connect(self._on_loaded)
        model.spansChanged.connect(self._on_spans)

    def data(self, index: QModelIndex, role=Role.DisplayRole):
        if role not in _ROLES:  # the view asks ~8 roles per cell on every repaint: answer the rest at once
            return None
        span = self.span_at(index.row())
        if span is None:
            return None
        col = index.column()
        if role == Role.DisplayRole:
            if col == 0:
                return short(self.model.span_text(span))
            if col == 1:
                return span.label
            return "✓ accepted" if span.status == "accepted" else "suggested"
        if role == Role.BackgroundRole and col == 1:
            info = self.model.labels.get(span.label)
            return QColor(info.colour) if info else None
        if role == Role.ForegroundRole and col == 1:
            return QColor("#111111")
        if role == Role.ToolTipRole:
            return f"{self.model.span_text(span)}\n{span.label}, {span.status} ({span.origin}), {span.start}–{span.end}"
        if role == Role.UserRole:
            return span.id
        return None

    def span_at(self, row: int) -> SpanRow | None:
        return self.model.spans.get(self.rows[row][2]) if 0 <= row < len(self.rows) else None

    def row_of(self, span_id: int) -> int:
        span = self.model.spans.get(span_id)
        return bisect_left(self.rows, _key(span)) if span is not None else -1

    def _on_opened(self) -> None:
        self.set_rows(self.model.order)

    def _on_loaded(self, rest) -> None:
        """The spans read after the first paint, all after the rows here."""
        if rest:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rest) - 1)
            self.rows.extend(_key(s) for s in rest)
            self.endInsertRows()

    def _on_spans(self, deltas) -> None:
        for d in deltas:
            if d.old is not None and d.new is not None:
                self._moved(d.old, d.new)
            elif d.old is not None:
                i = bisect_left(self.rows, _key(d.old))
                self.beginRemoveRows(QModelIndex(), i, i)
                del self.rows[i]
                self.endRemoveRows()
            elif d.new is not None:
                j = bisect_left(self.rows, _key(d.new))
                self.beginInsertRows(QModelIndex(), j, j)
                self.rows.insert(j, _key(d.new))
                self.endInsertRows()

    def _moved(self, old: SpanRow, new: SpanRow) -> None:
        i = bisect_left(self.rows, _key(old))
        rest = self.rows[:i] + self.rows[i + 1:]
        j = bisect_left(rest, _key(new))
        if j != i:
            self.beginMoveRows(QModelIndex(), i, i, QModelIndex(), j if j < i else j + 1)
            self.rows = rest
            self.rows.insert(j, _key(new))
            self.endMoveRows()
        else:
            self.rows[i] = _key(new)
        self.dataChanged.emit(self.index(j, 0), self.index(j, len(COLUMNS) - 1))


def fixed_columns(table: QTableView, widest: dict[int, str]) -> None:
    """Column 0 stretches, the others get the width of their widest value and rows a fixed height.

    ResizeToContents would ask every row for its data on every change: 180,000 calls to open a
    document of 1,000 spans.
    """
    metrics = table.fontMetrics()
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column, sample in widest.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, metrics.horizontalAdvance(sample) + 16)
    rows = table.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(metrics.height() + 10)


class QtSpanPanel(QWidget):
    """Shows and edits the current span; its buttons are the window's actions."""

    def __init__(self, model: QtDocumentModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("spanPanel")
        self.model = model
        self.heading = QLabel("Selected span")
        self.heading.setObjectName("panelHeading")
        self.text = QtTextLine(lines=2, boxed=True, point_size=12)  # plain text, fixed height
        self.text.setObjectName("spanText")
        self.label = QComboBox()
        self.label.setToolTip("Relabel the span (or press the label's digit key)")
        self.label.activated.connect(self._on_label_chosen)
        self.status = QtTextLine(lines=2)  # "suggestion (Enter accepts), from the model" wraps, never cut
        self.offsets = QtTextLine(colour="#6B675F")
        self.buttons = QHBoxLayout()
        self.buttons.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Label", self.label)
        form.addRow("Status", self.status)
        form.addRow("Offsets", self.offsets)

        self.list_heading = QtTextLine("Spans", colour="#5F5B53", bold=True)
        self.table_model = QtSpanTableModel(model, self)
        self.table = row_table(self.table_model, "spanTable")
        self.table.setShowGrid(False)
        fixed_columns(self.table, {1: "PRODUCT", 2: "suggested"})
        self.table.selectionModel().currentRowChanged.connect(self._on_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(self.heading)
        layout.addWidget(self.text)
        layout.addLayout(form)
        layout.addLayout(self.buttons)
        layout.addSpacing(8)
        layout.addWidget(self.list_heading)
        layout.addWidget(self.table, 1)

        model.opened.connect(self._refresh)
        model.loaded.connect(self._refresh_heading)
        model.currentChanged.connect(self._on_current)
        model.spansChanged.connect(self._on_spans)
        self.reload_labels()
        self._refresh()

    def add_buttons(self, *actions) -> None:
        """A button per action. Not QToolButton.setDefaultAction: that re-applies the action's text on
        every enable/disable, and the resulting relayout repainted the window after each edit."""
        for action in actions:
            button = QToolButton()
            button.setText(action.text().replace("&", ""))
            button.setToolTip(action.toolTip())
            button.setEnabled(action.isEnabled())
            button.clicked.connect(action.trigger)
            action.enabledChanged.connect(button.setEnabled)
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)

    def reload_labels(self) -> None:
        with QSignalBlocker(self.label):
            self.label.clear()
            for info in self.model.labels.values():
                key = f"{info.shortcut}  " if info.shortcut else "    "
                self.label.addItem(f"{key}{info.name}", info.name)
                self.label.setItemData(self.label.count() - 1, QColor(info.colour), Role.DecorationRole)
                self.label.setItemData(self.label.count() - 1, info.description, Role.ToolTipRole)

    # --- model → widgets
    def _on_current(self, _old, new) -> None:
        self._refresh()
        self._select_row(new)

    def _select_row(self, span_id: int | None) -> None:
        row = self.table_model.row_of(span_id) if span_id is not None else -1
        if row == self.table.currentIndex().row() and (row < 0 or self.table.selectionModel().isRowSelected(row)):
            return
        self.table.follow(self.table_model.index(row, 0) if row >= 0 else QModelIndex())

    def _on_spans(self, deltas) -> None:
        if any(d.id == self.model.current for d in deltas):
            self._refresh()
            self._select_row(self.model.current)  # a moved span may have changed rows
        else:
            self._refresh_heading()

    def _refresh(self) -> None:
        span = self.model.current_span()
        self._refresh_heading()
        self.label.setEnabled(span is not None)
        if span is None:
            # two lines at the panel's narrowest: the longer hint was cut at "To…", how to add a span unseen
            self.text.setText("Tab or a click picks a span; select text + a digit adds one.")
            self.status.setText("—")
            self.offsets.setText("—")
            with QSignalBlocker(self.label):
                self.label.setCurrentIndex(-1)
            return
        self.text.setText(self.model.span_text(span))
        origin = {"model": "from the model", "human": "added by hand", "import": "imported"}.get(span.origin, span.origin)
        self.status.setText(f"{'✓ accepted' if span.status == 'accepted' else 'suggestion (Enter accepts)'}, {origin}")
        self.offsets.setText(f"{span.start}–{span.end}  ({span.end - span.start} characters)")
        with QSignalBlocker(self.label):
            self.label.setCurrentIndex(self.label.findData(span.label))

    def _refresh_heading(self) -> None:
        total, suggested = self.model.counts()
        self.list_heading.setText(f"Spans in this document: {total}" + (f", {suggested} to check" if suggested else ""))

    # --- widgets → model
    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.table.following:
            return
        span = self.table_model.span_at(current.row())
        self.model.set_current(span.id if span is not None else None)

    def _on_label_chosen(self, index: int) -> None:
        label = self.label.itemData(index)
        if label:
            self.model.relabel(label)
