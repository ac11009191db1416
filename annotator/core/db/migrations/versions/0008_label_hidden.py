"""a project restricts its label scheme: labels.hidden

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

A hidden label is not offered for new spans (not in the label bar, no key, not in the quick label
picker); spans that already carry it are still shown and exported.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('labels', sa.Column('hidden', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('labels') as batch:
        batch.drop_column('hidden')
