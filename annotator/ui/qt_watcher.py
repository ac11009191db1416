"""Changes made elsewhere, and the server coming and going, for a window that stays open for hours.

A QTimer polls `core.activity.mark` (one cheap query); when it moved, what happened
(`core.activity.Activity`), less the edits this process made (its views have drawn them already), is
published on the project's change hub, where the views that show it subscribe. A poll, or an edit,
that cannot reach the database server puts the window offline (read-only) until a poll gets through
again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from annotator.core import activity
from annotator.core.project import Project
from annotator.errors import AnnotatorError, ConnectionLost

INTERVAL_MS = 2000


class QtWatcher(QObject):
    connection = Signal(bool, str)  # (online, the coded message when it went offline)

    def __init__(self, project: Project, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.project = project
        self.online = True
        self.last = activity.mark(project.store)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll)
        self.timer.start(interval_ms)

    def poll(self) -> None:
        try:
            new = activity.mark(self.project.store)
            found = None if new == self.last else activity.since(self.project.store, self.last, new,
                                                                 self.project.annotator_id, self.project.stack.recorded)
        except ConnectionLost as e:
            self.set_online(False, str(e))
            return
        except AnnotatorError:  # anything else: try again at the next tick
            return
        self.set_online(True)
        if found is not None:
            self.last = new
            self.project.stack.forget_recorded(new.event)
            if found.any:
                self.project.changes.publish(found)

    def set_online(self, online: bool, message: str = "") -> None:
        if online != self.online:
            self.online = online
            self.connection.emit(online, message)
