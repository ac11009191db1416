"""Span-filter hits (core/search.py `_span_hits`): each hit's context is the text around its span, at
code-point offsets, whether its document is read whole or, over WHOLE code points, in pieces around
its spans; kb ids, order and limit as before; one statement for a page of hits. On SQLite and
PostgreSQL."""

from __future__ import annotations

import itertools

import factories
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

import annotator.core.search as search_module
from annotator.core.db.annotators import get_annotator, set_role
from annotator.core.db.raw import rows
from annotator.core.db.store import Store
from annotator.core.db.visibility import MODEL_LAYER
from annotator.core.project import Project
from annotator.core.records import NIL, SPAN_ORIGINS, SPAN_STATUSES, DocRecord, SpanRecord
from annotator.core.search import WHOLE, Filters
from annotator.errors import AnnotatorError
from annotator.io.importing import import_records
from plans import statements

BACKENDS = ("sqlite", "postgresql")
_n = itertools.count()

SMALL = "Seoul 🇰🇷 said: 서울 talks with Samsung Electronics.\nThe two sides met in Seoul."
# over WHOLE code points, with characters of 2, 3 and 4 bytes before the spans
BIG = ("é 서울 🇰🇷 " * (WHOLE // 8) + "Seoul opens. " + "x" * 3000 + " Samsung and Seoul close " + "ü" * 500
       + " Seoul")


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


SPAN = st.tuples(st.integers(0, 2), st.integers(0, 30), st.integers(1, 6), st.sampled_from(["GPE", "ORG", "PER"]),
                 st.sampled_from(["accepted", "suggested"]), st.sampled_from([None, NIL, "Q1", "Q2"]))
FILTERS = st.builds(Filters, label=st.sampled_from([None, "GPE", "ORG"]), kb_id=st.sampled_from([None, "Q1"]),
                    unlinked=st.booleans(), nil=st.booleans(), suggested=st.booleans(),
                    origin=st.sampled_from([None, "import", "human"]))


@pytest.mark.single_backend
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=st.lists(SPAN, max_size=40), f=FILTERS, few=st.sampled_from([0, 1, 3, 1000]),
       limit=st.sampled_from([1, 2, 5, 100]))
def test_span_filters_find_what_a_scan_finds(tmp_path, monkeypatch, spans, f, few, limit):
    """Whether a label's spans are walked in hit order or, when at most FEW pass, looked up by the
    filters and sorted, the hits are the first `limit` spans passing every filter, in hit order."""
    monkeypatch.setattr(search_module, "FEW", few)
    text = "Seoul and Tokyo and Busan met in Kyoto on Monday."
    docs = [DocRecord(f"d{i}", f"{text} ({i})", spans=[]) for i in range(3)]
    seen = set()
    for doc, start, n, label, status, kb_id in spans:
        if (doc, start, start + n, label) not in seen:  # a layer holds a span once
            seen.add((doc, start, start + n, label))
            docs[doc].spans.append(SpanRecord(start, min(start + n, len(text)), label, kb_id=kb_id, status=status))
    store = factories.new_store(tmp_path / f"{next(_n)}.db")
    import_records(store, docs, use_model=False, as_layer="ana")

    def passes(s: SpanRecord) -> bool:
        return ((f.label is None or s.label == f.label) and (f.kb_id is None or s.kb_id == f.kb_id)
                and (not f.unlinked or s.kb_id is None) and (not f.nil or s.kb_id == NIL)
                and (not f.suggested or s.status == "suggested") and f.origin in (None, "import"))

    expected = sorted((i, s.start, s.end, s.label) for i, d in enumerate(docs) for s in d.spans if passes(s))
    if not f.any:
        return
    try:
        with store.Session() as s:
            hits = search_module.search(s, Project(store, "ana").annotator_id, filters=f, limit=limit)
    except AnnotatorError as e:  # an entity no span links to is not known to the project
        assert "[E502]" in str(e) and not any(s.kb_id == f.kb_id for d in docs for s in d.spans)
        return
    got = [(int(h.document[1:]), h.start, h.end, h.label) for h in hits]
    # spans at the same offsets (other labels) come in the order they were made: compare offsets, then the set
    assert [g[:3] for g in got] == [e[:3] for e in expected[:limit]] and set(got) <= set(expected)



def test_span_filters_on_a_layer_with_more_labels_than_a_statement_can_merge(store):
    """A fine-grained label set (hundreds of types): one walk per label was more terms than SQLite
    allows in a compound SELECT ("too many terms in compound SELECT", a traceback past 500 labels) and
    each arm planned on PostgreSQL (seconds). Past ARMS labels the layer is read in one walk."""
    n = 501
    text = "".join(chr(0x1F600 + i % 64) for i in range(n))  # one non-BMP character per span
    import_records(store, [DocRecord("d", text, spans=[SpanRecord(i, i + 1, f"T{(i * 7) % n:03d}", kb_id=None
                                                                  if i % 3 else "Q1") for i in range(n)])],
                   use_model=False, as_layer="ana")
    ana = Project(store, "ana")
    every = [(i, i + 1, text[i]) for i in range(n)]
    for f, want in ((Filters(origin="import"), every), (Filters(unlinked=True), [e for e in every if e[0] % 3])):
        hits = ana.search(filters=f, limit=10)
        assert [(h.start, h.end, h.match) for h in hits] == want[:10]
        assert [h.label for h in hits] == [f"T{(h.start * 7) % n:03d}" for h in hits]

# --- every filter, layer and label against a brute-force read of the layer, on both backends
ODD_LABELS = ["GPE", "gpe", "A'B", "50%_?", "🇰🇷 x", "ORG ", "Ω\\"]
ODD_TEXT = "🇰🇷 Seoul 서울 and Tokyo 東京 met 𝒳 in Kyoto é on Monday"
LAYERS = ("ana", "bob", MODEL_LAYER)
ODD_SPAN = st.tuples(st.integers(0, 2), st.integers(0, 45), st.integers(1, 6), st.sampled_from(ODD_LABELS),
                     st.sampled_from(SPAN_STATUSES), st.sampled_from([None, NIL, "Q1", "Q'2"]),
                     st.sampled_from(SPAN_ORIGINS), st.sampled_from(LAYERS))
ODD_FILTERS = st.builds(Filters, label=st.sampled_from([None, *ODD_LABELS[:5], "none"]),
                        kb_id=st.sampled_from([None, None, "Q1", "Q'2"]), unlinked=st.booleans(), nil=st.booleans(),
                        suggested=st.booleans(), origin=st.sampled_from([None, None, *SPAN_ORIGINS]))
BRUTE_CASES = dict(spans=st.lists(ODD_SPAN, max_size=40), filters=st.lists(ODD_FILTERS, min_size=1, max_size=6),
                   few=st.sampled_from([0, 1, 3, 200]), whole=st.sampled_from([0, 30, WHOLE]),
                   limit=st.sampled_from([1, 2, 5, 100]), width=st.sampled_from([0, 3, 40]),
                   arms=st.sampled_from([1, 2, 100]))


def brute(conn, layer_id: int, f: Filters, limit: int, width: int) -> list[tuple]:
    """The hits by definition: every span of the layer read, filtered and sorted in Python."""
    found = rows(conn, 'SELECT s.id, s.document_id, d.name, d.text, s.start, s."end", s.label, e.kb_id, s.status, '
                       "s.nil, s.origin, s.entity_id FROM spans s JOIN documents d ON d.id = s.document_id "
                       "LEFT JOIN entities e ON e.id = s.entity_id WHERE s.annotator_id = ?", [layer_id])
    out = []
    for i, doc, name, text, a, b, label, kb_id, status, nil, origin, entity in sorted(
            found, key=lambda r: (r[1], r[4], r[5], r[0])):
        if ((f.label is None or label == f.label) and (f.kb_id is None or kb_id == f.kb_id)
                and (not f.unlinked or (entity is None and not nil)) and (not f.nil or nil)
                and (not f.suggested or status == "suggested") and (f.origin is None or origin == f.origin)):
            out.append((i, name, a, b, text[max(0, a - width):a], text[a:b], text[b:b + width], label, kb_id, status,
                        bool(nil), origin))
    return out[:limit]


def full(hits) -> list[tuple]:
    return [(h.span_id, h.document, h.start, h.end, h.left, h.match, h.right, h.label, h.kb_id, h.status, h.nil,
             h.origin) for h in hits]


def check_against_brute(tmp_path, monkeypatch, spans, filters, few, whole, limit, width, arms):
    monkeypatch.setattr(search_module, "FEW", few)
    monkeypatch.setattr(search_module, "ARMS", arms)
    monkeypatch.setattr(search_module, "WHOLE", whole)
    docs = [DocRecord(f"d{i}", f"{ODD_TEXT} ({i})") for i in range(3)]
    where, seen = {}, set()
    for doc, start, n, label, status, kb_id, origin, layer in spans:
        end = min(start + n, len(ODD_TEXT))
        if (doc, start, end, label) not in seen:  # one import into ana, then spread over the layers
            seen.add((doc, start, end, label))
            docs[doc].spans.append(SpanRecord(start, end, label, kb_id=kb_id, status=status))
            where[(f"d{doc}", start, end, label)] = (origin, layer)
    store = Store(factories.new_db(tmp_path / f"{next(_n)}.db"))
    try:
        import_records(store, docs, use_model=False, as_layer="ana")
        set_role(store, "rev", "reviewer")
        Project(store, "ana"), Project(store, "bob")
        with store.atomic() as s:
            get_annotator(s, MODEL_LAYER, is_model=True)
        with store.atomic() as s:
            conn = s.connection()
            ids = dict(rows(conn, "SELECT name, id FROM annotators"))
            for span_id, name, a, b, label in rows(conn, 'SELECT s.id, d.name, s.start, s."end", s.label FROM spans s '
                                                         "JOIN documents d ON d.id = s.document_id"):
                origin, layer = where[(name, a, b, label)]
                conn.execute(text("UPDATE spans SET origin = :origin, annotator_id = :layer WHERE id = :id"),
                             {"origin": origin, "layer": ids[layer], "id": span_id})
        known = {k for _, _, _, _, _, k, _, _ in spans}
        with store.Session() as s:
            for f in filters:
                if not f.any or (f.kb_id is not None and f.kb_id not in known):
                    continue
                for layer in LAYERS:
                    want = brute(s.connection(), ids[layer], f, limit, width)
                    mine = search_module.search(s, ids[layer], filters=f, limit=limit, width=width) \
                        if layer != MODEL_LAYER else []
                    as_rev = search_module.search(s, ids["rev"], filters=f, layer=layer, limit=limit, width=width)
                    assert full(as_rev) == want, (f, layer)
                    if layer != MODEL_LAYER:
                        assert full(mine) == want, (f, layer)
    finally:
        store.close()


@pytest.mark.single_backend
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**BRUTE_CASES)
def test_span_filters_match_a_brute_force_read_of_each_layer(tmp_path, monkeypatch, spans, filters, few, whole,
                                                              limit, width, arms):
    """Odd labels (quotes, %, ?, emoji, a trailing space, case), every origin, links, NIL, suggestions,
    three layers (a colleague's and the model's seen by a reviewer), texts with non-BMP characters read
    whole or in pieces, labels walked one by one or (past ARMS of them) the layer in one walk: the hits
    are the layer's spans passing the filters, in hit order, with their kb ids, statuses and origins,
    and the text around them."""
    check_against_brute(tmp_path, monkeypatch, spans, filters, few, whole, limit, width, arms)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**BRUTE_CASES)
def test_span_filters_match_a_brute_force_read_on_postgresql(tmp_path, monkeypatch, backend, spans, filters, few,
                                                             whole, limit, width, arms):
    """The same on PostgreSQL: its parameter types, NULLs, booleans and UNION typing."""
    check_against_brute(tmp_path, monkeypatch, spans, filters, few, whole, limit, width, arms)
