"""Linking commands: link, NIL, unlink, referent note, new entity, edit, merge — each undoable,
durable and in the history — and the alias counts that confirmed links teach."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from annotator.core.db.models import Alias, Entity, Event, Span
from annotator.core.kb import entities as kb
from annotator.io import kb_transfer
from annotator.core.project import Project
from annotator.core.resources import seeds_dir
from annotator.errors import AnnotatorError

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


@pytest.fixture
def proj(project):
    """The sample project with the starter KB and the first article open; no link suggestions (the
    KB import gave the unchecked spans theirs: taken off, these tests link by hand)."""
    kb_transfer.import_kb(project.store, seeds_dir() / kb_transfer.STARTER_KB)
    with project.store.atomic() as s:
        s.execute(update(Span).where(Span.status == "suggested").values(entity_id=None, link_source=None))
    project.open_document(first_doc(project))
    return project


def first_doc(project) -> int:
    return project.documents()[0].id


def span_id(project, text: str) -> int:
    doc = project.document(first_doc(project))
    start = doc.text.index(text)
    return next(s.id for s in project.spans(doc.id) if s.start == start and s.end == start + len(text))


def entity_id(project, kb_id: str) -> int:
    with project.store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


def span_row(project, sid) -> tuple:
    with project.store.Session() as s:
        r = s.get(Span, sid)
        return r.entity_id, r.nil, r.status, r.referent_note


def count(project, kb_id: str, text: str) -> int | None:
    with project.store.Session() as s:
        return s.scalar(select(Alias.count).join(Entity).where(Entity.kb_id == kb_id, Alias.norm == kb.normalize(text)))


def snapshot(store) -> tuple:
    with store.Session() as s:
        return (sorted(s.execute(select(Entity.id, Entity.kb_id, Entity.name, Entity.type, Entity.description)).all()),
                sorted(s.execute(select(Alias.id, Alias.entity_id, Alias.text, Alias.norm, Alias.count)).all()),
                sorted(s.execute(select(Span.id, Span.entity_id, Span.nil, Span.status, Span.referent_note)).all()))


def test_linking_link_sets_fields_learns_and_undoes(proj):
    sid, kim = span_id(proj, "Kim Kwan-jin"), entity_id(proj, "local:kim-kwan-jin")
    assert span_row(proj, sid) == (None, False, "suggested", "")
    proj.link(sid, kim)
    assert span_row(proj, sid) == (kim, False, "accepted", "")
    assert count(proj, "local:kim-kwan-jin", "Kim Kwan-jin") == 1
    assert proj.stack.undo_text == "link to Kim Kwan-jin"
    proj.stack.undo()
    assert span_row(proj, sid) == (None, False, "suggested", "")
    assert count(proj, "local:kim-kwan-jin", "Kim Kwan-jin") == 0
    proj.stack.redo()
    assert span_row(proj, sid) == (kim, False, "accepted", "")
    assert count(proj, "local:kim-kwan-jin", "Kim Kwan-jin") == 1


def test_linking_link_creates_the_alias_and_undo_removes_it(proj):
    """Metonymy: "Japan" linked to the Japanese government teaches a new alias."""
    sid = span_id(proj, "Japan")
    before = snapshot(proj.store)
    assert count(proj, "local:government-of-japan", "Japan") is None
    proj.link(sid, entity_id(proj, "local:government-of-japan"))
    assert count(proj, "local:government-of-japan", "Japan") == 1
    with proj.store.Session() as s:
        assert s.get(Span, sid).label == "GPE"  # the span keeps its surface type
    proj.stack.undo()
    assert snapshot(proj.store) == before


def test_linking_relink_moves_the_count(proj):
    sid = span_id(proj, "Japan")
    proj.link(sid, entity_id(proj, "Q17"))
    proj.link(sid, entity_id(proj, "local:government-of-japan"))
    assert count(proj, "Q17", "Japan") == 0
    assert count(proj, "local:government-of-japan", "Japan") == 1
    proj.stack.undo()
    assert count(proj, "Q17", "Japan") == 1
    assert count(proj, "local:government-of-japan", "Japan") is None


def test_linking_nil_and_unlink(proj):
    sid, japan = span_id(proj, "Japan"), entity_id(proj, "Q17")
    proj.link(sid, japan)
    proj.mark_nil(sid)
    assert span_row(proj, sid) == (None, True, "accepted", "")
    assert count(proj, "Q17", "Japan") == 0  # the confirmation was taken back
    assert proj.span_link(sid).nil
    proj.stack.undo()
    assert span_row(proj, sid) == (japan, False, "accepted", "")
    assert count(proj, "Q17", "Japan") == 1
    proj.unlink(sid)
    assert span_row(proj, sid) == (None, False, "accepted", "")
    assert count(proj, "Q17", "Japan") == 0
    proj.stack.undo()
    assert count(proj, "Q17", "Japan") == 1


def test_linking_link_to_a_missing_entity_is_refused(proj):
    sid = span_id(proj, "Japan")
    with pytest.raises(AnnotatorError) as e:
        proj.link(sid, 99999)
    assert e.value.code == "E210"
    assert span_row(proj, sid) == (None, False, "suggested", "") and not proj.stack.can_undo


def test_linking_referent_note(proj):
    sid = span_id(proj, "South Korea")
    proj.set_referent_note(sid, "  the South Korean government ")
    assert span_row(proj, sid)[3] == "the South Korean government"
    assert proj.span_link(sid).referent_note == "the South Korean government"
    proj.stack.undo()
    assert span_row(proj, sid)[3] == ""


def test_linking_accept_confirms_a_suggestion_and_learns(proj):
    sid, kim = span_id(proj, "Kim Kwan-jin"), entity_id(proj, "local:kim-kwan-jin")
    with proj.store.atomic() as s:
        s.get(Span, sid).entity_id = kim  # a suggested link, as suggest_links leaves it
    assert proj.span_link(sid).suggested
    proj.accept(sid)
    assert span_row(proj, sid) == (kim, False, "accepted", "")
    assert not proj.span_link(sid).suggested
    assert count(proj, "local:kim-kwan-jin", "Kim Kwan-jin") == 1
    plain = span_id(proj, "South Korea")
    proj.accept(plain)  # no link: a plain accept
    assert span_row(proj, plain) == (None, False, "accepted", "")


def test_linking_new_entity_from_span_in_one_step(proj):
    sid = span_id(proj, "Naoki Tanaka")
    with proj.store.atomic() as s:  # pretend the KB does not know him yet
        s.execute(Alias.__table__.delete().where(Alias.entity_id == entity_id(proj, "local:naoki-tanaka")))
        s.execute(Entity.__table__.delete().where(Entity.kb_id == "local:naoki-tanaka"))
    before = snapshot(proj.store)
    new = proj.new_entity_from_span(sid, description="Japanese defence minister")
    with proj.store.Session() as s:
        e = s.get(Entity, new)
        assert (e.kb_id, e.name, e.type, e.description, e.created_by) == (
            "local:naoki-tanaka", "Naoki Tanaka", "PERSON", "Japanese defence minister", proj.annotator_id)
        assert s.execute(select(Alias.text, Alias.count).where(Alias.entity_id == new)).all() == [("Naoki Tanaka", 1)]
    assert span_row(proj, sid) == (new, False, "accepted", "")
    proj.stack.undo()
    assert snapshot(proj.store) == before
    proj.stack.redo()
    assert span_row(proj, sid) == (new, False, "accepted", "")  # the same entity again
    assert entity_id(proj, "local:naoki-tanaka") == new


def test_linking_new_entity_undo_refused_while_others_link_to_it(proj):
    sid = span_id(proj, "Japan")
    new = proj.new_entity_from_span(sid, name="Japan (test)", kb_id="local:test-japan")
    other = Project(proj.store, "colleague")
    doc = first_doc(proj)
    other.open_document(doc)
    start = proj.document(doc).text.index("Japan")
    theirs = other.add_span(doc, start, start + 5, "GPE")
    other.link(theirs, new)
    with pytest.raises(AnnotatorError) as e:
        proj.stack.undo()
    assert e.value.code == "E216"
    assert span_row(proj, sid)[0] == new  # nothing changed, and undo is still possible later
    other.stack.undo()
    proj.stack.undo()
    assert entity_id(proj, "local:test-japan") is None


def test_linking_new_entity_with_a_taken_id_is_refused(proj):
    with pytest.raises(AnnotatorError) as e:
        proj.new_entity_from_span(span_id(proj, "Japan"), kb_id="Q17")
    assert e.value.code == "E211"


def test_linking_edit_entity(proj):
    japan = entity_id(proj, "Q17")
    before = snapshot(proj.store)
    proj.edit_entity(japan, name="State of Japan", description="island country")
    with proj.store.Session() as s:
        e = s.get(Entity, japan)
        assert (e.name, e.description, e.kb_id) == ("State of Japan", "island country", "Q17")
    assert count(proj, "Q17", "State of Japan") == 0  # the new name is an alias
    assert proj.stack.undo_text == "rename Japan to State of Japan"
    proj.stack.undo()
    assert snapshot(proj.store) == before
    for changes, code in [({"kb_id": "Q884"}, "E211"), ({"name": " "}, "E212"), ({"colour": "red"}, "E217")]:
        with pytest.raises(AnnotatorError) as e:
            proj.edit_entity(japan, **changes)
        assert e.value.code == code
    with pytest.raises(AnnotatorError) as e:
        proj.edit_entity(99999, name="x")
    assert e.value.code == "E210"


def test_linking_merge_entities_and_undo(proj):
    """Merge the government into the city: mentions follow, the shared "Seoul" alias adds up."""
    doc = first_doc(proj)
    text = proj.document(doc).text
    city, gov = entity_id(proj, "Q8684"), entity_id(proj, "local:government-of-south-korea")
    seouls = [i for i in range(len(text)) if text.startswith("Seoul", i)]
    first, second = (proj.add_span(doc, i, i + 5, "GPE") for i in seouls[:2])
    proj.link(first, city)
    proj.link(second, gov)
    before = snapshot(proj.store)
    proj.merge_entities(gov, city)
    assert entity_id(proj, "local:government-of-south-korea") is None
    assert span_row(proj, second)[0] == city
    assert count(proj, "Q8684", "Seoul") == 2
    assert count(proj, "Q8684", "South Korean government") == 0  # moved over
    assert proj.stack.undo_text == "merge Government of South Korea into Seoul"
    proj.stack.undo()
    assert snapshot(proj.store) == before
    with pytest.raises(AnnotatorError) as e:
        proj.merge_entities(city, city)
    assert e.value.code == "E213"


def test_linking_commands_are_in_the_history_and_undo_after_restart(proj):
    sid, kim = span_id(proj, "Kim Kwan-jin"), entity_id(proj, "local:kim-kwan-jin")
    proj.link(sid, kim)
    proj.set_referent_note(sid, "the minister")
    with proj.store.Session() as s:
        assert [e.command for e in s.scalars(select(Event).order_by(Event.id))][-2:] == ["link_span",
                                                                                         "set_referent_note"]
    again = Project(proj.store, proj.user)  # a restart: the stack is rebuilt from the history
    assert again.stack.undo_text == "set referent note"
    again.stack.undo()
    again.stack.undo()
    assert span_row(again, sid) == (None, False, "suggested", "")
    assert count(again, "local:kim-kwan-jin", "Kim Kwan-jin") == 0


def statuses(project) -> dict[str, str]:
    """Span text → status in the tester's layer of the first article."""
    doc = project.document(first_doc(project))
    return {doc.text[s.start:s.end]: s.status for s in project.spans(doc.id)}


def test_linking_accept_all_is_enter_on_each_suggestion_and_one_undo(proj):
    sid, kim = span_id(proj, "Kim Kwan-jin"), entity_id(proj, "local:kim-kwan-jin")
    with proj.store.atomic() as s:
        s.get(Span, sid).entity_id = kim  # a suggested link, as suggest_links leaves it
    before = snapshot(proj.store)
    assert proj.accept_all(first_doc(proj)) == 3
    assert set(statuses(proj).values()) == {"accepted"}
    assert span_row(proj, sid) == (kim, False, "accepted", "")  # the link confirmed, as Enter does
    assert count(proj, "local:kim-kwan-jin", "Kim Kwan-jin") == 1  # and learned
    assert proj.stack.undo_text == "accept 3 suggestions"
    proj.stack.undo()  # one undo: every one of them back
    assert snapshot(proj.store) == before
    proj.stack.redo()
    assert set(statuses(proj).values()) == {"accepted"} and count(proj, "local:kim-kwan-jin", "Kim Kwan-jin") == 1

    again = Project(proj.store, proj.user)  # a restart: rebuilt from the history's payload
    assert again.stack.can_undo and again.stack.undo_text == "accept 3 suggestions"
    again.stack.undo()
    assert snapshot(again.store) == before


def test_linking_accept_all_of_one_label_and_nothing_left(proj):
    doc = first_doc(proj)
    assert proj.accept_all(doc, "GPE") == 2
    assert statuses(proj)["Kim Kwan-jin"] == "suggested"  # PERSON: untouched
    assert statuses(proj)["Japan"] == statuses(proj)["South Korea"] == "accepted"
    with proj.store.Session() as s:
        events = s.scalar(select(func.count()).select_from(Event))
    with pytest.raises(AnnotatorError) as e:
        proj.accept_all(doc, "GPE")
    assert e.value.code == "E038"
    with proj.store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == events  # no empty command recorded
    assert proj.stack.undo_text == "accept 2 GPE suggestions"


def test_linking_accept_all_undo_is_refused_whole_when_one_span_is_gone(proj):
    doc = first_doc(proj)
    proj.accept_all(doc)
    elsewhere = Project(proj.store, proj.user)  # the same analyst on another desktop
    elsewhere.delete_span(span_id(proj, "Japan"))
    with pytest.raises(AnnotatorError) as e:
        proj.stack.undo()
    assert e.value.code == "E032"
    assert statuses(proj) == {"Kim Kwan-jin": "accepted", "Naoki Tanaka": "accepted",
                              "South Korea": "accepted"}  # all or nothing: none went back
    assert proj.stack.can_undo
