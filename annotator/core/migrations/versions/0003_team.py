"""team mode: who added an alias

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

`aliases.created_by`: the annotator whose link (or new entity) added the alias, None for aliases that
came with the knowledge base. Entities and spans carry a `version` since 0001; optimistic concurrency
(core/commands.py, core/linking.py) uses it.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # a plain ADD COLUMN: batch mode would copy the table and lose the FTS triggers on it (0002)
        op.execute("ALTER TABLE aliases ADD COLUMN created_by INTEGER REFERENCES annotators (id)")
    else:
        op.add_column('aliases', sa.Column('created_by', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_aliases_created_by_annotators', 'aliases', 'annotators', ['created_by'], ['id'])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE aliases DROP COLUMN created_by")
    else:
        op.drop_constraint('fk_aliases_created_by_annotators', 'aliases', type_='foreignkey')
        op.drop_column('aliases', 'created_by')
