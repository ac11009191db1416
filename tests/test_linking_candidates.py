"""Candidate ranking: exact before fuzzy, priors, type fit (metonymy ranks, never excludes), the
already-linked-in-this-document boost, typos, prefixes, free-text search and snippets."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from annotator.core.db.annotators import get_annotator
from annotator.core.db.models import Document, Entity, Span
from annotator.core.kb import candidates as cand, entities as kb
from annotator.core.records import DocRecord
from annotator.formats.kb_files import KbEntry
from annotator.io.importing import import_records

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)
TEXT = "Seoul is pursuing the pacts, Kim Kwan-jin said in Seoul."


@pytest.fixture
def kbstore(store):
    """A small KB: the ambiguous "Seoul", a person, an agreement, and look-alikes."""
    entries = [
        KbEntry("Seoul", "Q8684", "GPE", "capital of South Korea", ["Seoul"]),
        KbEntry("Government of South Korea", "local:gov-kr", "ORG", "the government", ["Seoul"]),
        KbEntry("Seoul Broadcasting System", "local:sbs", "ORG", "broadcaster", ["SBS"]),
        KbEntry("Kim Kwan-jin", "local:kim-kwan-jin", "PERSON", "defence minister", ["Kim"]),
        KbEntry("Kim Min-seok", "local:kim-min-seok", "PERSON", "spokesman", ["Kim"]),
        KbEntry("General Security of Military Information Agreement", "local:gsomia", "LAW", "pact", ["GSOMIA"]),
        KbEntry("Sejong", "local:sejong", "GPE", "city", []),
    ]
    with store.atomic() as s:
        kb.add_entities(s, entries)
    import_records(store, [DocRecord("a1", TEXT), DocRecord("a2", "Seoul again, and Kim.")], use_model=False)
    return store


def ids(store) -> dict[str, int]:
    with store.Session() as s:
        return {kb_id: id_ for kb_id, id_ in s.execute(select(Entity.kb_id, Entity.id))}


def names(found) -> list[str]:
    return [c.kb_id for c in found]


def set_count(store, kb_id, text, count):
    from annotator.core.db.models import Alias

    with store.atomic() as s:
        alias = s.scalar(select(Alias).join(Entity).where(Entity.kb_id == kb_id, Alias.text == text))
        alias.count = count


def link(store, doc_name, start, end, kb_id, label="GPE", layer="ana", status="accepted"):
    with store.atomic() as s:
        annotator = get_annotator(s, layer).id
        doc = s.scalar(select(Document.id).where(Document.name == doc_name))
        entity = s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))
        s.add(Span(document_id=doc, annotator_id=annotator, start=start, end=end, label=label, entity_id=entity,
                   status=status))
        return doc, annotator


def test_linking_candidates_exact_beats_fuzzy(kbstore):
    with kbstore.Session() as s:
        found = cand.candidates(s, "Seoul", label="GPE")
    assert [c.why for c in found[:2]] == ["exact", "exact"]
    assert "local:sbs" in names(found)  # "Seoul Broadcasting System" begins with the mention: fuzzy
    sbs = next(c for c in found if c.kb_id == "local:sbs")
    assert sbs.why == "fuzzy" and sbs.score < min(c.score for c in found if c.why == "exact")
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


def test_linking_candidates_type_fit_ranks_but_never_excludes(kbstore):
    with kbstore.Session() as s:
        as_gpe = cand.candidates(s, "Seoul", label="GPE")
        as_org = cand.candidates(s, "Seoul", label="ORG")
    assert names(as_gpe)[:2] == ["Q8684", "local:gov-kr"]  # the city first, the government still offered
    assert names(as_org)[:2] == ["local:gov-kr", "Q8684"]
    assert as_gpe[1].type_fit == cand.TYPE_FIT["GPE"]["ORG"]


def test_linking_candidates_prior_order_follows_counts(kbstore):
    set_count(kbstore, "local:gov-kr", "Seoul", 5)  # analysts kept linking "Seoul" to the government
    with kbstore.Session() as s:
        found = cand.candidates(s, "Seoul", label="GPE")
    assert names(found)[:2] == ["local:gov-kr", "Q8684"]
    assert found[0].prior == pytest.approx(6 / 7, abs=1e-4) and found[1].prior == pytest.approx(1 / 7, abs=1e-4)
    assert found[0].count == 5


def test_linking_candidates_person_prior_and_ties(kbstore):
    with kbstore.Session() as s:
        tie = cand.candidates(s, "Kim", label="PERSON")
    assert {c.kb_id for c in tie[:2]} == {"local:kim-kwan-jin", "local:kim-min-seok"}
    assert tie[0].prior == tie[1].prior == 0.5
    set_count(kbstore, "local:kim-min-seok", "Kim", 2)
    with kbstore.Session() as s:
        assert names(cand.candidates(s, "Kim", label="PERSON"))[0] == "local:kim-min-seok"


def test_linking_candidates_boost_entities_linked_in_the_same_document(kbstore):
    set_count(kbstore, "local:kim-min-seok", "Kim", 1)
    at = TEXT.index("Kim")
    doc, layer = link(kbstore, "a1", at, at + 12, "local:kim-kwan-jin", "PERSON")
    with kbstore.Session() as s:
        here = cand.candidates(s, "Kim", label="PERSON", document_id=doc, annotator_id=layer)
        elsewhere = cand.candidates(s, "Kim", label="PERSON")
        other_layer = cand.candidates(s, "Kim", label="PERSON", document_id=doc,
                                      annotator_id=layer + 100)
    assert names(elsewhere)[0] == "local:kim-min-seok"
    assert names(here)[0] == "local:kim-kwan-jin" and here[0].in_document
    assert names(other_layer)[0] == "local:kim-min-seok"  # another annotator's links do not count


def test_linking_candidates_typos_prefixes_and_forms(kbstore):
    with kbstore.Session() as s:
        assert names(cand.candidates(s, "Kim Kwan-jn", label="PERSON"))[0] == "local:kim-kwan-jin"
        assert names(cand.candidates(s, "Kmi Kwan-jin", label="PERSON"))[0] == "local:kim-kwan-jin"
        assert names(cand.candidates(s, "GSOMAI", label="LAW"))[0] == "local:gsomia"
        assert names(cand.candidates(s, "General Security of", label="LAW"))[0] == "local:gsomia"
        assert cand.candidates(s, "Seoul\u2019s", label="GPE")[0].why == "exact"  # possessive dropped
        assert cand.candidates(s, "SEOUL", label="GPE")[0].kb_id == "Q8684"
        assert cand.candidates(s, "Zzyzx") == []
        assert cand.candidates(s, "  ") == []


def test_linking_candidates_snippet_shows_a_mention_from_the_same_layer(kbstore):
    at = TEXT.rindex("Seoul")
    doc, layer = link(kbstore, "a1", at, at + 5, "Q8684")
    with kbstore.Session() as s:
        mine = cand.candidates(s, "Seoul", label="GPE", document_id=doc, annotator_id=layer)
        theirs = cand.candidates(s, "Seoul", label="GPE", annotator_id=layer + 100)
    snip = mine[0].snippet
    assert (snip.document, snip.start, snip.end, snip.text) == ("a1", at, at + 5, "Seoul")
    assert snip.left.endswith("Kim Kwan-jin said in") and snip.right == "."
    assert theirs[0].snippet is None


def test_linking_candidates_ignore_suggested_links_for_the_boost(kbstore):
    at = TEXT.index("Kim")
    doc, layer = link(kbstore, "a1", at, at + 12, "local:kim-kwan-jin", "PERSON", status="suggested")
    with kbstore.Session() as s:
        found = cand.candidates(s, "Kim", label="PERSON", document_id=doc, annotator_id=layer)
    assert not any(c.in_document for c in found)


def test_linking_search_by_id_name_part_and_typo(kbstore):
    with kbstore.Session() as s:
        assert cand.search(s, "local:gsomia")[0].why == "id"
        assert names(cand.search(s, "Q8684"))[0] == "Q8684"
        assert "local:gsomia" in names(cand.search(s, "military information"))
        assert names(cand.search(s, "Sejnog"))[0] == "local:sejong"
        assert cand.search(s, "") == []


@pytest.mark.single_backend
def test_linking_one_edit_neighbourhood():
    edits = cand.one_edit("kim")
    assert {"km", "ikm", "kin", "kima"} <= edits and "kim" not in edits


@pytest.mark.single_backend
def test_linking_backend_is_fts5_on_this_sqlite(kbstore):
    with kbstore.Session() as s:
        assert cand.backend(s.connection()) == "fts5"


def test_linking_fts_index_follows_alias_changes(kbstore):
    """The trigram index is kept by triggers: new, renamed and deleted aliases are found (or not)."""
    from annotator.core.db.models import Alias

    with kbstore.atomic() as s:
        entity = s.scalar(select(Entity.id).where(Entity.kb_id == "local:sejong"))
        s.add(Alias(entity_id=entity, text="Sejong Special Self-Governing City", norm=kb.normalize(
            "Sejong Special Self-Governing City"), count=0))
    with kbstore.Session() as s:
        assert "local:sejong" in names(cand.candidates(s, "Self-Governing"))
    with kbstore.atomic() as s:
        alias = s.scalar(select(Alias).where(Alias.text.like("Sejong Special%")))
        alias.norm = "renamed"
    with kbstore.Session() as s:
        assert "local:sejong" not in names(cand.candidates(s, "Self-Governing"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=60))
def test_linking_candidates_accept_any_text(kbstore, query):
    """Quotes, FTS5 operators, LIKE wildcards, emoji, control characters: never an error."""
    with kbstore.Session() as s:
        found = cand.candidates(s, query, label="GPE") + cand.search(s, query)
    assert all(0 <= c.score <= 1 for c in found)


MINISTRY = KbEntry("Ministry of Foreign Affairs and Trade (South Korea)", "local:mofat", "ORG", "foreign ministry",
                   ["Ministry of Foreign Affairs and Trade", "Foreign Ministry"])
IFANS = KbEntry("Institute of Foreign Affairs and National Security", "local:ifans", "ORG", "research institute",
                ["IFANS"])


def test_linking_candidates_name_begun_by_mention_ranks_first_measured_case(store):
    """Regression: the model's span "the Institute of Foreign Affairs" ranked the ministry first and the
    entity whose name it begins second (only the form with "the" was compared)."""
    with store.atomic() as s:
        kb.add_entities(s, [MINISTRY, IFANS])
    with store.Session() as s:
        found = cand.candidates(s, "the Institute of Foreign Affairs", label="ORG")
    assert names(found)[0] == "local:ifans"
    assert found[0].score > found[1].score


def test_linking_candidates_exact_name_ranks_above_a_favoured_fuzzy_one(store):
    """The exact name wins even against a fuzzy match linked often and already in the document."""
    with store.atomic() as s:
        kb.add_entities(s, [MINISTRY, IFANS, KbEntry("Institute of Foreign Affairs", "local:ifa", "ORG", "", [])])
    import_records(store, [DocRecord("d", "The Institute of Foreign Affairs and National Security said so. "
                                          "The Institute of Foreign Affairs agreed.")], use_model=False)
    set_count(store, "local:ifa", "Institute of Foreign Affairs", 50)
    link(store, "d", 68, 96, "local:ifa", label="ORG")
    with store.Session() as s:
        doc = s.scalar(select(Document.id).where(Document.name == "d"))
        ana = get_annotator(s, "ana").id
        for mention in ("Institute of Foreign Affairs and National Security",
                        "the Institute of Foreign Affairs and National Security"):
            found = cand.candidates(s, mention, label="ORG", document_id=doc, annotator_id=ana)
            assert (found[0].kb_id, found[0].why) == ("local:ifans", "exact")
            whys = [c.why for c in found]
            assert whys == sorted(whys, key=lambda w: w != "exact")  # no fuzzy one above an exact one
        typed = cand.search(s, "Institute of Foreign Affairs", label="ORG", annotator_id=ana)
        assert [c.kb_id for c in typed][:2] == ["local:ifa", "local:ifans"]  # typed exactly: that one first


def test_linking_near_duplicates_of_a_new_name(store):
    """What the new-entity form warns about: a name contained in, containing or nearly equal to the new
    one, or an alias spelled like it; an unrelated name is not a near-duplicate."""
    with store.atomic() as s:
        kb.add_entities(s, [KbEntry("Aegis Combat System", "local:aegis", "PRODUCT", "", ["Aegis"]),
                            KbEntry("Kim Kwan-jin", "local:kim", "PERSON", "", []), IFANS])
    with store.Session() as s:
        assert [c.kb_id for c in cand.near_duplicates(s, "Aegis", label="PRODUCT")] == ["local:aegis"]
        assert [c.kb_id for c in cand.near_duplicates(s, "aegis combat")] == ["local:aegis"]
        assert [c.kb_id for c in cand.near_duplicates(s, "Kim Kwan-Jinn", label="PERSON")] == ["local:kim"]
        assert [c.kb_id for c in cand.near_duplicates(s, "IFANS")] == ["local:ifans"]  # an alias
        assert cand.near_duplicates(s, "Naval Combat Doctrine") == []
        assert cand.near_duplicates(s, "  ") == []
