"""The entity view on a knowledge base others edit too: saving over a colleague's change is refused
(E218) and the view shows the entity as it is now (what the user typed kept); saving again changes only
what the user typed, never putting back what the colleague changed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_ui_entity_view import db_entity, entity_id, kim, open_entity_view, project  # noqa: F401 (fixtures)

from annotator.core.db.store import Store
from annotator.core.project import Project

Key = Qt.Key


def test_team_entity_window_a_stale_save_is_refused_and_the_entity_shown_as_it_is_now(window, ui, qtbot, kim):  # noqa: F811
    a, _ = kim
    eid = entity_id(window.project, "local:kim-kwan-jin")
    view = open_entity_view(window, ui, qtbot, a)
    rev = Project(Store(window.project.store.url), "rev", role="reviewer")  # on another desktop
    rev.edit_entity(eid, version=rev.entity(eid).version, description="South Korean defence minister")
    view.name_edit.setFocus()
    view.name_edit.selectAll()
    qtbot.keyClicks(view.name_edit, "Kim Kwan-jin (minister)")
    ui.key(view.name_edit, Key.Key_Return)  # saved on what the view showed: stale
    assert view.message.text().startswith("[E218]") and "version 2" in view.message.text()
    assert db_entity(window.project, eid)[0] == "Kim Kwan-jin"  # rev's change kept, nothing overwritten
    assert view.description.text() == "South Korean defence minister"  # the view shows it now,
    assert view.description_edit.text() == "South Korean defence minister"
    assert view.name_edit.text() == "Kim Kwan-jin (minister)"  # keeping what the user typed
    ui.key(view.name_edit, Key.Key_Return)  # saving again changes only the name
    assert db_entity(window.project, eid)[:3] == ("Kim Kwan-jin (minister)", "PERSON", "South Korean defence minister")
    rev.store.close()


def test_team_entity_window_shows_a_colleagues_change_while_the_user_types(window, ui, qtbot, kim):  # noqa: F811
    a, _ = kim
    window.watcher.timer.setInterval(50)
    eid = entity_id(window.project, "local:kim-kwan-jin")
    view = open_entity_view(window, ui, qtbot, a)
    view.name_edit.setFocus()
    view.name_edit.selectAll()
    qtbot.keyClicks(view.name_edit, "Kim Kwan-jin (minister)")  # typing, not saved yet
    rev = Project(Store(window.project.store.url), "rev", role="reviewer")
    rev.edit_entity(eid, version=rev.entity(eid).version, description="South Korean defence minister")
    qtbot.waitUntil(lambda: view.description_edit.text() == "South Korean defence minister", timeout=5000)
    assert view.name_edit.text() == "Kim Kwan-jin (minister)"  # the user's typing stays
    ui.key(view.name_edit, Key.Key_Return)
    assert db_entity(window.project, eid)[:3] == ("Kim Kwan-jin (minister)", "PERSON", "South Korean defence minister")
    rev.store.close()
