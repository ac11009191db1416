"""Done means checked: Ctrl+Enter marks the open document done, or back to work; with suggestions
nobody checked it asks first. Bulk accept (Ctrl+Shift+Enter, or of one label) lives here too: it is
"Accept the rest" of that question, and the same edit from the menu."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox

from annotator.errors import Errors


class QtDoneFlow(QObject):
    """Marking done, and accepting what is left, for a QtMainWindow."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window_ = window
        self.question: QMessageBox | None = None  # open while it asks

    def toggle(self) -> None:
        """Ctrl+Enter: done, or back to work. Done with suggestions nobody checked asks first (`ask`)."""
        w = self.window_
        if w.model.doc_id is None:
            return
        if w.model.status() != "done" and w.model.suggested:
            w.menu_actions.set_done(False)  # the check item follows the answer, not the click
            self.ask()
            return
        w.model.set_status("in_progress" if w.model.status() == "done" else "done")
        w.menu_actions.set_done(w.model.status() == "done")

    def ask(self) -> None:
        """Done means checked: with suggestions left, a window-modal question. "Accept the rest" runs the
        bulk accept, then marks done (two edits: Ctrl+Z reopens, again brings the suggestions back);
        "Leave them out" marks done and they stay unchecked suggestions (not annotated: exporting.py); Cancel
        changes nothing."""
        w = self.window_
        doc_id, n = w.model.doc_id, w.model.suggested
        plural = "s" if n != 1 else ""
        box = QMessageBox(QMessageBox.Icon.Question, "Mark done with unchecked suggestions?",
                          f"'{w.model.title or w.model.name}' still has {n} suggestion{plural} of the model "
                          f"that nobody checked.\n\nAccept the rest: accept {'them all' if n != 1 else 'it'} as "
                          "Enter would (one edit), then mark the document done.\nLeave them out: mark it done; "
                          f"{'they stay' if n != 1 else 'it stays'} an unchecked suggestion{plural}, neither an "
                          "entity nor a non-entity in exports and training (their words: not annotated).\n"
                          "Cancel: keep working on it.", QMessageBox.StandardButton.Cancel, w)
        box.setObjectName("doneQuestion")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        accept = box.addButton("&Accept the rest", QMessageBox.ButtonRole.AcceptRole)
        leave = box.addButton("&Leave them out", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # a second Enter does nothing in bulk
        box.buttonClicked.connect(lambda button: self._answer(doc_id, "accept" if button is accept else
                                                              "leave" if button is leave else ""))
        box.finished.connect(box.deleteLater)
        box.finished.connect(lambda _r: setattr(self, "question", None))
        self.question = box
        box.open()

    def _answer(self, doc_id: int, answer: str) -> None:
        w = self.window_
        if not answer or doc_id != w.model.doc_id:
            return
        accepted = w.model.accept_all() if answer == "accept" else 0
        if accepted is None:  # refused (the server is away, a conflict): the status bar says why
            return
        left = w.model.suggested
        w.model.set_status("done")
        w.menu_actions.set_done(w.model.status() == "done")
        if w.model.status() == "done":
            w.show_message(f"Accepted {accepted} suggestion{'s' if accepted != 1 else ''} and marked the "
                           "document done; Ctrl+Z reopens it, again brings the suggestions back." if accepted
                           else f"Marked done; {left} suggestion{'s' if left != 1 else ''} left unchecked.",
                           about_document=True)

    def accept_all(self, label: str | None = None, current_label: bool = False) -> int | None:
        """Accept every suggestion left in the open document (of `label`, or of the current span's label)."""
        w = self.window_
        if current_label:
            span = w.model.current_span()
            if span is None:
                w.show_error(Errors.E301)
                return None
            label = span.label
        accepted = w.model.accept_all(label)
        if accepted:
            of = f"{label} " if label else ""
            w.show_message(f"Accepted {accepted} {of}suggestion{'s' if accepted != 1 else ''}; "
                           f"Ctrl+Z brings {'them all' if accepted != 1 else 'it'} back.", about_document=True)
        return accepted
