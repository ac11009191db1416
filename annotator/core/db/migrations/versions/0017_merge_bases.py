"""merge: every version of each layer document a merge wrote or found equal

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

`merge_bases` holds, per (annotator, document) unit, the SHA-256 of each content the unit had here
right after a merge wrote it or found it the same in both files (its spans' signatures and its
document state's status; no times) and `seq`, the merge that left it last (larger is later): the
versions this project has had, the ancestors of a three-way merge (io/merge_layers.py). At the next
merge, theirs at the last version keeps ours; ours at the last version takes theirs when theirs is
new; theirs at an older version is a conflict (a colleague's file can carry an older copy of a third
person's layer than the one a later merge brought here, and must not put it back). A project
without rows merges as before (a difference is a conflict).

On PostgreSQL only the admin merges (E543): members read the rows of the layers they read (as spans)
and write none (no policy lets them, and the table is not among those granted for writing).
"""
import importlib

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None
_0004 = importlib.import_module("annotator.core.db.migrations.versions.0004_team_hardening")


def upgrade() -> None:
    op.create_table(
        'merge_bases',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('annotator_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['annotator_id'], ['annotators.id']),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('document_id', 'annotator_id', 'digest'),
    )
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    op.execute(f"ALTER TABLE {s}.merge_bases ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY member_read ON {s}.merge_bases FOR SELECT USING ({_0004.READ['spans'].format(s=s)})")


def downgrade() -> None:
    op.drop_table('merge_bases')
