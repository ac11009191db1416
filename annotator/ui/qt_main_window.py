"""The main window: documents on the left, the article in the centre, the span panel on the right.

It wires the widgets to one QtDocumentModel and keeps the status bar (user, saved state, progress)
up to date. Long work runs in threads: imports in a QtImporter (what the window does around one is the
QtWindowImports mixin, qt_window_import), exports (File → Export…) in a QtExporter.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from annotator.core.activity import Activity
from annotator.core.project import Project
from annotator.core.words import plural
from annotator.errors import AnnotatorError, Errors, is_machine_failure
from annotator.ui.qt_actions import QtActions
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_done import QtDoneFlow
from annotator.ui.qt_files import Mode, choose
from annotator.ui.qt_guidelines import QtGuidelinesPane
from annotator.ui.qt_help import QtShortcutsDialog
from annotator.ui.qt_history import QtHistoryPanel
from annotator.ui.qt_import import QtImporter
from annotator.ui.qt_model import QtModelTools
from annotator.ui.qt_preferences import DARK_PALETTE, DARK_QSS, LIGHT_PALETTE, QtPreferencesDialog, is_dark
from annotator.ui.qt_progress import QtProgressDialog
from annotator.ui.qt_review import QtReview
from annotator.ui.qt_search import QtSearchPanel
from annotator.ui.qt_settings import restore_layout, save_layout
from annotator.ui.qt_watcher import QtWatcher
from annotator.ui.qt_window_build import build_centre, build_status_bar
from annotator.ui.qt_window_import import IMPORT_FAILED, QtWindowImports

if TYPE_CHECKING:  # type names only: the entity view (and numpy) loads when first opened
    from annotator.ui.qt_entity_view import QtEntityView

MESSAGE_MS = 10_000
EXPORT_FAILED = "Export failed"  # the failure dialog's title
PROJECT_SUFFIXES = "Projects (*.db *.sqlite *.annotator);;All files (*)"


class QtMainWindow(QtWindowImports, QMainWindow):
    projectRequested = Signal(str)  # File → New/Open/Recent project: qt_app opens it in a new window

    def __init__(self, project: Project, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = project
        self.model = QtDocumentModel(project, self)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.setMinimumSize(900, 560)

        build_centre(self)  # qt_window_build: documents, view, labels, panel, link_panel and their splitters

        self.review = QtReview(self)  # agreement, adjudication, provenance, merging
        self.search_panel = QtSearchPanel(self.model, self)  # Ctrl+Shift+F; hidden until asked for
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.search_panel)
        self.search_panel.hide()
        self.search_panel.openHit.connect(self.show_hit)
        self.search_panel.failed.connect(self.show_error)
        self.guidelines_pane = QtGuidelinesPane(self)  # File → Guidelines…, hidden until asked for
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.guidelines_pane)
        self.guidelines_pane.hide()
        self.history_panel = QtHistoryPanel(self.model, self)  # Review → History…
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.history_panel)
        self.history_panel.hide()
        self.done_flow = QtDoneFlow(self)  # Ctrl+Enter, the question when suggestions are left, bulk accept
        self.menu_actions = QtActions(self, [self.view, self.panel.table])
        self.labels.set_labels(self.model.labels.values(), self.menu_actions.labels)
        self.panel.add_buttons(self.menu_actions.accept, self.menu_actions.delete)
        self.link_panel.add_menu(self, self.menuBar())
        self.model_tools = QtModelTools(self)  # Model menu, Navigate → Next uncertain document
        self.link_panel.finished.connect(self.view.setFocus)
        self.link_panel.failed.connect(self.show_error)
        self.link_panel.entityRequested.connect(self.show_entity_view)
        self.entity_view: QtEntityView | None = None  # made when first asked for
        self.importer = QtImporter(self)
        self.model.hold_while(self.importer)
        self.watcher = QtWatcher(project, self)  # changes by others; the server coming and going
        build_status_bar(self)  # import_progress, offline_label, progress_label, saved_label, layer_box, user_label

        self.documents.activated.connect(self.open_document)
        self.model.opened.connect(self._on_opened)
        self.model.stateChanged.connect(self._on_state)
        self.touched = QTimer(self)  # one refresh of the list for an edit that touched many documents
        self.touched.setSingleShot(True)
        self.touched.setInterval(0)
        self.touched.timeout.connect(self.refresh_documents)
        self.model.documentTouched.connect(lambda _doc: self.touched.start())
        self.model.spansChanged.connect(self._on_spans)
        self.model.saved.connect(self._on_saved)
        self.model.failed.connect(self.show_error)
        self.model.notice.connect(self.show_message)
        self.importer.finished.connect(self._on_imported)
        self.importer.failed.connect(lambda message: self.show_job_failure(message, IMPORT_FAILED))
        self.importer.cancelled.connect(lambda: self.show_message("Import cancelled; nothing was imported."))
        project.changes.subscribe(self._on_activity, Activity)
        self.watcher.connection.connect(self._on_connection)
        self.model.connectionLost.connect(lambda message: self.watcher.set_online(False, message))
        self._update_title()

    qss = ""

    def apply_style(self, qss: str | None = None) -> None:
        """Colours from the palette (light or dark: Preferences); the style sheet only where nothing
        repaints on every edit."""
        self.qss = self.qss if qss is None else qss
        dark = is_dark()
        palette = self.palette()
        for role, colour in (DARK_PALETTE if dark else LIGHT_PALETTE).items():
            palette.setColor(role, QColor(colour))
        self.setPalette(palette)
        styled = [self.labels, self.statusBar(), self.panel.heading, self.documents.heading]
        for widget in styled:
            widget.setStyleSheet(self.qss + (DARK_QSS if dark else ""))

    # --- projects, preferences, help (File, Edit and Help menus)
    def new_project_dialog(self) -> None:
        for path in choose(self, "New project", "", PROJECT_SUFFIXES, mode=Mode.AnyFile, save=True):
            self.switch_project(path)

    def open_project_dialog(self) -> None:
        for path in choose(self, "Open project", "", PROJECT_SUFFIXES):
            self.switch_project(path)

    def switch_project(self, db: str) -> None:
        self.projectRequested.emit(db)

    _preferences: QtPreferencesDialog | None = None
    _shortcuts: QtShortcutsDialog | None = None

    def preferences_dialog(self) -> QtPreferencesDialog:
        if self._preferences is None:
            self._preferences = QtPreferencesDialog(self)
            self._preferences.changed.connect(self.apply_preferences)
        self._preferences.load()
        self._preferences.show()
        return self._preferences

    def apply_preferences(self) -> None:
        self.apply_style()
        self.view.apply_font()

    def show_shortcuts(self) -> QtShortcutsDialog:
        if self._shortcuts is None:
            self._shortcuts = QtShortcutsDialog(self)
        self._shortcuts.present()
        return self._shortcuts

    # --- documents
    def refresh_documents(self) -> None:
        self.documents.refresh()
        self._update_progress()

    def open_document(self, document_id: int) -> None:
        if document_id != self.model.doc_id:
            try:
                self.model.open(document_id)
            except AnnotatorError as e:  # the server is away: the open document stays
                self.model.after_error(e)
                self.show_error(str(e))

    def open_document_named(self, name: str) -> None:
        found = self.project.document_ids([name]).get(name)
        if found is None:
            first = self.project.documents(limit=20)  # a hint, not the whole list of a big project
            known = ", ".join(d.name for d in first) + (", …" if len(first) == 20 else "") or "none"
            raise AnnotatorError(Errors.E033.format(name=name, known=known))
        self.open_document(found)

    def step_document(self, direction: int) -> None:
        target = self.documents.neighbour(self.model.doc_id, direction)
        if target is not None:
            self.open_document(target)

    def choose_layer(self) -> None:
        """Ctrl+Shift+L: the layer switcher, open."""
        self.layer_box.choose()

    # --- the entity view
    def show_entity_view(self, entity_id: int | None = None) -> QtEntityView:
        """Open the entity view on `entity_id`, else on the current span's entity, else as it was."""
        if entity_id is None:
            span = self.model.current_span()
            entity_id = span.entity_id if span is not None else None
        if self.entity_view is None:
            from annotator.ui.qt_entity_view import QtEntityView  # imported when first opened: launch does not wait

            self.entity_view = QtEntityView(self.model, self)
            self.entity_view.openMention.connect(self.show_mention)
        self.entity_view.present(entity_id)
        return self.entity_view

    def show_mention(self, document_id: int, span_id: int, start: int, end: int) -> None:
        """A mention picked in the entity view: its document open here, the span current."""
        self.open_document(document_id)
        self.model.set_current(span_id)
        if self.model.current != span_id:  # a colleague's layer (reviewers see them): show where it is
            self.model.set_current(None)
            self.view.select(start, end)
            self.view.ensureCursorVisible()
            self.show_message("That mention is in another annotator's layer; its text is selected.")
        self.raise_()
        self.activateWindow()
        self.view.setFocus()

    # --- guidelines, progress, history
    def show_guidelines(self) -> QtGuidelinesPane:
        self.guidelines_pane.load(self.project.guidelines())
        self.guidelines_pane.present()
        return self.guidelines_pane

    def guidelines_for_label(self) -> bool:
        """The guidelines open at the current span's label (or the label last chosen)."""
        span = self.model.current_span()
        pane = self.show_guidelines()
        if span is None:
            self.show_message("Put the cursor on a span to read its label's guidelines.")
            return False
        if not pane.show_label(span.label):
            self.show_message(f"The guidelines have no section named {span.label}.")
            return False
        return True

    def show_progress(self) -> QtProgressDialog:
        dialog = QtProgressDialog(self.project, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.progress_dialog = dialog
        return dialog

    def show_history(self) -> QtHistoryPanel:
        self.history_panel.present()
        return self.history_panel

    def show_hit(self, document_id: int, start: int, end: int) -> None:
        """A search hit: its document open, the match selected (a digit key labels it)."""
        self.open_document(document_id)
        if self.model.doc_id == document_id:
            self.view.select(start, end)
            self.view.ensureCursorVisible()
            self.view.setFocus()

    def focus_filter(self) -> None:
        self.documents.filter.setFocus()
        self.documents.filter.selectAll()

    def _on_opened(self) -> None:
        doc_id = self.model.doc_id
        if self._message_document is not None and self._message_document != doc_id:
            self.statusBar().clearMessage()
            self._message_document = None
        total, suggested = self.model.counts()
        self.documents.model.update(doc_id, spans=total, suggested=suggested)
        self.documents.select(doc_id)
        self.menu_actions.set_done(self.model.status() == "done")
        self.view.setFocus()
        self._update_title()

    def _on_state(self, document_id: int, status: str) -> None:
        self.documents.model.update(document_id, status=status)
        if document_id == self.model.doc_id:
            self.menu_actions.set_done(status == "done")
        self._update_progress()

    def _on_spans(self, _deltas) -> None:
        total, suggested = self.model.counts()
        self.documents.model.update(self.model.doc_id, spans=total, suggested=suggested)

    def _on_activity(self, found) -> None:
        """Changes made elsewhere (core.activity.Activity): redraw what they touched, and say whose."""
        if self.model.doc_id in found.documents or found.knowledge_base:
            self.model.reload_layer()  # a knowledge-base import gives unchecked spans suggested links, unrecorded
        if found.new_documents or (found.by and found.documents):
            self.refresh_documents()
        if found.by or found.knowledge_base:
            self.link_panel.reload()
            if self.entity_view is not None:
                self.entity_view.changed_elsewhere()
        view = self.review.adjudication
        if view is not None and view.isVisible() and view.document_id in found.documents:
            view.reload()
        if found.by:
            what = [w for w, yes in (("the knowledge base", found.knowledge_base),
                                     (f"gold of {plural(len(found.gold), 'document')}", found.gold),
                                     ("new documents", found.new_documents)) if yes]
            self.show_message(f"Updated with changes by {', '.join(found.by)}"
                              + (f" ({'; '.join(what)})" if what else "") + ".")

    def _on_connection(self, online: bool, message: str) -> None:
        """Offline: read-only, said in the status bar; back online: catch up with what changed."""
        self.model.read_only = None if online else message
        self.offline_label.setVisible(not online)
        if online:
            self.model.reload_layer()
            self.refresh_documents()
            self.show_message("The database server answers again; edits are saved as before.")
        else:
            self.show_error(message)

    def _on_saved(self, _kind: str) -> None:
        self.saved_label.setText("Saved ✓")
        self.saved_label.setToolTip(f"Last edit committed at {time.strftime('%H:%M:%S')}; "
                                    "every edit is saved as you make it.")

    def _update_progress(self) -> None:
        done, total = self.documents.model.done_count()
        self.progress_label.setText(f"Done: {done} of {total} documents")

    def _update_title(self) -> None:
        project = self.project.store.path.name if self.project.store.path else self.project.store.url
        doc = f"{self.model.title or self.model.name} — " if self.model.doc_id is not None else ""
        self.setWindowTitle(f"{doc}{project} — annotator")

    # --- messages
    _message_document: int | None = None  # the document the status bar's message is about, if one

    def show_message(self, text: str, error: bool = False, about_document: bool = False) -> None:
        """`about_document`: the message is about the open document ("Marked done; ..."), and goes when
        another is shown (it was still there under the next one, about that one as far as anyone knew)."""
        bar = self.statusBar()
        bar.setProperty("error", error)
        bar.style().unpolish(bar)
        bar.style().polish(bar)
        bar.showMessage(text, MESSAGE_MS)
        self._message_document = self.model.doc_id if about_document else None

    def show_error(self, text: str) -> None:
        self.show_message(text, error=True)
        if is_machine_failure(text):
            self.show_failure(text)

    failure_box: QMessageBox | None = None

    def show_failure(self, text: str, title: str = "The project cannot be saved", over: QWidget | None = None) -> None:
        """A failure of the machine (a full disk, a read-only or lost project file) needs the user to act
        before any edit can be saved, so it gets a dialog, not only the status bar; so does a failed import
        or export (`show_job_failure`), whose status-bar line would vanish unread. The dialog is
        window-modal (over `over`, e.g. the export dialog, else this window) and reused; the article stays
        as it was, readable behind it."""
        parent = over or self
        box = self.failure_box
        if box is None or box.parentWidget() is not parent:
            if box is not None:
                box.deleteLater()
            box = self.failure_box = QMessageBox(QMessageBox.Icon.Critical, title, "",
                                                 QMessageBox.StandardButton.Ok, parent)
            box.setObjectName("failure")
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setWindowTitle(title)
        box.setText(text)
        box.open()

    def show_job_failure(self, text: str, title: str, over: QWidget | None = None) -> None:
        """An import or export that failed: the coded line in the status bar and in a dialog."""
        self.show_message(text, error=True)
        self.show_failure(text, "The project cannot be saved" if is_machine_failure(text) else title, over)

    def reload_labels(self) -> None:
        """The label scheme may have grown (an import, a merge): menus, chips and the panel follow."""
        self.model.reload_labels()
        self.menu_actions.set_labels(self.model.labels.values())
        self.labels.set_labels(self.model.labels.values(), self.menu_actions.labels)
        self.panel.reload_labels()
        self.search_panel.reload_labels()
        self.menu_actions.update()

    # --- exporting
    _export = None  # the export dialog, built on first use (it keeps the last choices)

    def export_dialog(self):
        """File → Export…: the options of `annotator export`; the export runs in a thread."""
        if self._export is None:
            from annotator.ui.qt_export import CANCELLED, QtExportDialog, QtExporter

            self._export = QtExportDialog(self.project, QtExporter(self), self)
            self._export.exported.connect(self.show_message)
            self._export.failed.connect(lambda message: self.show_job_failure(message, EXPORT_FAILED, self._export))
            self._export.cancelled.connect(lambda: self.show_message(CANCELLED))
        self._export.reopen()
        return self._export

    # --- settings
    persist_layout = True  # false for offscreen renders

    def restore_layout(self) -> None:
        restore_layout(self, self.splitter, self.right)

    def save_layout(self) -> None:
        if self.persist_layout:
            save_layout(self, self.splitter, self.right)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.entity_view is not None:
            self.entity_view.close()
        self.save_layout()
        self.importer.wait()
        self.link_panel.stop()
        self.review.close()
        self.model_tools.close()
        if self._export is not None:
            self._export.exporter.wait()
        self.model.close()
        super().closeEvent(event)
