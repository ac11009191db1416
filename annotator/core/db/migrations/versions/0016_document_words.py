"""corpus search on PostgreSQL: an index of each document's pairs of consecutive words

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

pg_trgm has only trigrams of words, and a corpus of a few hundred distinct words makes every trigram
common: a rare phrase ANDed ~25 posting lists of most documents (3.2-3.6x SQLite's FTS5 at 100,000
documents). `ix_documents_words` is a GIN index on `annotator_search_words(text)`: every pair of
consecutive alphanumeric runs of the lowercased text, "first second", as a lexeme, so the pairs of a
phrase's words are a few short posting lists (core/db/text_index.py `words_query`: inner pairs exact, the
last one a prefix when the phrase may end inside a word). A run is kept by its first 255 characters
(a lexeme has at most 2,047 bytes). ILIKE and Python's `re` still decide, so hits are unchanged;
single words and phrases cut inside both of their only two words keep to pg_trgm. Texts over BIG bytes
are not indexed (NULL) and are rechecked on every such search through `ix_documents_big`.

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
# NULL (not indexed) for a text over BIG bytes: see BIG.
WORDS = r"""
SELECT CASE WHEN octet_length(t) <= {big} THEN (
SELECT coalesce(array_to_tsvector(array_agg(left(w, 255) || ' ' || left(nw, 255))), ''::tsvector)
FROM (SELECT regexp_split_to_array(lower(t), '[^[:alnum:]]+') a) s, unnest(a, a[2:]) u(w, nw)
WHERE w <> '' AND nw <> '') END
"""
# A tsvector's lexemes are at most 1 MiB in all (20-bit offsets). to_tsvector raises past that, but
# array_to_tsvector (PostgreSQL 15) raises nothing and stores garbled lexemes: real pairs go missing and
# the search never rechecks their documents. A text of T bytes has pairs of at most 3T bytes: every run is
# in at most two pairs, each pair adds one separator byte (for which the text has at least one of its
# own), so 2T at most; lower() may grow a character from 2 bytes to 3 (U+023A -> U+2C65): 3T. Texts above
# BIG (128 KiB: at most 384 KiB of lexemes, far below 1 MiB; a news article is a few KiB) are not indexed
# and `ix_documents_big` lists them: core/db/text_index.py (`BIG`, the same number: the index's predicate must be
# the query's) rechecks them all by ILIKE, as the first window's documents.
BIG = 131072
# a call's cost for the planner, in cpu_operator_costs (the default, 100, would make a scan that calls it on
# every row look cheaper than reading the index; a call takes as long as thousands of operators)
COST = 10000


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    op.execute(f"CREATE FUNCTION {s}.annotator_search_words(t text) RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT "
               f"PARALLEL SAFE COST {COST} SET search_path = pg_catalog, pg_temp AS $$ {WORDS.format(big=BIG)} $$")
    op.execute(f"CREATE INDEX ix_documents_words ON {s}.documents USING gin ({s}.annotator_search_words(text))")
    op.execute(f"CREATE INDEX ix_documents_big ON {s}.documents (id) WHERE octet_length(text) > {BIG}")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    s = conn.dialect.identifier_preparer.quote_identifier(conn.exec_driver_sql("SELECT current_schema()").scalar())
    op.execute(f"DROP INDEX IF EXISTS {s}.ix_documents_big")
    op.execute(f"DROP INDEX IF EXISTS {s}.ix_documents_words")
    op.execute(f"DROP FUNCTION IF EXISTS {s}.annotator_search_words(text)")
