"""provenance kept as it changes: per analyst, document and label, and summed per analyst and label

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

`provenance_counts` holds how each analyst changed the model's suggestions in each document they
opened, per label; `provenance_totals` the same summed per analyst and label. Every write of spans or
document states refreshes the documents it touched (core/db/provenance_counts.py), so
`annotator stats` and the progress dashboard sum a small table instead of comparing every span of the
project (3.1–3.7 s at 3 M spans). The upgrade counts the project once, with the rule as it was at
0011 frozen below (plain SQL and a copy of the comparison), so a later change to the live code
(core/db/provenance_counts.py) or its tables cannot change what this upgrade does. On PostgreSQL a
member reads and writes the rows of the layers whose spans they read and write (0004's and 0003's
rules for spans).
"""
import importlib
from collections import Counter, defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None
_0004 = importlib.import_module("annotator.core.db.migrations.versions.0004_team_hardening")
OUTCOMES = ("accepted", "relabelled", "boundary", "deleted", "added", "suggested")  # the count columns of 0011
_CHUNK = 2000  # documents per read
_STATES = "SELECT document_id, annotator_id FROM document_states WHERE document_id IN ({})"
_SPANS = 'SELECT document_id, annotator_id, start, "end", label, status FROM spans WHERE document_id IN ({})'
_INSERT_COUNT = sa.text(f"INSERT INTO provenance_counts (document_id, annotator_id, label, {', '.join(OUTCOMES)}) "
                        f"VALUES (:d, :a, :label, {', '.join(':' + o for o in OUTCOMES)})")
_INSERT_TOTAL = sa.text(f"INSERT INTO provenance_totals (annotator_id, label, {', '.join(OUTCOMES)}) "
                        f"VALUES (:a, :label, {', '.join(':' + o for o in OUTCOMES)})")


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
    _count(conn)
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


def _compare(model: list, analyst: list) -> list[tuple[str, str]]:
    """(outcome, label) per model span and per added analyst span of one document, by the rule of 0011:
    same offsets and label ("accepted" or "suggested" by the analyst's status), same offsets
    ("relabelled"), overlapping by largest overlap ("boundary"), then "deleted" and "added"."""
    out: list[tuple[str, str]] = []
    left = sorted(analyst)
    free = [True] * len(left)
    by_key: dict[tuple, list[int]] = defaultdict(list)
    by_offsets: dict[tuple, list[int]] = defaultdict(list)
    for i, a in enumerate(left):
        by_key[a[:3]].append(i)
        by_offsets[a[:2]].append(i)

    def take(candidates: list[int]):
        while candidates and not free[candidates[0]]:
            candidates.pop(0)
        if not candidates:
            return None
        free[candidates[0]] = False
        return candidates.pop(0)

    rest, unmatched = [], []
    for m in sorted(model):
        i = take(by_key.get(tuple(m), []))
        if i is None:
            rest.append(m)
        else:
            out.append(("accepted" if left[i][3] == "accepted" else "suggested", m[2]))
    for m in rest:
        i = take(by_offsets.get(tuple(m[:2]), []))
        if i is None:
            unmatched.append(m)
        else:
            out.append(("relabelled", m[2]))
    pairs = sorted((-(min(m[1], left[j][1]) - max(m[0], left[j][0])), k, j)
                   for k, m in enumerate(unmatched) for j in range(len(left))
                   if free[j] and m[0] < left[j][1] and left[j][0] < m[1])
    used = [False] * len(unmatched)
    for _, k, j in pairs:
        if not used[k] and free[j]:
            used[k], free[j] = True, False
            out.append(("boundary", unmatched[k][2]))
    out += [("deleted", m[2]) for k, m in enumerate(unmatched) if not used[k]]
    out += [("added", a[2]) for j, a in enumerate(left) if free[j]]
    return out


def _read(conn, sql: str, docs: list[int]) -> list:
    """Rows of `sql` for `docs` (its IN list), straight through the driver: millions of spans."""
    sql = sql.format(",".join("?" * len(docs)))
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return conn.exec_driver_sql(sql, tuple(docs)).all()


def _count(conn) -> None:
    """Fill both tables: every document state of an analyst (not the "model" layer, not "gold"), its
    layer compared with the model's, counted per label (an "added" span under its own label)."""
    model, analysts = -1, set()
    for i, name, is_model in conn.execute(sa.text("SELECT id, name, is_model FROM annotators")):
        if is_model:
            model = i if name == "model" else model
        elif name != "gold":
            analysts.add(i)
    docs = sorted(conn.execute(sa.text("SELECT DISTINCT document_id FROM document_states")).scalars())
    totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0] * len(OUTCOMES))
    for c in range(0, len(docs), _CHUNK):
        chunk = docs[c:c + _CHUNK]
        states = sorted((d, a) for d, a in _read(conn, _STATES, chunk) if a in analysts)
        layers: dict[tuple[int, int], list] = defaultdict(list)
        for d, a, start, end, label, status in _read(conn, _SPANS, chunk):
            if a == model:
                layers[d, a].append((start, end, label))
            elif a in analysts:
                layers[d, a].append((start, end, label, status))
        rows = []
        for d, a in states:
            model_spans, mine = layers.get((d, model), []), layers.get((d, a), [])
            counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(OUTCOMES))
            if Counter(model_spans) == Counter(x[:3] for x in mine):  # untouched: only statuses count
                for _, _, label, status in mine:
                    counts[label][0 if status == "accepted" else 5] += 1
            else:
                for outcome, label in _compare(model_spans, mine):
                    counts[label][OUTCOMES.index(outcome)] += 1
            for label, row in counts.items():
                rows.append(dict(d=d, a=a, label=label, **dict(zip(OUTCOMES, row))))
                totals[a, label] = [t + n for t, n in zip(totals[a, label], row)]
        if rows:
            conn.execute(_INSERT_COUNT, rows)
    if totals:
        conn.execute(_INSERT_TOTAL, [dict(a=a, label=label, **dict(zip(OUTCOMES, row)))
                                     for (a, label), row in sorted(totals.items())])


def downgrade() -> None:
    op.drop_table('provenance_totals')
    op.drop_table('provenance_counts')
