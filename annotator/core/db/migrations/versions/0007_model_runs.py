"""model runs as versions: a model trained on the analysts' checked work, where it is, what it saw

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

A run made by `annotator train` records its name, its folder (relative to the project file's folder
when beside it), the base it started from, the documents and labels it was trained on, its scores on
the held-out documents, and whether it is the project's suggester (`active`: at most one). Runs of a
pre-annotation at import (model_name, model_version only) keep these empty.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ("name", "path", "base", "documents", "labels", "scores", "active")


def upgrade() -> None:
    # plain ADD COLUMN, not a batch copy of the table: spans refer to model_runs, and SQLite refuses to
    # drop a table that rows still refer to
    op.add_column('model_runs', sa.Column('name', sa.String(length=255), nullable=True))
    op.add_column('model_runs', sa.Column('path', sa.Text(), nullable=True))
    op.add_column('model_runs', sa.Column('base', sa.String(length=255), nullable=True))
    op.add_column('model_runs', sa.Column('documents', sa.Integer(), nullable=True))
    op.add_column('model_runs', sa.Column('labels', sa.JSON(), nullable=True))
    op.add_column('model_runs', sa.Column('scores', sa.JSON(), nullable=True))
    op.add_column('model_runs', sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_model_runs_name', 'model_runs', ['name'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_model_runs_name', table_name='model_runs')
    for column in reversed(COLUMNS):
        op.drop_column('model_runs', column)
