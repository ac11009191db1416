"""Every command of the window as a QAction with its shortcut, and the menus that list them all.

Span keys (digits, Tab, Delete, Enter, Shift+arrows) are bound to the article and the span list only
(WidgetWithChildrenShortcut), so typing in the filter box still types. Undo/Redo read their text from
the core command stack ("Undo relabel as ORG"). The caret keys (CARET_KEYS) belong to the article only;
Help → Keyboard shortcuts (qt_help) lists every action from the actions themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget

from annotator.core.editing.label_commands import SchemeChange
from annotator.ui.qt_label_picker import QtLabelPicker
from annotator.ui.qt_label_scheme import QtLabelSchemeDialog
from annotator.ui.qt_settings import recent_projects

Local = Qt.ShortcutContext.WidgetWithChildrenShortcut

# (attribute, menu text, shortcuts, status tip): the keyboard scheme in one place
ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)  # either Enter key confirms

EDIT_KEYS = [
    ("delete", "&Delete span", ["Delete", "Backspace"], "Remove the selected span"),
    ("accept", "&Accept suggestion", ["Return", "Enter"],
     "Accept the suggestion as it is and go to the next unchecked span"),
    ("end_right", "Extend end by a token", ["Shift+Right"], "Move the span's end one token right"),
    ("end_left", "Shrink end by a token", ["Shift+Left"], "Move the span's end one token left"),
    ("start_left", "Extend start by a token", ["Ctrl+Shift+Left"], "Move the span's start one token left"),
    ("start_right", "Shrink start by a token", ["Ctrl+Shift+Right"], "Move the span's start one token right"),
]
# With no span current (after Escape, or a click on plain text) the same Shift+arrows select from the
# caret instead: each pair is enabled only when the other is not, so a key never has two meanings at once.
CARET_KEYS = [
    ("select_right", "Select a token further right", ["Shift+Right", "Ctrl+Shift+Right"],
     "No span current: extend the selection to the end of the next token"),
    ("select_left", "Select a token further left", ["Shift+Left", "Ctrl+Shift+Left"],
     "No span current: extend the selection to the start of the previous token"),
    ("select_char_right", "Select a character further right", ["Alt+Shift+Right"],
     "No span current: extend the selection by one character"),
    ("select_char_left", "Select a character further left", ["Alt+Shift+Left"],
     "No span current: extend the selection by one character to the left"),
    ("escape", "Leave the span", ["Escape"], "No span current: Shift+arrows select from the caret (again: "
     "drop the selection)"),
    ("doc_start", "Start of &article", ["Ctrl+Home"], "Caret to the start of the document"),
    ("doc_end", "End of a&rticle", ["Ctrl+End"], "Caret to the end of the document"),
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
        self.import_kb = make_action(w, "Import &knowledge base…", ["Ctrl+Shift+K"], w.import_kb_dialog,
                                     "Add entities from a JSONL or CSV file; mentions whose text is one of "
                                     "their aliases get a suggested link")
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
        self.accept_all = make_action(w, "Accept a&ll remaining suggestions", ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
                                      w.done_flow.accept_all, "Accept every suggestion left in the document, each as "
                                      "Enter would (one edit: Ctrl+Z brings them all back)")
        self.accept_all_label = make_action(w, "Accept all remaining of the current span's label",
                                            ["Ctrl+Alt+Shift+Return", "Ctrl+Alt+Shift+Enter"],
                                            lambda: w.done_flow.accept_all(current_label=True),
                                            "Accept every suggestion left in the document with the current span's "
                                            "label (one edit)")
        self.mark_done = make_action(w, "&Mark document done", ["Ctrl+Return", "Ctrl+Enter"], w.done_flow.toggle,
                                     "Mark the document done (again to reopen it)")
        self.mark_done.setCheckable(True)
        self.search = make_action(w, "&Search the corpus…", ["Ctrl+Shift+F"], w.search_panel.present,
                                  "Find text, a regex or spans in every document; label all the matches")
        self.find = make_action(w, "&Filter documents…", ["Ctrl+F"], w.focus_filter, "Filter the document list")
        self.entity_view = make_action(w, "&Entity view…", ["Ctrl+Shift+E"], w.show_entity_view,
                                       "Every mention of the current span's entity across the corpus; browse, "
                                       "edit and merge entities")
        self._add_workday_actions(w, view)
        self.layer = make_action(w, "Show &layer…", ["Ctrl+Shift+L"], w.choose_layer,
                                 "View another layer read-only (the Layer box in the status bar)")
        self._add_team_actions(w)
        self.labels: dict[str, QAction] = {}
        self._add_label_actions(w, view)
        self.build_menus()
        m.currentChanged.connect(self.update_span)
        m.spansChanged.connect(self.update_span)
        m.stackChanged.connect(self.update_stack)
        m.opened.connect(self.update)
        m.opened.connect(self.update_counts)
        m.spansChanged.connect(self.update_counts)
        m.loaded.connect(self.update_counts)  # a long document's spans past its first screen
        m.project.changes.subscribe(self._on_scheme, SchemeChange)
        self.update()

    def _add_label_actions(self, w: QMainWindow, view) -> None:
        """The quick label picker (every visible label, digit or not) and the label scheme dialog."""
        self.picker = QtLabelPicker(w, view.apply_label)
        self.pick_label = self._local(make_action(w, "&Quick label…", ["Ctrl+L"], self.show_picker,
                                                  "Type part of a label's name, Enter applies it (every "
                                                  "label, with or without a digit)", Local))
        self.scheme_dialog: QtLabelSchemeDialog | None = None
        self.edit_scheme = make_action(w, "&Edit label scheme…", ["Ctrl+Alt+L"], self.show_scheme_dialog,
                                       "Add, rename, recolour, key or hide labels (every layer follows)")

    def show_picker(self) -> QtLabelPicker:
        view = self.window.view
        rect = view.cursorRect()
        self.picker.present(self.window.model.labels.values(), view.viewport().mapToGlobal(
            QPoint(rect.left(), rect.bottom() + 4)))
        return self.picker

    def show_scheme_dialog(self) -> QtLabelSchemeDialog:
        if self.scheme_dialog is None:
            self.scheme_dialog = QtLabelSchemeDialog(self.window, self.window.model.project)
        self.scheme_dialog.load()
        self.scheme_dialog.show()
        return self.scheme_dialog

    def _on_scheme(self, _change: SchemeChange) -> None:
        """The scheme changed (here, or undone): chips, keys and menus follow; the open document is
        read again, its spans may carry other labels now."""
        self.window.reload_labels()
        model = self.window.model
        if model.doc_id is not None:
            model.open(model.doc_id)
        if self.scheme_dialog is not None and self.scheme_dialog.isVisible():
            self.scheme_dialog.load()

    def update_counts(self, *_args) -> None:
        """The label bar counts each label's spans in the open document: a legend of what is there."""
        model = self.window.model
        counts: dict[str, int] = {}
        if model.doc_id is not None:
            for span in model.spans.values():
                counts[span.label] = counts.get(span.label, 0) + 1
        self.window.labels.set_counts(counts)

    def _add_workday_actions(self, w: QMainWindow, view) -> None:
        """The caret keys (article only), zoom, projects, preferences and help."""
        slots = {"select_right": lambda: view.extend_selection(+1), "select_left": lambda: view.extend_selection(-1),
                 "select_char_right": lambda: view.extend_selection(+1, by_token=False),
                 "select_char_left": lambda: view.extend_selection(-1, by_token=False),
                 "escape": view.escape, "doc_start": lambda: view.go_to(end=False),
                 "doc_end": lambda: view.go_to(end=True)}
        for name, text, keys, tip in CARET_KEYS:
            action = make_action(w, text, keys, slots[name], tip, Local)
            view.addAction(action)
            setattr(self, name, action)
        self.zoom_in = make_action(w, "Zoom &in", ["Ctrl++", "Ctrl+="], lambda: view.zoom(+1),
                                   "A bigger article font (kept for next time)")
        self.zoom_out = make_action(w, "Zoom &out", ["Ctrl+-"], lambda: view.zoom(-1), "A smaller article font")
        self.zoom_reset = make_action(w, "&Actual size", ["Ctrl+0"], lambda: view.zoom(None),
                                      "The article font at its preferred size")
        self.new_project = make_action(w, "&New project…", ["Ctrl+Alt+N"], w.new_project_dialog,
                                       "Create an empty project file and open it in this window")
        self.open_project = make_action(w, "Open &project…", ["Ctrl+Alt+O"], w.open_project_dialog,
                                        "Open another project file in this window")
        self.preferences = make_action(w, "Pre&ferences…", ["Ctrl+,"], w.preferences_dialog,
                                       "Article font and size; light, dark or the system's theme")
        self.shortcuts = make_action(w, "&Keyboard shortcuts", ["F1"], w.show_shortcuts,
                                     "Every command of the window with its keys")

    def _add_workday_menus(self, bar) -> None:
        menus = {a.text(): a.menu() for a in bar.actions() if a.menu() is not None}
        file, edit = menus["&File"], menus["&Edit"]
        first = file.actions()[0] if file.actions() else None
        file.insertActions(first, [self.new_project, self.open_project])
        self.recent_menu = QMenu("&Recent projects", file)  # filled when shown: always the current list
        self.recent_menu.aboutToShow.connect(self.fill_recent)
        file.insertMenu(first, self.recent_menu)
        file.insertSeparator(first)
        edit.addSeparator()
        edit.addAction(self.preferences)
        view = bar.addMenu("&View")
        view.addActions([self.zoom_in, self.zoom_out, self.zoom_reset])
        view.addSeparator()
        view.addActions([self.doc_start, self.doc_end, self.escape])
        view.addSeparator()
        view.addActions([self.select_right, self.select_left, self.select_char_right, self.select_char_left])
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts)

    def fill_recent(self) -> None:
        """One entry per stored recent project (the open one first, disabled)."""
        self.recent_menu.clear()
        here = self.window.project.store.path
        for path in recent_projects():
            action = self.recent_menu.addAction(path)
            action.setEnabled(here is None or Path(path) != here)
            action.triggered.connect(lambda _checked=False, p=path: self.window.switch_project(p))
        if not self.recent_menu.actions():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _local(self, action: QAction) -> QAction:
        for widget in self.span_widgets:
            widget.addAction(action)
        return action

    def build_menus(self) -> None:
        bar = self.window.menuBar()
        bar.clear()
        file = bar.addMenu("&File")
        file.addActions([self.import_files, self.import_folder, self.import_kb])
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
        edit.addActions([self.accept_all, self.accept_all_label])
        self.accept_label_menu = edit.addMenu("Accept all remaining of &label")
        self.accept_label_menu.aboutToShow.connect(self.fill_accept_label_menu)
        edit.addSeparator()
        edit.addActions([self.end_right, self.end_left, self.start_left, self.start_right])
        edit.addSeparator()
        edit.addAction(self.search)
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
        self._add_workday_menus(bar)
        self._add_team_menus(bar)

    def _add_team_actions(self, w: QMainWindow) -> None:
        """Guidelines, progress and history (qt_guidelines, qt_progress, qt_history)."""
        self.guidelines = make_action(w, "&Guidelines…", ["Ctrl+Shift+G"], w.show_guidelines,
                                      "The project's annotation guidelines, beside the article")
        self.guidelines_label = make_action(w, "Guidelines for this &label", ["Shift+F1"], w.guidelines_for_label,
                                            "The guidelines' section on the current span's label")
        self.progress = make_action(w, "&Progress…", ["Ctrl+Shift+D"], w.show_progress,
                                    "Documents done, spans checked, time spent and suggestions corrected, "
                                    "per person and per day, with a chart")
        self.history = make_action(w, "&History…", ["Ctrl+Shift+H"], w.show_history,
                                   "Who changed what, when; revert your edits of this document to a point")

    def _add_team_menus(self, bar) -> None:
        menus = {a.text(): a.menu() for a in bar.actions() if a.menu() is not None}
        file = menus["&File"]
        file.insertAction(self.export, self.guidelines)
        menus["&Review"].addSeparator()
        menus["&Review"].addActions([self.progress, self.history])
        menus["&Help"].addAction(self.guidelines_label)

    def set_labels(self, labels) -> None:
        """One action per label: its digit key applies it to the selection or the current span."""
        for action in self.labels.values():
            for widget in self.span_widgets:
                widget.removeAction(action)
            action.deleteLater()
        self.labels_menu.clear()
        self.labels = {}
        view = self.window.view
        for info in (i for i in labels if not i.hidden):  # hidden: not offered for new spans
            keys = [info.shortcut, f"Num+{info.shortcut}"] if info.shortcut else []
            text = f"&{info.shortcut}  {info.name}" if info.shortcut else info.name
            tip = f"Label as {info.name}: {info.description}".rstrip(": ")
            action = self._local(make_action(self.window, text, keys, lambda n=info.name: view.apply_label(n),
                                             tip, Local))
            action.setIconText(f"{info.shortcut}  {info.name}" if info.shortcut else info.name)
            self.labels[info.name] = action
            self.labels_menu.addAction(action)
        self.labels_menu.addSeparator()
        self.labels_menu.addActions([self.pick_label, self.edit_scheme])

    def fill_accept_label_menu(self) -> None:
        """The labels that still have suggestions in the open document, each with how many."""
        menu = self.accept_label_menu
        menu.clear()
        left = self.window.model.suggested_labels()
        for label, n in left.items():
            action = menu.addAction(f"{label} ({n})")
            action.setObjectName(f"acceptAll:{label}")
            action.triggered.connect(lambda _checked=False, name=label: self.window.done_flow.accept_all(name))
        if not left:
            menu.addAction("No suggestions left").setEnabled(False)

    def update(self, *_args) -> None:
        self.update_stack()
        self.update_span()
        is_open = self.window.model.doc_id is not None
        for action in (self.next_span, self.prev_span):
            action.setEnabled(is_open)
        editable = is_open and self.window.model.viewing is None  # another layer is shown read-only
        for action in (self.mark_done, self.pick_label, *self.labels.values()):
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
        model = self.window.model
        caret = span is None and model.doc_id is not None
        for action in (self.select_right, self.select_left, self.select_char_right, self.select_char_left):
            action.setEnabled(caret)
        # Enter also moves on from a checked span to the next suggestion, while one is left (without a
        # current span it is off: Tab picks the first, and a dialog's Return is never taken)
        self.accept.setEnabled(span is not None and model.suggested > 0 and editable)
        left = model.doc_id is not None and model.suggested > 0 and editable
        self.accept_all.setEnabled(left)
        self.accept_all_label.setEnabled(left and span is not None)
        self.accept_label_menu.setEnabled(left)

    def set_done(self, done: bool) -> None:
        self.mark_done.setChecked(done)
