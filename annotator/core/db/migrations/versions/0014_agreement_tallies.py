"""agreement counted as spans change: per document and pair of people's layers, and per label

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

`agreement_pairs` and `agreement_labels` hold what agreement needs of two layers on one document
(core/review/tallies.py), so `annotator agreement` and the Agreement window sum ~10^5 rows instead of
reading every span (39–59 s at 8.7 M spans). `agreement_totals` sums the labels' rows per pair, label and the
documents' states. `agreement_stale` lists documents whose layers changed
since they were counted; the upgrade lists every document a layer holds, and the first agreement
counts them (counting needs the agreement code, which a migration does not load). On PostgreSQL a
member reads the rows of pairs with their own layer (a reviewer all) and writes those with a layer
they may write; the queue is everyone's.
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_PAIR = ("tokens", "disagree", "dot", "accepted", "n_a", "n_b", "exact", "overlap", "linked", "same_link")
_LABEL = ("n_a", "n_b", "exact", "overlap", "linked", "same_link", "a_b", "a_i", "b_b", "b_i", "bb", "bi", "ib", "ii")


def _keys() -> list:
    return [sa.Column('document_id', sa.Integer(), nullable=False),
            sa.Column('layer_a', sa.Integer(), nullable=False),
            sa.Column('layer_b', sa.Integer(), nullable=False)]


def _fks() -> list:
    return [sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['layer_a'], ['annotators.id']),
            sa.ForeignKeyConstraint(['layer_b'], ['annotators.id'])]


def upgrade() -> None:
    op.create_table('agreement_pairs', *_keys(), *(sa.Column(c, sa.Integer(), nullable=False) for c in _PAIR),
                    sa.Column('context', sa.Text(), nullable=False),
                    *_fks(), sa.PrimaryKeyConstraint('document_id', 'layer_a', 'layer_b'))
    op.create_table('agreement_labels', *_keys(), sa.Column('label', sa.String(length=64), nullable=False),
                    *(sa.Column(c, sa.Integer(), nullable=False) for c in _LABEL),
                    *_fks(), sa.PrimaryKeyConstraint('layer_a', 'layer_b', 'label', 'document_id'),
                    sqlite_with_rowid=False)  # in (pair, label) order: summed without a sort
    op.create_index('ix_agreement_labels_document', 'agreement_labels', ['document_id'])
    op.create_table('agreement_totals', sa.Column('layer_a', sa.Integer(), nullable=False),
                    sa.Column('layer_b', sa.Integer(), nullable=False),
                    sa.Column('label', sa.String(length=64), nullable=False), sa.Column('context', sa.Text(), nullable=False),
                    *(sa.Column(c, sa.Integer(), nullable=False) for c in _LABEL),
                    sa.ForeignKeyConstraint(['layer_a'], ['annotators.id']),
                    sa.ForeignKeyConstraint(['layer_b'], ['annotators.id']),
                    sa.PrimaryKeyConstraint('layer_a', 'layer_b', 'label', 'context'))
    op.create_table('agreement_stale', sa.Column('document_id', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('document_id'))
    op.execute("INSERT INTO agreement_stale (document_id) SELECT document_id FROM document_states "
               "UNION SELECT document_id FROM spans WHERE status = 'accepted'")
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    read = (f"(SELECT {s}.annotator_is_reviewer()) OR layer_a = (SELECT {s}.annotator_me()) "
            f"OR layer_b = (SELECT {s}.annotator_me())")
    may = f"(SELECT {s}.annotator_may_write(layer_a)) OR (SELECT {s}.annotator_may_write(layer_b))"
    for table in ("agreement_pairs", "agreement_labels", "agreement_totals"):
        op.execute(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY member_read ON {s}.{table} FOR SELECT USING ({read})")
        op.execute(f"CREATE POLICY member_insert ON {s}.{table} FOR INSERT WITH CHECK ({may})")
        op.execute(f"CREATE POLICY member_update ON {s}.{table} FOR UPDATE USING (true) WITH CHECK ({may})")
        op.execute(f"CREATE POLICY member_delete ON {s}.{table} FOR DELETE USING ({may})")


def downgrade() -> None:
    op.drop_table('agreement_stale')
    op.drop_table('agreement_totals')
    op.drop_table('agreement_labels')
    op.drop_table('agreement_pairs')
