"""How the entity view (qt_entity_view) is put together: the entity list on the left, the entity's
fields, merge box and mentions on the right, and the Entity menu. Construction only: what the widgets
do is wired in the view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenuBar,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from annotator.ui.qt_actions import make_action
from annotator.ui.qt_entity_merge import QtEntityMerge
from annotator.ui.qt_entity_tables import (DOC, LABEL, LAYER, LEFT, MENTION, NOTE, RIGHT, STATUS, QtEntityListModel,
                                           QtKwicDelegate, QtMentionModel)
from annotator.ui.qt_tables import row_table
from annotator.ui.qt_text_line import plain_label

if TYPE_CHECKING:  # type names only: qt_entity_view imports this module to build itself
    from annotator.ui.qt_entity_view import QtEntityView


def table_defaults(table: QTableView) -> None:
    """What both tables of the view add to a row table: stripes and rows of one fixed height."""
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    rows = table.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.fontMetrics().height() + 10)


def build_list(v: QtEntityView) -> QWidget:
    """The entities: a search box and a type filter above the table, a note below it."""
    v.search = QLineEdit()
    v.search.setObjectName("entitySearch")
    v.search.setPlaceholderText("Search entities: name, alias or id (Ctrl+F)")
    v.search.setClearButtonEnabled(True)
    v.type_filter = QComboBox()
    v.type_filter.setObjectName("entityTypeFilter")
    v.type_filter.setToolTip("Show entities of one type")
    v.list_model = QtEntityListModel(v)
    v.table = row_table(v.list_model, "entityTable")
    table_defaults(v.table)
    header = v.table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column, sample in ((1, "PERSON"), (2, "Mentions")):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, v.fontMetrics().horizontalAdvance(sample) + 18)
    v.list_note = plain_label(name="muted")
    left = QWidget()
    left_column = QVBoxLayout(left)
    left_column.setContentsMargins(10, 10, 4, 10)
    filters = QHBoxLayout()
    filters.addWidget(v.search, 1)
    filters.addWidget(v.type_filter)
    left_column.addLayout(filters)
    left_column.addWidget(v.table, 1)
    left_column.addWidget(v.list_note)
    return left


def build_details(v: QtEntityView) -> QWidget:
    """The chosen entity: heading, fields, save and merge buttons, the merge box, its mentions."""
    v.heading = plain_label(name="entityHeading")
    heading_font = v.heading.font()
    heading_font.setPointSizeF(heading_font.pointSizeF() * 1.25)
    heading_font.setBold(True)
    v.heading.setFont(heading_font)
    v.description = plain_label(name="muted")
    v.name_edit, v.kb_id_edit, v.description_edit = QLineEdit(), QLineEdit(), QLineEdit()
    v.name_edit.setObjectName("entityName")
    v.kb_id_edit.setObjectName("entityKbId")
    v.description_edit.setObjectName("entityDescription")
    v.kb_id_edit.setToolTip("An external id (a Wikidata QID such as Q884) or the local id the app minted")
    v.type_edit = QComboBox()
    v.type_edit.setObjectName("entityType")
    v.type_edit.setEditable(True)
    v.save_button = QPushButton("Save changes (Ctrl+S)")
    v.merge_button = QPushButton("Merge into… (Ctrl+M)")
    v.save_button.setToolTip("Save the name, type, id and description (one undoable edit)")
    v.merge_button.setToolTip("Merge this entity into another: its mentions and aliases follow")
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    id_row = QHBoxLayout()
    id_row.addWidget(v.type_edit, 1)
    id_row.addWidget(QLabel("KB id"))
    id_row.addWidget(v.kb_id_edit, 2)
    form.addRow("Name", v.name_edit)
    form.addRow("Type", id_row)
    form.addRow("Description", v.description_edit)
    buttons = QHBoxLayout()
    buttons.addWidget(v.save_button)
    buttons.addWidget(v.merge_button)
    buttons.addStretch(1)

    v.merge_box = QtEntityMerge(v.project)

    v.mention_heading = plain_label(name="panelHeading")
    v.mention_model = QtMentionModel(v)
    v.mentions = row_table(v.mention_model, "mentionTable")
    table_defaults(v.mentions)
    v.mentions.setItemDelegate(QtKwicDelegate(v.mentions))
    metrics = v.fontMetrics()
    header = v.mentions.horizontalHeader()
    widths = {DOC: "000_8c62d622aab8", MENTION: "Kim Kwan-jin", LABEL: "PRODUCT", NOTE: "the government of",
              STATUS: "suggested…", LAYER: "annotator"}
    for column, sample in widths.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, metrics.horizontalAdvance(sample) + 16)
    for column in (LEFT, RIGHT):  # the contexts share the width left: the table fits the window
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    v.message = plain_label(name="entityMessage")

    right = QWidget()
    right_column = QVBoxLayout(right)
    right_column.setContentsMargins(8, 10, 10, 10)
    right_column.addWidget(v.heading)
    right_column.addWidget(v.description)
    right_column.addLayout(form)
    right_column.addLayout(buttons)
    right_column.addWidget(v.merge_box)
    right_column.addSpacing(6)
    right_column.addWidget(v.mention_heading)
    right_column.addWidget(v.mentions, 1)
    right_column.addWidget(v.message)
    return right


def build_menu(v: QtEntityView, column: QVBoxLayout) -> None:
    """The view's keys, each in its menu (they work while this window is the active one)."""
    bar = QMenuBar(v)
    menu = bar.addMenu("&Entity")
    v.actions_by_name = {}
    for name, text, keys, slot, tip in [
        ("find", "&Find entity…", ["Ctrl+F"], v.focus_search, "Search the knowledge base"),
        ("save", "&Save changes", ["Ctrl+S"], v.save, "Save the entity's name, type, id and description"),
        ("merge", "&Merge into…", ["Ctrl+M"], v.start_merge, "Merge this entity into another"),
        ("open", "&Open mention\tEnter", [], v.open_current_mention,
         "Open the chosen mention in the main window (Enter on it, or double-click)"),
        ("undo", "&Undo", ["Ctrl+Z"], v.model.undo, "Undo the last edit"),
        ("redo", "&Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], v.model.redo, "Redo the last undone edit"),
        ("close", "&Close", ["Escape"], v.escape, "Close the merge box, else this window"),
    ]:
        action = make_action(v, text, keys, slot, tip)  # Enter is not a shortcut: it acts per field
        v.addAction(action)
        menu.addAction(action)
        if name in ("merge", "open", "redo"):
            menu.addSeparator()
        v.actions_by_name[name] = action
    column.setMenuBar(bar)
