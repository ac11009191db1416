"""The window on a project others edit at the same time: a stale edit is refused with the span as it
is now; changes by others show up without a restart; a server that goes away makes it read-only."""

from __future__ import annotations

from PySide6.QtCore import Qt

from annotator.core.project import Project
from annotator.core.store import Store
from conftest import USER
from test_ui_document_view import find, spans

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
