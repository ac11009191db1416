"""Span-filter hits (core/search.py `_span_hits`): each hit's context is the text around its span, at
code-point offsets, whether its document is read whole or, over WHOLE code points, in pieces around
its spans; kb ids, order and limit as before; one statement for a page of hits. On SQLite and
PostgreSQL."""

from __future__ import annotations

import itertools

import factories
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import annotator.core.search as search_module
from annotator.core.project import Project
from annotator.core.records import NIL, DocRecord, SpanRecord
from annotator.core.search import WHOLE, Filters
from annotator.io.importing import import_records
from plans import statements

BACKENDS = ("sqlite", "postgresql")
_n = itertools.count()

SMALL = "Seoul 🇰🇷 said: 서울 talks with Samsung Electronics.\nThe two sides met in Seoul."
# over WHOLE code points, with characters of 2, 3 and 4 bytes before the spans
BIG = ("é 서울 🇰🇷 " * (WHOLE // 8)) + "Seoul opens. " + "x" * 3000 + " Samsung and Seoul close " + "ü" * 500 + " Seoul"


def spans_of(text: str) -> list[SpanRecord]:
    """Every "Seoul" (GPE, linked) and "Samsung" (ORG, NIL)."""
    found = []
    for word, label, kb_id in (("Seoul", "GPE", "Q8684"), ("Samsung", "ORG", NIL)):
        at = text.find(word)
        while at >= 0:
            found.append(SpanRecord(at, at + len(word), label, kb_id=kb_id))
            at = text.find(word, at + 1)
    return found


def expected(texts: dict[str, str], width: int = 40) -> list[tuple]:
    out = []
    for name, text in texts.items():
        for s in sorted(spans_of(text), key=lambda s: (s.start, s.end)):
            out.append((name, s.start, s.end, text[max(0, s.start - width):s.start], text[s.start:s.end],
                        text[s.end:s.end + width], s.label, None if s.kb_id == NIL else s.kb_id, s.kb_id == NIL))
    return out


def got(hits) -> list[tuple]:
    return [(h.document, h.start, h.end, h.left, h.match, h.right, h.label, h.kb_id, h.nil) for h in hits]


def find(project: Project, filters: Filters, limit: int = 1000, width: int = 40) -> list[tuple]:
    with project.store.Session() as s:
        return got(search_module.search(s, project.annotator_id, filters=filters, limit=limit, width=width))


@pytest.fixture
def corpus(store):
    texts = {"a": SMALL, "b": BIG, "c": SMALL[::-1] + " Seoul"}
    import_records(store, [DocRecord(n, t, spans=spans_of(t)) for n, t in texts.items()], use_model=False,
                   as_layer="ana")
    return Project(store, "ana"), texts


def test_span_hits_carry_the_text_around_them_in_small_and_big_documents(corpus):
    ana, texts = corpus
    assert len(BIG) > WHOLE and len(BIG.encode()) > 2 * WHOLE
    assert find(ana, Filters(label="GPE")) == [e for e in expected(texts) if e[6] == "GPE"]
    assert find(ana, Filters(origin="import")) == expected(texts)  # every label's walk, merged
    assert find(ana, Filters(origin="import"), limit=3) == expected(texts)[:3]
    assert find(ana, Filters(nil=True)) == [e for e in expected(texts) if e[8]]
    assert find(ana, Filters(kb_id="Q8684"), limit=3) == [e for e in expected(texts) if e[7] == "Q8684"][:3]
    assert find(ana, Filters(label="GPE"), width=5000) == [e for e in expected(texts, 5000) if e[6] == "GPE"]


def test_span_hits_of_small_documents_are_one_statement(corpus):
    """A page of hits is read in one statement when no document is over WHOLE code points."""
    ana, _ = corpus
    with statements(ana.store) as seen:
        hits = ana.search(filters=Filters(label="ORG"), limit=1)
    assert [h.document for h in hits] == ["a"]
    assert len([sql for sql, _ in seen if "FROM spans" in sql]) == 1
    assert not [sql for sql, _ in seen if "VALUES" in sql]


@pytest.mark.single_backend
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.sampled_from("ab 서🇰\né"), min_size=1, max_size=120),
       cuts=st.lists(st.tuples(st.integers(0, 119), st.integers(1, 12)), min_size=1, max_size=12),
       width=st.integers(0, 30), whole=st.integers(0, 130), gap=st.integers(0, 40))
def test_span_hits_pieces_cover_every_context(tmp_path, monkeypatch, text, cuts, width, whole, gap):
    """Whatever is read whole and however close spans are merged into pieces, every hit's context is
    the text around its span."""
    monkeypatch.setattr(search_module, "WHOLE", whole)
    monkeypatch.setattr(search_module, "PIECE_GAP", gap)
    spans = sorted({(min(a, len(text) - 1), min(a + n, len(text))) for a, n in cuts})
    store = factories.new_store(tmp_path / f"{next(_n)}.db")
    import_records(store, [DocRecord("d", text, spans=[SpanRecord(a, b, "X") for a, b in spans])],
                   use_model=False, as_layer="ana")
    with store.Session() as s:
        viewer = Project(store, "ana").annotator_id
        hits = search_module.search(s, viewer, filters=Filters(label="X"), limit=1000, width=width)
    assert [(h.start, h.end) for h in hits] == spans
    for h in hits:
        assert (h.left, h.match, h.right) == (text[max(0, h.start - width):h.start], text[h.start:h.end],
                                              text[h.end:h.end + width])
