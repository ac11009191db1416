"""Long reads and writes of the project in a background thread, so the window stays responsive:
agreement over a large corpus, listing disagreements, merging a colleague's file.

The worker opens its own Store on the same database (one engine per thread, as the importer does)
and hands the result back through a queued signal, so it arrives on the UI thread.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from annotator.errors import AnnotatorError, Errors


class QtStoreWorker(QObject):
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, url: str, fn: Callable[..., Any], args: tuple, what: str):
        super().__init__()
        self.url, self.fn, self.args, self.what = url, fn, args, what

    @Slot()
    def run(self) -> None:
        from annotator.core.store import Store

        store = None
        try:
            store = Store(self.url)
            result = self.fn(store, *self.args)
        except AnnotatorError as e:
            self.failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - a worker must report, never die silently
            traceback.print_exc()
            self.failed.emit(Errors.E311.format(task=self.what, error=f"{type(e).__name__}: {e}"))
        else:
            self.finished.emit(result)
        finally:
            if store is not None:
                store.close()


class QtStoreTask(QObject):
    """Runs `fn(store, *args)` in a QThread, one call at a time; `finished(result)` or `failed(message)`
    follows on the UI thread, then `ended`."""

    finished = Signal(object)
    failed = Signal(str)
    ended = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: QtStoreWorker | None = None

    def running(self) -> bool:
        return self._thread is not None

    def start(self, url: str, fn: Callable[..., Any], *args, what: str = "The task") -> bool:
        """Start the call; False (and nothing started) while another one runs."""
        if self.running():
            return False
        self._thread = QThread()
        self._worker = QtStoreWorker(url, fn, args, what)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        for signal, slot in ((self._worker.finished, self.finished), (self._worker.failed, self.failed)):
            signal.connect(self._done)  # first: the thread is gone before anyone hears the result
            signal.connect(slot)
        self._thread.start()
        return True

    def wait(self, msecs: int = 60_000) -> None:
        """Wait for a running call to end (the window is closing)."""
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(msecs)

    def _done(self, *_args) -> None:
        thread, self._thread, self._worker = self._thread, None, None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        self.ended.emit()
