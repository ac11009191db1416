import pytest
from factories import seeded_store
from sqlalchemy import select

from annotator.core.db.models import DocumentState, Event, Span
from annotator.core.project import Project
from annotator.errors import AnnotatorError

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


@pytest.fixture
def project(tmp_path):
    return Project(seeded_store(tmp_path), user="ana")


def rows(project, document_id=1):
    with project.store.Session() as s:
        return s.execute(select(Span.id, Span.start, Span.end, Span.label, Span.status)
                         .where(Span.document_id == document_id, Span.annotator_id == project.annotator_id)
                         .order_by(Span.start)).all()


def events(project):
    with project.store.Session() as s:
        return s.execute(select(Event.command, Event.undone).order_by(Event.id)).all()


def test_commands_add_undo_redo_keep_the_same_span(project):
    span_id = project.add_span(1, 0, 7, "GPE")
    assert [tuple(r) for r in rows(project)] == [(span_id, 0, 7, "GPE", "accepted")]
    assert project.stack.undo_text == "add GPE"
    project.stack.undo()
    assert rows(project) == []
    project.stack.redo()
    assert [r.id for r in rows(project)] == [span_id]
    assert [c for c, _ in events(project)] == ["add_span", "undo", "redo"]


def test_commands_relabel_move_accept_delete_and_undo_each(project):
    span_id = project.add_span(1, 0, 7, "GPE")
    project.relabel(span_id, "ORG")
    project.move(span_id, 0, 14)
    project.delete_span(span_id)
    assert rows(project) == []
    project.stack.undo()
    assert [tuple(r)[1:] for r in rows(project)] == [(0, 14, "ORG", "accepted")]
    project.stack.undo()
    assert [tuple(r)[1:] for r in rows(project)] == [(0, 7, "ORG", "accepted")]
    project.stack.undo()
    assert [tuple(r)[1:] for r in rows(project)] == [(0, 7, "GPE", "accepted")]


def test_commands_accept_a_suggestion(tmp_path):
    project = Project(seeded_store(tmp_path, model=True), user="ana")
    spans = project.open_document(1)
    assert spans and all(s.status == "suggested" and s.origin == "model" for s in spans)
    project.accept(spans[0].id)
    assert project.span(spans[0].id).status == "accepted"
    project.stack.undo()
    assert project.span(spans[0].id).status == "suggested"


@pytest.mark.parametrize("start, end, label, code", [
    (5, 5, "GPE", "E030"), (-1, 3, "GPE", "E030"), (0, 10**6, "GPE", "E030"), (0, 3, "NOPE", "E031")])
def test_commands_bad_edit_changes_nothing(project, start, end, label, code):
    with pytest.raises(AnnotatorError) as e:
        project.add_span(1, start, end, label)
    assert e.value.code == code
    assert rows(project) == [] and events(project) == []
    assert not project.stack.can_undo


def test_commands_duplicate_span_is_refused(project):
    project.add_span(1, 0, 7, "GPE")
    with pytest.raises(AnnotatorError) as e:
        project.add_span(1, 0, 7, "GPE")
    assert e.value.code == "E036"


def test_commands_editing_a_deleted_span_is_a_coded_error(project):
    span_id = project.add_span(1, 0, 7, "GPE")
    project.delete_span(span_id)
    with pytest.raises(AnnotatorError) as e:
        project.relabel(span_id, "ORG")
    assert e.value.code == "E032"


def test_commands_nothing_to_undo(project):
    with pytest.raises(AnnotatorError) as e:
        project.stack.undo()
    assert e.value.code == "E035"


def test_commands_mark_done_and_undo(project):
    project.open_document(2)
    project.set_status(2, "done")
    assert {d.name: d.status for d in project.documents()}["001_4acc0fd2deaa6b4e"] == "done"
    project.stack.undo()
    with project.store.Session() as s:
        assert s.get(DocumentState, (2, project.annotator_id)).status == "in_progress"


def test_commands_listeners_hear_each_change(project):
    heard = []
    project.changes.subscribe(heard.append)
    span_id = project.add_span(1, 0, 7, "GPE")
    project.stack.undo()
    assert [(c.document_id, c.span_ids) for c in heard] == [(1, (span_id,)), (1, (span_id,))]


def test_commands_undo_survives_a_restart(tmp_path):
    store = seeded_store(tmp_path)
    first = Project(store, user="ana")
    span_id = first.add_span(1, 0, 7, "GPE")
    first.relabel(span_id, "ORG")
    first.add_span(1, 9, 14, "GPE")
    first.stack.undo()  # the second add is now redoable
    store.close()

    again = Project(type(store)(store.url), user="ana")
    assert again.stack.undo_text == "relabel as ORG" and again.stack.redo_text == "add GPE"
    again.stack.undo()
    assert again.span(span_id).label == "GPE"
    again.stack.redo()
    again.stack.redo()
    assert [tuple(r)[1:4] for r in rows(again)] == [(0, 7, "ORG"), (9, 14, "GPE")]


def test_commands_other_users_history_is_not_mine(tmp_path):
    store = seeded_store(tmp_path)
    Project(store, user="ana").add_span(1, 0, 7, "GPE")
    assert not Project(store, user="bob").stack.can_undo
