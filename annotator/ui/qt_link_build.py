"""How the link panel (qt_link_panel) is put together: heading, link state, referent note, the
propagation offer, the search box and candidate list, the buttons and the inline new-entity form.
Construction only: what the widgets do is wired in the panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton, QToolButton,
                               QVBoxLayout)

from annotator.ui.qt_link_offer import QtPropagationOffer
from annotator.ui.qt_new_entity import QtNewEntityForm
from annotator.ui.qt_referent_note import QtReferentNote
from annotator.ui.qt_text_line import QtTextLine

if TYPE_CHECKING:  # type names only: qt_link_panel imports this module to build itself
    from annotator.ui.qt_link_panel import QtLinkPanel


def build_panel(p: QtLinkPanel) -> None:
    """The panel's widgets in one column, top to bottom."""
    # fixed-height text lines: the panel's layout never changes with an edit
    p.heading = QtTextLine("Link", bold=True)
    p.heading.setObjectName("linkHeading")
    p.state = QtTextLine(lines=3)  # a suggested link: its name, who suggested it, how to confirm it
    p.state.setObjectName("linkState")
    # the widgets below are always there (enabled or not, empty or not): showing or hiding one would
    # relayout the whole right column on an edit
    p.entity_button = QToolButton()
    p.entity_button.setObjectName("linkEntityButton")
    p.entity_button.setText("Entity…")
    p.entity_button.setToolTip("Every mention of this entity across the corpus; edit or merge it (Ctrl+Shift+E)")
    p.entity_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    p.entity_button.setEnabled(False)
    state_row = QHBoxLayout()
    state_row.setContentsMargins(0, 0, 0, 0)
    state_row.addWidget(p.state, 1)
    state_row.addWidget(p.entity_button, 0, Qt.AlignmentFlag.AlignTop)
    p.note = QtReferentNote()
    # after a link is made: how many identical mentions a propagation would reach (non-modal)
    p.offer = QtPropagationOffer(p.model)
    p.search = QLineEdit()
    p.search.setObjectName("linkSearch")
    p.search.setPlaceholderText("Search the knowledge base (L)")
    p.search.setClearButtonEnabled(True)
    p.list = QListWidget()
    p.list.setObjectName("linkCandidates")
    p.list.setWordWrap(True)
    p.list.setAlternatingRowColors(True)
    p.empty = QtTextLine(colour="#6B675F", lines=2)

    p.link_button = QPushButton("Link (Enter)")
    p.nil_button = QPushButton("NIL")
    p.new_button = QPushButton("New entity…")
    p.propagate_button = QPushButton("Propagate")
    p.corpus_button = QPushButton("To corpus")
    for b, tip in ((p.link_button, "Link the span to the chosen entity (Enter)"),
                   (p.nil_button, "Nothing in the knowledge base fits (Ctrl+N)"),
                   (p.new_button, "Create an entity from the span and link it (Ctrl+Shift+N)"),
                   (p.propagate_button, "Suggest this link on identical mentions in the document "
                                        "(Ctrl+Shift+P)"),
                   (p.corpus_button, "Suggest this link on identical mentions in the other documents "
                                     "you have opened (Ctrl+Alt+P)")):
        b.setToolTip(tip)
    buttons = QGridLayout()  # two rows, so the panel stays narrow and the article keeps its width
    for i, b in enumerate((p.link_button, p.nil_button, p.new_button, p.propagate_button, p.corpus_button)):
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons.addWidget(b, i // 3, i % 3)

    # inline "new entity" form, hidden until asked for (qt_new_entity)
    p.new_form = QtNewEntityForm(p.model)

    column = QVBoxLayout(p)
    column.setContentsMargins(6, 6, 6, 6)
    column.addWidget(p.heading)
    column.addLayout(state_row)
    note_row = QHBoxLayout()
    note_row.setContentsMargins(0, 0, 0, 0)
    note_row.addWidget(QLabel("Refers to"))
    note_row.addWidget(p.note, 1)
    column.addLayout(note_row)
    column.addWidget(p.offer)
    column.addWidget(p.search)
    column.addWidget(p.list, 1)
    column.addWidget(p.empty)
    column.addLayout(buttons)
    column.addWidget(p.new_form)
