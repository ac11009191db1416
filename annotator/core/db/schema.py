"""Schema versions through Alembic: create a new project, refuse a newer one, upgrade an older one
(after a backup, for SQLite)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from annotator.core.db.grants import grant_members
from annotator.errors import AnnotatorError, Errors, SchemaOutdated

if TYPE_CHECKING:  # the store opens through this module (`ensure_current`), so only for type names
    from annotator.core.db.store import Store

APPLICATION_ID = 0x414E4E4F  # "ANNO", in an SQLite project's header
MIGRATIONS = Path(__file__).parent / "migrations"
# Revisions are numbered files (0001_*.py, 0002_*.py ...) in one line of history, so the known ones
# and the head are read from the file names: opening a project need not import Alembic (~0.3 s of
# start-up). A test checks this against Alembic's own view.
REVISIONS = sorted(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
HEAD = REVISIONS[-1]


Steps = Callable[[int, int], None]  # (revisions applied so far, revisions to apply): an upgrade's progress


def alembic_config(connection=None, on_step: Steps | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["on_step"] = on_step  # migrations/env.py calls it after each revision
    return cfg


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(store: Store, revision: str = "head", on_step: Steps | None = None) -> str | None:
    """Upgrade to `revision`; the revision an SQLite file was at once its write lock was held (None:
    no schema, or a server)."""
    from alembic import command

    found = None
    with store.engine.connect() as conn:
        if store.is_sqlite:
            # A migration may rebuild a table others refer to (0012): with foreign keys on, dropping the
            # old one would cascade. SQLite ignores this pragma inside a transaction, so it comes first.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if store.is_sqlite:  # the driver begins only at the first write: a CREATE before it would stay
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").first():
                        found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                command.upgrade(alembic_config(conn, on_step), revision)
                if store.is_sqlite:
                    conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
        finally:
            if store.is_sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")  # the pooled connection serves edits next
                conn.commit()
    if store.is_sqlite:  # put the new header into the main file now, not at the next checkpoint
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return found


@dataclass(frozen=True)
class SchemaState:
    """What opening a project did to its schema."""

    action: str  # "created" (a new project), "current" (nothing to do) or "upgraded"
    revision: str  # the schema now
    before: str | None = None  # the schema found, when upgraded
    backup: Path | None = None  # the copy made before upgrading an SQLite file


def ensure_current(store: Store, *, upgrade: bool = False, on_step: Steps | None = None) -> SchemaState:
    """Bring a new project to the current schema (a new SQLite file is made whole before it is opened:
    Store, core/db/template.py; an empty one left by another way is migrated here); check an existing one,
    and upgrade it only when asked (`annotator db upgrade`, or the window's question): E005 otherwise.
    `on_step(k, n)` hears an upgrade's progress: k of its n revisions applied (0 before the first, with
    the backup)."""
    where = store.path or store.url
    tables = set(inspect(store.engine).get_table_names())
    if not tables:
        store.check_admin("create the project")
        # under the write lock, from the revision found then: a project another process made meanwhile
        # is kept, and is not this one's creation
        if migrate(store) == HEAD:
            return SchemaState("current", HEAD)
        return SchemaState("created", HEAD)
    if "alembic_version" not in tables:
        raise AnnotatorError(Errors.E001.format(path=where))
    found = current_revision(store)
    head = HEAD
    if found == head:
        return SchemaState("current", head)
    if found not in REVISIONS:
        raise AnnotatorError(Errors.E002.format(path=where, found=found, known=head))
    if not upgrade:
        raise SchemaOutdated(Errors.E005.format(path=where, found=found, known=head))
    store.check_admin("upgrade the project")
    total = len(REVISIONS) - REVISIONS.index(found) - 1
    store.upgrading = (found, head)  # a failure from here on is this upgrade's (Store: E549)
    if on_step is not None:
        on_step(0, total)
    backup = None
    if store.path is not None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = store.backup(store.path.with_name(f"{store.path.stem}.before-{head}-{stamp}{store.path.suffix}"))
    applied = 0

    def step() -> None:
        nonlocal applied
        applied += 1
        on_step(applied, total)

    try:
        if migrate(store, on_step=None if on_step is None else step) == head:
            return SchemaState("current", head)  # another process upgraded it meanwhile
    except OperationalError:
        raise  # the store tells the machine's failures (a full disk: E007) from the upgrade's (E549)
    except SQLAlchemyError as e:
        raise AnnotatorError(upgrade_failed(store, e)) from None
    if not store.is_sqlite:
        with store.engine.begin() as conn:
            grant_members(conn)  # members get the tables the upgrade added
    return SchemaState("upgraded", head, found, backup)


def upgrade_failed(store: Store, e: BaseException) -> str:
    """E549 for the upgrade `store` was running when `e` happened."""
    found, head = store.upgrading
    said = str(getattr(e, "orig", None) or e).strip()
    return Errors.E549.format(path=store.path or store.url, found=found, known=head,
                              reason=said.splitlines()[0] if said else type(e).__name__)
