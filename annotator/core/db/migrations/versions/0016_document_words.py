"""corpus search on PostgreSQL: an index of each document's words, forwards and backwards

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

pg_trgm has only trigrams of words, and a corpus of a few hundred distinct words makes every trigram
common: a rare phrase ANDed ~25 posting lists of most documents (3.2-3.6x SQLite's FTS5 at 100,000
documents). `ix_documents_words` is a GIN index on `annotator_search_words(text)`: the alphanumeric
runs of the lowercased text as lexemes, and each run reversed with a "~" in front, so a query's whole
words are exact look-ups, its last word a prefix and its first word a suffix (core/search.py
`words_query`). A run longer than 255 characters (the most a regular expression repeats) is kept by
its first 255, reversed by its last 255. A phrase of three words is then three short posting lists;
ILIKE and Python's `re` still decide, so hits are unchanged.

No parser (to_tsvector's splits hyphenated words, hosts and paths into several positions), no stemming
and no positions: lower() and [:alnum:] are the ones ILIKE's lower() and the query side use. An
expression index, not a column: COPY, the ORM and row-level security see no change. The function pins
its search_path (indexes are also evaluated by VACUUM, ANALYZE and pg_restore, and by a member's
insert, none of which may resolve a name elsewhere). SQLite has FTS5 already (0005): nothing to do.
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# the runs, as search.py splits a query: r'[^[:alnum:]]+' between them; chunks of at most 255 characters
# keep every lexeme under tsvector's 2,047 bytes (a longer run is found by its first or last chunk)
WORDS = r"""
SELECT pg_catalog.array_to_tsvector(pg_catalog.array_cat(
    ARRAY(SELECT m[1] FROM pg_catalog.regexp_matches(pg_catalog.lower(t), '([[:alnum:]]{1,255})', 'g') m),
    ARRAY(SELECT '~' OPERATOR(pg_catalog.||) m[1]
          FROM pg_catalog.regexp_matches(pg_catalog.reverse(pg_catalog.lower(t)), '([[:alnum:]]{1,255})', 'g') m)))
"""


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    op.execute(f"CREATE FUNCTION {s}.annotator_search_words(t text) RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT "
               f"PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$ {WORDS} $$")
    op.execute(f"CREATE INDEX ix_documents_words ON {s}.documents USING gin ({s}.annotator_search_words(text))")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    op.execute(f"DROP INDEX IF EXISTS {s}.ix_documents_words")
    op.execute(f"DROP FUNCTION IF EXISTS {s}.annotator_search_words(text)")
