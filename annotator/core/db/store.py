"""Opening a project: a path or SQLAlchemy URL → an engine with the right pragmas and a current schema.

An SQLite project is one file (an application file format): WAL, foreign keys, a busy timeout and
`synchronous=FULL`, so an edit that `atomic()` committed survives a crash. The file carries our
`application_id`; anything else is refused before a byte is written.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from annotator.core.db import schema
from annotator.core.db import template as templates
from annotator.core.db.schema import APPLICATION_ID
from annotator.errors import AnnotatorError, ConnectionLost, Errors

if TYPE_CHECKING:  # sqlalchemy.orm loads with the first session: a command that only reads needs none
    from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 10_000
SQLITE_NOTADB = 26  # "file is not a database"
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL: a row-level security policy or a missing grant said no


def _sqlstate(e: DBAPIError) -> str | None:
    return getattr(e.orig, "sqlstate", None)


def _first_line(e: DBAPIError) -> str:
    return str(e.orig).strip().splitlines()[0]


def _lost_connection(ctx) -> ConnectionLost | None:
    """SQLAlchemy's error hook on a server's engine: a dropped or refused connection (SQLSTATE class
    08, a server shutting down 57P, or no connection at all) becomes a coded E400. The pool still
    invalidates the dead connection; the pre-ping's own failures are left to the pool (it reconnects)."""
    if ctx.is_pre_ping:
        return None
    state = getattr(ctx.original_exception, "sqlstate", None)
    lost = ctx.is_disconnect or (state or "").startswith(("08", "57P"))
    lost = lost or (state is None and ctx.connection is None)  # connecting failed: the server is down
    if not lost:
        return None
    reason = (str(ctx.original_exception).strip().splitlines() or ["no answer"])[0]
    return ConnectionLost(Errors.E400.format(reason=reason, what="Nothing was changed."))


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB" if n >= 1e3 else f"{n} bytes"


def _read_only(path: Path, action: str) -> AnnotatorError:
    """E006, naming what is read-only: the disk, the folder (SQLite writes its `-wal` file next to the
    project) or the file itself, and how to make it writable."""
    folder = path.parent
    try:
        mounted_ro = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        mounted_ro = False
    files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    if mounted_ro:
        part, where, fix = "disk", folder, f"Remount it writable, or copy '{path.name}' to a writable disk"
    elif not os.access(folder, os.W_OK) and not Path(f"{path}-wal").exists():
        part, where = "folder", folder
        fix = (f"SQLite needs to create '{path.name}-wal' next to the project: make the folder writable "
               f"(`chmod u+w '{folder}'`; if it is immutable, `chattr -i '{folder}'`)")
    else:
        where = next((p for p in files if not os.access(p, os.W_OK)), path)
        part = "file"
        fix = f"Make it writable (`chmod u+w '{where}'`; if it is immutable, `chattr -i '{where}'`)"
    return AnnotatorError(Errors.E006.format(part=part, where=where, action=action, fix=fix))


def _newest_backup(path: Path) -> str:
    backups = sorted(path.parent.glob(f"{path.stem}.before-*{path.suffix}"), key=lambda p: p.stat().st_mtime)
    if backups:
        return f"the newest automatic backup ('{backups[-1]}', made before a schema upgrade)"
    return "an automatic backup ('" + f"{path.stem}.before-*{path.suffix}" + "' next to it, if there is one)"


FULL_BELOW = 64 * 1024  # free bytes under which a failed write is a full disk


def machine_failure(path: Path | None, e: BaseException) -> AnnotatorError | None:
    """The coded error for an SQLite failure of the machine under `path`: a read-only file, folder or
    disk (E006), a full disk (E007), a damaged file (E008), a file moved away (E009), an I/O error
    (E410). None for anything else."""
    name = getattr(e, "sqlite_errorname", None)
    if path is None or not name:
        return None
    reason = str(e).strip().splitlines()[0] if str(e).strip() else name
    if name == "SQLITE_READONLY_DBMOVED":
        return AnnotatorError(Errors.E009.format(path=path, what="moved or deleted"))
    if name.startswith("SQLITE_READONLY"):
        return _read_only(path, "this change could not be saved")
    if name == "SQLITE_CANTOPEN" and not os.access(path.parent, os.W_OK):
        return _read_only(path, "it cannot be opened")
    free = shutil.disk_usage(path.parent).free if path.parent.exists() else None
    # a full disk is SQLITE_FULL, or an I/O error of a write that found no room (the WAL growing)
    if name == "SQLITE_FULL" or (name.startswith("SQLITE_IOERR") and free is not None and free < FULL_BELOW):
        size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        return AnnotatorError(Errors.E007.format(path=path, free=_size(free), need=_size(max(size, 1_000_000))))
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return AnnotatorError(Errors.E008.format(path=path, reason=reason, backup=_newest_backup(path)))
    if name.startswith("SQLITE_IOERR"):
        return AnnotatorError(Errors.E410.format(path=path, reason=reason))
    return None


def busy(path: Path | None, e: BaseException) -> AnnotatorError | None:
    """E022 when another process held the project's write lock for the whole busy timeout."""
    if path is None or not (getattr(e, "sqlite_errorname", None) or "").startswith("SQLITE_BUSY"):
        return None
    return AnnotatorError(Errors.E022.format(path=path))


def to_url(db: str | os.PathLike) -> str:
    """A file path or an SQLAlchemy URL → URL."""
    s = str(db)
    if "://" in s:
        return s
    return "sqlite:///" + str(Path(s).expanduser().resolve())


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def serialize(session: Session, key: int, sub: int) -> None:
    """One writer at a time for (`key`, `sub`) until the transaction ends, so a check-then-write (is
    this disagreement decided yet?) cannot interleave with another client's. SQLite needs nothing:
    `Store.atomic` holds the database's write lock from the start."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k, :s)"), {"k": key, "s": sub})


_LOCK_DOCUMENTS = text("SELECT id FROM documents WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE")


def lock_documents(session: Session, ids: list[int], chunk: int = 5000) -> None:
    """One writer at a time for each document of `ids` (sorted) until the transaction ends: their rows
    locked, in id order (so two writers cannot deadlock). Row locks, not advisory locks: an advisory
    lock takes a slot of the server's shared lock table until the transaction ends, and an import of
    10,000 documents ran out of them ("out of shared memory"); a row lock is kept in the row. NO KEY
    UPDATE: a colleague's insert of a span (whose foreign key share-locks the document) still goes
    on. SQLite needs nothing: `Store.atomic` holds the database's write lock from the start."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for i in range(0, len(ids), chunk):
        session.execute(_LOCK_DOCUMENTS, {"ids": ids[i:i + chunk]})


def _check_leftovers(path: Path) -> None:
    """E019 when `path` is missing but an earlier file's write-ahead log or rollback journal is not:
    SQLite would replay it into a new project of that name (an old project's documents appeared in
    the new one). Checked log first: a creator links the project before its log can exist."""
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-journal")):
        with suppress(OSError):
            if leftover.stat().st_size > 0 and not path.exists():
                raise AnnotatorError(Errors.E019.format(path=path, leftover=leftover.name))


def _check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not ours before SQLAlchemy (or Alembic) writes anything into it. An
    SQLite file with nothing in it (no application id, no schema) is a new project: what a creation
    that was interrupted, or is still migrating in another process, leaves.

    Asked of SQLite, read-only, never by reading the file ourselves: closing any handle of a file
    releases every POSIX lock this process holds on it, the open project's SQLite locks among them.
    A background task's Store did that in the window, and the next other process to close the
    project took itself for the last one, checkpointed and deleted the write-ahead log the window
    went on writing into: edits shown as saved were lost, a command's edit was overwritten. SQLite
    keeps its own connections' locks whatever they open and close. The header it reads may be
    older than page 1 in the log (after a crash): SQLite reads the log too."""
    if not path.exists() or path.stat().st_size == 0:
        return
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            return  # empty: schema.ensure_current makes the project under the write lock
    except sqlite3.DatabaseError as e:
        if getattr(e, "sqlite_errorcode", None) == SQLITE_NOTADB:
            raise AnnotatorError(Errors.E003.format(path=path)) from None
        return  # unreadable here (permissions, a read-only folder, damage): the engine says which
    finally:
        conn.close()
    if app_id != APPLICATION_ID:
        raise AnnotatorError(Errors.E001.format(path=path))


class Store:
    """An open project: engine, session factory and `atomic()` transactions.

    A new (empty) database gets the current schema (a new SQLite file as a copy of the cached empty
    project, unless `template` is false: core/db/template.py); an older one is refused (E005) unless
    `upgrade` is true: upgrading is the user's decision (`annotator db upgrade`, or the window asks).
    """

    upgrading: tuple[str, str] | None = None  # (from, to) while an upgrade runs (schema.ensure_current)

    def __init__(self, db: str | os.PathLike, *, upgrade: bool = False, on_step: schema.Steps | None = None,
                 template: bool = True):
        """`on_step(k, n)`: an upgrade's progress, k of n revisions applied (the window's dialog);
        `template`: a new SQLite project may be a copy of the cached empty one (template.make_project)."""
        self.url = to_url(db)
        try:
            url = make_url(self.url)
        except ArgumentError as e:
            raise AnnotatorError(Errors.E004.format(url=self.url, reason=e)) from None
        self.is_sqlite = url.get_backend_name() == "sqlite"
        self.path = Path(url.database) if self.is_sqlite and url.database else None
        made = False  # this call made the file, whole, before opening it (core/db/template.py)
        if self.path is not None:
            if self.path.is_dir():  # else SQLite's IsADirectoryError (or a folder made inside it)
                raise AnnotatorError(Errors.E622.format(path=self.path, example=self.path / "project.db"))
            _check_leftovers(self.path)
            _check_sqlite_file(self.path)
            if not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            if template and not self.path.exists():
                made = templates.make_project(self.path, APPLICATION_ID, schema.HEAD)
                _check_sqlite_file(self.path)  # another process's file, if it was quicker
        self.engine: Engine = self._make_engine()
        self._local = threading.local()  # the session of the `atomic()` block running on this thread
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file opened
        try:
            self.login, self.is_admin = self._who()
            self.schema = schema.ensure_current(self, upgrade=upgrade, on_step=on_step)
            if made:
                self.schema = schema.SchemaState("created", self.schema.revision)
            if self.path is not None:
                st = os.stat(self.path)
                self._identity = (st.st_dev, st.st_ino)
        except OperationalError as e:
            self.engine.dispose()
            failure = machine_failure(self.path, e.orig)  # read-only, full, damaged: say which
            if failure is not None:
                raise failure from None
            if self.upgrading is not None:
                raise AnnotatorError(schema.upgrade_failed(self, e)) from None
            raise AnnotatorError(Errors.E004.format(url=self.url, reason=e.orig)) from None
        except ConnectionLost as e:
            self.engine.dispose()
            raise AnnotatorError(Errors.E004.format(url=self.url, reason=e.__cause__ or e)) from None
        except DBAPIError as e:
            self.engine.dispose()
            failure = machine_failure(self.path, e.orig)
            if failure is not None:
                raise failure from None
            if _sqlstate(e) == INSUFFICIENT_PRIVILEGE:  # a login the admin has not added
                raise AnnotatorError(Errors.E404.format(login=self.login, database=url.database,
                                                       reason=_first_line(e))) from None
            raise
        except BaseException:
            self.engine.dispose()
            raise

    @functools.cached_property
    def Session(self) -> sessionmaker:  # noqa: N802 (a session factory, called as the class would be)
        """The session factory; sqlalchemy.orm is imported here, on first use (~0.06 s of start-up
        that `annotator export`, reading with raw SQL, never pays)."""
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    def _who(self) -> tuple[str | None, bool]:
        """(the database login, whether it is the project's admin: the owner of the database or a
        superuser). SQLite: (None, True), the file's user manages it."""
        if self.is_sqlite:
            return None, True
        with self.engine.connect() as conn:
            login, admin = conn.exec_driver_sql(
                "SELECT current_user, pg_has_role(current_user, datdba, 'MEMBER') FROM pg_database "
                "WHERE datname = current_database()").one()
        return login, bool(admin)

    @property
    def member(self) -> str | None:
        """On a team server, the login of a member who is not the admin: they work as that name."""
        return None if self.is_admin else self.login

    def check_admin(self, action: str) -> None:
        """E402 unless this connection may manage the project (`action`: what it was about to do)."""
        if not self.is_admin:
            raise AnnotatorError(Errors.E402.format(user=self.login, database=make_url(self.url).database,
                                                    action=action))

    def coded(self, e: DBAPIError) -> Exception:
        """The coded error for a database failure the user can act on, else `e` itself."""
        if _sqlstate(e) == INSUFFICIENT_PRIVILEGE:
            return AnnotatorError(Errors.E401.format(user=self.login, reason=_first_line(e)))
        return machine_failure(self.path, e.orig) or busy(self.path, e.orig) or e

    def _sqlite_error(self, ctx) -> AnnotatorError | None:
        """SQLAlchemy's error hook on an SQLite engine: a failure of the machine under the file (read
        only, full, damaged) or a lock held by another process past the busy timeout becomes its coded
        error wherever it happens, reading or writing."""
        return machine_failure(self.path, ctx.original_exception) or busy(self.path, ctx.original_exception)

    def check_file(self) -> None:
        """E009 when the project file was deleted or replaced since it was opened: SQLite (in WAL
        mode) would go on writing into the old file, which nobody can open any more. One stat()."""
        if self._identity is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise AnnotatorError(Errors.E009.format(path=self.path, what="deleted or moved away")) from None
        if (st.st_dev, st.st_ino) != self._identity:
            raise AnnotatorError(Errors.E009.format(path=self.path, what="replaced by another file"))

    def _make_engine(self) -> Engine:
        if self.is_sqlite:
            engine = create_engine(self.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "handle_error", self._sqlite_error)
            return engine
        engine = create_engine(self.url, pool_pre_ping=True)
        event.listen(engine, "handle_error", _lost_connection)
        return engine

    @contextmanager
    def atomic(self) -> Iterator[Session]:
        """One transaction: committed when the outermost block ends, rolled back on any exception.

        Nested in another `atomic()` of this store on the same thread, the block is a SAVEPOINT in
        that transaction (same session): an exception rolls back the inner block only, and nothing is
        committed before the outer block ends (sqlite-utils' `atomic` does the same). On SQLite the
        outer block takes the write lock first (BEGIN IMMEDIATE), waiting up to the busy timeout: what
        an edit reads to check itself cannot change before it writes, and a second process waits its
        turn instead of failing with "database is locked" when it goes from reading to writing."""
        outer = getattr(self._local, "session", None)
        if outer is not None:
            with outer.begin_nested():
                yield outer
            return
        try:
            with self.Session() as session:
                with session.begin():
                    if self.is_sqlite:
                        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                        self.check_file()
                    self._local.session = session
                    try:
                        yield session
                    finally:
                        self._local.session = None
                    self.check_file()  # just before COMMIT: nothing is acknowledged into a lost file
        except DBAPIError as e:
            coded = self.coded(e)
            if coded is e:
                raise
            self._give_back(coded)
            raise coded from e
        except AnnotatorError as e:  # mapped already by the engine's error hook
            self._give_back(e)
            raise

    def _give_back(self, e: AnnotatorError) -> None:
        """After a full disk (E007) rolled a write back, empty the WAL it had grown into and close the
        pool's connections (the next use opens new ones), so that the disk gets its room back and the
        project can still be read while the disk is full."""
        if self.is_sqlite and e.code == "E007":
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                self.engine.dispose()  # the last connection closing removes the -wal and -shm files too
            except Exception:  # noqa: BLE001 (best effort: the error said what to do)
                pass

    def table_names(self) -> list[str]:
        return inspect(self.engine).get_table_names()

    def backup(self, target: str | os.PathLike) -> Path:
        """A consistent copy of an SQLite project, taken with the SQLite backup API."""
        assert self.path is not None, "backups are for SQLite projects"
        target = Path(target)
        src = sqlite3.connect(self.path)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
        return target

    def close(self) -> None:
        self.engine.dispose()

    def execute(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).fetchall()
