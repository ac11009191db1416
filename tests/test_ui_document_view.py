"""The article view, driven with the mouse and keyboard; every check reads the database too."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

Key = Qt.Key
Mod = Qt.KeyboardModifier


def spans(window):
    """(start, end, label, status) of the open document in the tester's layer, from the database."""
    return [(s.start, s.end, s.label, s.status) for s in window.project.spans(window.model.doc_id)]


def find(window, needle: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = window.model.text.index(needle, start + 1)
    return start, start + len(needle)


def colour(window, label: str) -> QColor:
    return QColor(window.model.labels[label].colour)


def test_ui_mouse_selection_snaps_to_tokens_and_digit_adds_span(window, ui):
    view = window.view
    start, end = find(window, "Defense Minister")
    ui.drag(view, start + 2, end - 3)  # from inside "Defense" to inside "Minister"
    assert view.selection() == (start, end)
    ui.key(view, Key.Key_2)  # 2 = ORG
    assert (start, end, "ORG", "accepted") in spans(window)
    got = ui.format_at(view, start)
    assert got is not None
    assert got[:2] == (ui.block_offset(view, start), end - start)
    assert got[2].background().color() == colour(window, "ORG")
    assert window.model.current_span().label == "ORG"
    assert window.panel.label.currentData() == "ORG"
    assert view.selection() is None


def test_ui_alt_drag_keeps_character_precision(window, ui):
    view = window.view
    start, _ = find(window, "counterpart")
    ui.drag(view, start + 7, start + 11, Mod.AltModifier)  # "part"
    assert view.selection() == (start + 7, start + 11)
    ui.key(view, Key.Key_1)
    assert (start + 7, start + 11, "PERSON", "accepted") in spans(window)


def test_ui_click_picks_span_and_panel_shows_it(window, ui):
    view = window.view
    start, end = find(window, "Kim Kwan-jin")
    ui.click(view, start + 4)
    span = window.model.current_span()
    assert (span.start, span.end, span.label) == (start, end, "PERSON")
    assert window.panel.text.text() == "Kim Kwan-jin"
    assert "suggestion" in window.panel.status.text()
    table = window.panel.table
    assert table.currentIndex().row() == window.panel.table_model.row_of(span.id)
    assert ui.format_at(view, start)[2].underlineStyle() == ui_underline("SingleUnderline")


def ui_underline(name: str):
    from PySide6.QtGui import QTextCharFormat

    return getattr(QTextCharFormat.UnderlineStyle, name)


def test_ui_digit_relabels_current_span(window, ui):
    view = window.view
    start, end = find(window, "Kim Kwan-jin")
    ui.click(view, start)
    ui.key(view, Key.Key_3)  # GPE
    assert (start, end, "GPE", "accepted") in spans(window)
    assert ui.format_at(view, start)[2].background().color() == colour(window, "GPE")
    assert window.menu_actions.undo.text() == "&Undo relabel as GPE"


def test_ui_shift_arrows_move_span_boundaries_by_a_token(window, ui):
    view, text = window.view, window.model.text
    start, end = find(window, "Kim Kwan-jin")
    ui.click(view, start)
    ui.key(view, Key.Key_Right, Mod.ShiftModifier)  # end → after "is"
    after_is = text.index(" is", end) + 3
    assert (start, after_is, "PERSON", "accepted") in spans(window)
    ui.key(view, Key.Key_Left, Mod.ShiftModifier)  # back
    assert (start, end, "PERSON", "accepted") in spans(window)
    ui.key(view, Key.Key_Left, Mod.ShiftModifier | Mod.ControlModifier)  # start ← "Minister"
    minister = text.rindex("Minister", 0, start)
    assert (minister, end, "PERSON", "accepted") in spans(window)
    ui.key(view, Key.Key_Right, Mod.ShiftModifier | Mod.ControlModifier)
    assert (start, end, "PERSON", "accepted") in spans(window)
    got = ui.format_at(view, start)
    assert got[:2] == (ui.block_offset(view, start), end - start)
    assert ui.format_at(view, minister) is None  # the old extent is no longer drawn
    assert window.model.current_span().start == start  # still the same, current span


def test_ui_span_cannot_shrink_below_one_token(window, ui):
    view = window.view
    start, end = find(window, "Japan")
    ui.click(view, start)
    ui.key(view, Key.Key_Left, Mod.ShiftModifier)
    assert (start, end, "GPE", "suggested") in spans(window)
    assert "[E304]" in window.statusBar().currentMessage()


def test_ui_delete_removes_span_and_moves_to_next(window, ui):
    view = window.view
    start, end = find(window, "Kim Kwan-jin")
    ui.click(view, start)
    ui.key(view, Key.Key_Delete)
    assert all(s[:2] != (start, end) for s in spans(window))
    assert ui.format_at(view, start) is None
    assert window.model.current_span().start > start
    assert window.panel.table_model.rowCount() == len(spans(window))


def test_ui_enter_accepts_suggestion_and_moves_to_next_unchecked(window, ui):
    """One key per correct suggestion: Enter accepts and goes on, over checked spans, wrapping; on the
    last one it stays and the status bar says so."""
    view = window.view
    japan, kim, naoki, korea = (find(window, t) for t in ("Japan", "Kim Kwan-jin", "Naoki Tanaka", "South Korea"))
    ui.click(view, kim[0])
    ui.key(view, Key.Key_Return)
    assert (*kim, "PERSON", "accepted") in spans(window)
    fmt = ui.format_at(view, kim[0])[2]
    assert fmt.background().color() == colour(window, "PERSON")  # accepted: the full colour
    current = window.model.current_span()
    assert (current.start, current.end) == korea  # Naoki Tanaka (already accepted) is passed over
    assert "suggestion" in window.panel.status.text()
    ui.key(view, Key.Key_Return)
    current = window.model.current_span()
    assert (current.start, current.end) == japan  # wrapped around to the start of the article
    ui.key(view, Key.Key_Return)
    assert {s[3] for s in spans(window)} == {"accepted"}
    current = window.model.current_span()
    assert (current.start, current.end) == japan  # nothing left: stays
    assert "checked" in window.statusBar().currentMessage()
    assert "accepted" in window.panel.status.text()
    ui.key(view, Key.Key_Return)  # again: nothing changes, no error
    assert not window.statusBar().property("error")
    assert len(spans(window)) == 4 and naoki in [s[:2] for s in spans(window)]


def test_ui_suggested_and_accepted_look_different(window, ui):
    view = window.view
    suggested = ui.format_at(view, find(window, "Kim Kwan-jin")[0])[2]
    accepted = ui.format_at(view, find(window, "Naoki Tanaka")[0])[2]
    assert suggested.background().color() != accepted.background().color()
    assert suggested.underlineStyle() == ui_underline("DashUnderline")
    assert accepted.underlineStyle() == ui_underline("NoUnderline")


def test_ui_undo_redo_keys(window, ui):
    view = window.view
    start, end = find(window, "military intelligence")
    ui.drag(view, start, end)
    ui.key(view, Key.Key_2)
    assert (start, end, "ORG", "accepted") in spans(window)
    ui.key(view, Key.Key_Z, Mod.ControlModifier)
    assert all(s[:2] != (start, end) for s in spans(window))
    assert ui.format_at(view, start) is None
    assert window.menu_actions.redo.text() == "&Redo add ORG"
    ui.key(view, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
    assert (start, end, "ORG", "accepted") in spans(window)
    assert ui.format_at(view, start)[2].background().color() == colour(window, "ORG")


def test_ui_tab_moves_between_spans(window, ui):
    view = window.view
    order = [(s.start, s.end) for s in window.project.spans(window.model.doc_id)]
    ui.key(view, Key.Key_Tab)
    first = window.model.current_span()
    assert (first.start, first.end) == order[0]
    ui.key(view, Key.Key_Tab)
    assert (window.model.current_span().start, window.model.current_span().end) == order[1]
    ui.key(view, Key.Key_Backtab, Mod.ShiftModifier)
    assert window.model.current == first.id
    assert view.hasFocus()  # Tab did not move the focus away


def test_ui_digit_without_selection_or_span_explains(window, ui):
    ui.key(window.view, Key.Key_1)
    assert "[E300]" in window.statusBar().currentMessage()


def test_ui_span_list_updates_rows_without_reset(window, ui, qtbot):
    view, table = window.view, window.panel.table_model
    resets, inserted, removed = [], [], []
    table.modelReset.connect(lambda: resets.append(1))
    table.rowsInserted.connect(lambda *_: inserted.append(1))
    table.rowsRemoved.connect(lambda *_: removed.append(1))
    start, end = find(window, "military intelligence")
    ui.drag(view, start, end)
    ui.key(view, Key.Key_2)
    ui.key(view, Key.Key_Delete)
    assert (resets, inserted, removed) == ([], [1], [1])
    rows = [table.span_at(i) for i in range(table.rowCount())]
    assert [(s.start, s.end) for s in rows] == [s[:2] for s in spans(window)]


def on_screen(window, start: int, end: int, label: str) -> float:
    """Share of the span's first line on screen (the window's backing store, not a fresh render)
    painted in the label's colour."""
    view = window.view
    rect = view.range_rects(view.to_qt(start), view.to_qt(end))[0].toAlignedRect()
    corner = view.viewport().mapTo(window, rect.topLeft())
    image = window.screen().grabWindow(window.winId(), corner.x(), corner.y(), rect.width(), rect.height()).toImage()
    want = colour(window, label)
    hits = sum(image.pixelColor(x, y) == want for x in range(image.width()) for y in range(image.height()))
    return hits / (image.width() * image.height())


def test_ui_each_edit_repaints_its_span_on_screen(window, ui, qtbot):
    """Edits repaint only their spans' lines: what is on screen must still follow every edit."""
    view = window.view
    start, end = find(window, "Defense Minister")
    ui.drag(view, start + 2, end - 3)
    ui.key(view, Key.Key_2)  # ORG
    qtbot.waitUntil(lambda: on_screen(window, start, end, "ORG") > 0.3, timeout=2000)
    ui.key(view, Key.Key_3)  # relabel: GPE
    qtbot.waitUntil(lambda: on_screen(window, start, end, "GPE") > 0.3, timeout=2000)
    assert on_screen(window, start, end, "ORG") == 0
    ui.key(view, Key.Key_Delete)
    qtbot.waitUntil(lambda: on_screen(window, start, end, "GPE") == 0, timeout=2000)
    assert (start, end) not in [(s, e) for s, e, _, _ in spans(window)]


def test_ui_shift_tab_to_a_span_off_screen_scrolls_it_into_view(window, ui):
    """Shift+Tab from the first span wraps to the last one, far below: the view scrolls to show it whole."""
    view = window.view
    window.resize(1280, 420)  # a short window: the end of the article is off screen
    text = window.model.text
    end = len(text.rstrip())
    start = text.rindex(" ", 0, end - 1) + 1  # the article's last word
    last = window.project.add_span(window.model.doc_id, start, end, "ORG")
    ui.click(view, find(window, "Kim Kwan-jin")[0] + 1)
    assert view.verticalScrollBar().value() == 0
    first = min(window.model.spans.values(), key=lambda s: (s.start, s.end))
    while window.model.current != first.id:
        ui.key(view, Key.Key_Tab, Mod.ShiftModifier)
    ui.key(view, Key.Key_Tab, Mod.ShiftModifier)  # from the first span, wraps round to the last
    assert window.model.current == last
    rects = view.range_rects(view.to_qt(start), view.to_qt(end))
    assert view.verticalScrollBar().value() > 0
    assert rects and rects[0].top() >= 0 and rects[-1].bottom() <= view.viewport().height()


def painted_selected_rows(window, table) -> list[int]:
    """Rows of `table` that look selected on screen (the window's backing store): their first cell
    has the current row's colour."""
    cells = {}
    for row in range(table.model().rowCount()):
        rect = table.visualRect(table.model().index(row, 0))
        if rect.isValid() and rect.bottom() < table.viewport().height():
            spot = table.viewport().mapTo(window, rect.topLeft()) + QPoint(4, rect.height() // 2)
            cells[row] = window.screen().grabWindow(window.winId(), spot.x(), spot.y(), 1, 1).toImage().pixelColor(0, 0)
    current = cells[table.currentIndex().row()]
    return [row for row, c in cells.items() if c == current]


def test_ui_span_list_shows_one_selected_row_as_tab_moves(window, ui, qtbot):
    """Tab moves the current span: its row is selected in the list, and the rows it left are drawn
    unselected again (not left painted as selected)."""
    view, table = window.view, window.panel.table
    ui.click(view, find(window, "Kim Kwan-jin")[0] + 1)
    for _ in range(3):
        ui.key(view, Key.Key_Tab)
        row = table.currentIndex().row()
        assert table.selectionModel().selectedRows() == [table.model().index(row, 0)]
        qtbot.waitUntil(lambda: painted_selected_rows(window, table) == [row], timeout=2000)


def test_ui_document_list_shows_one_selected_row_as_documents_change(window, ui, qtbot):
    table = window.documents.table
    for _ in range(2):
        ui.key(window.view, Key.Key_PageDown, Mod.ControlModifier)
        row = table.currentIndex().row()
        assert table.model().index(row, 0).data(Qt.ItemDataRole.UserRole) == window.model.doc_id
        qtbot.waitUntil(lambda: painted_selected_rows(window, table) == [row], timeout=2000)
