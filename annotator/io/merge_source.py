"""The other project file of a merge (io/merging.py), opened without upgrading it and only read: every
result fetched whole, so damage fails where it is read (E115), and content the project cannot keep
is E116. Stored times are read alike from SQLite (naive UTC) and PostgreSQL (aware)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from annotator.core.db.store import Store, to_url
from annotator.errors import AnnotatorError, Errors

CHUNK = 500


def open_other(store: Store, other: str | os.PathLike) -> Store:
    text = str(other)
    if "://" not in text:
        path = Path(text).expanduser()
        if not path.exists():
            raise AnnotatorError(Errors.E010.format(path=path))
        if path.is_dir():
            raise AnnotatorError(Errors.E622.format(path=path, example=path / "project.db"))
        if path.stat().st_size == 0:  # Store would start a new project in it
            raise AnnotatorError(Errors.E001.format(path=path))
        if store.path is not None and store.path.exists() and path.resolve() == store.path.resolve():
            raise AnnotatorError(Errors.E158.format(path=path))
    elif to_url(text) == store.url:
        raise AnnotatorError(Errors.E158.format(path=text))
    return Store(other, upgrade=False)


def damaged(e: AnnotatorError, other, path: Path | None) -> AnnotatorError:
    """The other file's own damage (E008, E410 name its path) as E115: it is not this project's."""
    if e.code in ("E008", "E410") and path is not None and str(path) in str(e):
        reason = str(e).split("(", 1)[-1].split(")")[0]
        return AnnotatorError(Errors.E115.format(path=other, reason=reason))
    return e


class Theirs:
    """The other project's session, read only: every result is fetched whole inside `execute`, so
    a damaged file (a broken page, a value of the wrong type) fails there, as E115."""

    def __init__(self, session: Session, path: str):
        self.session, self.path = session, path

    def execute(self, statement):
        try:
            return self.session.execute(statement).freeze()()
        except AnnotatorError:
            raise
        except Exception as e:  # sqlite3, SQLAlchemy's type processors (dates, JSON) raise many types
            reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
            raise AnnotatorError(Errors.E115.format(path=self.path, reason=reason)) from None

    def scalar(self, statement):
        return self.execute(statement).scalar()


def bad(path: str, what: str, reason: str) -> AnnotatorError:
    return AnnotatorError(Errors.E116.format(path=path, what=what, reason=reason))


def chunks(items: list, n: int = CHUNK):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime: SQLite gives naive UTC, PostgreSQL aware ones."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def naive(value: datetime | None) -> datetime | None:
    """A stored time as naive UTC, so that times read from SQLite and PostgreSQL compare equal."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)
