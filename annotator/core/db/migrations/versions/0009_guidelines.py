"""project settings: the annotation guidelines (Markdown) travel with the project

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

A key/value table (`project_settings`) so a project carries its guidelines, and later small
settings need no migration each. On PostgreSQL every member reads it; only reviewers (and the
owner, who is one) write it, as with labels.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'project_settings',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['updated_by'], ['annotators.id']),
        sa.PrimaryKeyConstraint('key'),
    )
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    reviewer = f"(SELECT {s}.annotator_is_reviewer())"
    op.execute(f"ALTER TABLE {s}.project_settings ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY member_read ON {s}.project_settings FOR SELECT USING (true)")
    op.execute(f"CREATE POLICY member_insert ON {s}.project_settings FOR INSERT WITH CHECK ({reviewer})")
    op.execute(f"CREATE POLICY member_update ON {s}.project_settings FOR UPDATE USING (true) WITH CHECK ({reviewer})")
    op.execute(f"CREATE POLICY member_delete ON {s}.project_settings FOR DELETE USING ({reviewer})")


def downgrade() -> None:
    op.drop_table('project_settings')
