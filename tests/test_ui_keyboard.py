"""A working day without the mouse: the caret, token selection, zoom, help, projects and preferences,
driven by key presses on the window; every edit is read back from the database."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication

from annotator.core.project import Project
from annotator.ui.qt_app import WINDOWS
from annotator.ui.qt_preferences import DARK_PALETTE
from annotator.ui.qt_settings import first_size, preference, remember_project

Key = Qt.Key
Mod = Qt.KeyboardModifier


def spans(window):
    return [(s.start, s.end, s.label, s.status) for s in window.project.spans(window.model.doc_id)]


def caret(window) -> int:
    return window.view.to_cp(window.view.textCursor().position())


def test_ui_keyboard_shift_right_selects_tokens_and_digit_labels(window, ui):
    view, text = window.view, window.model.text
    ui.key(view, Key.Key_Escape)  # no span current: Shift+arrows select from the caret
    assert window.model.current is None
    ui.key(view, Key.Key_Home, Mod.ControlModifier)
    assert caret(window) == 0
    ui.key(view, Key.Key_Right, Mod.ShiftModifier)
    ui.key(view, Key.Key_Right, Mod.ShiftModifier)
    first, second = window.model.tokens.pairs()[:2]
    assert view.selection() == (first[0], second[1])
    ui.key(view, Key.Key_2)  # ORG
    assert (first[0], second[1], "ORG", "accepted") in spans(window)
    assert text[first[0]:second[1]].strip() == text[first[0]:second[1]]


def test_ui_keyboard_selection_snaps_from_inside_a_token(window, ui):
    view, text = window.view, window.model.text
    start = text.index("Defense Minister")
    ui.key(view, Key.Key_Escape)
    view.select(start + 3, start + 3)  # the caret inside "Defense"
    ui.key(view, Key.Key_Right, Mod.ShiftModifier | Mod.ControlModifier)
    ui.key(view, Key.Key_Right, Mod.ShiftModifier | Mod.ControlModifier)
    assert view.selection() == (start, start + len("Defense Minister"))
    ui.key(view, Key.Key_Left, Mod.ShiftModifier)
    assert view.selection() == (start, start + len("Defense"))
    ui.key(view, Key.Key_Right, Mod.ShiftModifier | Mod.AltModifier)  # by a character
    assert view.selection() == (start, start + len("Defense") + 1)


def test_ui_keyboard_shift_arrows_still_move_the_current_span(window, ui):
    view, text = window.view, window.model.text
    start, end = text.index("Kim Kwan-jin"), text.index("Kim Kwan-jin") + len("Kim Kwan-jin")
    ui.click(view, start)
    ui.key(view, Key.Key_Right, Mod.ShiftModifier)
    assert (start, text.index(" is", end) + 3, "PERSON", "accepted") in spans(window)
    assert view.selection() is None


def test_ui_keyboard_ctrl_end_moves_the_caret_to_the_end(window, ui):
    view = window.view
    ui.key(view, Key.Key_End, Mod.ControlModifier)
    assert caret(window) == len(window.model.text)
    ui.key(view, Key.Key_Home, Mod.ControlModifier)
    assert caret(window) == 0


def test_ui_keyboard_zoom_keys_change_the_font_and_persist(window, ui):
    view = window.view
    size, before = view.font().pointSizeF(), spans(window)
    ui.key(view, Key.Key_Plus, Mod.ControlModifier)
    ui.key(view, Key.Key_Equal, Mod.ControlModifier)
    assert view.font().pointSizeF() == size + 2
    assert preference("article/zoom") == 2
    ui.key(view, Key.Key_Minus, Mod.ControlModifier)
    assert view.font().pointSizeF() == size + 1
    other = type(view)(window.model)  # a new article view (the next start) gets the same size
    assert other.font().pointSizeF() == size + 1
    ui.key(view, Key.Key_0, Mod.ControlModifier)
    assert view.font().pointSizeF() == size and preference("article/zoom") == 0
    assert spans(window) == before  # Ctrl+0 is not the label key 0


def test_ui_keyboard_f1_lists_every_action_even_a_new_one(window, ui, qtbot):
    extra = QAction("Frobnicate the corpus", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+F"))
    window.addAction(extra)
    ui.key(window.view, Key.Key_F1)
    dialog = window._shortcuts
    assert dialog is not None and dialog.isVisible()
    table = dialog.table
    rows = {table.item(r, 1).text(): table.item(r, 0).text() for r in range(table.rowCount())}
    assert rows["Frobnicate the corpus"] == QKeySequence("Ctrl+Alt+F").toString(QKeySequence.SequenceFormat.NativeText)
    for action in (window.menu_actions.undo, window.menu_actions.zoom_in, window.menu_actions.select_right,
                   *[a for a in window.menu_actions.labels.values() if a.shortcuts()]):
        assert action.text().replace("&", "") in rows
    assert "Keyboard shortcuts" in rows


def test_ui_keyboard_recent_project_opens_in_a_new_window(window, tmp_path, qtbot):
    from factories import new_store

    other_store = new_store(tmp_path / "other" / "second.db")
    Project(other_store, "tester").close()
    remember_project(str(other_store.path), "tester")
    remember_project(str(window.project.store.path), "tester")
    menu = window.menu_actions.recent_menu
    menu.aboutToShow.emit()
    entries = {a.text(): a for a in menu.actions()}
    assert not entries[str(window.project.store.path)].isEnabled()  # the open one
    entries[str(other_store.path)].trigger()
    new = WINDOWS[-1]
    qtbot.addWidget(new)
    try:
        assert new.project.store.path == other_store.path
        assert "second.db" in new.windowTitle()
        assert not window.isVisible() and new.isVisible()
        assert new.documents.model.docs == []  # no sample articles forced into a project opened by hand
    finally:
        WINDOWS.remove(new)
        new.close()
        new.project.close()


def test_ui_keyboard_opening_a_bad_project_keeps_the_window(window, tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("not a database")
    window.switch_project(str(bad))
    assert window.isVisible()
    assert window.statusBar().currentMessage().startswith("[E003]")


def test_ui_keyboard_opening_a_folder_as_a_project_keeps_the_window(window, tmp_path):
    """A folder given as the project ended in a traceback (IsADirectoryError) on the command line; the
    window says so in one line and keeps its project, and nothing is made in the folder."""
    folder = tmp_path / "dproj"
    folder.mkdir()
    project = window.project
    window.switch_project(str(folder))
    assert window.isVisible() and window.project is project and not WINDOWS
    assert window.statusBar().currentMessage() == (
        f"[E622] '{folder}' is a folder, not a project file: a project is one .db file. Give the path of the "
        f"project's file instead, e.g. '{folder / 'project.db'}'. Nothing was created or changed.")
    assert list(folder.iterdir()) == [] and window.project.documents(limit=5)  # still works on its own


def contrast(a: QColor, b: QColor) -> float:
    def lum(c: QColor) -> float:
        parts = [(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4) for v in (c.redF(), c.greenF(), c.blueF())]
        return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_ui_keyboard_preferences_apply_a_dark_theme_and_font_at_once(window, ui, qtbot):
    ui.key(window.view, Key.Key_Comma, Mod.ControlModifier)
    dialog = window._preferences
    assert dialog is not None and dialog.isVisible()
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    palette = window.palette()
    assert palette.color(QPalette.ColorRole.Base) == QColor(DARK_PALETTE[QPalette.ColorRole.Base])
    assert window.view.palette().color(QPalette.ColorRole.Base) == QColor(DARK_PALETTE[QPalette.ColorRole.Base])
    assert preference("appearance/theme") == "dark"
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    assert contrast(text, base) >= 7
    start = window.model.text.index("Naoki Tanaka")  # an accepted span: its label colour, dark text
    fmt = ui.format_at(window.view, start)[2]
    assert contrast(fmt.foreground().color(), fmt.background().color()) >= 4.5
    dialog.size.setValue(17)
    assert window.view.font().pointSizeF() == 17
    assert preference("article/font_size") == 17
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    assert window.palette().color(QPalette.ColorRole.Base) == QColor("#FFFFFF")


def test_ui_keyboard_first_window_size_fits_the_screen():
    assert first_size(1920, 1050) == (1536, 840)
    assert first_size(1366, 728) == (1200, 728)
    assert first_size(1024, 700) == (1024, 700)
    assert QApplication.instance() is not None


def test_ui_new_project_where_a_deleted_ones_log_was_left_keeps_the_window(window, tmp_path):
    """File → New project at the name of a deleted project whose write-ahead log stayed: the window
    says E019 and stays on its project; nothing is created, the log is left for the user to move."""
    path = tmp_path / "old.db"
    leftover = tmp_path / "old.db-wal"
    leftover.write_bytes(b"\x37\x7f\x06\x82" + bytes(60))  # a log's first bytes: the size is what counts
    window.switch_project(str(path))
    assert window.isVisible()
    assert window.statusBar().currentMessage().startswith("[E019]")
    assert not path.exists() and leftover.stat().st_size == 64
    assert window.project.documents(limit=1)  # still the project it had
