"""What a team server lets the project's members do at all: one group role per project database
holds the grants on the tables (row-level security, migrations 0003, 0004 and 0020, then decides row by
row), and is the only one that may call the policies' helpers. No TEMPORARY for anyone but the owner, and
no CREATE in the schema: a member's temporary or public table, function or operator could shadow the
project's (0004 and 0020 revoke them too; a database copied from another, `CREATE DATABASE ... TEMPLATE`,
comes with the default privileges again, so adding a member revokes them once more). Every grant is made
afresh (`REVOKE ALL` first), so one this module no longer gives does not stay from an older version."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

WRITABLE = ("spans", "document_states", "entities", "aliases", "labels", "model_runs", "project_settings",
            "provenance_counts", "provenance_totals", "agreement_pairs", "agreement_labels", "agreement_totals",
            "agreement_stale", "edit_seconds")
# Rows a member adds but never deletes: nobody in the app deletes a document (span offsets index into its
# text; a DELETE cascades into every layer) or a step of the history. A document's row is locked
# (store.lock_documents), for which UPDATE on one column is enough: the policy lets none change (0020).
APPEND_ONLY = ("documents", "events")
# The policies' SECURITY DEFINER helpers (0004, 0020): EXECUTE for the members' group only.
HELPERS = ("annotator_me()", "annotator_is_reviewer()", "annotator_may_write(integer)", "annotator_visible_layers()",
           "annotator_may_delete_entity(integer)")
# Columns a member may UPDATE where not all are theirs to change: a row never moves to another layer.
UPDATABLE_COLUMNS = {
    "spans": ("start", "end", "label", "entity_id", "nil", "referent_note", "origin", "status", "model_run_id",
              "updated_at", "version", "link_source"),
    "document_states": ("status", "seconds_spent", "updated_at"),
    "events": ("undone", "payload"),
    "documents": ("id",),
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
                  f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {g}", f"GRANT USAGE ON SCHEMA public TO {g}",
                  f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {g}",
                  f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {g}",
                  f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {g}",
                  f"GRANT INSERT, DELETE ON {', '.join(WRITABLE)} TO {g}",
                  f"GRANT INSERT ON annotators, {', '.join(APPEND_ONLY)} TO {g}"]
    statements += [f"REVOKE EXECUTE ON FUNCTION {f} FROM PUBLIC" for f in HELPERS]
    statements += [f"GRANT EXECUTE ON FUNCTION {f} TO {g}" for f in HELPERS]
    statements += [f"GRANT UPDATE ON {t} TO {g}" for t in WRITABLE if t not in UPDATABLE_COLUMNS]
    statements += [f"GRANT UPDATE ({', '.join(_quote(conn, c) for c in cols)}) ON {t} TO {g}"
                   for t, cols in UPDATABLE_COLUMNS.items()]
    for sql in statements:
        conn.exec_driver_sql(sql)
    return True
