"""team mode: what a member's own login could still do with raw SQL, refused by the database

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05

PostgreSQL only (SQLite: nothing to do). A review of the team server as each role, typing SQL at their
own login (tests/test_team_security_review.py), found:
- UPDATE policies of `USING (true)`: an UPDATE that reads no column (`UPDATE provenance_counts SET
  annotator_id = <me>`) is not filtered by the read policy, so it moved a colleague's rows into the
  member's own layer (they could then read them, and the colleague's were gone). The provenance tables'
  UPDATE now looks at the old row as their DELETE does.
- The agreement counts (0014) are a reviewer's: an annotator read the rows of pairs with their own layer,
  which hold the colleague's span counts per label and document and every layer's document states
  (`context`), and could write them (their agreement with anyone, as they liked), or empty the queue
  (`agreement_stale`, no policy) so that edits were never counted. Now only reviewers read and write
  them; every member still queues a document (INSERT) and nobody else takes it off.
- `annotator_linked_elsewhere(entity, me)` answered for any entity and any layer, to anyone: whether a
  colleague had linked it. `annotator_may_delete_entity(entity)` answers only for the caller's own
  entities, with the caller's own layer.
- A person is a row that is not a model and not "gold": a reviewer could add a model row named after a
  colleague's login to come (role reviewer), and the login then was a reviewer whose layer every
  annotator read. The helpers now find the caller among people only; a model row has role annotator,
  gold is not a model.
- Nobody in the app deletes or changes a document (span offsets index into its text) or deletes history:
  no member may (a reviewer's DELETE cascaded into every layer, gold and the merge bases). A member still
  locks a document's row (store.lock_documents), through UPDATE on its `id` alone, which no policy lets
  change; without UPDATE on the table, nor may they LOCK it whole and stop everyone's work.
- The helpers are executable by the members' group only (a login of another project on the same server
  called them too), and nobody but the owner creates objects in the schema (PostgreSQL before 15 let
  PUBLIC; a member's function there could be picked up by another's query).
"""
import importlib

from alembic import op

from annotator.core.db.grants import group_name

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_0004 = importlib.import_module("annotator.core.db.migrations.versions.0004_team_hardening")
PINNED = _0004.PINNED
# a person: not a model's layer, not gold (0004: any row of the login's name)
_PERSON = ("a.name OPERATOR(pg_catalog.=) session_user::text AND NOT a.is_model "
           "AND a.name OPERATOR(pg_catalog.<>) 'gold'")
FUNCTIONS = [
    f"""CREATE OR REPLACE FUNCTION {{s}}.annotator_me() RETURNS integer LANGUAGE sql STABLE {{pinned}}
       AS $$ SELECT a.id FROM {{s}}.annotators a WHERE {_PERSON} $$""",
    f"""CREATE OR REPLACE FUNCTION {{s}}.annotator_is_reviewer() RETURNS boolean LANGUAGE sql STABLE {{pinned}}
       AS $$ SELECT COALESCE((SELECT a.role OPERATOR(pg_catalog.=) 'reviewer' FROM {{s}}.annotators a
                               WHERE {_PERSON}), false) $$""",
    f"""CREATE OR REPLACE FUNCTION {{s}}.annotator_visible_layers() RETURNS integer[] LANGUAGE sql STABLE {{pinned}}
       AS $$ SELECT pg_catalog.array_agg(a.id) FROM {{s}}.annotators a WHERE a.is_model OR ({_PERSON}) $$""",
    # the caller's own entity that no other layer links (what an annotator may delete)
    """CREATE FUNCTION {s}.annotator_may_delete_entity(entity integer) RETURNS boolean LANGUAGE sql STABLE {pinned}
       AS $$ SELECT EXISTS (SELECT 1 FROM {s}.entities e WHERE e.id OPERATOR(pg_catalog.=) entity
                            AND e.created_by OPERATOR(pg_catalog.=) {s}.annotator_me())
             AND NOT EXISTS (SELECT 1 FROM {s}.spans sp WHERE sp.entity_id OPERATOR(pg_catalog.=) entity
                             AND sp.annotator_id IS DISTINCT FROM {s}.annotator_me()) $$""",
]
# the helpers only the members' group may call (grants.HELPERS, as they were at 0020)
HELPERS = ("annotator_me()", "annotator_is_reviewer()", "annotator_may_write(integer)", "annotator_visible_layers()",
           "annotator_may_delete_entity(integer)")
_REVIEWER = "(SELECT {s}.annotator_is_reviewer())"
AGREEMENT = ("agreement_pairs", "agreement_labels", "agreement_totals")
PROVENANCE = ("provenance_counts", "provenance_totals")


def _names(conn) -> tuple[str, str]:
    """(the project's schema, the members' group or None), quoted."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    group = group_name(conn)
    exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).first()
    return quote(conn.exec_driver_sql("SELECT current_schema()").scalar()), quote(group) if exists else None


def _policy(s: str, table: str, name: str, sql: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS {name} ON {s}.{table}")
    if sql:
        op.execute(f"CREATE POLICY {name} ON {s}.{table} {sql}")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s, group = _names(conn)
    pinned = PINNED.format(s=s)
    for sql in FUNCTIONS:
        op.execute(sql.format(s=s, pinned=pinned))
    reviewer = _REVIEWER.format(s=s)
    for table in PROVENANCE:
        may = f"(SELECT {s}.annotator_may_write(annotator_id))"
        _policy(s, table, "member_update", f"FOR UPDATE USING ({may}) WITH CHECK ({may})")
    for table in AGREEMENT:
        _policy(s, table, "member_read", f"FOR SELECT USING ({reviewer})")
        _policy(s, table, "member_insert", f"FOR INSERT WITH CHECK ({reviewer})")
        _policy(s, table, "member_update", f"FOR UPDATE USING ({reviewer}) WITH CHECK ({reviewer})")
        _policy(s, table, "member_delete", f"FOR DELETE USING ({reviewer})")
    op.execute(f"ALTER TABLE {s}.agreement_stale ENABLE ROW LEVEL SECURITY")
    _policy(s, "agreement_stale", "member_read", f"FOR SELECT USING ({reviewer})")
    _policy(s, "agreement_stale", "member_insert", "FOR INSERT WITH CHECK (true)")
    _policy(s, "agreement_stale", "member_delete", f"FOR DELETE USING ({reviewer})")
    _policy(s, "entities", "member_delete", f"FOR DELETE USING ({reviewer} OR {s}.annotator_may_delete_entity(id))")
    op.execute(f"DROP FUNCTION {s}.annotator_linked_elsewhere(integer, integer)")
    _policy(s, "annotators", "member_insert",
            f"FOR INSERT WITH CHECK ({reviewer} AND ((is_model AND role = 'annotator' AND name <> 'gold') "
            "OR (name = 'gold' AND NOT is_model AND role = 'reviewer')))")
    # a member locks a document's row (store.lock_documents: FOR NO KEY UPDATE needs UPDATE on a column and
    # this policy's USING) and changes nothing of it
    _policy(s, "documents", "member_update", "FOR UPDATE USING (true) WITH CHECK (false)")
    _policy(s, "documents", "member_delete", "")
    _policy(s, "events", "member_delete", "")
    for name in HELPERS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {s}.{name} FROM PUBLIC")
    op.execute(f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC")
    if group is not None:  # grants.grant_members grants what stays after every upgrade
        op.execute(f"REVOKE UPDATE, DELETE ON {s}.documents FROM {group}")
        op.execute(f"GRANT UPDATE (id) ON {s}.documents TO {group}")
        op.execute(f"REVOKE DELETE ON {s}.events FROM {group}")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s, group = _names(conn)
    pinned = PINNED.format(s=s)
    for sql in _0004.FUNCTIONS:  # 0004's helpers, annotator_linked_elsewhere among them
        op.execute(sql.format(s=s, pinned=pinned))
    for name in HELPERS:
        op.execute(f"GRANT EXECUTE ON FUNCTION {s}.{name} TO PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {s}.annotator_linked_elsewhere(integer, integer) TO PUBLIC")
    reviewer = _REVIEWER.format(s=s)
    _policy(s, "entities", "member_delete", f"FOR DELETE USING ({s}.annotator_is_reviewer() OR (created_by = "
            f"{s}.annotator_me() AND NOT {s}.annotator_linked_elsewhere(id, {s}.annotator_me())))")
    op.execute(f"DROP FUNCTION {s}.annotator_may_delete_entity(integer)")
    for table in PROVENANCE:
        may = f"(SELECT {s}.annotator_may_write(annotator_id))"
        _policy(s, table, "member_update", f"FOR UPDATE USING (true) WITH CHECK ({may})")
    read = (f"{reviewer} OR layer_a = (SELECT {s}.annotator_me()) OR layer_b = (SELECT {s}.annotator_me())")
    may = f"(SELECT {s}.annotator_may_write(layer_a)) OR (SELECT {s}.annotator_may_write(layer_b))"
    for table in AGREEMENT:
        _policy(s, table, "member_read", f"FOR SELECT USING ({read})")
        _policy(s, table, "member_insert", f"FOR INSERT WITH CHECK ({may})")
        _policy(s, table, "member_update", f"FOR UPDATE USING (true) WITH CHECK ({may})")
        _policy(s, table, "member_delete", f"FOR DELETE USING ({may})")
    for name in ("member_read", "member_insert", "member_delete"):
        _policy(s, "agreement_stale", name, "")
    op.execute(f"ALTER TABLE {s}.agreement_stale DISABLE ROW LEVEL SECURITY")
    _policy(s, "annotators", "member_insert",
            f"FOR INSERT WITH CHECK ({s}.annotator_is_reviewer() AND (is_model OR name = 'gold'))")
    _policy(s, "documents", "member_update", f"FOR UPDATE USING (true) WITH CHECK ({s}.annotator_is_reviewer())")
    _policy(s, "documents", "member_delete", f"FOR DELETE USING ({s}.annotator_is_reviewer())")
    _policy(s, "events", "member_delete", f"FOR DELETE USING (annotator_id = {s}.annotator_me())")
    if group is not None:
        op.execute(f"GRANT UPDATE, DELETE ON {s}.documents TO {group}")
        op.execute(f"GRANT DELETE ON {s}.events TO {group}")
