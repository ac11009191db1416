"""Several people on one database: each in their own layer never interferes; a shared row (a gold span,
an entity) changed by someone else since you saw it refuses your edit with the current state (E037,
E218) instead of overwriting it; undo never silently takes back a colleague's later change.

Every test opens two independent stores (two desktops) on the same project, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time

import pytest
from factories import reopen
from sqlalchemy import select
from test_review import doc_id, label, make_store

from annotator.core.db.annotators import GOLD, set_role
from annotator.core.db.models import Annotator, Span
from annotator.core.project import Project
from annotator.core.review.adjudication import start_adjudication
from annotator.errors import AnnotatorError, ConflictError

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


@pytest.fixture
def team(tmp_path):
    """Two desktops on one project with two sample articles and the starter KB: rev1 (first desktop)
    and rev2 (second) are reviewers; ana and bob agreed on "Kim Kwan-jin" (PERSON) in article 0, which
    is in gold."""
    store = make_store(tmp_path / "team.db", docs=(0, 1))
    other = reopen(store)
    for name in ("rev1", "rev2"):
        set_role(store, name, "reviewer")
    d = doc_id(store, 0)
    for name in ("ana", "bob"):
        p = Project(store, name)
        p.open_document(d)
        label(p, d, "Kim Kwan-jin", "PERSON")
    rev1, rev2 = Project(store, "rev1"), Project(other, "rev2")
    start_adjudication(store, d, rev1.stack, ["ana", "bob"])
    return store, other, d, rev1, rev2


def the_gold_span(project: Project):
    with project.store.Session() as s:
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        span_id = s.scalar(select(Span.id).where(Span.annotator_id == gold))
    return project.span(span_id)


def gold_labels(store, d) -> list[str]:
    with store.Session() as s:
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        return sorted(s.scalars(select(Span.label).where(Span.document_id == d, Span.annotator_id == gold)))


def test_team_concurrency_own_layers_never_interfere(team):
    store, other, d, _, _ = team
    ana, bob = Project(store, "cho"), Project(other, "dan")
    ana.open_document(d), bob.open_document(d)
    a = label(ana, d, "Kim Kwan-jin", "PERSON")
    b = label(bob, d, "Kim Kwan-jin", "PERSON")  # the same text, each in their own layer
    ana.relabel(a, "ORG", version=ana.span(a).version)
    bob.relabel(b, "NORP", version=bob.span(b).version)
    ana.stack.undo()
    bob.delete_span(b, version=bob.span(b).version)
    assert [(s.label, s.version) for s in ana.spans(d)] == [("PERSON", 3)]
    assert bob.spans(d) == []


def test_team_concurrency_second_writer_of_a_gold_span_gets_a_conflict_with_the_current_state(team):
    _, _, _, rev1, rev2 = team
    seen1, seen2 = the_gold_span(rev1), the_gold_span(rev2)  # both look at the same gold span
    assert seen1 == seen2 and seen1.version == 1
    rev1.relabel(seen1.id, "ORG", version=seen1.version)
    with pytest.raises(ConflictError) as e:
        rev2.relabel(seen2.id, "NORP", version=seen2.version)  # based on what rev2 saw: stale
    assert e.value.code == "E037"
    assert e.value.current["label"] == "ORG" and e.value.current["version"] == 2
    assert "ORG" in str(e.value) and "version 2" in str(e.value)
    assert the_gold_span(rev1).label == "ORG"  # not overwritten
    assert not rev2.stack.can_undo  # and nothing recorded for rev2
    with pytest.raises(ConflictError):
        rev2.delete_span(seen2.id, version=seen2.version)
    with pytest.raises(ConflictError):
        rev2.move(seen2.id, seen2.start, seen2.end + 1, version=seen2.version)
    rev2.relabel(seen2.id, "NORP", version=e.value.current["version"])  # on the current state: fine
    assert the_gold_span(rev1).label == "NORP" and the_gold_span(rev1).version == 3


def test_team_concurrency_undo_does_not_take_back_a_colleagues_later_change(team):
    _, _, _, rev1, rev2 = team
    span = the_gold_span(rev1)
    rev1.relabel(span.id, "ORG", version=span.version)
    rev2.relabel(span.id, "NORP", version=the_gold_span(rev2).version)
    with pytest.raises(ConflictError) as e:
        rev1.stack.undo()
    assert e.value.current["label"] == "NORP"
    assert the_gold_span(rev2).label == "NORP"
    assert rev1.stack.can_undo  # still there: it can be undone once rev2's change is undone
    rev2.stack.undo()
    rev1.stack.undo()
    assert the_gold_span(rev1).label == "PERSON"


def test_team_concurrency_entity_edits_carry_the_version_seen(team):
    _, _, _, rev1, rev2 = team
    korea = rev1.search_entities("South Korea")[0].entity_id
    north = rev1.search_entities("North Korea")[0].entity_id
    seen1, seen2 = rev1.entity(korea), rev2.entity(korea)
    rev1.edit_entity(korea, version=seen1.version, description="Republic of Korea")
    with pytest.raises(ConflictError) as e:
        rev2.edit_entity(korea, version=seen2.version, name="ROK")
    assert e.value.code == "E218" and e.value.current["description"] == "Republic of Korea"
    assert "version 2" in str(e.value)
    assert rev1.entity(korea).name == "South Korea"
    # a merge on a stale view is refused too; on the current one it goes through
    with pytest.raises(ConflictError):
        rev2.merge_entities(north, korea, versions=(rev2.entity(north).version, seen2.version))
    assert rev1.entity(north) is not None
    rev2.merge_entities(north, korea, versions=(rev2.entity(north).version, rev2.entity(korea).version))
    assert rev1.entity(north) is None and rev1.entity(korea).version == 3
    # rev1's undo of the description: its field is still as rev1 left it, so it goes through
    rev1.stack.undo()
    assert rev1.entity(korea).description.startswith("Country in East Asia")
    # and rev2's undo of the merge brings North Korea back
    rev2.stack.undo()
    assert rev1.entity(north).name == "North Korea"


def test_team_concurrency_two_reviewers_cannot_decide_the_same_disagreement(team):
    store, other, d, rev1, rev2 = team
    ana, bob = Project(store, "ana"), Project(store, "bob")
    label(ana, d, "Naoki Tanaka", "PERSON")
    label(bob, d, "Naoki Tanaka", "ORG")
    adj1 = start_adjudication(store, d, rev1.stack, ["ana", "bob"])
    adj2 = start_adjudication(other, d, rev2.stack, ["ana", "bob"])  # both see the same open disagreement
    assert len(adj1) == len(adj2) == 1
    adj1.take(adj1[0], "ana")
    with pytest.raises(AnnotatorError) as e:
        adj2.take(adj2[0], "bob")  # decided meanwhile by rev1: refused, gold keeps one version
    assert e.value.code == "E160" and "rev1" in str(e.value)
    assert gold_labels(store, d) == ["PERSON", "PERSON"]  # Kim Kwan-jin (agreed) and ana's Naoki Tanaka


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_team_concurrency_a_writer_racing_in_between_read_and_write_is_caught(team, pg_cluster):
    """rev1's edit reads version 1; before its UPDATE runs, another transaction commits version 2:
    the UPDATE (conditional on version 1) finds nothing to change, and rev1 gets E037."""
    store, _, _, rev1, _ = team
    span = the_gold_span(rev1)
    dbname = store.engine.url.database
    conn = pg_cluster.connect(dbname)
    conn.execute("UPDATE spans SET label = 'LOC', version = version + 1 WHERE id = %s", (span.id,))  # row locked
    failure = []

    def edit():
        try:
            rev1.relabel(span.id, "ORG", version=span.version)
        except ConflictError as e:
            failure.append(e)

    worker = threading.Thread(target=edit)
    worker.start()
    time.sleep(0.5)  # rev1 has read version 1 and waits on the row lock
    conn.commit()
    worker.join(10)
    conn.close()
    assert len(failure) == 1 and failure[0].current["label"] == "LOC"
    assert the_gold_span(rev1).label == "LOC"


def test_team_concurrency_activity_says_what_others_changed(team):
    store, other, d, rev1, rev2 = team
    from annotator.core import activity

    before = activity.mark(store)
    assert activity.since(store, before, before, rev1.annotator_id).any is False
    gold = the_gold_span(rev2)
    rev2.relabel(gold.id, "ORG", version=gold.version)  # gold, by rev2
    korea = rev2.search_entities("South Korea")[0].entity_id
    rev2.edit_entity(korea, name="ROK")  # the knowledge base
    rev2.stack.undo()
    rev2.set_status(d, "done")  # a status change's payload names its state before as a string
    after = activity.mark(other)
    found = activity.since(store, before, after, rev1.annotator_id)
    assert found.documents == {d} and found.gold == {d} and found.knowledge_base and found.by == ("rev2",)
    assert not found.new_documents
    mine = activity.since(store, before, after, rev2.annotator_id)
    assert mine.by == () and mine.gold == {d}  # rev2's own changes are not "by others"
    seen = activity.since(store, before, after, rev2.annotator_id, skip=rev2.stack.recorded)
    assert not seen.documents and not seen.gold  # what rev2's own process wrote, and has shown already
    assert len(rev2.stack.recorded) == 4
    rev2.stack.forget_recorded(after.event)
    assert not rev2.stack.recorded
