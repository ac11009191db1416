"""The entity view's tables: the entity list, and an entity's mentions in context (KWIC)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QStyledItemDelegate

from annotator.core.kb.mentions import EntityInfo, Mention
from annotator.ui.qt_link_panel import EntityRole
from annotator.ui.qt_tables import QtRowsModel

Role = Qt.ItemDataRole
ENTITY_COLUMNS = ("Name", "Type", "Mentions")
MENTION_COLUMNS = ("Document", "Left context", "Mention", "Right context", "Label", "Note", "Status", "Layer")
DOC, LEFT, MENTION, RIGHT, LABEL, NOTE, STATUS, LAYER = range(len(MENTION_COLUMNS))
SUGGESTED_COLOUR = "#8A5A00"


class QtEntityListModel(QtRowsModel):
    """The entities listed on the left (a search result or the browse list); an edit elsewhere repaints
    only the rows whose entity changed."""

    columns = ENTITY_COLUMNS
    rows: list[EntityInfo]

    def key(self, row: EntityInfo) -> int:
        return row.id

    def data(self, index: QModelIndex, role=Role.DisplayRole):
        if not index.isValid():
            return None
        e, col = self.rows[index.row()], index.column()
        if role == Role.DisplayRole:
            return (e.name, e.type or "—", str(e.mentions))[col]
        if role == Role.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Role.ForegroundRole and e.mentions == 0:
            return QColor("#6B675F")
        if role == Role.ToolTipRole:
            return f"{e.name} ({e.kb_id})\n{e.description}".rstrip()
        if role == EntityRole:
            return e.id
        return None

    def row_of(self, entity_id: int | None) -> int:
        return next((i for i, e in enumerate(self.rows) if e.id == entity_id), -1)


class QtMentionModel(QtRowsModel):
    """Mentions of one entity, keyword in context: document, left context, mention, right context."""

    columns = MENTION_COLUMNS
    rows: list[Mention]

    def key(self, row: Mention) -> int:
        return row.span_id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bold = QFont()
        self.bold.setBold(True)

    def data(self, index: QModelIndex, role=Role.DisplayRole):
        if not index.isValid():
            return None
        m, col = self.rows[index.row()], index.column()
        suggested = m.status == "suggested"
        if role == Role.DisplayRole:
            s = m.snippet
            return (s.document, s.left, s.text, s.right, m.label, m.referent_note,
                    "suggested" if suggested else "✓ linked", m.annotator)[col]
        if role == Role.TextAlignmentRole:
            align = Qt.AlignmentFlag.AlignRight if col == LEFT else (
                Qt.AlignmentFlag.AlignHCenter if col == MENTION else Qt.AlignmentFlag.AlignLeft)
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        if role == Role.FontRole and (col == MENTION or suggested):
            font = QFont(self.bold) if col == MENTION else QFont()
            font.setItalic(suggested)
            return font
        if role == Role.ForegroundRole and suggested and col in (MENTION, STATUS):
            return QColor(SUGGESTED_COLOUR)
        if role == Role.ToolTipRole:
            s = m.snippet
            note = f"\nNote: {m.referent_note}" if m.referent_note else ""
            state = "a suggested link (Enter on the span confirms it)" if suggested else "linked"
            return (f"{s.document}, {s.start}–{s.end}: …{s.left} [{s.text}] {s.right}…\n"
                    f"{m.label}, {state}, layer {m.annotator}{note}\nEnter or double-click opens it")
        return None

    def row_of(self, span_id: int | None) -> int:
        return next((i for i, m in enumerate(self.rows) if m.span_id == span_id), -1)


class QtKwicDelegate(QStyledItemDelegate):
    """The left context is cut on its left, so the words next to the mention stay visible."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt name)
        super().initStyleOption(option, index)
        if index.column() == LEFT:
            option.textElideMode = Qt.TextElideMode.ElideLeft
