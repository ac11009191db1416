"""corpus search: a trigram index over document text

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12

SQLite gets an FTS5 trigram index over `documents.text` (external content: no second copy of the
text), kept current by triggers so every later import is indexed in its own transaction; substring
and phrase queries of three characters or more look candidates up in it (core/search.py). It needs
SQLite >= 3.34 (the trigram tokenizer); without it, search scans the text. PostgreSQL gets a pg_trgm
GIN index for ILIKE when the extension is there (0002 installs it when it may).

The FTS5 table, its shadow tables (`document_fts*`) and the pg_trgm index are not ORM models: the
model/migration comparison ignores them.
"""
import sqlite3

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FTS_TRIGGERS = {
    "documents_fts_insert": """CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
        INSERT INTO document_fts(rowid, text) VALUES (new.id, new.text); END""",
    "documents_fts_delete": """CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
        INSERT INTO document_fts(document_fts, rowid, text) VALUES ('delete', old.id, old.text); END""",
    "documents_fts_update": """CREATE TRIGGER documents_fts_update AFTER UPDATE OF text ON documents BEGIN
        INSERT INTO document_fts(document_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO document_fts(rowid, text) VALUES (new.id, new.text); END""",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if sqlite3.sqlite_version_info >= (3, 34, 0):
            op.execute("CREATE VIRTUAL TABLE document_fts USING fts5(text, content='documents', "
                       "content_rowid='id', tokenize='trigram')")
            for sql in FTS_TRIGGERS.values():
                op.execute(sql)
            op.execute("INSERT INTO document_fts(document_fts) VALUES ('rebuild')")
    elif bind.dialect.name == "postgresql":
        if bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first():
            op.execute("CREATE INDEX ix_documents_text_trgm ON documents USING gin (text gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS document_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_documents_text_trgm")
