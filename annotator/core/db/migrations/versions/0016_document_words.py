"""corpus search on PostgreSQL: an index of each document's pairs of consecutive words

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

pg_trgm has only trigrams of words, and a corpus of a few hundred distinct words makes every trigram
common: a rare phrase ANDed ~25 posting lists of most documents (3.2-3.6x SQLite's FTS5 at 100,000
documents). `ix_documents_words` is a GIN index on `annotator_search_words(text)`: every pair of
consecutive alphanumeric runs of the lowercased text, "first second", as a lexeme, so the pairs of a
phrase's words are a few short posting lists (core/search.py `words_query`: inner pairs exact, the
last one a prefix when the phrase may end inside a word). A run is kept by its first 255 characters
(a lexeme has at most 2,047 bytes). ILIKE and Python's `re` still decide, so hits are unchanged;
single words and phrases cut inside both of their only two words keep to pg_trgm.

No parser (to_tsvector splits hyphenated words, hosts and paths into several positions), no stemming,
no positions: lower() and [:alnum:] are the ones ILIKE's lower() and the query side use. An expression
index, not a column: COPY, the ORM and row-level security see no change. The function pins its
search_path (indexes are also evaluated by VACUUM, ANALYZE and pg_restore, and by a member's insert,
none of which may resolve a name elsewhere). SQLite has FTS5 already (0005): nothing to do.
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# the runs as search.py splits a query (lower(), then r'[^[:alnum:]]+' between them; "" before a leading or
# after a trailing separator), zipped with themselves one further on. ~450 us for a 150-word document on a
# busy host (pg_trgm's show_trgm: ~270 us; a regular expression that cut long runs itself: 1 ms).
WORDS = r"""
SELECT coalesce(array_to_tsvector(array_agg(left(w, 255) || ' ' || left(nw, 255))), ''::tsvector)
FROM (SELECT regexp_split_to_array(lower(t), '[^[:alnum:]]+') a) s, unnest(a, a[2:]) u(w, nw)
WHERE w <> '' AND nw <> ''
"""
# a call's cost for the planner, in cpu_operator_costs (the default, 100, would make a scan that calls it on
# every row look cheaper than reading the index; a call takes as long as thousands of operators)
COST = 10000


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    op.execute(f"CREATE FUNCTION {s}.annotator_search_words(t text) RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT "
               f"PARALLEL SAFE COST {COST} SET search_path = pg_catalog, pg_temp AS $$ {WORDS} $$")
    op.execute(f"CREATE INDEX ix_documents_words ON {s}.documents USING gin ({s}.annotator_search_words(text))")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    op.execute(f"DROP INDEX IF EXISTS {s}.ix_documents_words")
    op.execute(f"DROP FUNCTION IF EXISTS {s}.annotator_search_words(text)")
