"""Long work (imports, exports) in a QThread, so the window stays responsive.

A job is a plain function `job(store, progress, cancelled) -> report` from the core. The worker opens
its own Store on the project's database (one engine per thread), reports progress with signals, and
turns a coded error into `failed(message)`; cancelling makes `cancelled()` true, and the core
function raises `Cancelled` having stored or written nothing.
"""

from __future__ import annotations

import time
import traceback
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from annotator.core.db.store import Store
from annotator.errors import AnnotatorError, Cancelled

Job = Callable[..., object]  # (store, progress, cancelled) -> report
PROGRESS_EVERY = 0.05  # seconds: 100,000 documents must not queue 100,000 signals on the UI thread


class QtJobWorker(QObject):
    progress = Signal(int, int)
    line = Signal(str)  # a line of the job's output (training): emitted here, in the worker's thread
    finished = Signal(object)  # the job's report
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, url: str, job: Job, unexpected: str):
        super().__init__()
        self.url, self.job, self.unexpected = url, job, unexpected
        self.stop = False
        self._last = 0.0

    def _progress(self, done: int, total: int) -> None:
        """Forward progress at most every PROGRESS_EVERY seconds, and always the start and the end."""
        now = time.monotonic()
        if done in (0, total) or now - self._last >= PROGRESS_EVERY:
            self._last = now
            self.progress.emit(done, total)

    @Slot()
    def run(self) -> None:
        store = None
        try:
            store = Store(self.url)
            report = self.job(store, self._progress, lambda: self.stop)
        except Cancelled:
            self.cancelled.emit()
        except AnnotatorError as e:
            self.failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - a worker must report, never die silently
            traceback.print_exc()
            self.failed.emit(self.unexpected.format(error=f"{type(e).__name__}: {e}"))
        else:
            self.finished.emit(report)
        finally:
            if store is not None:
                store.close()


class QtJobRunner(QObject):
    """Runs one job at a time; its signals arrive on the UI thread. Subclasses say what the job is
    and which coded messages to show when one is already running (`busy`) or it fails unexpectedly
    (`unexpected`, with `{error}`)."""

    busy = ""
    unexpected = "{error}"

    started = Signal(str)  # what is being worked on, for the progress label
    progress = Signal(int, int)
    line = Signal(str)  # the job's output (`say`), re-emitted on the UI thread
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()  # after any of finished / failed / cancelled

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: QtJobWorker | None = None

    def running(self) -> bool:
        return self._thread is not None

    def run_job(self, url: str, job: Job, what: str) -> bool:
        if self.running():
            self.failed.emit(self.busy)
            return False
        self._thread = QThread()
        self._worker = QtJobWorker(url, job, self.unexpected)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        self._worker.line.connect(self.line)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread.start()
        self.started.emit(what)
        return True

    def say(self, text: str) -> None:
        """A line of output from the running job, called in its thread: it goes out through the worker
        (an object of that thread), so `line` is emitted on the UI thread only. Emitted from the worker
        thread on this UI-thread object, a listener disconnecting meanwhile crashed the process."""
        worker = self._worker
        if worker is not None:
            worker.line.emit(text)

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.stop = True

    def wait(self, msecs: int = 60_000) -> None:
        """Cancel and wait for the thread (the window is closing)."""
        if self._thread is not None:
            self.cancel()
            self._thread.quit()
            self._thread.wait(msecs)

    # The thread is gone before the outcome is announced: its listeners see running() false and
    # may start the next job.
    def _on_finished(self, report) -> None:
        self._done()
        self.finished.emit(report)
        self.ended.emit()

    def _on_failed(self, message: str) -> None:
        self._done()
        self.failed.emit(message)
        self.ended.emit()

    def _on_cancelled(self) -> None:
        self._done()
        self.cancelled.emit()
        self.ended.emit()

    def _done(self) -> None:
        thread, self._thread, self._worker = self._thread, None, None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
