"""Importing in the background: spaCy loads and runs in a QThread, so the window stays responsive.

The worker opens its own Store on the same database (one engine per thread) and reports progress with
signals; cancelling makes `import_paths` raise `Cancelled` before anything is written.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from annotator.errors import AnnotatorError, Errors


class QtImportWorker(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # ImportReport
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, url: str, paths: list[str], use_model: bool):
        super().__init__()
        self.url, self.paths, self.use_model = url, paths, use_model
        self.stop = False

    @Slot()
    def run(self) -> None:
        from annotator.core.importing import Cancelled, import_paths
        from annotator.core.store import Store

        store = None
        try:
            store = Store(self.url)
            report = import_paths(store, self.paths, use_model=self.use_model, progress=self.progress.emit,
                                  cancelled=lambda: self.stop)
        except Cancelled:
            self.cancelled.emit()
        except AnnotatorError as e:
            self.failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - a worker must report, never die silently
            traceback.print_exc()
            self.failed.emit(Errors.E306.format(error=f"{type(e).__name__}: {e}"))
        else:
            self.finished.emit(report)
        finally:
            if store is not None:
                store.close()


class QtImporter(QObject):
    """Runs one import at a time; its signals arrive on the UI thread."""

    started = Signal(str)
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()  # after any of finished / failed / cancelled

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: QtImportWorker | None = None

    def running(self) -> bool:
        return self._thread is not None

    def start(self, url: str, paths: list[str | Path], use_model: bool = True) -> bool:
        if self.running():
            self.failed.emit(Errors.E305)
            return False
        self._thread = QThread()
        self._worker = QtImportWorker(url, [str(p) for p in paths], use_model)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        for signal, slot in ((self._worker.finished, self.finished), (self._worker.failed, self.failed),
                             (self._worker.cancelled, self.cancelled)):
            signal.connect(slot)
            signal.connect(self._done)
        self._thread.start()
        names = ", ".join(Path(p).name for p in paths[:3]) + (" …" if len(paths) > 3 else "")
        self.started.emit(names)
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.stop = True

    def wait(self, msecs: int = 60_000) -> None:
        """Cancel and wait for the thread (the window is closing)."""
        if self._thread is not None:
            self.cancel()
            self._thread.quit()
            self._thread.wait(msecs)

    def _done(self, *_args) -> None:
        thread, self._thread, self._worker = self._thread, None, None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        self.ended.emit()


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
        self.bar.setFormat("loading spaCy…")
        self.show()

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.bar.setFormat(f"{done} / {total} documents")
