"""Upgrading an older project from the window. On millions of spans an upgrade takes a while (about
36 s at 3 M spans for 0012), so it runs in a thread while a modal progress dialog names the step
("Upgrading the project file (step k of n)") and the event loop keeps turning. The project's window
opens only once the upgrade is done, so nothing can be edited before. A failure is one coded line
and, the upgrade being one transaction, leaves the file as it was.
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from annotator.core.project import Project, SchemaState
from annotator.errors import AnnotatorError, Errors

STEP_TEXT = "Upgrading the project file (step {k} of {n})"


class QtUpgradeWorker(QObject):
    """Upgrades the project in its own thread (its own engine, closed when done)."""

    step = Signal(int, int)  # revisions applied, revisions to apply
    finished = Signal(object)  # the SchemaState
    failed = Signal(str)

    def __init__(self, db: str):
        super().__init__()
        self.db = db

    @Slot()
    def run(self) -> None:
        try:
            state = Project.upgrade(self.db, on_step=self.step.emit)
        except AnnotatorError as e:
            self.failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - a worker must report, never die silently
            traceback.print_exc()
            self.failed.emit(Errors.E549.format(path=self.db, found="an older one", known="the current one",
                                                reason=f"{type(e).__name__}: {e}"))
        else:
            self.finished.emit(state)


class QtUpgradeDialog(QProgressDialog):
    """Stays up until the upgrade ends: Escape and the close button do nothing (there is no half-way
    to stop at), and the window behind it cannot be used meanwhile."""

    done = False

    def reject(self) -> None:
        if self.done:
            super().reject()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.done:
            super().closeEvent(event)
        else:
            event.ignore()


class QtUpgrade(QObject):
    """The dialog's side, on the UI thread (so the worker's signals arrive queued, in order)."""

    def __init__(self, db: str, parent: QWidget | None = None):
        super().__init__()
        self.dialog = QtUpgradeDialog("Upgrading the project file (starting)", "", 0, 0, parent)
        self.dialog.setObjectName("upgradeProgress")
        self.dialog.setWindowTitle("Upgrading the project")
        self.dialog.setCancelButton(None)
        self.dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.loop = QEventLoop(self)
        self.state: SchemaState | None = None
        self.error: str | None = None
        self.labels: list[str] = []  # every step the dialog showed, in order
        self.thread = QThread()
        self.worker = QtUpgradeWorker(db)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.step.connect(self._on_step)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)

    def run(self) -> SchemaState:
        """Upgrade, turning the event loop until done; AnnotatorError when it failed."""
        self.dialog.show()
        self.thread.start()
        self.loop.exec()
        self.thread.quit()
        self.thread.wait()
        self.dialog.done = True
        self.dialog.close()
        self.dialog.deleteLater()
        if self.error is not None:
            raise AnnotatorError(self.error)
        return self.state

    @Slot(int, int)
    def _on_step(self, done: int, total: int) -> None:
        self.dialog.setMaximum(total)
        self.dialog.setValue(done)
        text = STEP_TEXT.format(k=min(done + 1, total), n=total)
        if not self.labels or self.labels[-1] != text:
            self.labels.append(text)
        self.dialog.setLabelText(text)

    @Slot(object)
    def _on_finished(self, state: SchemaState) -> None:
        self.state = state
        self.loop.quit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.error = message
        self.loop.quit()


def upgrade(db: str, parent: QWidget | None = None) -> SchemaState:
    """Upgrade the project at `db` behind a modal progress dialog; the coded error if it failed."""
    return QtUpgrade(db, parent).run()
