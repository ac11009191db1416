"""One key press that labels a selection: one transaction, one message, and a bounded number of SQL
statements, counted on the project's engine (a regression fails this test)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import event
from test_ui_document_view import find, spans

from annotator.core.changes import Change

Key = Qt.Key
# Measured: 15 before the change hub (7 for the edit, 8 more after the link panel's search delay); 12
# with it: the edit's transaction (6), the new span read for the views (1), candidates for it (5). 21
# since the corpus figures are kept as edits happen: the transaction also refreshes the document's
# provenance counts (7: layers, states, spans, stored counts, their delete, insert, totals), queues it
# for agreement (1) and adds the edit's time (1); the link panel asks whether a trained linker chose
# the span's link (1). 22 since every first edit goes to the person's own layer: the edit's transaction
# asks whether that layer of the document has started (1).
LABEL_KEY_STATEMENTS = 22


@pytest.mark.single_backend
def test_ui_statements_labelling_a_selection(window, ui, qtbot):
    statements, messages = [], []
    engine = window.project.store.engine
    record = lambda conn, cursor, sql, *rest: statements.append(sql.split()[0].upper())  # noqa: E731
    warm = find(window, "military intelligence")  # the first search learns what the database offers
    ui.drag(window.view, *warm)
    ui.key(window.view, Key.Key_2)
    qtbot.waitUntil(lambda: not window.link_panel.timer.isActive(), timeout=3000)
    start, end = find(window, "Defense Minister")
    ui.drag(window.view, start, end)
    qtbot.wait(300)  # the selection settles (nothing is written for a selection)
    window.project.changes.subscribe(messages.append, Change)
    event.listen(engine, "before_cursor_execute", record)
    try:
        ui.key(window.view, Key.Key_2)
        qtbot.waitUntil(lambda: not window.link_panel.timer.isActive(), timeout=3000)
        qtbot.wait(50)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert (start, end, "ORG", "accepted") in spans(window)
    assert len(messages) == 1 and messages[0].kind == "spans"
    assert statements.count("COMMIT") + statements.count("BEGIN") <= 2  # one write transaction
    assert len(statements) <= LABEL_KEY_STATEMENTS, statements
