"""Bulk inserts for an import: rows given as tuples, the fastest way each backend takes them.

At hundreds of thousands of spans, SQLAlchemy's per-row work (a parameter dict built, then each
value run through its type's processor) costs more than the database's insert itself. So:
- SQLite: the driver's executemany, values converted as the column's type stores them (what is the
  same for every row, a timestamp, is converted once: `value`), so the rows are the ORM's rows;
- PostgreSQL: COPY (psycopg's `cursor.copy`), several times faster than INSERT at millions of rows,
  values converted the same way; ids come from the tables' own sequences, as an INSERT's would;
- a member of a team project, whose rows the server checks one by one under row-level security
  (which COPY FROM does not support), and any other database: a Core executemany.
Either way the rows land in the caller's transaction, so an import stays atomic. A failed COPY is the
same coded error as a failed INSERT (a lost server: E400).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from annotator.errors import ConnectionLost, Errors

COPY = True  # False: PostgreSQL takes the executemany path too (to compare both)


def uses_copy(conn: Connection, table: Table) -> bool:
    """Whether rows for `table` go in by COPY: PostgreSQL, and no row-level security applies to this
    login (the project's owner; a member's rows are checked by the policies, on INSERT)."""
    if not COPY or conn.dialect.name != "postgresql":
        return False
    return not conn.execute(text("SELECT row_security_active(:t)"), {"t": table.name}).scalar()


class Bulk:
    """Inserts into `table` of rows given as tuples in `columns` order, on `conn`'s transaction."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]):
        self.conn, self.table, self.columns = conn, table, tuple(columns)
        self.mode = "raw" if conn.dialect.name == "sqlite" else "copy" if uses_copy(conn, table) else "core"
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in self.columns)
        self.sql = (f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(self.columns))})"
                    if self.mode == "raw" else f"COPY {quote(table.name)} ({names}) FROM STDIN")

    def converter(self, column: str) -> Callable[[Any], Any]:
        """How a row gives a value of `column`: for the driver (SQLite) and COPY, converted as its type
        stores it (a datetime to its text on SQLite, a JSON value to its serialisation); for Core, as it is."""
        if self.mode == "core":
            return _same
        dialect = self.conn.dialect
        return self.table.c[column].type.dialect_impl(dialect).bind_processor(dialect) or _same

    def value(self, column: str, value: Any) -> Any:
        return self.converter(column)(value)

    def insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.mode == "raw":
            self.conn.exec_driver_sql(self.sql, rows)
        elif self.mode == "copy":
            self._copy(rows)
        else:
            self.conn.execute(insert(self.table), [dict(zip(self.columns, row)) for row in rows])

    def _copy(self, rows: list[tuple]) -> None:
        import psycopg  # only a server's projects get here

        driver = self.conn.connection.driver_connection
        try:
            with driver.cursor() as cursor, cursor.copy(self.sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as e:  # as the engine's error hook (core/db/store.py) says it for an INSERT
            if driver.closed or (e.sqlstate or "").startswith(("08", "57P")):
                self.conn.invalidate()
                reason = (str(e).strip().splitlines() or ["no answer"])[0]
                raise ConnectionLost(Errors.E400.format(reason=reason, what="Nothing was changed.")) from e
            raise DBAPIError.instance(self.sql, None, e, psycopg.Error) from e


def _same(value: Any) -> Any:
    return value


ANALYZE_AFTER = 1000  # documents added by one import after which the server's statistics are refreshed
LOADED = ("documents", "spans", "document_states")


def analyze_after_load(engine, documents: int) -> None:
    """Refresh PostgreSQL's statistics of the tables an import filled, once it committed. Until its
    autovacuum gets to it (a minute or more later) the planner would estimate the new rows from the old
    statistics: after 3,000 documents went into a new project, a search by label took 60 ms instead of
    1 ms (a nested loop over every span of the label, planned for one). SQLite's planner uses no such
    statistics here. A member's ANALYZE of the owner's tables is skipped by the server with a warning."""
    if engine.dialect.name != "postgresql" or documents < ANALYZE_AFTER:
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"ANALYZE {', '.join(LOADED)}")
        conn.commit()
