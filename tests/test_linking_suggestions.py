"""Suggested links on import, propagation to identical mentions, the entity view and link figures."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from annotator.core.db.models import Document, Entity, Span
from annotator.core.kb import entities as kb
from annotator.io import kb_transfer
from annotator.core.kb.suggestions import occurrences, suggest_links
from annotator.core.project import Project
from annotator.core.records import DocRecord, SpanRecord
from annotator.core.resources import seeds_dir
from annotator.core.text import Tokens, pack_tokens
from annotator.errors import AnnotatorError
from annotator.io.importing import import_records
from annotator.io.sources import read_paths

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


def entity_id(store, kb_id: str) -> int:
    with store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


def starter(store) -> None:
    kb_transfer.import_kb(store, seeds_dir() / kb_transfer.STARTER_KB)


def spans_of(store, doc_id: int, layer: int) -> list[tuple]:
    with store.Session() as s:
        return s.execute(select(Span.start, Span.end, Span.label, Span.entity_id, Span.status, Span.origin)
                         .where(Span.document_id == doc_id, Span.annotator_id == layer)
                         .order_by(Span.start)).all()


def test_linking_suggest_links_on_a_newly_imported_document(store):
    starter(store)
    text = "Kim Kwan-jin met Naoki Tanaka in Seoul on May 8. Zorblat agreed. GSOMIA."
    at = text.index
    spans = [SpanRecord(at("Kim"), at("Kim") + 12, "PERSON", status="suggested"),
             SpanRecord(at("Naoki"), at("Naoki") + 12, "PERSON", status="accepted"),  # reviewed: left alone
             SpanRecord(at("Seoul"), at("Seoul") + 5, "GPE", status="suggested"),
             SpanRecord(at("May"), at("May") + 5, "DATE", status="suggested"),
             SpanRecord(at("Zorblat"), at("Zorblat") + 7, "PERSON", status="suggested"),
             SpanRecord(at("GSOMIA"), at("GSOMIA") + 6, "ORG", status="suggested")]
    report = import_records(store, [DocRecord("new", text, spans=spans)], use_model=False, as_layer="ana")
    assert report.suggested_links == 3  # the import suggests links itself
    with store.atomic() as s:
        doc = s.scalar(select(Document.id).where(Document.name == "new"))
        assert suggest_links(s, [doc]) == 0  # and asking again changes nothing
        links = {text[r.start:r.end]: (r.entity_id, r.status) for r in s.scalars(select(Span))}
    assert links == {"Kim Kwan-jin": (entity_id(store, "local:kim-kwan-jin"), "suggested"),
                     "Naoki Tanaka": (None, "accepted"),
                     "Seoul": (entity_id(store, "Q8684"), "suggested"),  # a GPE span: the city
                     "May 8": (None, "suggested"),
                     "Zorblat": (None, "suggested"),
                     "GSOMIA": (entity_id(store, "local:gsomia"), "suggested")}


def test_linking_model_suggestions_carry_links_into_the_analysts_layer(store):
    """The real flow: spaCy pre-annotates, links are suggested, the analyst's layer starts with them."""
    starter(store)
    records = read_paths(sorted(seeds_dir().glob("*.txt"))[:1])
    import_records(store, records, use_model=True)
    with store.atomic() as s:
        suggest_links(s, list(s.scalars(select(Document.id))))
    project = Project(store, "ana")
    doc = project.documents()[0].id
    spans = project.open_document(doc)
    linked = [s for s in spans if s.entity_id is not None]
    assert linked and all(s.status == "suggested" for s in linked)
    text = project.document(doc).text
    kim = next(s for s in spans if text[s.start:s.end] == "Kim Kwan-jin")
    assert kim.entity_id == entity_id(store, "local:kim-kwan-jin") and project.span_link(kim.id).suggested


def test_linking_load_starter_suggests_for_documents_already_imported(project):
    report = kb_transfer.load_starter(project.store)
    assert report.added
    doc = project.documents()[0].id
    text = project.document(doc).text
    by_text = {text[s.start:s.end]: s for s in project.spans(doc)}
    assert by_text["Kim Kwan-jin"].entity_id == entity_id(project.store, "local:kim-kwan-jin")
    assert by_text["Naoki Tanaka"].entity_id is None  # accepted by the analyst: not touched


@pytest.mark.single_backend
def test_linking_occurrences_stay_on_token_boundaries():
    text = "Seoul, Seoulite and Seoul-Tokyo; Seoul"
    tokens = Tokens(pack_tokens([(0, 5), (5, 6), (7, 15), (16, 19), (20, 25), (25, 26), (26, 31), (31, 32),
                                 (33, 38)]))
    assert occurrences(text, "Seoul", tokens) == [(0, 5), (20, 25), (33, 38)]
    assert occurrences(text, "Seoul", Tokens(b"")) == [(0, 5), (20, 25), (33, 38)]  # no tokens: word edges


@pytest.fixture
def linked(project):
    """The first article open with the starter KB; one "Seoul" linked to the government."""
    starter(project.store)
    doc = project.documents()[0].id
    project.open_document(doc)
    text = project.document(doc).text
    seouls = [i for i in range(len(text)) if text.startswith("Seoul", i)]
    first = project.add_span(doc, seouls[0], seouls[0] + 5, "GPE")
    project.link(first, entity_id(project.store, "local:government-of-south-korea"))
    return project, doc, first, seouls


def test_linking_propagate_in_the_document_and_undo(linked):
    project, doc, first, seouls = linked
    gov = entity_id(project.store, "local:government-of-south-korea")
    unlinked = project.add_span(doc, seouls[1], seouls[1] + 5, "GPE")  # an accepted span without link
    nil = project.add_span(doc, seouls[2], seouls[2] + 5, "GPE")
    project.mark_nil(nil)
    before = spans_of(project.store, doc, project.annotator_id)
    preview = project.propagation_preview(first)
    assert preview.existing == [unlinked] and len(preview.new) == len(seouls) - 3
    touched = project.propagate(first)
    assert len(touched) == len(seouls) - 2
    rows = {r.start: r for r in spans_of(project.store, doc, project.annotator_id)}
    assert (rows[seouls[1]].entity_id, rows[seouls[1]].status) == (gov, "suggested")
    assert rows[seouls[2]].entity_id is None  # NIL stays NIL
    for start in seouls[3:]:
        assert (rows[start].label, rows[start].entity_id, rows[start].status, rows[start].origin) == (
            "GPE", gov, "suggested", "propagated")
    assert project.stack.undo_text == f"propagate link to {len(touched)} mentions"
    project.stack.undo()
    assert spans_of(project.store, doc, project.annotator_id) == before


def test_linking_propagated_suggestion_can_be_confirmed_or_rejected(linked):
    project, doc, first, seouls = linked
    project.propagate(first)
    gov = entity_id(project.store, "local:government-of-south-korea")
    second, third = (next(s for s in project.spans(doc) if s.start == i) for i in seouls[1:3])
    project.accept(second.id)
    project.unlink(third.id)
    assert project.span_link(second.id).entity_id == gov and not project.span_link(second.id).suggested
    assert project.span_link(third.id).entity_id is None and project.span(third.id).status == "accepted"
    with project.store.Session() as s:
        from annotator.core.db.models import Alias

        assert s.scalar(select(Alias.count).where(Alias.entity_id == gov, Alias.norm == "seoul")) == 2


def test_linking_propagate_across_the_corpus_only_into_started_layers(linked):
    project, doc, first, _ = linked
    docs = [d.id for d in project.documents()]
    project.open_document(docs[1])  # started; docs[2] is not
    touched = project.propagate(first, scope="corpus")
    with project.store.Session() as s:
        by_doc = {d: s.scalars(select(Span.id).where(Span.document_id == d, Span.origin == "propagated")).all()
                  for d in docs}
    assert by_doc[docs[1]] and not by_doc[docs[2]] and by_doc[doc]
    assert sorted(touched) == sorted(by_doc[doc] + by_doc[docs[1]])
    assert project.stack.undo_text == f"propagate link to {len(touched)} mentions in the corpus"
    project.stack.undo()
    with project.store.Session() as s:
        assert not s.scalars(select(Span.id).where(Span.origin == "propagated")).all()


def test_linking_propagation_preview_counts_per_document(linked):
    """The window's offer ("3 identical mentions here, 5 in other documents") comes from these counts."""
    project, doc, first, seouls = linked
    docs = [d.id for d in project.documents()]
    project.open_document(docs[1])
    here = project.propagation_preview(first)
    corpus = project.propagation_preview(first, scope="corpus")
    assert here.per_document == {doc: len(seouls) - 1} and here.elsewhere(doc) == 0
    other = project.document(docs[1]).text.count("Seoul")
    assert corpus.per_document[doc] == len(seouls) - 1 and corpus.elsewhere(doc) == corpus.per_document[docs[1]]
    assert 0 < corpus.per_document[docs[1]] <= other and docs[2] not in corpus.per_document
    assert corpus.total == len(project.propagate(first, scope="corpus"))


def test_linking_entity_list_most_mentioned_first_and_by_type(linked):
    project, doc, first, seouls = linked
    gov = entity_id(project.store, "local:government-of-south-korea")
    project.propagate(first)
    listed = project.entities()
    assert listed[0].id == gov and (listed[0].mentions, listed[0].documents) == (len(seouls), 1)
    # the tester's unchecked Kim Kwan-jin, Japan and South Korea got their suggested links from the KB
    suggested = {entity_id(project.store, k) for k in ("local:kim-kwan-jin", "Q17", "Q884")}
    assert {e.id for e in listed[1:4]} == suggested and all(e.mentions == 1 for e in listed[1:4])
    assert all(e.mentions == 0 for e in listed[4:])  # then the rest of the KB, in the order added
    assert [e.id for e in listed[4:]] == sorted(e.id for e in listed[4:])
    laws = project.entities(type="LAW")
    assert laws and {e.type for e in laws} == {"LAW"}
    assert project.entity_types() == sorted({e.type for e in project.entities(limit=10_000)})
    assert [e.name for e in project.entity_infos([gov, -1])] == ["Government of South Korea"]
    assert project.entity(-1) is None
    assert Project(project.store, "colleague").entity(gov).mentions == 0  # blind layers


def test_linking_propagate_needs_a_linked_span_and_a_known_scope(linked):
    project, doc, first, seouls = linked
    plain = project.add_span(doc, seouls[1], seouls[1] + 5, "GPE")
    with pytest.raises(AnnotatorError) as e:
        project.propagate(plain)
    assert e.value.code == "E214"
    with pytest.raises(AnnotatorError) as e:
        project.propagate(first, scope="galaxy")
    assert e.value.code == "E215"


def test_linking_entity_mentions_in_context_and_by_layer(linked):
    project, doc, first, seouls = linked
    gov = entity_id(project.store, "local:government-of-south-korea")
    project.propagate(first)
    mine = project.entity_mentions(gov)
    assert len(mine) == len(seouls) and {m.annotator for m in mine} == {project.user}
    m = mine[0]
    text = project.document(doc).text
    assert m.snippet.text == "Seoul" and m.status == "accepted"
    assert " ".join(text[max(0, seouls[0] - 40):seouls[0]].split()) == m.snippet.left
    colleague = Project(project.store, "colleague")
    assert colleague.entity_mentions(gov) == []  # blind: other layers are hidden
    reviewer = Project(project.store, "rev", role="reviewer")
    assert len(reviewer.entity_mentions(gov)) == len(seouls)


def test_linking_stats_per_label(linked):
    project, doc, first, seouls = linked
    nil = project.add_span(doc, seouls[1], seouls[1] + 5, "GPE")
    project.mark_nil(nil)
    project.propagate(first)
    stats = project.link_stats()
    gpe = stats["GPE"]
    # propagated, and the tester's "Japan" and "South Korea" (their suggested links from the KB)
    assert (gpe.linked, gpe.nil, gpe.suggested) == (1, 1, len(seouls) - 2 + 2)
    assert gpe.unlinked == 0
    assert stats["PERSON"].unlinked == 1 and stats["PERSON"].total == 2  # Naoki Tanaka, accepted unlinked
