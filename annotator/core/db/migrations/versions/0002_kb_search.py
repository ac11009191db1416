"""knowledge-base search: alias trigram index, prior-ordered alias index, spans by entity

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

SQLite gets an FTS5 trigram index over `aliases.norm` (external content: the index stores no copy
of the text) kept current by three triggers, so candidate search never scans the alias table.
It needs SQLite >= 3.34 (the trigram tokenizer); on an older SQLite the table is not created and
candidate search falls back to LIKE (see core/kb/candidates.py). PostgreSQL gets a pg_trgm GIN index
when the extension is, or can be, installed.

The FTS5 table and its shadow tables (`alias_fts*`) and the pg_trgm index are not ORM models:
the model/migration comparison must ignore them.
"""
import sqlite3

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

FTS_TRIGGERS = {
    "aliases_fts_insert": """CREATE TRIGGER aliases_fts_insert AFTER INSERT ON aliases BEGIN
        INSERT INTO alias_fts(rowid, norm) VALUES (new.id, new.norm); END""",
    "aliases_fts_delete": """CREATE TRIGGER aliases_fts_delete AFTER DELETE ON aliases BEGIN
        INSERT INTO alias_fts(alias_fts, rowid, norm) VALUES ('delete', old.id, old.norm); END""",
    "aliases_fts_update": """CREATE TRIGGER aliases_fts_update AFTER UPDATE OF norm ON aliases BEGIN
        INSERT INTO alias_fts(alias_fts, rowid, norm) VALUES ('delete', old.id, old.norm);
        INSERT INTO alias_fts(rowid, norm) VALUES (new.id, new.norm); END""",
}


def upgrade() -> None:
    op.create_index('ix_aliases_norm_count', 'aliases', ['norm', 'count'])
    op.create_index('ix_spans_entity', 'spans', ['entity_id'])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if sqlite3.sqlite_version_info >= (3, 34, 0):
            op.execute("CREATE VIRTUAL TABLE alias_fts USING fts5(norm, content='aliases', "
                       "content_rowid='id', tokenize='trigram')")
            for sql in FTS_TRIGGERS.values():
                op.execute(sql)
            op.execute("INSERT INTO alias_fts(alias_fts) VALUES ('rebuild')")
    elif bind.dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL >= 13): a database owner may install it.
        # Without it, search uses LIKE; try in a savepoint so a refusal leaves the migration intact.
        try:
            with bind.begin_nested():
                bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # noqa: BLE001 - any refusal means "no trigram index", nothing else
            pass
        if bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first():
            op.execute("CREATE INDEX ix_aliases_norm_trgm ON aliases USING gin (norm gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS alias_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_aliases_norm_trgm")
    op.drop_index('ix_spans_entity', table_name='spans')
    op.drop_index('ix_aliases_norm_count', table_name='aliases')
