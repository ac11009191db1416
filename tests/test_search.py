"""Corpus search (core/search.py): text and regex hits at exact code-point offsets (emoji, CJK), span
filters, blind annotation, the index kept current by later imports, and labelling every match as one
undoable step. On SQLite (FTS5 trigram) and PostgreSQL (pg_trgm)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from annotator.core.db import provenance_counts
from annotator.core.db.annotators import set_role
from annotator.core.db.models import DocumentState, Span
from annotator.core.project import Project
from annotator.core.records import NIL, DocRecord, SpanRecord
from annotator.core.review.provenance import provenance, recount
import annotator.core.search as search_module
from annotator.core.db.text_index import WINDOW, backend
from annotator.core.search import Filters, compile_query, required_literals, search
from annotator.errors import AnnotatorError
from annotator.io.importing import import_records
from plans import plan_of, statements

BACKENDS = ("sqlite", "postgresql")

A = "Seoul said 🇰🇷 Seoul 서울 talks.\nThe two sides met in Seoul."
B = "서울 (Seoul) is the capital. The Two Sides agreed; Samsung Electronics and the Seoul Metropolitan Government."


def at(text: str, part: str, n: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(n + 1):
        start = text.index(part, start + 1)
    return start, start + len(part)


def span(text, part, label, n=0, **kw) -> SpanRecord:
    return SpanRecord(*at(text, part, n), label, **kw)


@pytest.fixture
def corpus(store):
    """ana's layer: a linked Seoul, a suggested unlinked Seoul, an unlinked ORG, a NIL ORG; bob's layer: one
    span in B; rev is a reviewer."""
    import_records(store, [
        DocRecord("a", A, title="Alpha", spans=[span(A, "Seoul", "GPE", kb_id="Q8684"),
                                                span(A, "Seoul", "GPE", 1, status="suggested")]),
        DocRecord("b", B, title="Beta", spans=[span(B, "Samsung Electronics", "ORG"),
                                               span(B, "Seoul Metropolitan Government", "ORG", kb_id=NIL)]),
    ], use_model=False, as_layer="ana")
    import_records(store, [DocRecord("b", B, spans=[span(B, "Samsung", "ORG")])], use_model=False, as_layer="bob")
    set_role(store, "rev", "reviewer")
    return store


def found(hits):
    return [(h.document, h.start, h.end, h.match, h.label, h.kb_id, h.status) for h in hits]


def test_search_text_hits_have_code_point_offsets_and_their_span(corpus):
    ana = Project(corpus, "ana")
    hits = ana.search("seoul")
    texts = {"a": A, "b": B}
    assert found(hits) == [
        ("a", *at(A, "Seoul"), "Seoul", "GPE", "Q8684", "accepted"),
        ("a", *at(A, "Seoul", 1), "Seoul", "GPE", None, "suggested"),
        ("a", *at(A, "Seoul", 2), "Seoul", None, None, None),
        ("b", *at(B, "Seoul"), "Seoul", None, None, None),
        ("b", *at(B, "Seoul", 1), "Seoul", "ORG", None, "accepted"),
    ]
    assert at(A, "Seoul", 1) == (14, 19)  # after the flag (two code points): not UTF-16 units
    for h in hits:
        text = texts[h.document]
        assert text[h.start:h.end] == h.match
        assert h.left == text[max(0, h.start - 40):h.start] and h.right == text[h.end:h.end + 40]
    assert hits[0].title == "Alpha" and hits[4].nil is True


def test_search_cjk_short_and_long_queries(corpus):
    ana = Project(corpus, "ana")
    assert found(ana.search("서울")) == [("a", *at(A, "서울"), "서울", None, None, None),
                                        ("b", *at(B, "서울"), "서울", None, None, None)]  # < 3: scanned
    assert found(ana.search("서울 (s")) == [("b", 0, 5, "서울 (S", None, None, None)]  # the index
    assert found(ana.search("🇰🇷 seoul 서")) == [("a", 11, 21, "🇰🇷 Seoul 서", None, None, None)]


def test_search_phrase_and_regex(corpus):
    ana = Project(corpus, "ana")
    assert [(h.document, h.match) for h in ana.search("the two sides")] == [("a", "The two sides"),
                                                                            ("b", "The Two Sides")]
    assert found(ana.search(r"Seoul(?= Metro)", regex=True)) == [("b", *at(B, "Seoul", 1), "Seoul", "ORG", None,
                                                                  "accepted")]
    assert [h.match for h in ana.search(r"\bS\w+ \w+", regex=True, limit=3)] == ["Seoul said", "Seoul 서울",
                                                                                "Sides agreed"]
    assert ana.search("seoul", regex=True) == []  # a regex is as written
    assert len(ana.search("(?i)seoul", regex=True)) == 5


def test_search_regex_literals_narrow_the_documents():
    assert required_literals(compile_query(r"\bSeoul\w* (?:government|officials)", True)) == ["Seoul"]
    assert required_literals(compile_query("Kim|Tanaka", True)) == ["Kim", "Tanaka"]
    assert required_literals(compile_query(r"\d{4}", True)) is None
    assert required_literals(compile_query("(the )?two sides", True)) == ["two sides"]


def test_search_span_filters(corpus):
    ana = Project(corpus, "ana")
    assert found(ana.search(filters=Filters(label="ORG", unlinked=True))) == [
        ("b", *at(B, "Samsung Electronics"), "Samsung Electronics", "ORG", None, "accepted")]
    assert [h.match for h in ana.search(filters=Filters(nil=True))] == ["Seoul Metropolitan Government"]
    assert [h.start for h in ana.search(filters=Filters(kb_id="Q8684"))] == [0]
    assert [h.start for h in ana.search(filters=Filters(suggested=True))] == [14]
    assert len(ana.search(filters=Filters(origin="import"))) == 4
    assert ana.search(filters=Filters(origin="human")) == []
    hit = ana.search(filters=Filters(nil=True))[0]
    assert hit.left == B[hit.start - 40:hit.start] and hit.right == B[hit.end:]
    # "every mention of Seoul not linked": unlabelled ones too, not the linked one nor the NIL one
    assert [(h.document, h.start, h.label) for h in ana.search("Seoul", filters=Filters(unlinked=True))] == [
        ("a", 14, "GPE"), ("a", at(A, "Seoul", 2)[0], None), ("b", at(B, "Seoul")[0], None)]
    assert [h.start for h in ana.search("seoul", filters=Filters(label="GPE"))] == [0, 14]


def test_search_is_blind(corpus):
    bob = Project(corpus, "bob")
    with pytest.raises(AnnotatorError) as e:
        bob.search("Seoul", layer="ana")
    assert e.value.code == "E163"
    assert [h.match for h in bob.search(filters=Filters(label="ORG"))] == ["Samsung"]
    rev = Project(corpus, "rev")
    assert len(rev.search(filters=Filters(label="ORG"), layer="ana")) == 2


@pytest.mark.parametrize("args, code", [(dict(query=""), "E500"), (dict(query="(", regex=True), "E501"),
                                        (dict(filters=Filters(kb_id="Q1")), "E502"),
                                        (dict(query="x", limit=0), "E503"),
                                        (dict(filters=Filters(origin="robot")), "E504")])
def test_search_refuses_with_a_coded_error(corpus, args, code):
    with pytest.raises(AnnotatorError) as e:
        Project(corpus, "ana").search(**args)
    assert e.value.code == code


def test_search_finds_documents_imported_later(corpus):
    ana = Project(corpus, "ana")
    with corpus.engine.connect() as conn:
        assert backend(conn) == ("fts5" if corpus.is_sqlite else "pg_trgm")
    import_records(corpus, [DocRecord("c", "Later: the Blue House in Seoul.")], use_model=False)
    assert [h.document for h in ana.search("blue house")] == ["c"]
    if corpus.is_sqlite:  # the index itself has it (not only a scan)
        assert corpus.execute("SELECT rowid FROM document_fts WHERE document_fts MATCH '\"blue house\"'")[0][0] == 3


def layer_rows(store):
    with store.Session() as s:
        spans = s.execute(select(Span.id, Span.document_id, Span.annotator_id, Span.start, Span.end, Span.label,
                                 Span.status, Span.origin, Span.entity_id).order_by(Span.id)).all()
        states = s.execute(select(DocumentState.document_id, DocumentState.annotator_id, DocumentState.status)
                           .order_by(DocumentState.document_id, DocumentState.annotator_id)).all()
    return spans, states


def test_search_label_matches_is_one_undoable_step(corpus):
    import_records(corpus, [DocRecord("c", "Seoul again, and Seoul.")], use_model=False)  # ana never opened it
    ana = Project(corpus, "ana")
    before = layer_rows(corpus)
    hits = ana.search("seoul")
    created = ana.label_matches(hits, "GPE")
    assert len(hits) == 7 and len(created) == 5  # the two GPE spans already there are left alone
    new = [ana.span(i) for i in created]
    assert {(s.status, s.origin, s.label) for s in new} == {("suggested", "search", "GPE")}
    assert ana.stack.undo_text == "label 5 matches as GPE"
    ana.stack.undo()
    assert layer_rows(corpus) == before
    ana.stack.redo()
    assert [ana.span(i).start for i in created] == [at(A, "Seoul", 2)[0], 4, at(B, "Seoul", 1)[0], 0, 17]


def test_search_label_matches_counts_the_provenance_of_a_first_opened_document_once(corpus, monkeypatch):
    """Labelling matches in documents ana never opened starts her layer there: the stack counts their
    provenance with the new spans, once, not also while starting the layer; the counts are right."""
    import_records(corpus, [DocRecord("c", "Seoul again, and Seoul."), DocRecord("d", "Seoul at last.")],
                   use_model=False)
    ana = Project(corpus, "ana")
    with corpus.Session() as s:
        added = provenance(s)["ana"]["by_label"]["GPE"]["added"]
    counted = []
    live = provenance_counts.count

    def count(s, documents):
        documents = list(documents)
        counted.extend(documents)
        return live(s, documents)

    monkeypatch.setattr(provenance_counts, "count", count)
    ana.label_matches([h for h in ana.search("seoul") if h.document_id > 2], "GPE")
    assert sorted(counted) == [3, 4]
    with corpus.Session() as s:
        assert provenance(s) == recount(s) and provenance(s)["ana"]["by_label"]["GPE"]["added"] == added + 3


def test_hits_come_in_order_whether_dense_or_rare_across_many_documents(store):
    """PostgreSQL tests windows of documents in id order while matches are dense, then asks the trigram
    index for the rest (core/db/text_index.py `_trgm_candidates`): every hit is found, once, in document order,
    across the windows' edges and the switch, as on SQLite."""
    n = 2 * WINDOW + 300
    rare = {WINDOW, WINDOW + 1, 2 * WINDOW + 299}  # on a window's edge, past it, and the last document
    texts = [f"Report {i}: Seoul talks went on{' in Busan' if i % 30 == 0 else ''}"
             f"{' with a rare phrase here' if i in rare else ''}." for i in range(1, n + 1)]
    import_records(store, [DocRecord(f"r{i:05d}", t) for i, t in enumerate(texts, start=1)], use_model=False,
                   as_layer="ana")
    project = Project(store, "ana")
    with store.Session() as s:
        viewer = project.annotator_id

        def found(query, limit):
            return [int(h.document[1:]) for h in search(s, viewer, query, limit=limit)]

        assert found("seoul TALKS", 100) == list(range(1, 101))
        assert found("in Busan", 1000) == [i for i in range(1, n + 1) if i % 30 == 0]
        assert found("A RARE phrase", 1000) == sorted(rare)
        assert found("not there at all", 1000) == []


@pytest.mark.single_backend
def test_search_by_label_walks_the_layer_in_hit_order(corpus, monkeypatch):
    """SQLite plan of a span-filter search by label: ix_spans_layer_label gives one layer's spans of the
    label in the order hits are shown, so the search stops at its limit; before, every span of the
    label was read, cut around and sorted (0.6–1.4 s at 3 M spans)."""
    monkeypatch.setattr(search_module, "FEW", 0)  # as if more than FEW spans were unlinked
    ana = Project(corpus, "ana")
    with statements(corpus) as seen:
        hits = ana.search(filters=Filters(label="ORG", unlinked=True))
    assert [h.match for h in hits] == ["Samsung Electronics"]
    found = plan_of(corpus, seen, "FROM spans s WHERE")
    assert "INDEX ix_spans_layer_label (annotator_id=? AND label=?)" in found and "TEMP B-TREE" not in found


@pytest.mark.single_backend
def test_search_without_a_label_walks_each_label_in_hit_order(corpus, monkeypatch):
    """SQLite plan of a span filter with no label ("every unlinked mention"): each of the layer's labels
    is walked down ix_spans_layer_label in hit order and the walks merged, each stopping at the limit;
    before, every span of the layer was read and sorted (2.0 s at 3 M spans for a page of 100)."""
    monkeypatch.setattr(search_module, "FEW", 0)
    ana = Project(corpus, "ana")
    with statements(corpus) as seen:
        hits = ana.search(filters=Filters(unlinked=True), limit=1)
    assert [(h.document, h.match, h.label) for h in hits] == [("a", "Seoul", "GPE")]
    found = plan_of(corpus, seen, "WITH h AS")
    assert found.count("INDEX ix_spans_layer_label (annotator_id=? AND label=?)") == 2
    assert "INDEX ix_spans_layer_label (annotator_id=?)" not in found
    assert [(h.document, h.match) for h in ana.search(filters=Filters(unlinked=True))] == [
        ("a", "Seoul"), ("b", "Samsung Electronics")]


@pytest.mark.single_backend
def test_search_for_a_few_spans_looks_them_up(corpus):
    """SQLite plan of a filter few spans pass (a suggestion left, a NIL): each label's spans passing it
    are looked up in ix_spans_layer_counts and sorted, not found by walking every span of the label
    (0.7 s at 3 M spans when none passes)."""
    ana = Project(corpus, "ana")
    with statements(corpus) as seen:
        hits = ana.search(filters=Filters(suggested=True))
    assert [(h.document, h.match, h.status) for h in hits] == [("a", "Seoul", "suggested")]
    found = plan_of(corpus, seen, "WITH h AS")
    assert "ix_spans_layer_counts (annotator_id=? AND label=? AND status=?)" in found
    assert "ix_spans_layer_label" not in found
    [params] = [p for sql, p in seen if "WITH h AS" in sql]
    assert "ORG" not in params  # no ORG span is suggested: that label is not read at all
