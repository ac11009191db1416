"""Undo puts a deleted row back with its old id, so no new row may take that id meanwhile: on SQLite
ids are never given twice (AUTOINCREMENT, migration 0012). When a row still cannot go back (its id
taken before the upgrade, the entity it was linked to merged away), the undo is one coded line (E546)
and nothing changes. These run on real SQLite files, through the Project facade as the window does."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import show_active
from factories import reopen, seeded_store
from PySide6.QtCore import Qt
from sqlalchemy import select

from annotator.core.db.models import Alias, Event, Span
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError
from annotator.io.importing import import_records
from annotator.ui.qt_app import make_window


def spans(store: Store) -> list[tuple]:
    with store.Session() as s:
        return [tuple(r) for r in s.execute(select(Span.id, Span.annotator_id, Span.start, Span.end, Span.label,
                                                   Span.entity_id).order_by(Span.id))]


def history(store: Store) -> list[tuple]:
    with store.Session() as s:
        return [tuple(r) for r in s.execute(select(Event.id, Event.command, Event.undone).order_by(Event.id))]


def test_undo_ids_a_colleagues_new_span_does_not_take_the_id_of_one_i_deleted(tmp_path):
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    bob = Project(reopen(store), "bob")  # another desktop on the same file
    mine = ana.add_span(1, 0, 7, "GPE")  # the highest span id of the project
    ana.delete_span(mine)
    theirs = bob.add_span(1, 9, 14, "GPE")
    assert theirs > mine  # without AUTOINCREMENT SQLite hands out max(id) + 1: ana's deleted id
    ana.stack.undo()
    assert ana.span(mine)[1:4] == (0, 7, "GPE") and bob.span(theirs)[1:4] == (9, 14, "GPE")
    assert spans(store) == [(mine, ana.annotator_id, 0, 7, "GPE", None), (theirs, bob.annotator_id, 9, 14, "GPE", None)]
    ana.stack.redo()  # and deleted again, bob's span untouched
    assert spans(store) == [(theirs, bob.annotator_id, 9, 14, "GPE", None)]


def test_undo_ids_undo_restored_after_a_reopen_still_puts_the_span_back(tmp_path):
    """The undo stack comes back from the history: spans added in between (an import) must not have
    taken the deleted span's id."""
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    mine = ana.add_span(1, 0, 7, "GPE")
    ana.delete_span(mine)
    store.close()

    again = Store(store.url)  # the next day
    try:
        import_records(again, [DocRecord("later", "Later news from Seoul.", spans=[SpanRecord(16, 21, "GPE")],
                                         annotator="ana")], use_model=False)
        imported = max(r[0] for r in spans(again))
        assert imported > mine
        ana = Project(again, "ana")
        assert ana.stack.undo_text == "delete GPE"
        ana.stack.undo()
        assert [r[:5] for r in spans(again)] == [(mine, ana.annotator_id, 0, 7, "GPE"),
                                                 (imported, ana.annotator_id, 16, 21, "GPE")]
    finally:
        again.close()


def refused(project: Project, action: str) -> AnnotatorError:
    with pytest.raises(AnnotatorError) as e:
        getattr(project.stack, action)()
    assert e.value.code == "E546" and "\n" not in str(e.value)
    return e.value


def test_undo_ids_an_id_taken_before_the_upgrade_is_a_coded_refusal_that_changes_nothing(tmp_path):
    """A project upgraded to 0012 may hold a span that took a deleted one's id earlier: the undo says
    so in one line and writes nothing but the event saying the step was dropped."""
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    mine = ana.add_span(1, 0, 7, "GPE")
    deleted = history(store)[-1][0] + 1
    ana.delete_span(mine)
    take_id(store, mine, Project(store, "bob").annotator_id)
    rows, events = spans(store), history(store)
    e = refused(ana, "undo")
    assert "Cannot undo 'delete GPE'" in str(e) and "spans.id" in str(e)
    assert spans(store) == rows and history(store)[:-1] == events
    assert history(store)[-1][1:] == ("dropped", False) and dropped_events(store) == [(deleted, "undo")]
    assert ana.stack.undo_text == "add GPE" and not ana.stack.can_redo


def dropped_events(store: Store) -> list[tuple]:
    with store.Session() as s:
        return [(p["event"], p["action"]) for p in s.scalars(select(Event.payload).where(Event.command == "dropped")
                                                              .order_by(Event.id))]


def test_undo_ids_a_refused_undo_is_dropped_once_and_the_next_undo_undoes_the_step_before(tmp_path):
    """The refused step never goes through, so it leaves the stack (E546 once): the next undo is the
    edit before it, also after a restart (the stack is rebuilt without it), and the history says so."""
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    mine = ana.add_span(1, 0, 7, "GPE")
    other = ana.add_span(1, 9, 14, "GPE")
    ana.delete_span(mine)
    take_id(store, mine, Project(store, "bob").annotator_id)
    refused(ana, "undo")
    assert ana.stack.undo_text == "add GPE" and Project(reopen(store), "ana").stack.undo_text == "add GPE"
    ana.stack.undo()  # the add of `other`, not the refusal again
    assert [r[0] for r in spans(store)] == [mine] and spans(store)[0][4] == "ORG"  # bob's row, untouched
    again = Project(reopen(store), "ana")
    assert again.stack.redo_text == "add GPE" and again.stack.undo_text == "add GPE"
    assert [e.text for e in ana.history() if e.command == "dropped"] == ["undo refused, dropped: delete GPE"]
    assert other not in [r[0] for r in spans(store)]


def test_undo_ids_a_span_linked_to_an_entity_merged_away_is_a_coded_refusal(tmp_path):
    """The deleted span was linked to an entity a reviewer merged into another since: putting it back
    as it was would refer to an entity that is gone (a foreign key), so the undo is refused."""
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    rev = Project(reopen(store), "rev", role="reviewer")
    first = ana.add_span(1, 0, 7, "GPE")
    gone = ana.new_entity_from_span(first, name="Seoul city")
    kept = ana.new_entity_from_span(ana.add_span(1, 9, 14, "GPE"), name="Seoul")
    ana.delete_span(first)
    rev.merge_entities(gone, kept)
    rows, events = spans(store), history(store)
    e = refused(ana, "undo")
    assert "Cannot undo 'delete GPE'" in str(e) and "FOREIGN KEY" in str(e)
    assert spans(store) == rows and history(store)[:-1] == events and history(store)[-1][1] == "dropped"
    assert ana.stack.undo_text != "delete GPE"


def test_undo_ids_revert_to_here_that_cannot_put_a_span_back_is_refused(tmp_path):
    """"Revert to here" undoes the later edits as one new edit: the same refusal, nothing changed."""
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    mine = ana.add_span(1, 0, 7, "GPE")
    added = history(store)[-1][0]
    ana.delete_span(mine)
    take_id(store, mine, Project(store, "bob").annotator_id)
    rows, events = spans(store), history(store)
    with pytest.raises(AnnotatorError) as e:
        ana.revert_to(added)
    assert e.value.code == "E546" and "Cannot do 'revert 1 edit" in str(e.value) and "\n" not in str(e.value)
    assert spans(store) == rows and history(store) == events and ana.stack.undo_text == "delete GPE"


def take_id(store: Store, span_id: int, annotator_id: int) -> None:
    """What an annotator without AUTOINCREMENT did: a new span with the id of one deleted."""
    raw = sqlite3.connect(store.path)
    with raw:
        raw.execute('INSERT INTO spans (id, document_id, annotator_id, start, "end", label, nil, referent_note, '
                    "origin, status, created_at, updated_at, version) VALUES (?, 2, ?, 0, 3, 'ORG', 0, '', "
                    "'human', 'accepted', '2026-12-05', '2026-12-05', 1)", (span_id, annotator_id))
    raw.close()


def test_undo_ids_a_redo_that_cannot_put_its_span_back_is_refused_too(tmp_path):
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    mine = ana.add_span(1, 0, 7, "GPE")
    ana.stack.undo()
    take_id(store, mine, ana.annotator_id)
    rows = spans(store)
    assert "Cannot redo 'add GPE'" in str(refused(ana, "redo"))
    assert spans(store) == rows and not ana.stack.can_redo and dropped_events(store)[0][1] == "redo"
    assert not Project(reopen(store), "ana").stack.can_redo  # the restart does not bring it back


@pytest.mark.parametrize("table", ["spans", "entities", "aliases"])
def test_undo_ids_a_new_project_never_gives_an_id_twice(tmp_path, table):
    store = seeded_store(tmp_path)
    sql = store.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t", t=table)[0][0]
    assert "PRIMARY KEY AUTOINCREMENT" in sql


def test_undo_ids_an_undone_merge_gets_its_entity_and_alias_back_after_a_colleague_made_one(tmp_path):
    """Undoing a merge puts the merged entity back with its id, and the alias folded into the target
    with its id: a colleague's new entity and alias made in between have other ids."""
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    bob = Project(reopen(store), "bob")
    kept = ana.new_entity_from_span(ana.add_span(1, 0, 7, "GPE"), name="Seoul", kb_id="local:seoul-1")
    merged = ana.new_entity_from_span(ana.add_span(1, 9, 14, "GPE"), name="Seoul", kb_id="local:seoul-2")
    with store.Session() as s:
        folded = s.scalar(select(Alias.id).where(Alias.entity_id == merged))  # the newest alias of the project
    ana.merge_entities(merged, kept)
    theirs = bob.new_entity_from_span(bob.add_span(2, 0, 5, "GPE"), name="Busan")
    assert theirs > merged
    ana.stack.undo()
    assert ana.entity(merged).name == "Seoul" and bob.entity(theirs).name == "Busan"
    with store.Session() as s:
        assert s.execute(select(Alias.id, Alias.entity_id, Alias.text).where(Alias.id == folded)).one() == (
            folded, merged, "Seoul")
        assert s.scalar(select(Alias.id).where(Alias.entity_id == theirs)) > folded


def test_undo_ids_the_window_shows_the_refusal_once_and_the_next_ctrl_z_undoes_the_step_before(tmp_path, qtbot, ui):
    """Ctrl+Z on an undo that cannot put its span back: the status bar says E546, the article and the
    file stay as they were, the menu offers the step before, and the next Ctrl+Z undoes it."""
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    doc = ana.documents()[0].id
    mine = ana.add_span(doc, 0, 7, "GPE")
    other = ana.add_span(doc, 9, 14, "GPE")
    ana.delete_span(mine)
    take_id(store, mine, Project(store, "bob").annotator_id)
    window = make_window(ana)
    window.use_model = False
    qtbot.addWidget(window)
    show_active(qtbot, window)
    window.refresh_documents()
    window.open_document(doc)
    rows, shown = spans(store), dict(window.model.spans)
    assert other in shown
    ui.key(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage().startswith("[E546] Cannot undo 'delete GPE'")
    assert dict(window.model.spans) == shown and spans(store) == rows
    assert window.menu_actions.undo.text() == "&Undo add GPE" and dropped_events(store)[0][1] == "undo"
    ui.key(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert other not in window.model.spans and other not in [r[0] for r in spans(store)]
    assert [r[0] for r in spans(store)] == [mine]  # bob's span, untouched
    assert window.menu_actions.redo.text() == "&Redo add GPE"


def dropped_step(tmp_path) -> tuple[Store, Project, int, int, int]:
    """ana adds a span, deletes it, bob's span takes its id, ana's undo of the delete is refused and
    dropped; then ana adds another span. Returns the store, ana, the events of the add and the delete,
    and the other span."""
    store = seeded_store(tmp_path)
    ana = Project(store, "ana")
    mine = ana.add_span(1, 0, 7, "GPE")
    added = history(store)[-1][0]
    ana.delete_span(mine)
    deleted = history(store)[-1][0]
    take_id(store, mine, Project(store, "bob").annotator_id)
    refused(ana, "undo")
    return store, ana, added, deleted, ana.add_span(1, 9, 14, "GPE")


@pytest.mark.parametrize("clash", ["still there", "gone since"])
def test_undo_ids_revert_to_before_a_dropped_step_is_refused_before_anything_changes(tmp_path, clash):
    """A step dropped from the undo stack cannot be undone, so "revert to here" before it refuses in one
    line naming it (E626) and changes nothing, also when what made its undo clash is gone (it used to be
    undone then, after the user was told it was dropped); reverting to the dropped step itself works."""
    store, ana, added, deleted, other = dropped_step(tmp_path)
    if clash == "gone since":
        raw = sqlite3.connect(store.path)
        with raw:
            raw.execute("DELETE FROM spans WHERE annotator_id = (SELECT id FROM annotators WHERE name = 'bob')")
        raw.close()
    rows, events, undo = spans(store), history(store), ana.stack.undo_text
    with pytest.raises(AnnotatorError) as e:
        ana.revert_to(added)
    assert e.value.code == "E626" and f"your edit 'delete GPE' (event {deleted})" in str(e.value)
    assert "\n" not in str(e.value)
    assert spans(store) == rows and history(store) == events and ana.stack.undo_text == undo
    assert ana.revert_to(deleted).text().startswith("revert 1 edit")
    assert other in [r[0] for r in rows] and spans(store) == [r for r in rows if r[0] != other]


def test_undo_ids_the_window_refuses_a_revert_past_a_dropped_step(tmp_path, qtbot):
    """In the history panel, "Revert to here" on the add before the dropped delete: the status bar says
    E626, and the article and the file stay as they were."""
    store, ana, added, deleted, other = dropped_step(tmp_path)
    window = make_window(ana)
    window.use_model = False
    qtbot.addWidget(window)
    show_active(qtbot, window)
    window.refresh_documents()
    window.open_document(1)
    rows, shown, events = spans(store), dict(window.model.spans), history(store)
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    panel = window.history_panel
    qtbot.waitUntil(panel.isVisible)
    row = [e.event_id for e in panel.rows.rows].index(added)
    panel.table.selectRow(row)
    panel.table.setCurrentIndex(panel.rows.index(row, 0))
    assert panel.revert.isEnabled()
    qtbot.mouseClick(panel.revert, Qt.MouseButton.LeftButton)
    assert window.statusBar().currentMessage().startswith("[E626] Cannot revert to there: your edit 'delete GPE'")
    assert dict(window.model.spans) == shown and other in shown
    assert spans(store) == rows and history(store) == events
