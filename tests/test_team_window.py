"""The window on a project others edit at the same time: a stale edit is refused with the span as it
is now; changes by others show up without a restart; a server that goes away makes it read-only."""

from __future__ import annotations

import pytest
from conftest import HAND_SPANS, USER
from PySide6.QtCore import Qt
from test_ui_document_view import find, spans

from annotator.core.activity import Activity
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.io.kb_transfer import load_starter

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)
Key = Qt.Key


def test_team_window_a_stale_edit_is_refused_and_the_span_shown_as_it_is_now(window, ui):
    view = window.view
    start, end = find(window, "Kim Kwan-jin")
    ui.click(view, start)
    span_id = window.model.current
    elsewhere = Project(Store(window.project.store.url), USER)  # the same analyst on another desktop
    elsewhere.relabel(span_id, "ORG", version=elsewhere.span(span_id).version)
    ui.key(view, Key.Key_3)  # GPE, on the version this window showed
    message = window.statusBar().currentMessage()
    assert message.startswith("[E037] ") and "ORG" in message
    assert (start, end, "ORG", "accepted") in spans(window)  # the database kept the other edit
    assert window.model.current_span().label == "ORG"  # and the window now shows it
    assert window.panel.table_model.rowCount() == len(spans(window))
    ui.key(view, Key.Key_3)  # again, now on what is shown: accepted
    assert (start, end, "GPE", "accepted") in spans(window)
    elsewhere.store.close()


def test_team_window_notices_changes_by_others_without_a_restart(window, qtbot):
    window.watcher.timer.setInterval(50)
    store = window.project.store
    load_starter(store)  # someone loads the knowledge base
    qtbot.waitUntil(lambda: window.watcher.last.entity > 0, timeout=5000)
    doc = window.model.doc_id
    start, end = find(window, "Kim Kwan-jin")
    span_id = next(s.id for s in window.project.spans(doc) if s.start == start)
    window.model.set_current(span_id)
    elsewhere = Project(Store(store.url), USER)  # the same analyst, on another desktop
    japan = elsewhere.search_entities("Japan")[0].entity_id
    elsewhere.relabel(span_id, "ORG")
    elsewhere.link(span_id, japan)
    added = elsewhere.add_span(doc, *find(window, "Defense Minister"), "PERSON")
    qtbot.waitUntil(lambda: added in window.model.spans and window.model.spans[span_id].label == "ORG",
                    timeout=5000)
    assert window.panel.table_model.rowCount() == len(window.model.spans) == len(spans(window))
    assert "Japan" in window.link_panel.state.text()
    rev = Project(Store(store.url), "rev", role="reviewer")  # a reviewer renames the entity
    rev.edit_entity(japan, version=rev.entity(japan).version, name="Nippon")
    qtbot.waitUntil(lambda: "Nippon" in window.link_panel.state.text(), timeout=5000)
    assert window.statusBar().currentMessage() == "Updated with changes by rev (the knowledge base)."
    elsewhere.store.close()
    rev.store.close()


def test_team_window_own_edits_are_not_read_back_but_another_desktops_are(window, ui, qtbot):
    """The poll skips the events this window wrote (it has drawn them): after labelling here it
    re-reads nothing. The same analyst marking the document done on another desktop reaches the
    document list and the menu's check mark."""
    window.watcher.timer.stop()  # polled by hand, so that each poll's catch is known
    view = window.view
    start, _ = find(window, "Kim Kwan-jin")
    ui.click(view, start)
    ui.key(view, Key.Key_2)  # ORG, written by this window
    caught = []
    window.project.changes.subscribe(caught.append, Activity)
    window.watcher.poll()
    assert caught == []
    assert not window.project.stack.recorded  # looked past: forgotten
    doc = window.model.doc_id
    elsewhere = Project(Store(window.project.store.url), USER)  # the same analyst, on another desktop
    elsewhere.set_status(doc, "done")
    window.watcher.poll()
    assert caught[0].documents == {doc}
    assert window.model.status() == "done" and window.menu_actions.mark_done.isChecked()
    assert next(d for d in window.documents.model.docs if d.id == doc).status == "done"
    assert (start, find(window, "Kim Kwan-jin")[1], "ORG", "accepted") in spans(window)
    elsewhere.store.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_team_window_is_read_only_while_the_server_is_down(window, ui, qtbot, pg_cluster):
    window.watcher.timer.setInterval(100)
    view = window.view
    start, end = find(window, "Kim Kwan-jin")
    ui.click(view, start)
    ui.key(view, Key.Key_2)  # ORG: saved
    pg_cluster.stop()
    try:
        ui.key(view, Key.Key_3)  # GPE: the server is gone
        assert window.statusBar().currentMessage().startswith("[E400] ")
        assert window.offline_label.isVisible() and window.model.read_only
        assert window.model.current_span().label == "ORG"  # the window still shows what was saved
        ui.key(view, Key.Key_Tab)  # and can still be read: Tab to the next span
        assert window.model.current_span().start > start
        ui.key(view, Key.Key_Delete)
        assert window.statusBar().currentMessage().startswith("[E400] ")
        assert len(window.model.spans) == len(HAND_SPANS)
    finally:
        pg_cluster.start()
    qtbot.waitUntil(lambda: not window.offline_label.isVisible(), timeout=10_000)
    assert window.model.read_only is None
    assert window.statusBar().currentMessage().startswith("The database server answers again")
    ui.key(view, Key.Key_Delete)  # edits go through again
    assert len(spans(window)) == len(HAND_SPANS) - 1
    assert (start, end, "ORG", "accepted") in spans(window)  # nothing acknowledged was lost
