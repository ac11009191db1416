"""The main window's importing (qt_main_window): File → Import files or a folder, dropping files on the
window, File → Import knowledge base (its entities, and the suggested links they give the mentions already
here), and the import's summary when it is done. The import itself runs in a thread (qt_import's
QtImporter); this mixin is what the window does around it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from annotator.errors import Errors
from annotator.io import kb_transfer
from annotator.io.importing import summary
from annotator.ui.qt_files import Mode, choose

IMPORT_SUFFIXES = "Text, JSONL, spaCy DocBin, brat and XMI (*.txt *.jsonl *.spacy *.ann *.xmi);;All files (*)"
KB_SUFFIXES = "Knowledge base, JSONL or CSV (*.jsonl *.csv);;All files (*)"
IMPORT_FAILED = "Import failed"  # the failure dialog's title


class QtWindowImports:
    """Mixed into QtMainWindow (it needs the window's importer, project, documents and messages)."""

    use_model = True  # imports pre-annotate with spaCy

    def import_paths(self, paths: list[str | Path], use_model: bool | None = None) -> bool:
        use_model = self.use_model if use_model is None else use_model
        return self.importer.start(self.project.store.url, list(paths), use_model, by=self.project.user)

    def import_files_dialog(self) -> None:
        files = choose(self, "Import documents", "", IMPORT_SUFFIXES, mode=Mode.ExistingFiles)
        if files:
            self.import_paths(files)

    def import_folder_dialog(self) -> None:
        folders = choose(self, "Import a folder of documents", mode=Mode.Directory)
        if folders:
            self.import_paths(folders[:1])

    def import_kb(self, path: str | Path) -> bool:
        """Import a knowledge-base file in the background (as `annotator kb import` does)."""
        return self.importer.start_kb(self.project.store.url, path, by=self.project.user)

    def import_kb_dialog(self) -> None:
        for path in choose(self, "Import a knowledge base", "", KB_SUFFIXES):
            self.import_kb(path)

    def _summary_box(self, lines: list[str], title: str, name: str) -> None:
        """The summary's first line in the status bar; when there is more to say, every line in a box."""
        self.show_message(lines[0])
        if len(lines) > 1:
            box = QMessageBox(QMessageBox.Icon.Information, title, "\n".join(lines), QMessageBox.StandardButton.Ok,
                              self)
            box.setObjectName(name)
            box.setTextFormat(Qt.TextFormat.PlainText)  # names from the files: never rich text
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.finished.connect(box.deleteLater)
            box.open()

    def _on_imported(self, report) -> None:
        """The import's summary (io.importing.summary, as the command line prints it): its first line in
        the status bar; when there is more to say (documents skipped, layers kept, entities made,
        content carried or not kept), every line in a box the user closes."""
        if isinstance(report, kb_transfer.KbImportReport):
            self._on_kb_imported(report)
            return
        self.reload_labels()
        self.refresh_documents()
        self._summary_box(summary(report), "Import", "importSummary")
        first = self.documents.model.doc(0)
        if self.model.doc_id is None and first is not None:
            self.open_document(first.id)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        urls = event.mimeData().urls()
        remote = next((u for u in urls if not u.isLocalFile()), None)
        if remote is not None:
            self.show_job_failure(Errors.E308.format(url=remote.toString()), IMPORT_FAILED)
            return
        event.acceptProposedAction()
        self.import_paths([u.toLocalFile() for u in urls])


    def _on_kb_imported(self, report: kb_transfer.KbImportReport) -> None:
        """New entities, and suggested links on spans of the open document maybe: shown at once."""
        self.model.reload_layer()
        self.link_panel.reload()
        if self.entity_view is not None:
            self.entity_view.changed_elsewhere()
        self._summary_box(kb_transfer.summary(report), "Knowledge base import", "kbImportSummary")
