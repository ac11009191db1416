"""The link panel's referent-note field: what the current span's mention refers to when it is not the
entity's literal type (metonymy: "Seoul" meaning the government). Always there, usable for a linked
span (or one that has a note); the note is saved when editing finishes (Enter, leaving the field,
moving to another span), and Escape puts back the saved one. The panel makes the edit."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit

from annotator.ui.qt_actions import ENTER


class QtReferentNote(QLineEdit):
    saveRequested = Signal(int, str)  # the span, its note as typed (changed since saved)
    done = Signal()  # Enter or Escape: the article may take the focus back

    def __init__(self):
        super().__init__()
        self.setObjectName("referentNote")
        self.setToolTip("What the mention refers to here, when it is not the entity's literal type "
                        "(metonymy). Saved when you press Enter or leave the field; Ctrl+Z undoes it.")
        self.span_id: int | None = None  # the span the field belongs to
        self.saved = ""  # its note in the database
        self.editingFinished.connect(self.save)

    def show_for(self, span_id: int | None, link, linked: bool) -> None:
        """The note of `span_id` (its `link`, from Project.span_link); what is being typed for that
        same span stays."""
        note = link.referent_note if link is not None else ""
        usable = span_id is not None and (linked or bool(note))
        typing = self.hasFocus() and self.isModified() and span_id == self.span_id
        self.span_id = span_id if usable else None
        self.saved = note or ""
        if not typing:
            self.setText(self.saved)
        self.setEnabled(usable)
        self.setPlaceholderText("optional note, e.g. “the government” for “Seoul”" if usable else
                                "a note once the span is linked")

    def save(self) -> None:
        """Ask for the note as typed to be saved, if it changed (one undoable command)."""
        if self.span_id is None:
            return
        text = self.text().strip()
        if text != self.saved:
            self.saved = text
            self.saveRequested.emit(self.span_id, text)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if event.key() in ENTER:
            self.save()
            self.done.emit()
        elif event.key() == Qt.Key.Key_Escape:
            self.setText(self.saved)
            self.done.emit()
        else:
            super().keyPressEvent(event)
