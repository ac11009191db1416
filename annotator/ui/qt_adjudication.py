"""The adjudication view of one document (Review → Adjudicate…, or from the agreement dashboard).

Opening it runs the core's `start_adjudication`: the spans all compared annotators agree on go to gold
(one undoable command) and the disagreements are listed by kind. Left: the list, with progress
("4 of 11 resolved"). Centre: the article showing the gold layer (the main view's classes, read-only
on gold), the current disagreement selected. Right: each annotator's version in plain text, the
spans marked ⟦ ⟧, and what gold has there now (qt_version_cards).

Keyboard (every key is an action with its shortcut shown on a button):
  A, B, C, D   take that annotator's version        R, Delete   reject (nothing goes to gold)
  E            edit: the first version is selected in the article; drag (snaps to tokens) or
               Shift+←/→ and Ctrl+Shift+←/→ to change it, a label's digit (or Enter, keeping the
               label shown) puts it in gold, Esc cancels
  N, P         next / previous disagreement (Up/Down in the list too)
  Ctrl+Z, Ctrl+Shift+Z   undo / redo        Ctrl+Return   mark the gold version done (asks while
                                             disagreements are open)
Each decision is a core command on the window's stack: undoable, durable, recorded with who decided.
Only reviewers may decide; anyone else gets the core's coded error and nothing changes.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QMessageBox, QSplitter, QVBoxLayout, QWidget

from annotator.core.changes import Change
from annotator.core.editing.document import move_edge
from annotator.core.records import SpanRecord
from annotator.core.review import triage
from annotator.core.review.adjudication import Adjudication
from annotator.core.review.facade import Review
from annotator.errors import AnnotatorError, ConflictError, Errors
from annotator.ui.qt_adjudication_keys import build_actions
from annotator.ui.qt_disagreements import QtDisagreementModel, letter
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_document_view import QtDocumentView
from annotator.ui.qt_tables import row_table
from annotator.ui.qt_version_cards import QtVersionCards, plain


class QtAdjudicationView(QWidget):
    """One document being adjudicated by the project's user (a reviewer)."""

    failed = Signal(str)  # a coded message; the window shows it in its status bar too
    message = Signal(str)

    @classmethod
    def start(cls, project, document_id: int, annotators: list[str], labels: dict, at=None, parent=None):
        """Begin or resume adjudicating; raises the core's coded errors (E156: not a reviewer, E159,
        …) before any window exists."""
        adjudication = Review(project).adjudicate(document_id, annotators)
        return cls(project, adjudication, labels, at, parent)

    def __init__(self, project, adjudication: Adjudication, labels: dict, at=None, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.project = project
        self.review = Review(project)
        self.adjudication = adjudication
        self.document_id = adjudication.document_id
        self.annotators = list(adjudication.annotators)
        self.labels = labels  # name -> LabelInfo
        self.editing = False
        self.edit_label = ""
        self.setObjectName("adjudicationView")
        self.resize(1280, 800)

        self.gold = QtDocumentModel(project, self, layer_id=adjudication.gold_id())
        self.view = QtDocumentView(self.gold)
        self.view.setObjectName("goldArticle")
        self.gold.open(self.document_id)
        self.text = self.gold.text
        self.title = self.gold.title or self.gold.name  # documents are named by title, as in the list
        self.setWindowTitle(f"Adjudicate {self.title} — annotator")

        self.model = QtDisagreementModel({self.document_id: self.text}, show_document=False, parent=self)
        self.table = row_table(self.model, "adjudicationList")
        self.table.setColumnHidden(self.model.columns.index("Versions"), True)  # the right side shows them
        header = self.table.horizontalHeader()
        metrics = self.fontMetrics()
        for name, sample in (("#", "00"), ("Kind", "boundary"), ("Decision", "took annotator")):
            col = self.model.columns.index(name)
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, metrics.horizontalAdvance(sample) + 18)
        header.setSectionResizeMode(self.model.columns.index("Text"), QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.setMinimumWidth(300)

        self.heading = plain(self.title, "adjudicationHeading", "font-weight: 600; color: #3D3A35")
        self.heading.setToolTip(f"Document {self.gold.name}")
        self.compared = plain("Comparing " + ", ".join(f"{letter(i)} {a}" for i, a in enumerate(self.annotators)),
                              style="color: #5F5B53")
        self.progress = plain("", "adjudicationProgress", "font-weight: 600; color: #1B5E20; padding: 4px 0")
        self.cards = QtVersionCards(self.annotators)
        self.edit_hint = plain("", "editHint")
        self.edit_hint.setStyleSheet("color: #0B4F9C")
        self.edit_hint.hide()
        self.error = plain("", "adjudicationError")
        self.error.setStyleSheet("color: #B00020")
        self.error.hide()

        build_actions(self)
        self._set_editing(False)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.heading)
        column.addWidget(self.compared)
        column.addWidget(self.progress)
        column.addWidget(self.table, 1)
        right = QWidget()
        right.setMinimumWidth(320)
        side = QVBoxLayout(right)
        side.setContentsMargins(6, 0, 0, 0)
        side.addWidget(self.cards)
        side.addWidget(self.edit_hint)
        side.addWidget(self.error)
        side.addSpacing(6)
        for row in self.button_rows:
            side.addLayout(row)
        side.addStretch(1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        for widget in (left, self.view, right):
            split.addWidget(widget)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 580, 370])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(split)

        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._on_row())
        project.changes.subscribe(self._on_change, Change)
        self.refresh()
        if at is None or not self.go_to(*at):
            self.go_next_open(-1)
        self.table.setFocus()

    # --- actions (built with their buttons in qt_adjudication_keys)
    def _set_editing(self, on: bool) -> None:
        self.editing = on
        for a in (self.commit_action, *self.edge_actions, *self.label_actions):
            a.setEnabled(on)

    # --- state
    def refresh(self) -> None:
        """Read the disagreements and decisions again; the current row stays where it was."""
        found = self.review.document_items(self.document_id, self.annotators)
        row = self.table.currentIndex().row()
        self.model.set_items(found)
        if 0 <= row < len(found) and self.table.currentIndex().row() != row:
            self._select(row)
        total, open_ = len(found), self.model.open_count()
        agreed = self.adjudication.agreed
        self.progress.setText(f"{total - open_} of {total} resolved"
                              + (f" · {agreed} agreed span{'s' if agreed != 1 else ''} went to gold" if agreed else "")
                              + (" · gold marked done ✓" if self.adjudication.gold_done() else ""))
        stack = self.project.stack
        self.undo_action.setText(f"Undo {stack.undo_text}" if stack.can_undo else "Undo")
        self.undo_button.setToolTip(self.undo_action.text() + " (Ctrl+Z)")
        self._on_row()

    def current(self) -> triage.Item | None:
        return self.model.item(self.table.currentIndex().row())

    def _select(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def go_to(self, start: int, end: int) -> bool:
        row = self.model.row_of(self.document_id, start, end)
        if row >= 0:
            self._select(row)
        return row >= 0

    def go_next_open(self, after: int) -> None:
        """The first open disagreement after row `after` (wrapping), else stay."""
        items = self.model.items
        n = len(items)
        for k in range(1, n + 1):
            row = (after + k) % n
            if items[row].decision is None:
                self._select(row)
                return
        if n and not self.table.currentIndex().isValid():
            self._select(0)

    def step(self, direction: int) -> None:
        n = self.model.rowCount()
        if n:
            row = self.table.currentIndex().row()
            self._select((row + direction) % n if row >= 0 else 0)

    def _on_row(self) -> None:
        self._clear_error()  # a message was about the row left behind
        if self.editing:
            self._cancel_edit()
        item = self.current()
        if item is None:
            self.cards.clear("Nothing to adjudicate: the annotators agree on every span." if not self.model.items
                             else "Pick a disagreement in the list.")
            return
        d = item.disagreement
        gold = [SpanRecord(s.start, s.end, s.label) for s in self.gold.overlapping(d.start, d.end)]
        self.cards.show_item(item, self.text, gold)
        self.view.select(d.start, d.end)
        self.view.ensureCursorVisible()

    def _on_change(self, change) -> None:
        """Any command of the stack on this document (a decision here, an undo in the main window)."""
        if change.document_id == self.document_id:
            self.adjudication.refresh()
            self.refresh()

    def reload(self) -> None:
        """Gold and the decisions changed elsewhere (another reviewer): show them as they are now."""
        self.adjudication.refresh()
        self.gold.reload_layer()
        self.refresh()

    # --- messages
    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.failed.emit(text)

    def _clear_error(self) -> None:
        self.error.hide()

    # --- decisions
    def _need_item(self) -> triage.Item | None:
        item = self.current()
        if item is None:
            self.show_error(Errors.E315)
        return item

    def _decide(self, fn, *args) -> bool:
        """Run one decision; on success go on to the next open disagreement."""
        row = self.table.currentIndex().row()
        self._clear_error()
        try:
            fn(*args)
        except AnnotatorError as e:
            if isinstance(e, ConflictError):  # another reviewer was first (E160, E037): show what they decided
                self.reload()
            self.show_error(str(e))
            return False
        self._set_editing(False)
        self.edit_hint.hide()  # the list is fresh already: the stack told `_on_change`
        self.go_next_open(row)
        self.table.setFocus()
        return True

    def take(self, i: int) -> bool:
        item = self._need_item()
        if item is None:
            return False
        if i >= len(self.annotators):
            self.show_error(Errors.E316.format(letter=letter(i), known=", ".join(
                f"{letter(k)} {a}" for k, a in enumerate(self.annotators))))
            return False
        return self._decide(self.adjudication.take, item.disagreement, self.annotators[i])

    def reject(self) -> bool:
        item = self._need_item()
        return item is not None and self._decide(self.adjudication.reject, item.disagreement)

    # --- edit: the reviewer's own gold span
    def start_edit(self) -> None:
        item = self._need_item()
        if item is None:
            return
        d = item.disagreement
        first = next((s for a in self.annotators for s in d.spans.get(a, ())), None)
        start, end = (first.start, first.end) if first is not None else (d.start, d.end)
        self.edit_label = first.label if first is not None else next(iter(self.labels), "")
        self._clear_error()
        self._set_editing(True)
        self.view.select(start, end)
        self.view.setFocus()
        self._edit_hint()

    def _edit_hint(self) -> None:
        sel = self.view.selection()
        shown = f"“{' '.join(self.text[sel[0]:sel[1]].split())}”" if sel else "(select text)"
        self.edit_hint.setText(f"Edit: {shown} {self.edit_label}. Drag in the article (snaps to tokens), "
                               "Shift+←/→ move the end, Ctrl+Shift+←/→ the start; a label's digit puts it in "
                               f"gold with that label, Enter keeps {self.edit_label}; Esc cancels.")
        self.edit_hint.show()

    def move_edge(self, edge: str, direction: int) -> None:
        sel = self.view.selection()
        if sel is None:
            return
        bounds = move_edge(self.gold.tokens, *sel, edge, direction, self.gold.text)  # the main window's rule
        if bounds is not None:
            self.view.select(*bounds)
        self._edit_hint()

    def commit_edit(self, label: str | None = None) -> bool:
        item = self._need_item()
        sel = self.view.selection()
        if item is None:
            return False
        if sel is None or not self.text[sel[0]:sel[1]].strip():
            self.show_error(Errors.E314)
            return False
        label = label or self.edit_label
        span = SpanRecord(sel[0], sel[1], label, self._edit_kb(item, sel[0], sel[1], label))
        return self._decide(self.adjudication.edit, item.disagreement, [span])

    def _edit_kb(self, item: triage.Item, start: int, end: int, label: str) -> str | None:
        """The link the edited span keeps: the one the versions with the same offsets and label share,
        else the one the linked versions with the same label share; none where they differ (Q17 against
        NIL, or against no link at the same offsets): an edit does not settle a link dispute for one
        side, A / B do."""
        spans = [s for a in self.annotators for s in item.disagreement.spans.get(a, ())]
        exact = {s.kb_id for s in spans if (s.start, s.end, s.label) == (start, end, label)}
        if exact:
            return exact.pop() if len(exact) == 1 else None
        linked = {s.kb_id for s in spans if s.label == label and s.kb_id is not None}
        return linked.pop() if len(linked) == 1 else None

    def _cancel_edit(self) -> None:
        self._set_editing(False)
        self.edit_hint.hide()

    def escape(self) -> None:
        if self.editing:
            self._cancel_edit()
            self._on_row()
            self.table.setFocus()
        else:
            self.close()

    # --- history
    def undo(self) -> None:
        self._history(self.adjudication.undo)

    def redo(self) -> None:
        self._history(self.adjudication.redo)

    def _history(self, fn) -> None:
        """Undo/redo; the disagreement it reopened (or closed) becomes current."""
        before = {triage_key(i): i.decision for i in self.model.items}
        self._clear_error()
        try:
            fn()
        except AnnotatorError as e:
            self.show_error(str(e))
            return
        for row, item in enumerate(self.model.items):  # refreshed by `_on_change` meanwhile
            if before.get(triage_key(item), item.decision) != item.decision:
                self._select(row)
                break
        self.message.emit(f"{self.undo_action.text()} is next; Ctrl+Z to undo it." if self.project.stack.can_undo
                          else "Nothing left to undo.")

    finish_question: QMessageBox | None = None

    def finish(self) -> None:
        """Gold done: with disagreements still open, a window-modal question first (Mark done anyway /
        Cancel), since gold marked done is what `export --layer gold --status done` hands on."""
        open_ = self.model.open_count()
        if not open_:
            self._finish()
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Mark gold done with open disagreements?",
                          f"{open_} disagreement{'s are' if open_ != 1 else ' is'} still open in {self.gold.name}: "
                          "nothing is decided there yet. Mark the gold version done anyway?",
                          QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("finishQuestion")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        anyway = box.addButton("&Mark done anyway", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is anyway and self._finish())
        box.finished.connect(box.deleteLater)
        box.finished.connect(lambda _r: setattr(self, "finish_question", None))
        self.finish_question = box
        box.open()

    def _finish(self) -> None:
        self._clear_error()
        try:
            self.adjudication.finish()
        except AnnotatorError as e:
            self.show_error(str(e))
            return
        self.refresh()  # the progress line says it: the main window's status bar may be out of sight
        open_ = self.model.open_count()
        self.message.emit(f"Gold version of {self.title} marked done"
                          + (f" ({open_} disagreement{'s' if open_ != 1 else ''} still open)." if open_ else "."))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.project.changes.unsubscribe(self._on_change)
        self.gold.close()
        super().closeEvent(event)


def triage_key(item: triage.Item) -> tuple[int, int, str]:
    return item.disagreement.start, item.disagreement.end, item.disagreement.kind
