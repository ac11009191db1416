"""team mode: row-level security that holds against raw SQL, and blind annotation in the database

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09

PostgreSQL only (SQLite: nothing to do). 0003's policy helpers read the unqualified table `annotators`
with the caller's search_path, so a member's temporary table of that name (pg_temp comes first for
tables) made them a reviewer. Now:
- the helpers are SECURITY DEFINER with `SET search_path = pg_catalog, <schema>, pg_temp`, name every
  table by its schema and every operator by pg_catalog; who is calling is `session_user` (the login,
  which SET ROLE cannot change; inside a SECURITY DEFINER function `current_user` is the owner);
- no one but the owner may create temporary objects in the database (TEMPORARY revoked from PUBLIC
  and from the members' group; `grants.grant_members` never grants it);
- reads are blind as in `core/editing/permissions.visible_layers`: an annotator's login reads only
  their own and the model's spans and document states, and only their own history; reviewers read
  everything, and the other tables stay open to every member.
"""
import importlib

from alembic import op

from annotator.core.db.grants import group_name

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_0003 = importlib.import_module("annotator.core.db.migrations.versions.0003_team")

# {s}: the project's schema, quoted. `session_user` is the member's login.
PINNED = "SECURITY DEFINER SET search_path = pg_catalog, {s}, pg_temp"
FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION {s}.annotator_me() RETURNS integer LANGUAGE sql STABLE {pinned}
       AS $$ SELECT a.id FROM {s}.annotators a WHERE a.name OPERATOR(pg_catalog.=) session_user::text $$""",
    """CREATE OR REPLACE FUNCTION {s}.annotator_is_reviewer() RETURNS boolean LANGUAGE sql STABLE {pinned}
       AS $$ SELECT COALESCE((SELECT a.role OPERATOR(pg_catalog.=) 'reviewer' FROM {s}.annotators a
                               WHERE a.name OPERATOR(pg_catalog.=) session_user::text), false) $$""",
    """CREATE OR REPLACE FUNCTION {s}.annotator_may_write(layer integer) RETURNS boolean LANGUAGE sql STABLE
       {pinned}
       AS $$ SELECT layer OPERATOR(pg_catalog.=) {s}.annotator_me() OR {s}.annotator_is_reviewer() $$""",
    # the layers an annotator reads (their own, the model's): permissions.visible_layers
    """CREATE OR REPLACE FUNCTION {s}.annotator_visible_layers() RETURNS integer[] LANGUAGE sql STABLE {pinned}
       AS $$ SELECT pg_catalog.array_agg(a.id) FROM {s}.annotators a
             WHERE a.is_model OR a.name OPERATOR(pg_catalog.=) session_user::text $$""",
    """CREATE OR REPLACE FUNCTION {s}.annotator_linked_elsewhere(entity integer, me integer) RETURNS boolean
       LANGUAGE sql STABLE {pinned}
       AS $$ SELECT EXISTS (SELECT 1 FROM {s}.spans sp WHERE sp.entity_id OPERATOR(pg_catalog.=) entity
                            AND sp.annotator_id IS DISTINCT FROM me) $$""",
    # a trigger, run as the caller (the owner check below is about them): pinned, not SECURITY DEFINER
    """CREATE OR REPLACE FUNCTION {s}.annotator_alias_guard() RETURNS trigger LANGUAGE plpgsql
       SET search_path = pg_catalog, {s}, pg_temp AS $$
       BEGIN
         IF (NEW.entity_id, NEW.text, NEW.norm, NEW.created_by) IS DISTINCT FROM
            (OLD.entity_id, OLD.text, OLD.norm, OLD.created_by)
            AND NOT {s}.annotator_is_reviewer()
            AND NOT pg_catalog.pg_has_role(current_user, (SELECT d.datdba FROM pg_catalog.pg_database d
                                           WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()),
                                           'MEMBER') THEN
           RAISE EXCEPTION 'only reviewers change an alias other than its count'
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN NEW;
       END $$""",
]
# table -> who reads which rows (0003: every member reads every row). The helpers run once per query
# (a scalar sub-select is an InitPlan), not once per row.
_LAYERS = ("(SELECT {s}.annotator_is_reviewer()) "
           "OR annotator_id = ANY ((SELECT {s}.annotator_visible_layers())::integer[])")
READ = {
    "spans": _LAYERS,
    "document_states": _LAYERS,
    "events": "(SELECT {s}.annotator_is_reviewer()) OR annotator_id = (SELECT {s}.annotator_me())",
}


def _names(conn) -> tuple[str, str]:
    """(the project's schema, its database), quoted."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    schema, db = conn.exec_driver_sql("SELECT current_schema(), current_database()").one()
    return quote(schema), quote(db)


def _temporary(conn, verb: str) -> None:
    """GRANT or REVOKE creating temporary tables (and functions, operators: pg_temp) in the database."""
    _, db = _names(conn)
    to = "TO" if verb == "GRANT" else "FROM"
    op.execute(f"{verb} TEMPORARY ON DATABASE {db} {to} PUBLIC")
    group = group_name(conn)
    if verb == "REVOKE" and conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).first():
        op.execute(f"REVOKE TEMPORARY ON DATABASE {db} FROM {conn.dialect.identifier_preparer.quote_identifier(group)}")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s, _ = _names(conn)
    for sql in FUNCTIONS:
        op.execute(sql.format(s=s, pinned=PINNED.format(s=s)))
    for table, using in READ.items():
        op.execute(f"DROP POLICY member_read ON {s}.{table}")
        op.execute(f"CREATE POLICY member_read ON {s}.{table} FOR SELECT USING ({using.format(s=s)})")
    _temporary(conn, "REVOKE")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s, _ = _names(conn)
    for table in READ:
        op.execute(f"DROP POLICY member_read ON {s}.{table}")
        op.execute(f"CREATE POLICY member_read ON {s}.{table} FOR SELECT USING (true)")
    op.execute(f"DROP FUNCTION {s}.annotator_visible_layers()")
    for sql in _0003.FUNCTIONS:  # 0003's definitions; CREATE OR REPLACE resets what they did not set
        op.execute(sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    _temporary(conn, "GRANT")
