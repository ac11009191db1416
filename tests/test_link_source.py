"""Who chose a span's link (`Span.link_source`, migration 0018): the alias prior's suggestions, a
person's links, propagation; undo and redo (also after a restart) put it back with the link; merge
carries it; a project from before 0018 does not claim what it cannot know. The trained linker's own
choices: test_link_source_model.py."""

from __future__ import annotations

import shutil
import sqlite3
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select, text

from annotator.core.db import schema
from annotator.core.db.models import Annotator, Entity, Span
from annotator.core.db.store import Store
from annotator.core.kb.suggestions import linker_choice, suggested_by
from annotator.core.project import Project
from annotator.errors import AnnotatorError
from annotator.io import kb_transfer
from annotator.io.merging import merge

from test_review import doc_id, entity_id, label, make_store
from test_schema_upgrade import OLD

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


@pytest.fixture
def proj(project):
    """The sample project with the starter KB loaded: its aliases suggest links (the prior's)."""
    kb_transfer.load_starter(project.store)
    project.open_document(project.documents()[0].id)
    return project


def span_at(project, surface: str, nth: int = 0) -> int:
    doc = project.documents()[0].id
    body, start = project.document(doc).text, -1
    for _ in range(nth + 1):
        start = body.index(surface, start + 1)
    return next(s.id for s in project.spans(doc) if s.start == start and s.end == start + len(surface))


def row(project, sid: int) -> tuple:
    with project.store.Session() as s:
        r = s.get(Span, sid)
        return r.entity_id, r.nil, r.status, r.link_source


def test_link_source_a_suggestion_from_the_knowledge_base_is_the_priors(proj):
    kim, entity = span_at(proj, "Kim Kwan-jin"), entity_id(proj.store, "local:kim-kwan-jin")
    assert row(proj, kim) == (entity, False, "suggested", "prior")
    with proj.store.Session() as s:
        assert suggested_by(s, kim) == (entity, "prior") and linker_choice(s, kim) is None
    found = proj.candidates(proj.documents()[0].id, "Kim Kwan-jin", "PERSON", span_id=kim)
    assert [(c.kb_id, c.suggested, c.model) for c in found][:1] == [("local:kim-kwan-jin", "prior", False)]
    assert proj.span_link(kim).suggested_by == "prior"


def test_link_source_a_persons_link_is_theirs_and_undo_puts_the_priors_back(proj):
    kim, entity = span_at(proj, "Kim Kwan-jin"), entity_id(proj.store, "local:kim-kwan-jin")
    other = entity_id(proj.store, "local:kim-min-seok")
    suggested = (entity, False, "suggested", "prior")
    proj.link(kim, other)
    assert row(proj, kim) == (other, False, "accepted", "person")
    proj.stack.undo()
    assert row(proj, kim) == suggested
    proj.stack.redo()
    assert row(proj, kim) == (other, False, "accepted", "person")
    again = Project(proj.store, proj.user)  # after a restart: the history undoes it the same way
    again.stack.undo()
    assert row(again, kim) == suggested
    for edit in (lambda: again.mark_nil(kim), lambda: again.unlink(kim),
                 lambda: again.new_entity_from_span(kim, "Kim K.", "PERSON")):
        edit()
        assert row(again, kim)[2:] == ("accepted", "person")
        again.stack.undo()
        assert row(again, kim) == suggested
    again.accept(kim)  # Enter: the suggestion confirmed as it stands stays the prior's
    assert row(again, kim) == (entity, False, "accepted", "prior")
    with again.store.Session() as s:
        assert suggested_by(s, kim) is None  # no longer a suggestion: nothing to mark
    again.stack.undo()
    assert row(again, kim) == suggested
    doc = again.documents()[0].id
    again.accept_all(doc)
    assert row(again, kim) == (entity, False, "accepted", "prior")
    again.stack.undo()
    again.delete_span(kim)
    again.stack.undo()  # a deleted span comes back with its source
    assert row(again, kim) == suggested


def test_link_source_propagation_is_not_the_models_and_undo_gives_each_its_own_back(proj):
    japan, q17 = span_at(proj, "Japan"), entity_id(proj.store, "Q17")
    proj.link(japan, q17)  # the prior's suggestion, confirmed from the link panel: still the prior's
    assert row(proj, japan) == (q17, False, "accepted", "prior")
    touched = proj.propagate(japan, "document")
    assert touched
    with proj.store.Session() as s:
        before = {r.id: r.link_source for r in s.scalars(select(Span).where(Span.id.in_(touched)))}
        assert set(before.values()) == {"propagated"}
        assert all(suggested_by(s, sid) == (q17, "propagated") for sid in touched)
    proj.stack.undo()
    with proj.store.Session() as s:
        left = s.scalars(select(Span.link_source).where(Span.id.in_(touched))).all()
    assert all(source is None for source in left)  # unlinked before: no source; new ones are gone
    proj.stack.redo()
    with proj.store.Session() as s:
        assert set(s.scalars(select(Span.link_source).where(Span.id.in_(touched)))) == {"propagated"}


def test_link_source_merge_carries_it_and_refuses_an_unknown_one(tmp_path):
    ours = make_store(tmp_path / "ours.db", docs=(0,))
    theirs = make_store(tmp_path / "theirs.db", docs=(0, 1), file=True)
    bob = Project(theirs, "bob")
    d1 = doc_id(theirs, 1)
    bob.open_document(d1)
    japan = label(bob, d1, "Japan", "GPE", kb="Q17")
    bob.propagate(japan, "document")
    with theirs.Session() as s:
        theirs_rows = sorted(s.execute(select(Span.start, Span.end, Span.status, Span.link_source)
                                       .join(Annotator, Annotator.id == Span.annotator_id)
                                       .where(Annotator.name == "bob")).all())
    theirs.close()
    assert {r.link_source for r in theirs_rows} == {"person", "propagated"}
    bad = tmp_path / "bad.db"
    shutil.copy(tmp_path / "theirs.db", bad)
    with sqlite3.connect(bad) as conn:
        conn.execute("UPDATE spans SET link_source = 'oracle' WHERE link_source = 'propagated'")
    with pytest.raises(AnnotatorError) as e:
        merge(ours, bad)
    assert e.value.code == "E116" and "unknown link source 'oracle'" in str(e.value)
    merge(ours, tmp_path / "theirs.db")
    with ours.Session() as s:
        here = sorted(s.execute(select(Span.start, Span.end, Span.status, Span.link_source)
                                .join(Annotator, Annotator.id == Span.annotator_id)
                                .where(Annotator.name == "bob")).all())
    assert here == theirs_rows
    ours.close()


@pytest.mark.single_backend
def test_link_source_a_0016_project_does_not_claim_what_it_cannot_know(tmp_path):
    """A 0016 file: the model layer's suggested link of a run with a trained linker (span 1), and a
    propagated suggestion of no run (span 6). After the upgrade both are NULL: the first is "unknown"
    (the linker's or the prior's: never said); the second is unmarked, as it always was."""
    old = tmp_path / "old.db"
    shutil.copy(OLD, old)
    engine = create_engine(f"sqlite:///{old}")
    schema.migrate(SimpleNamespace(engine=engine, is_sqlite=True), "0016")
    with engine.begin() as conn:
        conn.execute(text("""UPDATE model_runs SET scores = '{"linker": {"trained": true}}' WHERE id = 1"""))
        conn.execute(text("UPDATE spans SET entity_id = 1 WHERE id = 1"))
        conn.execute(text("UPDATE spans SET entity_id = 2 WHERE id = 6"))
    engine.dispose()
    store = Store(old, upgrade=True)
    try:
        assert store.schema.before == "0016" and store.schema.revision == schema.HEAD
        with store.Session() as s:
            assert s.execute(select(Span.id, Span.entity_id, Span.link_source).where(Span.id.in_([1, 6]))
                             .order_by(Span.id)).all() == [(1, 1, None), (6, 2, None)]
            assert suggested_by(s, 1) == (1, "unknown") and linker_choice(s, 1) is None
            assert suggested_by(s, 6) is None
            kim = s.get(Entity, 1)
        ana = Project(store, "ana")
        marked = ana.candidates(1, "Kim Kwan-jin", "PERSON", span_id=1)
        plain = ana.candidates(1, "Kim Kwan-jin", "PERSON")
        assert (marked[0].kb_id, marked[0].suggested, marked[0].model) == (kim.kb_id, "unknown", False)
        assert [c.kb_id for c in marked] == [c.kb_id for c in plain] and plain[0].suggested is None
        zoe = Project(store, "zoe")
        zoe.open_document(1)  # her layer starts from the model's
        copied = next(v for v in zoe.spans(1) if (v.start, v.end) == (0, 12))
        assert row(zoe, copied.id) == (1, False, "suggested", None)
        with store.Session() as s:
            assert suggested_by(s, copied.id) == (1, "unknown")  # the copy: unknown too
    finally:
        store.close()
