"""who chose a span's link: spans.link_source

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

A suggested link came from the trained entity linker of the span's run ("linker"), from the alias
prior where that linker had no candidate or where there is no linker ("prior"), or from a person's
link on an identical mention ("propagated"); a link a person set is "person" (records.LINK_SOURCES).
The link panel marks "model's choice" only for the linker's own.

Rows from before: NULL, unknown. Nothing recorded which of a run's suggested links its linker chose
and which the prior filled in, and the knowledge base has changed since, so no rule could tell them
apart afterwards: they stay NULL, and the panel says so ("linker or alias prior") rather than
claiming either (core/kb/suggestions.py `suggested_by`). A plain ADD COLUMN on both dialects: no
table copy, no default to write into every row.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('spans', sa.Column('link_source', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('spans') as batch:
        batch.drop_column('link_source')
