"""File dialogs that tell files apart by their names only.

Qt's file dialog reads the first bytes of each file it lists to name its type and icon, and closing
that read drops every POSIX lock this process holds on the file: a dialog showing the open project's
folder dropped the project's SQLite locks, and the next other process to close the project deleted
the write-ahead log the window went on writing into (core/db/store.py says more). Qt's dialog, not
the platform's (which may read the files too): the same everywhere, testable offscreen, and its
icons and types come from here.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QFileInfo
from PySide6.QtGui import QAbstractFileIconProvider
from PySide6.QtWidgets import QFileDialog, QFileIconProvider, QWidget

Mode = QFileDialog.FileMode


class _ByName(QAbstractFileIconProvider):
    """A folder or a file icon, and a type from the name's suffix: nothing is opened."""

    def __init__(self):
        super().__init__()
        self.stock = QFileIconProvider()  # its icons by kind are the theme's, read from no file

    def icon(self, what):  # an IconType, or a QFileInfo
        if isinstance(what, QFileInfo):
            kinds = QAbstractFileIconProvider.IconType
            what = kinds.Folder if what.isDir() else kinds.File
        return self.stock.icon(what)

    def type(self, info: QFileInfo) -> str:
        if info.isDir():
            return "Folder"
        return f"{info.suffix().upper()} file" if info.suffix() else "File"


@cache
def _provider() -> _ByName:
    return _ByName()  # one for the application: a dialog does not own its provider


def file_dialog(parent: QWidget | None, caption: str, directory: str = "", filters: str = "") -> QFileDialog:
    """Qt's file dialog, listing files by name only (the module's docstring says why)."""
    dialog = QFileDialog(parent, caption, directory, filters)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setIconProvider(_provider())
    return dialog


def choose(parent: QWidget | None, caption: str, directory: str = "", filters: str = "", *,
           mode: QFileDialog.FileMode = Mode.ExistingFile, save: bool = False) -> list[str]:
    """The paths chosen in a modal `file_dialog`, or none when it is cancelled."""
    dialog = file_dialog(parent, caption, directory, filters)
    dialog.setFileMode(mode)
    if mode == Mode.Directory:
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    return dialog.selectedFiles() if dialog.exec() else []
