"""Time spent, kept as it is written: per person and day, the seconds the progress dashboard shows
(`edit_seconds`), so it reads one row per person and day instead of a window over every event.

The rule (`reference`, the window over the whole history the dashboard ran before): for each
person, document and day (UTC), the events in id order; each one's gap is its time minus the previous
one's, counted up to `GAP_CAP` seconds, a negative gap (a merged event written after a later one)
counts 0, and the first of the day counts nothing. A row exists for every person and day with an edit
of a document (0 s when it was their only one there). Stored in whole microseconds, so a sum is exact
whichever order the gaps were added in.

Whatever writes events calls `record` in the same transaction with the ids it wrote: the command stack
(every edit, undo and redo) and a merge. A new event has the highest id, so it is the last of its
(person, document, day): its gap is from the newest earlier event there, found by index (SQLite:
ix_events_gaps of migration 0013; PostgreSQL: ix_events_document of 0015), about 0.1 ms per edit.
`rebuild` fills the table from the reference (migration 0015, events written with raw SQL).
Events without a document (role changes, the project's creation) count nothing. One limit on a team
server: two sessions of the same person editing the same document at the same instant may each miss
the other's uncommitted event, as any READ COMMITTED reader would; `rebuild` sets it right.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import BigInteger, bindparam, case, cast, delete, func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from annotator.core.db.models import EditSeconds, Event

GAP_CAP = 300  # seconds
_CAP_US = GAP_CAP * 1_000_000
_CHUNK = 500  # event ids per statement
_RECORD: dict = {}  # dialect name -> `record`'s statement


def is_pg(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def day_of(s: Session, column):
    """The UTC day of a stored time, as YYYY-MM-DD (SQLite: the expression ix_events_gaps indexes)."""
    if is_pg(s):
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column)


def seconds_of(s: Session, column):
    if is_pg(s):
        return func.extract("epoch", column)
    return func.julianday(column) * 86400.0


def capped_us(gap):
    """A gap in seconds as whole microseconds, 0 below 0 and `GAP_CAP` s above it (NULL stays NULL)."""
    us = cast(func.round(gap * 1_000_000), BigInteger)
    return case((gap > GAP_CAP, literal(_CAP_US, BigInteger)), (gap < 0, literal(0, BigInteger)), else_=us)


def window_gaps(s: Session):
    """Every event with a document, with its day and its capped gap in microseconds (NULL: the first)."""
    day, secs = day_of(s, Event.created_at), seconds_of(s, Event.created_at)
    gaps = (select(Event.annotator_id, day.label("day"),
                   (secs - func.lag(secs).over(partition_by=(Event.annotator_id, Event.document_id, day),
                                               order_by=Event.id)).label("gap"))
            .where(Event.document_id.is_not(None)).subquery())
    return select(gaps.c.annotator_id, gaps.c.day, capped_us(gaps.c.gap).label("us")).subquery()


def reference(s: Session) -> dict[tuple[int, str], int]:
    """(person, day) -> microseconds, computed over the whole history (the rule, and what `rebuild` stores)."""
    g = window_gaps(s)
    return {(a, str(d)): int(n or 0) for a, d, n in s.execute(
        select(g.c.annotator_id, g.c.day, func.sum(g.c.us)).group_by(g.c.annotator_id, g.c.day))}


def stored(s: Session) -> dict[tuple[int, str], int]:
    t = EditSeconds
    return {(a, d): int(n) for a, d, n in s.execute(select(t.annotator_id, t.day, t.micros))}


def _upsert(s: Session, rows):
    table = EditSeconds.__table__
    stmt = (pg_insert if is_pg(s) else sqlite_insert)(table).from_select(["annotator_id", "day", "micros"], rows)
    return stmt.on_conflict_do_update(index_elements=["annotator_id", "day"],
                                      set_={"micros": table.c.micros + stmt.excluded.micros})


def _new_gaps(s: Session):
    """The gaps of the events whose ids are bound as `ids`, each from the newest earlier event of the
    same person, document and day, summed per person and day."""
    e, q = aliased(Event), aliased(Event)
    day = day_of(s, e.created_at)
    previous = (select(seconds_of(s, q.created_at))
                .where(q.annotator_id == e.annotator_id, q.document_id == e.document_id,
                       day_of(s, q.created_at) == day, q.id < e.id)
                .order_by(q.id.desc()).limit(1).correlate(e).scalar_subquery())
    gaps = (select(e.annotator_id, day.label("day"), (seconds_of(s, e.created_at) - previous).label("gap"))
            .where(e.id.in_(bindparam("ids", expanding=True)), e.document_id.is_not(None)).subquery())
    return (select(gaps.c.annotator_id, gaps.c.day, func.coalesce(func.sum(capped_us(gaps.c.gap)), 0))
            .group_by(gaps.c.annotator_id, gaps.c.day))


def record(s: Session, event_ids: Iterable[int]) -> None:
    """Add the time of the events just written (`event_ids`, in this transaction) to their days."""
    ids = sorted(set(event_ids))
    if not ids:
        return
    dialect = s.get_bind().dialect.name
    if (stmt := _RECORD.get(dialect)) is None:  # built once: building it costs more than running it
        stmt = _RECORD[dialect] = _upsert(s, _new_gaps(s))
    conn = s.connection()
    for i in range(0, len(ids), _CHUNK):
        conn.execute(stmt, {"ids": ids[i:i + _CHUNK]})


def rebuild(s: Session) -> None:
    """Empty the table and fill it from the whole history (an upgrade, events written with raw SQL)."""
    conn = s.connection()
    conn.execute(delete(EditSeconds.__table__))
    g = window_gaps(s)
    rows = select(g.c.annotator_id, g.c.day, func.coalesce(func.sum(g.c.us), 0)).group_by(g.c.annotator_id, g.c.day)
    conn.execute(insert(EditSeconds.__table__).from_select(["annotator_id", "day", "micros"], rows))

