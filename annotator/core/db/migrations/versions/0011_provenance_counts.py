"""provenance kept as it changes: per analyst, document and label, and summed per analyst and label

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

`provenance_counts` holds how each analyst changed the model's suggestions in each document they
opened, per label; `provenance_totals` the same summed per analyst and label. Every write of spans or
document states refreshes the documents it touched (core/db/provenance_counts.py), so
`annotator stats` and the progress dashboard sum a small table instead of comparing every span of the
project (3.1–3.7 s at 3 M spans). The upgrade counts the project once. On PostgreSQL a member reads and
writes the rows of the layers whose spans they read and write (0004's and 0003's rules for spans).
"""
import importlib

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from annotator.core.db.provenance_counts import OUTCOMES, rebuild

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None
_0004 = importlib.import_module("annotator.core.db.migrations.versions.0004_team_hardening")


def _counts() -> list[sa.Column]:
    return [sa.Column(o, sa.Integer(), nullable=False) for o in OUTCOMES]


def upgrade() -> None:
    op.create_table(
        'provenance_counts',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('annotator_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=64), nullable=False),
        *_counts(),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['annotator_id'], ['annotators.id']),
        sa.PrimaryKeyConstraint('document_id', 'annotator_id', 'label'),
    )
    op.create_table(
        'provenance_totals',
        sa.Column('annotator_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=64), nullable=False),
        *_counts(),
        sa.ForeignKeyConstraint(['annotator_id'], ['annotators.id']),
        sa.PrimaryKeyConstraint('annotator_id', 'label'),
    )
    conn = op.get_bind()
    rebuild(Session(bind=conn))
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    may = f"(SELECT {s}.annotator_may_write(annotator_id))"
    read = _0004.READ["spans"].format(s=s)  # whose rows a member reads: the layers whose spans they read
    for table in ("provenance_counts", "provenance_totals"):
        op.execute(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY member_read ON {s}.{table} FOR SELECT USING ({read})")
        op.execute(f"CREATE POLICY member_insert ON {s}.{table} FOR INSERT WITH CHECK ({may})")
        op.execute(f"CREATE POLICY member_update ON {s}.{table} FOR UPDATE USING (true) WITH CHECK ({may})")
        op.execute(f"CREATE POLICY member_delete ON {s}.{table} FOR DELETE USING ({may})")


def downgrade() -> None:
    op.drop_table('provenance_totals')
    op.drop_table('provenance_counts')
