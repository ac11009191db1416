"""Calls straight to psycopg, past SQLAlchemy: COPY (core/db/bulk.py) and statements prepared on their
first run (`prepared`); their errors said as the engine's error hook says them."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from annotator.core.db.raw import rows
from annotator.errors import ConnectionLost, Errors

Run = Callable[..., list]  # run(sql with "?" placeholders, parameters) -> rows


@contextmanager
def driver_errors(conn: Connection, sql: str) -> Iterator[None]:
    """A lost connection is E400 (and the connection invalidated, as the pool does), any other error a
    DBAPIError as SQLAlchemy raises it (core/db/store.py codes those)."""
    error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except error as e:
        if conn.connection.driver_connection.closed or (e.sqlstate or "").startswith(("08", "57P")):
            conn.invalidate()
            reason = (str(e).strip().splitlines() or ["no answer"])[0]
            raise ConnectionLost(Errors.E400.format(reason=reason, what="Nothing was changed.")) from e
        raise DBAPIError.instance(sql, None, e, error) from e


def prepared(conn: Connection) -> Run:
    """A `run` for sub-millisecond statements: on PostgreSQL each is prepared on its first run (psycopg
    prepares on the sixth) and run past SQLAlchemy, whose per-statement work was a third of their
    time. Plans stay PostgreSQL's choice: a generic plan from the first run (plan_cache_mode) saved
    the rest of the planning, but estimated from the whole table it turned a span filter no span
    passes from 0.2 ms into 1.2 s where another layer's spans matched. Elsewhere `run` is `rows`."""
    if conn.dialect.name != "postgresql":
        return lambda sql, params=(): rows(conn, sql, params)
    driver = conn.connection.driver_connection

    def run(sql: str, params: Sequence = ()) -> list:
        sql = sql.replace("?", "%s")
        with driver_errors(conn, sql):
            return driver.execute(sql, tuple(params), prepare=True).fetchall()

    return run
