"""What a team server lets the project's members do at all: one group role per project database
holds the grants on the tables (row-level security, migrations 0003 and 0004, then decides row by row).
No TEMPORARY for anyone but the owner: a member's temporary table, function or operator could shadow the
project's (0004 revokes it too; a database copied from another, `CREATE DATABASE ... TEMPLATE`, comes with
the default privileges again, so adding a member revokes it once more)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

WRITABLE = ("spans", "document_states", "events", "entities", "aliases", "documents", "labels", "model_runs",
            "project_settings", "provenance_counts", "provenance_totals", "agreement_pairs", "agreement_labels",
            "agreement_totals", "agreement_stale", "edit_seconds")
# Columns a member may UPDATE where not all are theirs to change: a row never moves to another layer.
UPDATABLE_COLUMNS = {
    "spans": ("start", "end", "label", "entity_id", "nil", "referent_note", "origin", "status", "model_run_id",
              "updated_at", "version", "link_source"),
    "document_states": ("status", "seconds_spent", "updated_at"),
    "events": ("undone", "payload"),
}


def group_name(conn: Connection) -> str:
    """The project's group role: roles are per server, so it is named after the database."""
    return f"{conn.exec_driver_sql('SELECT current_database()').scalar()[:50]}_members"


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def grant_members(conn: Connection) -> bool:
    """(Re)grant the group role its rights on every table: after `add_user`, and after an upgrade
    that added tables. False when the project has no members yet (nothing to grant)."""
    group = group_name(conn)
    if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": group}).first():
        return False
    g, db = _quote(conn, group), _quote(conn, conn.exec_driver_sql("SELECT current_database()").scalar())
    statements = [f"GRANT CONNECT ON DATABASE {db} TO {g}", f"REVOKE TEMPORARY ON DATABASE {db} FROM PUBLIC, {g}",
                  f"GRANT USAGE ON SCHEMA public TO {g}",
                  f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {g}",
                  f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {g}",
                  f"GRANT INSERT, DELETE ON {', '.join(WRITABLE)} TO {g}",
                  f"GRANT INSERT ON annotators TO {g}"]
    statements += [f"GRANT UPDATE ON {t} TO {g}" for t in WRITABLE if t not in UPDATABLE_COLUMNS]
    statements += [f"GRANT UPDATE ({', '.join(_quote(conn, c) for c in cols)}) ON {t} TO {g}"
                   for t, cols in UPDATABLE_COLUMNS.items()]
    for sql in statements:
        conn.exec_driver_sql(sql)
    return True
