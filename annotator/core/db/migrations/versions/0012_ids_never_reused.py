"""ids never given twice on SQLite: spans, entities and aliases become AUTOINCREMENT tables

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

An undo puts a deleted span back with its old id (so do a redo of an added span or gold decision, the
undo of an entity merge for the entity and its folded aliases). Without AUTOINCREMENT, SQLite gives a
new row max(id) + 1, which is the id of a row just deleted: another user's new span took it, and the
undo failed. With it, SQLite keeps the highest id ever given in `sqlite_sequence` and never goes back.
PostgreSQL's sequences never give an id twice: nothing to do there.

SQLite cannot add AUTOINCREMENT to a table, so each is rebuilt the way SQLite documents for schema
changes (lang_altertable.html, "making other kinds of table schema changes"): a new table made from
the old one's own CREATE TABLE (every column, constraint and foreign key as they are) with the key
made AUTOINCREMENT, every row copied with its id, the old table dropped, the new one renamed, and its
indexes and triggers (the alias search index's, 0002) made again from their own SQL. The FTS5 index
stores the alias ids, which do not change, so it stays as it is. Foreign keys must be off while the
parents (entities) are dropped, or the drop would cascade into aliases and unlink spans:
`schema.migrate` turns them off before the transaction (SQLite ignores the pragma inside one), and
this migration refuses to run with them on.

The highest id ever given is not known for rows already deleted: each table's counter starts above
both its highest id and the highest id the history mentions (an undo on the stack may still put such
a row back).
"""
import re

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

TABLES = ("entities", "aliases", "spans")  # parents first: nothing depends on the order with keys off
_KEY_COLUMN = re.compile(r"\bid INTEGER NOT NULL,")
_KEY_CONSTRAINT = re.compile(r",\s*PRIMARY KEY \(id\)")
# Every id in the history's payloads that may name a row of these tables (a few that name other rows
# too: the counter only starts higher, which costs nothing).
_ID_KEYS = ("span_id", "entity_id", "source_id", "target_id", "alias_id", "added_alias", "into", "id")
_ID_LISTS = ("span_ids", "created", "moved")


def _rebuild(conn, table: str, autoincrement: bool) -> None:
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).scalar()
    if autoincrement:
        new = _KEY_CONSTRAINT.sub("", _KEY_COLUMN.sub("id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,", sql, 1), 1)
    else:
        new = sql.replace(" PRIMARY KEY AUTOINCREMENT,", ",", 1).replace("\n)", ", \n\tPRIMARY KEY (id)\n)", 1)
    if new == sql or ("AUTOINCREMENT" in new) != autoincrement:
        raise RuntimeError(f"0012: unexpected definition of {table}: {sql}")
    extras = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
                                  "AND sql IS NOT NULL ORDER BY type, name", (table,)).scalars().all()
    columns = ", ".join(f'"{r[1]}"' for r in conn.exec_driver_sql(f"PRAGMA table_info({table})"))
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS _new_{table}")  # left by a copy of the file taken mid-upgrade
    conn.exec_driver_sql(re.sub(rf'^CREATE TABLE "?{table}"? \(', f"CREATE TABLE _new_{table} (", new, count=1))
    conn.exec_driver_sql(f"INSERT INTO _new_{table} ({columns}) SELECT {columns} FROM {table} ORDER BY id")
    conn.exec_driver_sql(f"DROP TABLE {table}")
    conn.exec_driver_sql(f"ALTER TABLE _new_{table} RENAME TO {table}")
    for statement in extras:
        conn.exec_driver_sql(statement)


def _history_floor(conn) -> int:
    """The highest id the history's payloads mention (0 for none)."""
    keys = ", ".join(f"'{k}'" for k in _ID_KEYS)
    lists = " OR ".join(f"t.path LIKE '%.{k}'" for k in _ID_LISTS)
    return conn.exec_driver_sql(
        "SELECT coalesce(max(t.value), 0) FROM events, json_tree(events.payload) AS t "
        f"WHERE t.type = 'integer' AND (t.key IN ({keys}) OR {lists} OR (t.path LIKE '%.made[%]' AND t.key = 3))"
    ).scalar()


def _check_keys_off(conn) -> None:
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("0012 rebuilds tables: run it through annotator.core.db.schema.migrate, which turns "
                           "foreign keys off first (dropping entities would cascade into aliases and spans)")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    _check_keys_off(conn)
    for table in TABLES:
        _rebuild(conn, table, autoincrement=True)
    floor = _history_floor(conn)
    for table in TABLES:
        top = max(conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar(), floor)
        conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        if top:
            conn.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, top))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    _check_keys_off(conn)
    for table in TABLES:
        _rebuild(conn, table, autoincrement=False)
    conn.exec_driver_sql(f"DELETE FROM sqlite_sequence WHERE name IN {TABLES!r}")
