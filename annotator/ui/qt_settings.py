"""Window layout, recent projects, the last user and the preferences live in QSettings (an INI file
on every platform, so tests can point it at a temporary folder with `QSettings.setPath`)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

ORGANIZATION = "annotator"
APPLICATION = "annotator"
RECENT_LIMIT = 8


def settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def remember_project(db: str, user: str) -> None:
    s = settings()
    recent = [p for p in s.value("projects/recent", [], type=list) if p != db]
    s.setValue("projects/recent", [db, *recent][:RECENT_LIMIT])
    s.setValue("user/last", user)


def last_user() -> str | None:
    value = settings().value("user/last")
    return str(value) if value else None


# Preferences (Edit → Preferences…) and the zoom keys; the type of each default is the stored type.
DEFAULTS: dict[str, object] = {"article/font_family": "", "article/font_size": 12.5, "article/zoom": 0,
                               "appearance/theme": "light"}
THEMES = ("light", "dark", "system")


def preference(key: str):
    default = DEFAULTS[key]
    value = settings().value(key, default)
    try:
        return type(default)(value)
    except (TypeError, ValueError):  # a hand-edited INI file: the default rather than a crash
        return default


def set_preference(key: str, value) -> None:
    settings().setValue(key, value)


def recent_projects() -> list[str]:
    """The projects opened last, newest first (File → Recent projects)."""
    return [str(p) for p in settings().value("projects/recent", [], type=list)]


def first_size(available_width: int, available_height: int) -> tuple[int, int]:
    """A first window of 80% of the screen's free area, at least 1200×760 when the screen has room:
    smaller cuts off document titles and the panels' text."""
    width = min(available_width, max(1200, int(available_width * 0.8)))
    height = min(available_height, max(760, int(available_height * 0.8)))
    return width, height


def restore_layout(window: QMainWindow, splitter: QSplitter, side: QSplitter) -> None:
    """The window's geometry, docks and splitters as they were left; a first run gets first_size, centred."""
    s = settings()
    geometry, state, split, right = (s.value(k) for k in ("window/geometry", "window/state", "window/splitter",
                                                          "window/side"))
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        screen = window.screen().availableGeometry()
        window.resize(*first_size(screen.width(), screen.height()))
        window.move(screen.center() - window.rect().center())
    if isinstance(state, QByteArray):
        window.restoreState(state)
    if isinstance(split, QByteArray):
        splitter.restoreState(split)
    if isinstance(right, QByteArray):
        side.restoreState(right)


def save_layout(window: QMainWindow, splitter: QSplitter, side: QSplitter) -> None:
    s = settings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.setValue("window/splitter", splitter.saveState())
    s.setValue("window/side", side.saveState())
