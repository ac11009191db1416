"""Importing in the background: spaCy loads and runs in a QThread (ui/qt_jobs.py), so the window stays
responsive; cancelling makes `import_paths` raise `Cancelled` before anything is stored.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from annotator.errors import Errors
from annotator.io.importing import import_paths
from annotator.io.kb_transfer import import_kb
from annotator.ui.qt_jobs import QtJobRunner


def _import(paths: list[str], use_model: bool, by: str, store, progress, cancelled):
    return import_paths(store, paths, use_model=use_model, progress=progress, cancelled=cancelled, by=by)


def _import_kb(path: str, by: str, store, progress, _cancelled):
    return import_kb(store, path, by=by, progress=progress)


class QtImporter(QtJobRunner):
    """Runs one import at a time, of documents or of a knowledge base (they share the status bar's
    progress); `finished` carries the ImportReport or the KbImportReport."""

    busy = Errors.E305
    unexpected = Errors.E306
    loading = "loading spaCy…"  # what the progress bar says until the first document is done

    def start(self, url: str, paths: list[str | Path], use_model: bool = True, by: str | None = None) -> bool:
        names = ", ".join(Path(p).name for p in paths[:3]) + (" …" if len(paths) > 3 else "")
        self.unexpected, self.loading = Errors.E306, "loading spaCy…" if use_model else "reading…"
        return self.run_job(url, partial(_import, [str(p) for p in paths], use_model, by), names)

    def start_kb(self, url: str, path: str | Path, by: str | None = None) -> bool:
        """A knowledge-base file, then the suggested links it gives the corpus's unchecked mentions."""
        if self.running():  # the messages below are of the import that runs
            self.failed.emit(self.busy)
            return False
        self.unexpected, self.loading = Errors.E630, "reading the knowledge base…"
        return self.run_job(url, partial(_import_kb, str(path), by), f"knowledge base {Path(path).name}")


class QtImportProgress(QWidget):
    """The status bar's progress bar and Cancel button; hidden when nothing is importing."""

    def __init__(self, importer: QtImporter, parent: QWidget | None = None):
        super().__init__(parent)
        self.importer = importer
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(True)
        self.cancel = QToolButton()
        self.cancel.setText("Cancel")
        self.cancel.setToolTip("Stop the import; nothing is stored")
        self.cancel.clicked.connect(importer.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        importer.started.connect(self._on_started)
        importer.progress.connect(self._on_progress)
        importer.ended.connect(self.hide)
        self.hide()

    def _on_started(self, names: str) -> None:
        self.label.setText(f"Importing {names}")
        self.bar.setRange(0, 0)  # busy until the model has loaded and the first document is done
        self.bar.setFormat(self.importer.loading)
        self.show()

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.bar.setFormat(f"{done} / {total} documents")
