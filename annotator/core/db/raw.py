"""Raw SQL on the hot paths (candidate look-ups, search): straight through the driver, one dialect
probe per database, LIKE patterns escaped the same way everywhere."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # annotations only: importing this module loads no SQLAlchemy (command start-up)
    from sqlalchemy.engine import Connection

_probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine → {what: answer}


def rows(conn: Connection, sql: str, params: Sequence = ()) -> list:
    """Run SQL written with "?" placeholders straight through the driver: on these sub-millisecond
    index look-ups SQLAlchemy's parameter processing would cost more than the database."""
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return conn.exec_driver_sql(sql, tuple(params)).all()


def marks(n: int) -> str:
    return ",".join("?" * n)


def like_escape(s: str) -> str:
    """`s` as a literal inside a LIKE pattern written with ESCAPE '\\'."""
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def index_backend(conn: Connection, sqlite_table: str, pg_probe: str, fallback: str) -> str:
    """"fts5" when the SQLite database has `sqlite_table`, "pg_trgm" when `pg_probe` (a query) finds a
    row on PostgreSQL, else `fallback`. Asked once per database and question: indexes come with the
    schema, not while the app runs."""
    cache = _probes.setdefault(conn.engine, {})
    key = (sqlite_table, pg_probe)
    if key not in cache:
        if conn.dialect.name == "sqlite":
            found = rows(conn, "SELECT 1 FROM sqlite_master WHERE name = ?", [sqlite_table])
            cache[key] = "fts5" if found else fallback
        elif conn.dialect.name == "postgresql":
            cache[key] = "pg_trgm" if rows(conn, pg_probe) else fallback
        else:
            cache[key] = fallback
    return cache[key]


def pg_has(conn: Connection, probe: str) -> bool:
    """Whether `probe` (a query) finds a row on PostgreSQL; False on SQLite. Cached as index_backend."""
    cache = _probes.setdefault(conn.engine, {})
    key = ("pg", probe)
    if key not in cache:
        cache[key] = conn.dialect.name == "postgresql" and bool(rows(conn, probe))
    return cache[key]
