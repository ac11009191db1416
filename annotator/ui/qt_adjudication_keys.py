"""The adjudication view's keys (qt_adjudication): every decision, step and edit-mode key is an action
with its shortcut, and the buttons that show them. Construction only: the slots live in the view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from annotator.ui.qt_actions import make_action
from annotator.ui.qt_disagreements import letter

if TYPE_CHECKING:  # type names only: qt_adjudication imports this module to build itself
    from annotator.ui.qt_adjudication import QtAdjudicationView

TAKE_LETTERS = 4  # A-D take a version by key; E is "edit"


def build_actions(v: QtAdjudicationView) -> None:
    """The view's actions (`take_actions`, `edit_action`, …, the edit mode's `commit_action`,
    `edge_actions`, `label_actions`) and its rows of buttons (`button_rows`)."""

    def action(text, keys, slot, tip):
        a = make_action(v, text, keys, slot, tip)
        v.addAction(a)
        return a

    v.take_actions = [action(f"Take {letter(i)} · {a}", [letter(i)] if i < TAKE_LETTERS else [],
                             lambda i=i: v.take(i), f"Gold gets {a}'s version")
                      for i, a in enumerate(v.annotators)]
    # the other take letters explain themselves (E316) rather than doing nothing
    for i in range(len(v.annotators), TAKE_LETTERS):
        action(f"Take {letter(i)}", [letter(i)], lambda i=i: v.take(i), "No such annotator here")
    v.edit_action = action("Edit", ["E"], v.start_edit, "Enter your own version of the gold span")
    v.reject_action = action("Reject", ["R", "Delete"], v.reject, "Nothing of this goes to gold")
    v.next_action = action("Next", ["N"], lambda: v.step(+1), "Next disagreement")
    v.prev_action = action("Previous", ["P"], lambda: v.step(-1), "Previous disagreement")
    v.undo_action = action("Undo", ["Ctrl+Z"], v.undo, "Undo the last decision")
    v.redo_action = action("Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], v.redo, "Redo")
    v.finish_action = action("Gold done", ["Ctrl+Return", "Ctrl+Enter"], v.finish,
                             "Mark the gold version of this document done (for export)")
    v.escape_action = action("Close", ["Escape"], v.escape, "Cancel the edit, or close this view")
    # keys of the edit mode, enabled only while editing
    v.commit_action = action("Put in gold", ["Return", "Enter"], lambda: v.commit_edit(),
                             "Put the selected text in gold with the label shown")
    edges = [("end", +1, "Shift+Right"), ("end", -1, "Shift+Left"), ("start", -1, "Ctrl+Shift+Left"),
             ("start", +1, "Ctrl+Shift+Right")]
    v.edge_actions = [action(f"Move {e} {'right' if d > 0 else 'left'}", [k],
                             lambda e=e, d=d: v.move_edge(e, d), "Move the gold span's edge by a token")
                      for e, d, k in edges]
    v.label_actions = [action(f"{info.shortcut}  {info.name}", [info.shortcut, f"Num+{info.shortcut}"],
                              lambda n=info.name: v.commit_edit(n), f"Put in gold as {info.name}")
                       for info in v.labels.values() if info.shortcut]

    def button(a, text):
        b = QPushButton(text)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.setToolTip(a.toolTip())
        b.clicked.connect(a.trigger)
        return b

    takes = QHBoxLayout()
    for i, a in enumerate(v.take_actions):
        key = letter(i) if i < TAKE_LETTERS else "…"
        takes.addWidget(button(a, f"{key} · take {v.annotators[i]}"))
    others = QHBoxLayout()
    for a, text in ((v.edit_action, "E · edit"), (v.reject_action, "R · reject"),
                    (v.prev_action, "P · previous"), (v.next_action, "N · next")):
        others.addWidget(button(a, text))
    last = QHBoxLayout()
    v.undo_button = button(v.undo_action, "Undo (Ctrl+Z)")
    last.addWidget(v.undo_button)
    last.addWidget(button(v.finish_action, "Gold done (Ctrl+Return)"))
    v.button_rows = [takes, others, last]
