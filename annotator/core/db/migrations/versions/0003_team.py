"""team mode: who added an alias; on PostgreSQL, row-level security by role

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

`aliases.created_by`: the annotator whose link (or new entity) added the alias, None for aliases that
came with the knowledge base. Entities and spans carry a `version` since 0001; optimistic concurrency
(core/editing/spans.py, core/kb/linking.py) uses it.

PostgreSQL: row-level security, so that a team member's own database login cannot do more than their
role allows, whatever client they use. A member's login has the name of their annotator; their role
is `annotators.role`. Annotators write only their own layer (spans, document states, history), add
entities and aliases of their own (new entity from a span, a link teaching an alias) and change alias
counts; reviewers write every layer (gold too), the knowledge base, documents and labels. The owner
of the database (the admin) is not subject to these policies. Which tables a member may touch at all
is granted by `annotator db users add` (core/db/team.py); a refused INSERT or UPDATE is an error, a
refused DELETE finds no row.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

FUNCTIONS = [
    # the annotator of the connected login; whether they are a reviewer
    """CREATE FUNCTION annotator_me() RETURNS integer LANGUAGE sql STABLE
       AS $$ SELECT id FROM annotators WHERE name = current_user $$""",
    """CREATE FUNCTION annotator_is_reviewer() RETURNS boolean LANGUAGE sql STABLE
       AS $$ SELECT coalesce((SELECT role = 'reviewer' FROM annotators WHERE name = current_user), false) $$""",
    """CREATE FUNCTION annotator_may_write(layer integer) RETURNS boolean LANGUAGE sql STABLE
       AS $$ SELECT layer = annotator_me() OR annotator_is_reviewer() $$""",
    # an entity linked from another layer than `me`'s (spans of other layers are not the member's to see
    # through policies, so this looks as the owner)
    """CREATE FUNCTION annotator_linked_elsewhere(entity integer, me integer) RETURNS boolean LANGUAGE sql
       STABLE SECURITY DEFINER SET search_path = public, pg_temp
       AS $$ SELECT EXISTS (SELECT 1 FROM spans WHERE entity_id = entity AND annotator_id IS DISTINCT FROM me) $$""",
    # annotators change an alias's count (linking teaches priors), nothing else of it
    """CREATE FUNCTION annotator_alias_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (NEW.entity_id, NEW.text, NEW.norm, NEW.created_by) IS DISTINCT FROM
            (OLD.entity_id, OLD.text, OLD.norm, OLD.created_by)
            AND NOT annotator_is_reviewer()
            AND NOT pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()),
                                'MEMBER') THEN
           RAISE EXCEPTION 'only reviewers change an alias other than its count'
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN NEW;
       END $$""",
]

# table -> (who may insert, update (new row), delete); SELECT is open to every member
POLICIES = {
    "spans": ("annotator_may_write(annotator_id)",) * 3,
    "document_states": ("annotator_may_write(annotator_id)",) * 3,
    "events": ("annotator_id = annotator_me()",) * 3,
    "entities": ("annotator_is_reviewer() OR created_by = annotator_me()", "annotator_is_reviewer()",
                 "annotator_is_reviewer() OR (created_by = annotator_me() "
                 "AND NOT annotator_linked_elsewhere(id, annotator_me()))"),
    "aliases": ("annotator_is_reviewer() OR created_by = annotator_me()", "true",
                "annotator_is_reviewer() OR created_by = annotator_me()"),
    "documents": ("annotator_is_reviewer()",) * 3,
    "labels": ("annotator_is_reviewer()",) * 3,
    "model_runs": ("annotator_is_reviewer()",) * 3,
    "annotators": ("annotator_is_reviewer() AND (is_model OR name = 'gold')", "false", "false"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # a plain ADD COLUMN: batch mode would copy the table and lose the FTS triggers on it (0002)
        op.execute("ALTER TABLE aliases ADD COLUMN created_by INTEGER REFERENCES annotators (id)")
        return
    op.add_column('aliases', sa.Column('created_by', sa.Integer(), nullable=True))
    op.create_foreign_key('fk_aliases_created_by_annotators', 'aliases', 'annotators', ['created_by'], ['id'])
    if op.get_bind().dialect.name != "postgresql":
        return
    for sql in FUNCTIONS:
        op.execute(sql)
    op.execute("CREATE TRIGGER aliases_guard BEFORE UPDATE ON aliases FOR EACH ROW "
               "EXECUTE FUNCTION annotator_alias_guard()")
    for table, (insert, update, delete) in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY member_read ON {table} FOR SELECT USING (true)")
        op.execute(f"CREATE POLICY member_insert ON {table} FOR INSERT WITH CHECK ({insert})")
        op.execute(f"CREATE POLICY member_update ON {table} FOR UPDATE USING (true) WITH CHECK ({update})")
        op.execute(f"CREATE POLICY member_delete ON {table} FOR DELETE USING ({delete})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE aliases DROP COLUMN created_by")
        return
    if op.get_bind().dialect.name == "postgresql":
        for table in POLICIES:
            for policy in ("member_read", "member_insert", "member_update", "member_delete"):
                op.execute(f"DROP POLICY {policy} ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute("DROP TRIGGER aliases_guard ON aliases")
        for name in ("annotator_alias_guard()", "annotator_linked_elsewhere(integer, integer)",
                     "annotator_may_write(integer)", "annotator_is_reviewer()", "annotator_me()"):
            op.execute(f"DROP FUNCTION {name}")
    op.drop_constraint('fk_aliases_created_by_annotators', 'aliases', type_='foreignkey')
    op.drop_column('aliases', 'created_by')
