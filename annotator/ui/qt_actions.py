"""Every command of the window as a QAction with its shortcut, and the menus that list them all.

Span keys (digits, Tab, Delete, Enter, Shift+arrows) are bound to the article and the span list only
(WidgetWithChildrenShortcut), so typing in the filter box still types. Undo/Redo read their text from
the core command stack ("Undo relabel as ORG").
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

Local = Qt.ShortcutContext.WidgetWithChildrenShortcut

# (attribute, menu text, shortcuts, status tip): the keyboard scheme in one place
EDIT_KEYS = [
    ("delete", "&Delete span", ["Delete", "Backspace"], "Remove the selected span"),
    ("accept", "&Accept suggestion", ["Return", "Enter"],
     "Accept the suggestion as it is and go to the next unchecked span"),
    ("end_right", "Extend end by a token", ["Shift+Right"], "Move the span's end one token right"),
    ("end_left", "Shrink end by a token", ["Shift+Left"], "Move the span's end one token left"),
    ("start_left", "Extend start by a token", ["Ctrl+Shift+Left"], "Move the span's start one token left"),
    ("start_right", "Shrink start by a token", ["Ctrl+Shift+Right"], "Move the span's start one token right"),
]
NAV_KEYS = [
    ("next_span", "&Next span", ["Tab"], "Select the next span"),
    ("prev_span", "&Previous span", ["Shift+Tab"], "Select the previous span"),
]


def make_action(parent: QObject, text: str, keys: list[str], slot: Callable, tip: str = "",
                context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut) -> QAction:
    action = QAction(text, parent)
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.setShortcutContext(context)
    action.setStatusTip(tip)
    action.setToolTip(f"{tip} ({keys[0]})" if tip and keys else tip or text.replace("&", ""))
    action.triggered.connect(lambda _checked=False: slot())
    return action


class QtActions(QObject):
    """Builds the actions and menus of a QtMainWindow and keeps their state in step with the model."""

    def __init__(self, window: QMainWindow, span_widgets: list[QWidget]):
        super().__init__(window)
        self.window = window
        self.span_widgets = span_widgets
        w, m, view = window, window.model, window.view
        self.import_files = make_action(w, "&Import files…", ["Ctrl+O"], w.import_files_dialog,
                                        "Import .txt or .jsonl files")
        self.import_folder = make_action(w, "Import &folder…", ["Ctrl+Shift+O"], w.import_folder_dialog,
                                         "Import every .txt and .jsonl file of a folder")
        self.merge = make_action(w, "&Merge project…", ["Ctrl+Shift+M"], w.review.merge_dialog,
                                 "Bring a colleague's project file in: their layers, documents, entities, history")
        self.export = make_action(w, "&Export…", ["Ctrl+E"], w.export_dialog,
                                  "Export a layer's annotations (jsonl, spacy, brat, conll, …)")
        self.quit = make_action(w, "&Quit", ["Ctrl+Q"], w.close, "Close the window; every edit is already saved")
        self.agreement = make_action(w, "&Agreement…", ["Ctrl+Shift+A"], w.review.show_agreement,
                                     "Agreement between annotators, with their disagreements (reviewers)")
        self.adjudicate = make_action(w, "A&djudicate document…", ["Ctrl+Shift+J"], lambda: w.review.adjudicate(),
                                      "Decide the gold version of the open document (reviewers)")
        self.provenance = make_action(w, "Model &provenance…", ["Ctrl+Shift+R"], w.review.show_provenance,
                                      "How analysts changed the model's suggestions, per label")
        self.undo = make_action(w, "&Undo", ["Ctrl+Z"], m.undo, "Undo the last edit")
        self.redo = make_action(w, "&Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], m.redo, "Redo the last undone edit")
        slots = {"delete": m.delete, "accept": m.accept_and_next,
                 "end_right": lambda: m.move_edge("end", +1), "end_left": lambda: m.move_edge("end", -1),
                 "start_left": lambda: m.move_edge("start", -1), "start_right": lambda: m.move_edge("start", +1),
                 "next_span": lambda: view.step(+1), "prev_span": lambda: view.step(-1)}
        for name, text, keys, tip in EDIT_KEYS + NAV_KEYS:
            setattr(self, name, self._local(make_action(w, text, keys, slots[name], tip, Local)))
        self.next_doc = make_action(w, "Next &document", ["Ctrl+PgDown"], lambda: w.step_document(+1),
                                    "Open the next document of the list")
        self.prev_doc = make_action(w, "Previous d&ocument", ["Ctrl+PgUp"], lambda: w.step_document(-1),
                                    "Open the previous document of the list")
        self.mark_done = make_action(w, "&Mark document done", ["Ctrl+Return", "Ctrl+Enter"], w.toggle_done,
                                     "Mark the document done (again to reopen it)")
        self.mark_done.setCheckable(True)
        self.find = make_action(w, "&Filter documents…", ["Ctrl+F"], w.focus_filter, "Filter the document list")
        self.entity_view = make_action(w, "&Entity view…", ["Ctrl+Shift+E"], w.show_entity_view,
                                       "Every mention of the current span's entity across the corpus; browse, "
                                       "edit and merge entities")
        self.layer = make_action(w, "Show &layer…", ["Ctrl+Shift+L"], w.choose_layer,
                                 "View another layer read-only (the Layer box in the status bar)")
        self.labels: dict[str, QAction] = {}
        self.build_menus()
        m.currentChanged.connect(self.update_span)
        m.spansChanged.connect(self.update_span)
        m.stackChanged.connect(self.update_stack)
        m.opened.connect(self.update)
        self.update()

    def _local(self, action: QAction) -> QAction:
        for widget in self.span_widgets:
            widget.addAction(action)
        return action

    def build_menus(self) -> None:
        bar = self.window.menuBar()
        bar.clear()
        file = bar.addMenu("&File")
        file.addActions([self.import_files, self.import_folder])
        file.addAction(self.merge)
        file.addSeparator()
        file.addAction(self.export)
        file.addSeparator()
        file.addAction(self.quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo, self.redo])
        edit.addSeparator()
        edit.addActions([self.delete, self.accept])
        edit.addSeparator()
        edit.addActions([self.end_right, self.end_left, self.start_left, self.start_right])
        nav = bar.addMenu("&Navigate")
        nav.addActions([self.next_span, self.prev_span])
        nav.addSeparator()
        nav.addActions([self.next_doc, self.prev_doc, self.find])
        nav.addSeparator()
        nav.addAction(self.entity_view)
        nav.addAction(self.layer)
        nav.addSeparator()
        nav.addAction(self.mark_done)
        self.labels_menu = bar.addMenu("&Labels")
        self.set_labels(self.window.model.labels.values())
        review = bar.addMenu("&Review")
        review.addActions([self.agreement, self.adjudicate])
        review.addSeparator()
        review.addAction(self.provenance)

    def set_labels(self, labels) -> None:
        """One action per label: its digit key applies it to the selection or the current span."""
        for action in self.labels.values():
            for widget in self.span_widgets:
                widget.removeAction(action)
            action.deleteLater()
        self.labels_menu.clear()
        self.labels = {}
        view = self.window.view
        for info in labels:
            keys = [info.shortcut, f"Num+{info.shortcut}"] if info.shortcut else []
            text = f"&{info.shortcut}  {info.name}" if info.shortcut else info.name
            tip = f"Label as {info.name}: {info.description}".rstrip(": ")
            action = self._local(make_action(self.window, text, keys, lambda n=info.name: view.apply_label(n),
                                             tip, Local))
            action.setIconText(f"{info.shortcut}  {info.name}" if info.shortcut else info.name)
            self.labels[info.name] = action
            self.labels_menu.addAction(action)

    def update(self, *_args) -> None:
        self.update_stack()
        self.update_span()
        is_open = self.window.model.doc_id is not None
        for action in (self.next_span, self.prev_span):
            action.setEnabled(is_open)
        editable = is_open and self.window.model.viewing is None  # another layer is shown read-only
        for action in (self.mark_done, *self.labels.values()):
            action.setEnabled(editable)

    def update_stack(self) -> None:
        stack = self.window.model.project.stack
        self.undo.setEnabled(stack.can_undo)
        self.undo.setText(f"&Undo {stack.undo_text}" if stack.can_undo else "&Undo")
        self.redo.setEnabled(stack.can_redo)
        self.redo.setText(f"&Redo {stack.redo_text}" if stack.can_redo else "&Redo")

    def update_span(self, *_args) -> None:
        span = self.window.model.current_span()
        editable = self.window.model.viewing is None
        for action in (self.delete, self.end_right, self.end_left, self.start_left, self.start_right):
            action.setEnabled(span is not None and editable)
        # Enter also moves on from a checked span to the next suggestion, while one is left (without a
        # current span it is off: Tab picks the first, and a dialog's Return is never taken)
        model = self.window.model
        self.accept.setEnabled(span is not None and model.suggested > 0 and editable)

    def set_done(self, done: bool) -> None:
        self.mark_done.setChecked(done)
