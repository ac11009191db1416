"""Documents that may contain a string, from the text indexes the migrations made: FTS5's trigrams
on SQLite (0005), pg_trgm and the word pairs of 0016 on PostgreSQL; a scan where there is none. An
index only has to give a superset: core/search.py finds the exact matches in the texts. The only
dialect branch of search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Sequence

from annotator.core.db.raw import index_backend, like_escape, marks, pg_has, rows

if TYPE_CHECKING:  # annotations only
    from sqlalchemy.engine import Connection

CHUNK = 200  # documents read at a time when scanning
WINDOW = 500  # PostgreSQL: documents tested in id order at a time before the trigram index is asked
DENSE = 20  # ... while at least one in DENSE of them matches
WORD_CHUNK = 255  # PostgreSQL: the index of word pairs (migration 0016) keeps a word by its first 255
BIG = 131072  # ... and has nothing of a text over this many bytes (0016's BIG, its partial index's predicate)


def backend(conn: Connection) -> str:
    """"fts5" | "pg_trgm" | "scan": what this database offers to find documents containing a string."""
    return index_backend(conn, "document_fts", "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_documents_text_trgm'",
                         "scan")


def _like(s: str) -> str:
    return "%" + like_escape(s) + "%"


def candidates(conn: Connection, literals: list[str] | None) -> Iterator[list]:
    """(id, name, title, text) of documents that may match, CHUNK at a time, in id order."""
    columns = "d.id, d.name, d.title, d.text"
    kind = backend(conn) if literals else "scan"
    if kind == "fts5":
        phrases = " OR ".join('"' + s.replace('"', '""') + '"' for s in literals)
        sql = (f"SELECT {columns} FROM document_fts f JOIN documents d ON d.id = f.rowid "
               "WHERE document_fts MATCH ? ORDER BY f.rowid")
        params: Sequence = (phrases,)
    elif kind == "pg_trgm":
        yield from _trgm_candidates(conn, columns, literals)
        return
    else:  # keyset pages: no cursor held open across chunks
        last = 0
        while True:
            page = rows(conn, f"SELECT {columns} FROM documents d WHERE d.id > ? ORDER BY d.id LIMIT {CHUNK}", (last,))
            if not page:
                return
            yield page
            last = page[-1][0]
    result = conn.exec_driver_sql(sql, tuple(params))
    try:
        while page := result.fetchmany(CHUNK):
            yield page
    finally:
        result.close()


def _trgm_candidates(conn: Connection, columns: str, literals: list[str]) -> Iterator[list]:
    """PostgreSQL: ILIKE's row estimate is the same for a word in every document and a phrase in one,
    so the planner picks a plan ruinous for one of them (every match found and sorted before the first
    page; or, for a cursor, a walk in id order testing every text). Instead, windows of WINDOW
    documents in id order are tested directly while their matches are dense (a common word's hits are
    all in the first), then the trigram index gives the ids of the rest, whose texts are read CHUNK at
    a time. Memory: a window, or the matching ids."""
    test = "(" + " OR ".join("d.text ILIKE %s" for _ in literals) + ")"
    params = tuple(_like(s) for s in literals)
    unindexed = test.replace("d.text", "(d.text || '')")  # not the indexed expression: tested in id order
    last = 0
    while True:
        edge = conn.exec_driver_sql(f"SELECT max(id) FROM (SELECT id FROM documents WHERE id > %s ORDER BY id "
                                    f"LIMIT {WINDOW}) w", (last,)).scalar()
        if edge is None:
            return
        found = conn.exec_driver_sql(f"SELECT {columns} FROM documents d WHERE d.id > %s AND d.id <= %s AND "
                                     f"{unindexed} ORDER BY d.id",
                                     (last, edge, *params)).all()
        for i in range(0, len(found), CHUNK):
            yield found[i:i + CHUNK]
        last = edge
        if len(found) * DENSE < WINDOW:
            break
    words = words_query(conn, literals) if _has_words_index(conn) else None
    if words is None:
        ids = list(conn.exec_driver_sql(f"SELECT d.id FROM documents d WHERE d.id > %s AND {test} ORDER BY d.id",
                                        (last, *params)).scalars())
    else:  # the word pairs' short posting lists, and every text too big to have pairs; then ILIKE on those only
        ids = list(conn.exec_driver_sql(f"SELECT d.id FROM documents d WHERE d.id > %s AND "
                                        f"annotator_search_words(d.text) @@ %s::tsquery AND {unindexed} "
                                        f"UNION ALL SELECT d.id FROM documents d WHERE d.id > %s AND "
                                        f"octet_length(d.text) > {BIG} AND {unindexed} "
                                        "ORDER BY 1", (last, words, *params, last, *params)).scalars())
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        yield rows(conn, f"SELECT {columns} FROM documents d WHERE d.id IN ({marks(len(chunk))}) ORDER BY d.id", chunk)


def _has_words_index(conn: Connection) -> bool:
    """PostgreSQL with migration 0016's index of word pairs: asked once per database, as for pg_trgm."""
    return pg_has(conn, "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_documents_words'")


def words_query(conn: Connection, literals: list[str]) -> str | None:
    """A tsquery on `annotator_search_words` (migration 0016: pairs of consecutive words) that every
    document containing one of `literals` (lowercased, as ILIKE compares) matches, or None when some
    literal has no pair to look up. A literal's alphanumeric runs are split by PostgreSQL as the index
    splits text. Inner runs are whole words of the text; the last may be the start of a longer word
    (its pair: a prefix), the first the end of one (its pair is left out: no index of word ends)."""
    found = conn.exec_driver_sql("SELECT pg_catalog.regexp_split_to_array(pg_catalog.lower(x), %s) "
                                 "FROM pg_catalog.unnest(%s::text[]) x", (r"[^[:alnum:]]+", literals)).scalars()
    alternatives = []
    for parts in found:  # a leading or trailing "" when the literal starts or ends with a separator
        runs = [(r[:WORD_CHUNK], i == 0, i == len(parts) - 1) for i, r in enumerate(parts) if r]
        terms = [_lexeme(a + " " + b) + (":*" if head else "")
                 for (a, tail, _), (b, _, head) in zip(runs, runs[1:]) if not tail]
        if not terms:
            return None
        alternatives.append("(" + " & ".join(terms) + ")")
    return " | ".join(alternatives) or None


def _lexeme(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"
