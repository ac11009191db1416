"""Bulk inserts for import: rows as tuples, straight to the driver's executemany on SQLite.

At hundreds of thousands of spans, SQLAlchemy's per-row work (a parameter dict built, then each
value run through its type's processor) costs more than SQLite's insert itself. Here the values of a
row are given as the driver takes them: what is the same for every row (a timestamp) is converted
once with the column type's own bind processor, so the stored values are the ones the ORM stores.
Other databases take the same rows through SQLAlchemy Core.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy import Connection, Table, insert


class Bulk:
    """Inserts into `table` of rows given as tuples in `columns` order, on `conn`'s transaction."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]):
        self.conn, self.table, self.columns = conn, table, tuple(columns)
        self.raw = conn.dialect.name == "sqlite"
        quote = conn.dialect.identifier_preparer.quote
        self.sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in self.columns)}) "
                    f"VALUES ({', '.join('?' * len(self.columns))})")

    def converter(self, column: str) -> Callable[[Any], Any]:
        """How a row gives a value of `column`: on SQLite, converted as its type stores it (a datetime
        to its text, a JSON value to its serialisation); elsewhere as it is, for Core to convert."""
        dialect = self.conn.dialect
        process = self.table.c[column].type.dialect_impl(dialect).bind_processor(dialect) if self.raw else None
        return process or _same

    def value(self, column: str, value: Any) -> Any:
        return self.converter(column)(value)

    def insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.raw:
            self.conn.exec_driver_sql(self.sql, rows)
        else:
            self.conn.execute(insert(self.table), [dict(zip(self.columns, row)) for row in rows])


def _same(value: Any) -> Any:
    return value
