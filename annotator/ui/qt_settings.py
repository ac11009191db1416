"""Window layout, recent projects and the last user live in QSettings (an INI file on every platform,
so tests can point it at a temporary folder with `QSettings.setPath`)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

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
