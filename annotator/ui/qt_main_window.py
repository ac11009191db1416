"""The main window: documents on the left, the article in the centre, the span panel on the right.

It wires the widgets to one QtDocumentModel and keeps the status bar (user, saved state, progress)
up to date. Long work runs in threads: imports in a QtImporter, exports (File → Export…) in a QtExporter.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QComboBox, QFileDialog, QLabel, QMainWindow, QMessageBox, QSplitter, QVBoxLayout,
                               QWidget)

from annotator.core.activity import Activity
from annotator.core.project import Project
from annotator.errors import AnnotatorError, Errors, is_machine_failure
from annotator.ui.qt_actions import QtActions
from annotator.ui.qt_document_list import QtDocumentList
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_document_view import QtDocumentView
from annotator.ui.qt_import import QtImporter, QtImportProgress
from annotator.ui.qt_label_bar import QtLabelBar
from annotator.ui.qt_link_panel import QtLinkPanel
from annotator.ui.qt_review import QtReview
from annotator.ui.qt_settings import settings
from annotator.ui.qt_span_panel import QtSpanPanel
from annotator.ui.qt_watcher import QtWatcher

if TYPE_CHECKING:
    from annotator.ui.qt_entity_view import QtEntityView

MESSAGE_MS = 10_000
PALETTE = {QPalette.ColorRole.Window: "#F6F5F2", QPalette.ColorRole.Base: "#FFFFFF",
           QPalette.ColorRole.AlternateBase: "#FAF9F6", QPalette.ColorRole.Button: "#FBFAF8",
           QPalette.ColorRole.Text: "#1F1F1F", QPalette.ColorRole.WindowText: "#1F1F1F",
           QPalette.ColorRole.ButtonText: "#1F1F1F", QPalette.ColorRole.Highlight: "#CFE0F7",
           QPalette.ColorRole.HighlightedText: "#111111", QPalette.ColorRole.PlaceholderText: "#8A867E"}
IMPORT_SUFFIXES = "Text and JSONL (*.txt *.jsonl);;All files (*)"


class QtLayerBox(QComboBox):
    """The layer switcher: its entries are read again each time it opens (layers come and go: gold
    starts with the first adjudication, a colleague's with a merge)."""

    def __init__(self, refill, parent: QWidget | None = None):
        super().__init__(parent)
        self.refill = refill

    def showPopup(self) -> None:  # noqa: N802 (Qt name)
        self.refill()
        super().showPopup()


class QtMainWindow(QMainWindow):
    def __init__(self, project: Project, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = project
        self.model = QtDocumentModel(project, self)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.setMinimumSize(900, 560)

        self.documents = QtDocumentList()
        self.view = QtDocumentView(self.model)
        self.labels = QtLabelBar()
        self.panel = QtSpanPanel(self.model)
        self.link_panel = QtLinkPanel(self.model)  # below the span panel, in its own splitter
        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.setObjectName("sideSplitter")
        self.right.setChildrenCollapsible(False)
        self.right.addWidget(self.panel)
        self.right.addWidget(self.link_panel)
        self.right.setSizes([420, 330])  # the span list gets the larger share; the user's split is kept
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(5)
        for widget, stretch in ((self.documents, 0), (self.view, 1), (self.right, 0)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes([290, 660, 330])
        # the article keeps a readable width; on a small screen the side panels give way first
        self.view.setMinimumWidth(440)
        self.documents.setMinimumWidth(180)
        self.panel.setMinimumWidth(240)
        centre = QWidget()
        centre.setObjectName("centre")
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.labels)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(centre)

        self.review = QtReview(self)  # agreement, adjudication, provenance, merging
        self.menu_actions = QtActions(self, [self.view, self.panel.table])
        self.labels.set_labels(self.model.labels.values(), self.menu_actions.labels)
        self.panel.add_buttons(self.menu_actions.accept, self.menu_actions.delete)
        self.link_panel.add_menu(self, self.menuBar())
        self.link_panel.finished.connect(self.view.setFocus)
        self.link_panel.failed.connect(self.show_error)
        self.link_panel.entityRequested.connect(self.show_entity_view)
        self.entity_view: QtEntityView | None = None  # made when first asked for
        self.importer = QtImporter(self)
        self.watcher = QtWatcher(project, self)  # changes by others; the server coming and going
        self._build_status_bar()

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
        self.importer.failed.connect(self.show_error)
        self.importer.cancelled.connect(lambda: self.show_message("Import cancelled; nothing was imported."))
        project.changes.subscribe(self._on_activity, Activity)
        self.watcher.connection.connect(self._on_connection)
        self.model.connectionLost.connect(lambda message: self.watcher.set_online(False, message))
        self._update_title()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.import_progress = QtImportProgress(self.importer)
        self.progress_label = QLabel()
        self.saved_label = QLabel("All changes saved ✓")
        self.saved_label.setObjectName("savedLabel")
        self.saved_label.setToolTip("Every edit is committed to the project file as you make it; "
                                    "there is nothing to save.")
        self.user_label = QLabel(f"User: {self.project.user}")
        # the layer switcher: any layer this user may see, shown read-only; their own is the one edited
        self.layer_box = QtLayerBox(self.fill_layers)
        self.layer_box.setObjectName("layerSwitcher")
        self.layer_box.setToolTip("The layer shown: yours (edited), or another you may see, read-only "
                                  "(Ctrl+Shift+L)")
        self.layer_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.fill_layers()
        self.layer_box.activated.connect(lambda _i: self.show_layer(self.layer_box.currentData()))
        self.offline_label = QLabel("Server unreachable — read-only")
        self.offline_label.setObjectName("offlineLabel")
        self.offline_label.setStyleSheet("color: #B00020; font-weight: bold")  # rarely shown: no repaint cost
        self.offline_label.setToolTip("The database server does not answer. You can read what is open; "
                                      "edits are refused until it answers again (checked every few seconds).")
        self.offline_label.hide()
        for widget in (self.import_progress, self.offline_label, self.progress_label, self.saved_label,
                       QLabel("Layer:"), self.layer_box, self.user_label):
            bar.addPermanentWidget(widget)

    def apply_style(self, qss: str) -> None:
        """Colours from the palette; the style sheet only where nothing repaints on every edit."""
        palette = self.palette()
        for role, colour in PALETTE.items():
            palette.setColor(role, QColor(colour))
        self.setPalette(palette)
        styled = [self.labels, self.statusBar(), self.panel.heading, self.documents.heading]
        for widget in styled:
            widget.setStyleSheet(qss)

    # --- documents
    def refresh_documents(self) -> None:
        self.documents.model.set_documents(self.project.documents())
        if self.model.doc_id is not None:
            self.documents.select(self.model.doc_id)
        self._update_progress()

    def open_document(self, document_id: int) -> None:
        if document_id != self.model.doc_id:
            try:
                self.model.open(document_id)
            except AnnotatorError as e:  # the server is away: the open document stays
                self.model.after_error(e)
                self.show_error(str(e))

    def open_document_named(self, name: str) -> None:
        row = next((d for d in self.documents.model.docs if d.name == name), None)
        if row is None:
            known = ", ".join(d.name for d in self.documents.model.docs) or "none"
            raise AnnotatorError(Errors.E033.format(name=name, known=known))
        self.open_document(row.id)

    def step_document(self, direction: int) -> None:
        target = self.documents.neighbour(self.model.doc_id, direction)
        if target is not None:
            self.open_document(target)

    def toggle_done(self) -> None:
        if self.model.doc_id is None:
            return
        self.model.set_status("in_progress" if self.model.status() == "done" else "done")
        self.menu_actions.set_done(self.model.status() == "done")

    # --- the layer shown
    def fill_layers(self) -> None:
        """The switcher's entries: this user's layer first, then every other layer they may see."""
        box, shown = self.layer_box, self.model.layer_id
        try:
            layers = [info for info in self.project.visible_layers() if info.id != self.project.annotator_id]
        except AnnotatorError as e:
            self.show_error(str(e))
            return
        box.blockSignals(True)
        box.clear()
        box.addItem(f"Mine ({self.project.user})", None)
        for info in layers:
            box.addItem(f"{info.name} (read-only)", info.id)
        box.setCurrentIndex(max(0, box.findData(shown)) if shown != self.project.annotator_id else 0)
        box.blockSignals(False)

    def show_layer(self, layer_id: int | None) -> None:
        """Show `layer_id` (another layer, read-only) or this user's own (None) in the article."""
        if (layer_id or self.project.annotator_id) == self.model.layer_id:
            return
        name = None
        if layer_id is not None:
            name = self.layer_box.itemText(self.layer_box.findData(layer_id)).removesuffix(" (read-only)")
        try:
            self.model.set_layer(layer_id, name)
        except AnnotatorError as e:
            self.show_error(str(e))
            return
        index = self.layer_box.findData(layer_id)
        self.layer_box.setCurrentIndex(index if index >= 0 else 0)
        self.menu_actions.update()
        self.view.setFocus()
        self.show_message(f"Viewing {name}'s layer, read-only: Ctrl+Shift+L and “Mine” to edit again."
                          if name else "Your own layer: edits are saved as before.")

    def choose_layer(self) -> None:
        """Ctrl+Shift+L: the layer switcher, open."""
        self.layer_box.setFocus()
        self.layer_box.showPopup()

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

    def focus_filter(self) -> None:
        self.documents.filter.setFocus()
        self.documents.filter.selectAll()

    def _on_opened(self) -> None:
        doc_id = self.model.doc_id
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
        if self.model.doc_id in found.documents:
            self.model.reload_layer()
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
                                     (f"gold of {len(found.gold)} document(s)", found.gold),
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
    def show_message(self, text: str, error: bool = False) -> None:
        bar = self.statusBar()
        bar.setProperty("error", error)
        bar.style().unpolish(bar)
        bar.style().polish(bar)
        bar.showMessage(text, MESSAGE_MS)

    def show_error(self, text: str) -> None:
        self.show_message(text, error=True)
        if is_machine_failure(text):
            self.show_failure(text)

    failure_box: QMessageBox | None = None

    def show_failure(self, text: str) -> None:
        """A failure of the machine (a full disk, a read-only or lost project file) needs the user to act
        before any edit can be saved, so it gets a dialog, not only the status bar. The dialog is
        window-modal and reused; the article stays as it was, readable behind it."""
        box = self.failure_box
        if box is None:
            box = self.failure_box = QMessageBox(QMessageBox.Icon.Critical, "The project cannot be saved", "",
                                                 QMessageBox.StandardButton.Ok, self)
            box.setObjectName("failure")
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setText(text)
        box.open()

    # --- importing
    use_model = True  # imports pre-annotate with spaCy

    def import_paths(self, paths: list[str | Path], use_model: bool | None = None) -> bool:
        use_model = self.use_model if use_model is None else use_model
        return self.importer.start(self.project.store.url, list(paths), use_model, by=self.project.user)

    def import_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import documents", "", IMPORT_SUFFIXES)
        if files:
            self.import_paths(files)

    def import_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of documents")
        if folder:
            self.import_paths([folder])

    def reload_labels(self) -> None:
        """The label scheme may have grown (an import, a merge): menus, chips and the panel follow."""
        self.model.reload_labels()
        self.menu_actions.set_labels(self.model.labels.values())
        self.labels.set_labels(self.model.labels.values(), self.menu_actions.labels)
        self.panel.reload_labels()
        self.menu_actions.update()

    def _on_imported(self, report) -> None:
        self.reload_labels()
        self.refresh_documents()
        model = f" with {report.model}" if report.model else ""
        skipped = f"; {len(report.duplicates)} already in the project" if report.duplicates else ""
        layered = (f"; {report.layer_spans} spans added as a layer to {len(report.layered)} documents already here"
                   if report.layered else "")
        kept = (f"; {len(report.layer_conflicts)} layers kept as they were" if report.layer_conflicts else "")
        self.show_message(f"Imported {len(report.added)} documents{model} ({report.spans} suggestions)"
                          f"{layered}{kept}{skipped}.")
        if self.model.doc_id is None and self.documents.model.docs:
            self.open_document(self.documents.model.docs[0].id)

    # --- exporting
    _export = None  # the export dialog, built on first use (it keeps the last choices)

    def export_dialog(self):
        """File → Export…: the options of `annotator export`; the export runs in a thread."""
        if self._export is None:
            from annotator.ui.qt_export import CANCELLED, QtExportDialog, QtExporter

            self._export = QtExportDialog(self.project, QtExporter(self), self)
            self._export.exported.connect(self.show_message)
            self._export.failed.connect(self.show_error)
            self._export.cancelled.connect(lambda: self.show_message(CANCELLED))
        self._export.reopen()
        return self._export

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        urls = event.mimeData().urls()
        remote = next((u for u in urls if not u.isLocalFile()), None)
        if remote is not None:
            self.show_error(Errors.E308.format(url=remote.toString()))
            return
        event.acceptProposedAction()
        self.import_paths([u.toLocalFile() for u in urls])

    # --- settings
    def restore_layout(self) -> None:
        s = settings()
        geometry, state, split, side = (s.value(k) for k in ("window/geometry", "window/state", "window/splitter",
                                                             "window/side"))
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        if isinstance(split, QByteArray):
            self.splitter.restoreState(split)
        if isinstance(side, QByteArray):
            self.right.restoreState(side)

    persist_layout = True  # false for offscreen renders

    def save_layout(self) -> None:
        if not self.persist_layout:
            return
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/side", self.right.saveState())

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.entity_view is not None:
            self.entity_view.close()
        self.save_layout()
        self.importer.wait()
        self.link_panel.stop()
        self.review.close()
        if self._export is not None:
            self._export.exporter.wait()
        self.model.close()
        super().closeEvent(event)
