"""Bulk inserts for an import, per backend: on PostgreSQL the rows go in with COPY (psycopg's
`cursor.copy`), several times faster than INSERT for millions of rows; elsewhere, and for a member
whose rows the server checks one by one (row-level security, which COPY FROM does not support), a
Core executemany. Either way the rows land in the caller's transaction, so an import stays atomic.

Values are converted by each column's SQLAlchemy type exactly as an INSERT would convert them (JSON
serialised the same way, timestamps as given), so both paths store the same rows; a document's id
is taken from the table's own sequence, as the INSERT's default would take it. A failed COPY is the
same coded error as a failed INSERT (a lost server: E400).
"""

from __future__ import annotations

from typing import Any

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


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`."""
    if not rows:
        return
    if uses_copy(conn, table):
        _copy(conn, table, list(rows[0]), rows)
    else:
        conn.execute(insert(table), rows)


def insert_returning_ids(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` into `table` (its primary key `id` from its sequence); their ids, in order."""
    if not rows:
        return []
    if not uses_copy(conn, table):
        return list(conn.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
    ids = sorted(conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                              {"t": table.name, "n": len(rows)}).scalars())
    _copy(conn, table, ["id", *rows[0]], [{"id": i, **row} for i, row in zip(ids, rows)])
    return ids


def _copy(conn: Connection, table: Table, columns: list[str], rows: list[dict[str, Any]]) -> None:
    dialect = conn.dialect
    convert = [(c, table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]
    quote = dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    import psycopg  # only a server's projects get here

    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[c] if f is None else f(row[c]) for c, f in convert])
    except psycopg.Error as e:  # as the engine's error hook (core/db/store.py) says it for an INSERT
        if driver.closed or (e.sqlstate or "").startswith(("08", "57P")):
            conn.invalidate()
            reason = (str(e).strip().splitlines() or ["no answer"])[0]
            raise ConnectionLost(Errors.E400.format(reason=reason, what="Nothing was changed.")) from e
        raise DBAPIError.instance(sql, None, e, psycopg.Error) from e
