"""SQLite's query plans for the statements a call runs: which index it reads and whether it sorts,
so that a test can hold a query to the plan that keeps it quick on a big project."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements(store):
    """The (sql, parameters) the store's engine runs inside the block, in order."""
    seen: list[tuple[str, tuple]] = []

    def keep(conn, cursor, sql, params, context, many):
        seen.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", keep)


def plan(store, sql: str, params) -> str:
    """EXPLAIN QUERY PLAN's lines, joined by " | "."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
    return " | ".join(r[-1] for r in rows)


def plan_of(store, seen, *words: str) -> str:
    """The plan of the one statement seen that contains every word in `words`."""
    [(sql, params)] = [(q, p) for q, p in seen if all(w in q for w in words)]
    return plan(store, sql, params)
