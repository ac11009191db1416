"""corpus search on PostgreSQL: an index of each document's words, forwards and backwards

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

pg_trgm has only trigrams of words, and a corpus of a few hundred distinct words makes every trigram
common: a rare phrase ANDed ~25 posting lists of most documents (3.2-3.6x SQLite's FTS5 at 100,000
documents). `ix_documents_words` is a GIN index on `annotator_search_words(text)`: the alphanumeric
runs of the lowercased text as lexemes, and each run reversed with a "~" in front, so a query's whole
words are exact look-ups, its last word a prefix and its first word a suffix (core/search.py
`words_query`). A run longer than 255 characters is kept by its first 255, reversed by its last 255
(a lexeme has at most 2,047 bytes). A phrase of three words is then three short posting lists;
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

# the runs, as search.py splits a query (lower(), then r'[^[:alnum:]]+' between them), each by its first 255
# characters and, reversed, by its last 255: tsvector keeps a lexeme's length in 11 bits and array_to_tsvector
# does not check it. One split and a lateral pair per run: ~250 us for a 150-word document, as pg_trgm's
# own show_trgm (a regular expression that cut long runs itself took 1 ms; regexp_matches 9 ms).
WORDS = r"""
SELECT coalesce(array_to_tsvector(array_agg(x)), ''::tsvector)
FROM unnest(regexp_split_to_array(lower(t), '[^[:alnum:]]+')) w,
     LATERAL (VALUES (left(w, 255)), ('~' || left(reverse(w), 255))) v(x)
WHERE w <> ''
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
