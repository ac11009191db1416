"""Corpus search on PostgreSQL through the index of word pairs (migration 0016, core/db/text_index.py
`words_query`): the same hits at the same offsets as SQLite's FTS5 on the same documents, for phrases
with punctuation, either case, words cut at either end, hyphens, a line break, very long words and
non-Latin text; documents imported later (COPY) are indexed by the server; a member's login searches
with it too."""

from __future__ import annotations

import hashlib
import itertools
import os
import random

import factories
import pytest
from test_team_roles import as_login, cli

from annotator.core.db.raw import like_escape
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.records import DocRecord
from annotator.core.db.text_index import BIG, WINDOW, words_query
from annotator.core.search import compile_query, required_literals, search
from annotator.io.importing import import_records
from plans import statements

TEXTS = [
    "The two sides met. THE TWO SIDES agreed;\nthe two\nsides parted, two sides parted — the two-sides deal, "
    "besides agreed.",
    "Kim Kwan-jin said: kwan-jin's aide (Kwan) met Jin-woo at 3.5 p.m., mail@example.com/path/x.",
    "twotwo sides; sidestep 서울 (Seoul) 🇰🇷 Seoul‐talks naïve NAÏVE café. snake_case_word foo_bar baz",
    "x" * 1200 + " tail words here " + "y" * 700 + "z end of it",
    "Nothing to see: the Two Sidesteps, two  sides (two spaces), TWO-SIDES.",
]
# phrases of two words or more (the index of word pairs), and some that keep to pg_trgm (one word, or both
# words cut), all with the same hits as on SQLite
QUERIES = ["the two sides", "The two sides met", "met. THE TWO SIDES agreed", "the two\nsides parted",
           ", two sides parted —", "— the two-sides deal", "e two-si", "two sides", "wo sid", "ides agr",
           "two\nsides", "s agreed.", "Kim Kwan-jin said", "said: kwan-jin's aide", "jin's aide", "aide (Kwan) met Jin",
           "(kwan) met", "3.5 p.m., mail@", "example.com/pa", "l@exam", "서울 (Seoul) 🇰🇷 Seoul",
           "(Seoul) 🇰🇷 Seoul‐talks", "서울 (s", "talks naïve NAÏVE café. snake", "naïve naïve", "_case_w", "case", "foo_bar baz",
           "x" * 600 + " tail words", "tail words here " + "y" * 600, "words here " + "y" * 700 + "z end",
           "here " + "y" * 700 + "z end of", "yz end", "the Two Sidesteps, two", " two  sides (two spaces)",
           "spaces), TWO-SIDES.", "two-sides.", "not in any text", ", two"]
REGEXES = [r"THE TWO SIDES \w+", r"two sides (met|agreed)", r"(?i)kwan-jin('s)? \w+", r"Seoul\W+talks naïve"]
_n = itertools.count(1)
FILLER = WINDOW + 20  # documents before the test texts: the first window finds nothing, the index the rest


def corpus(store) -> Project:
    filler = [DocRecord(f"f{i:04d}", f"Filler {i}: the minister spoke of sides and talks.") for i in range(FILLER)]
    tests = [DocRecord(f"t{i}", t) for i, t in enumerate(TEXTS)]
    import_records(store, filler + tests, use_model=False, as_layer="ana")
    return Project(store, "ana")


def hits(project: Project, query: str, regex: bool = False) -> list[tuple]:
    with project.store.Session() as s:
        return [(h.document, h.start, h.end, h.match)
                for h in search(s, project.annotator_id, query, regex=regex, limit=1000)]


@pytest.fixture
def both(store, pg_cluster):
    """The same documents in an SQLite project and a PostgreSQL one."""
    lite = corpus(store)
    factories.use_postgres(pg_cluster)
    return lite, corpus(factories.new_store(None))


def test_search_words_finds_what_sqlite_finds(both):
    lite, pg = both
    assert lite.store.is_sqlite and not pg.store.is_sqlite
    paired = 0
    for query in QUERIES + REGEXES:
        regex = query in REGEXES
        expected = hits(lite, query, regex)
        with statements(pg.store) as seen:
            assert hits(pg, query, regex) == expected, query
        assert expected or query == "not in any text", query
        assert all(d.startswith("t") for d, *_ in expected), query
        with pg.store.engine.connect() as conn:
            pairs = words_query(conn, required_literals(compile_query(query, regex)))
        used = [sql for sql, _ in seen if "annotator_search_words" in sql]
        assert bool(used) == (pairs is not None), query
        paired += bool(used)
    assert paired >= 20


def test_search_words_query_has_whole_pairs_and_a_last_prefix(store, pg_cluster):
    factories.use_postgres(pg_cluster)
    pg = factories.new_store(None)
    with pg.engine.connect() as conn:
        assert words_query(conn, ["The two Sides"]) == "('two sides':*)"  # "the": maybe the end of a word
        assert words_query(conn, [" two sides.", "Kim Kwan-jin's"]) == "('two sides') | ('kwan jin' & 'jin s':*)"
        assert words_query(conn, ["two sides", "— the two-sides"]) is None  # "two sides": both maybe cut
        assert words_query(conn, ["Seoul"]) is None
        assert words_query(conn, ["서울 (서울시) 서"]) == "('서울시 서':*)"
        assert words_query(conn, [" it's"]) == "('it s':*)"


def test_search_words_index_covers_later_imports_and_members(store, pg_cluster):
    """A reviewer's login imports (COPY: the server evaluates the index's function as that login) and an
    annotator's login finds the new document through the index (row-level security, no right granted
    on functions)."""
    factories.use_postgres(pg_cluster)
    pg = factories.new_store(None)
    corpus(pg)
    n = f"{os.getpid()}_{next(_n)}"
    for name, role in ((f"wann{n}", "annotator"), (f"wrev{n}", "reviewer")):
        assert cli(pg.url, "db", "users", "add", name, "--role", role).exit_code == 0
    reviewer, annotator = (Store(as_login(pg_cluster, pg, f"{who}{n}")) for who in ("wrev", "wann"))
    try:
        import_records(reviewer, [DocRecord("later", "Later: the Blue House said so, in Seoul.")], use_model=False)
        rows = pg.execute("SELECT name FROM documents "
                          "WHERE annotator_search_words(text) @@ $$'blue house' & 'house said'$$")
        assert [r[0] for r in rows] == ["later"]
        member = Project(annotator)
        with statements(annotator) as seen:
            assert [h.document for h in member.search("the blue house said")] == ["later"]
        assert any("annotator_search_words" in sql for sql, _ in seen)
    finally:
        reviewer.close()
        annotator.close()


def test_search_words_pairs_never_miss_a_document(store, pg_cluster):
    """The index only narrows: for random substrings of random texts (either case, punctuation, line
    breaks, digits, accents, dotless and dotted i, long s, Kelvin sign, sigma, Arabic digits, CJK, emoji,
    runs longer than the 255 kept), every document ILIKE finds matches the pairs' query."""
    rng = random.Random(7)
    alphabet = list("abcAB  \n.,-'_0123456789éÉßİıſKΣσς٣서울🇰") + ["ab", "Ab", " the ", "x" * 300]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(150)]
    factories.use_postgres(pg_cluster)
    pg = factories.new_store(None)
    import_records(pg, [DocRecord(f"d{i}", t) for i, t in enumerate(texts)], use_model=False)
    checked = 0
    with pg.engine.connect() as conn:
        for _ in range(1000):
            text = rng.choice(texts)
            a = rng.randrange(len(text))
            literal = "".join(c.swapcase() if c in "abAB" and rng.random() < 0.5 else c
                              for c in text[a:a + rng.randint(3, 40)])
            pairs = words_query(conn, [literal])
            if pairs is None:
                continue
            found = conn.exec_driver_sql("SELECT name, annotator_search_words(text) @@ %s::tsquery FROM documents "
                                         "WHERE text ILIKE %s", (pairs, "%" + like_escape(literal) + "%")).all()
            assert all(hit for _, hit in found), (literal, pairs, found)
            checked += bool(found)
    assert checked > 150


def big_text() -> str:
    """Over 1 MiB of varied words: their pairs are more than a tsvector's 1 MiB of lexemes."""
    rng = random.Random(1)
    return " ".join(hashlib.md5(str(int(rng.random() ** 2 * 20000)).encode()).hexdigest()[:3 + i % 7]
                    for i in range(160000))


def test_search_words_big_document_has_the_hits_sqlite_has(both):
    """A document too big for the index of pairs (array_to_tsvector garbled its lexemes past 1 MiB, with
    no error, and phrases in it were never found) is rechecked by ILIKE on every search: the same hits
    as SQLite, found through the partial index of big documents."""
    lite, pg = both
    text = big_text()
    assert len(text.encode()) > 1024 * 1024
    for p in (lite, pg):
        import_records(p.store, [DocRecord("big", text)], use_model=False, as_layer="ana")
    words = text.split(" ")
    for k in range(1000, 159000, 7919):
        query = " ".join(words[k:k + 3])
        with statements(pg.store) as seen:
            found = hits(pg, query)
        assert found == hits(lite, query) and any(d == "big" for d, *_ in found), query
        assert any("annotator_search_words" in sql for sql, _ in seen), query
    assert hits(pg, "the two sides") == hits(lite, "the two sides")  # the small ones still through their pairs
    with pg.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT annotator_search_words(text) IS NULL FROM documents "
                                    "WHERE name = 'big'").scalar()
        # the search's predicate is the partial index's, written the same way (the planner picks among the
        # indexes it may use by their cost, which on a few documents need not be this one)
        assert any(f"octet_length(d.text) > {BIG}" in q for q, _ in seen)
        conn.exec_driver_sql("SET enable_seqscan = off")
        shown = conn.exec_driver_sql(f"EXPLAIN SELECT d.id FROM documents d WHERE octet_length(d.text) > {BIG}"
                                     ).scalars().all()
        assert any("ix_documents_big" in line for line in shown), shown


def test_search_words_pairs_of_the_biggest_indexed_text_are_whole(store, pg_cluster):
    """The worst case under the bound: BIG bytes of one-character runs whose lowercase is a byte longer
    (U+023A -> U+2C65), all pairs distinct, still under 1 MiB of lexemes: every pair is there, intact."""
    rng = random.Random(3)
    runs, size = [], 0
    while size < BIG - 50:
        runs.append("".join(rng.choice("\u023a\u023e") for _ in range(rng.randint(8, 16))))
        size += len(runs[-1].encode()) + 1
    text = " ".join(runs)
    assert BIG - 50 <= len(text.encode()) <= BIG
    factories.use_postgres(pg_cluster)
    pg = factories.new_store(None)
    with pg.engine.connect() as conn:
        got = conn.exec_driver_sql("SELECT tsvector_to_array(annotator_search_words(%s))", (text,)).scalar()
        lowered = conn.exec_driver_sql("SELECT lower(%s)", (text,)).scalar().split(" ")
        assert conn.exec_driver_sql("SELECT annotator_search_words(%s || 'x') IS NULL", (text + " " * 50,)).scalar()
    assert sorted(got) == sorted({a + " " + b for a, b in zip(lowered, lowered[1:])})
    assert sum(len(x.encode()) for x in got) > 2.8 * BIG  # near the worst case: 3 bytes of pairs a byte
