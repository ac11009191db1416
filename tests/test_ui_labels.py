"""The label scheme in the window, acting as a user: hover names a span's label, the quick label
picker reaches every label from the keyboard, a rename from the command line is undone with Ctrl+Z,
hiding a label takes it off the bar."""

from __future__ import annotations

from click.testing import CliRunner
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.models import Label, Span
from annotator.core.project import Project
from annotator.ui.qt_app import make_window

from conftest import USER, show_active


def _labels(store, **where) -> list[tuple[int, int, str]]:
    with store.Session() as s:
        return [(r.start, r.end, r.label) for r in s.scalars(select(Span).filter_by(**where).order_by(Span.start))]


def test_hovering_a_span_names_its_label_and_description(window, ui):
    view = window.view
    span = next(s for s in window.model.spans.values() if s.label == "PERSON")
    point = ui.point_at(view, span.start + 2)
    assert view.tooltip_at(QPointF(point)).startswith("PERSON — People, including fictional")
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, point, view.viewport().mapToGlobal(point)))
    assert "PERSON — People, including fictional" in QToolTip.text()
    assert view.tooltip_at(QPointF(ui.point_at(view, 0))) == ""  # no span at the title's first letter


def test_adjacent_and_nested_spans_get_a_separator_where_the_second_starts(window):
    model = window.model
    d = model.text.index("Defense Minister")
    model.add(d, d + 8, "ORG")  # "Defense " then "Minister": two spans side by side
    model.add(d + 8, d + 16, "ORG")
    korea = model.text.index("South Korea and") + len("South ")
    model.add(korea, korea + 5, "LOC")  # "Korea" inside "South Korea"
    starts = window.view.span_starts()
    assert d + 8 in starts and korea in starts and d not in starts
    window.view.repaint()  # the separators are drawn without error


def test_quick_picker_types_car_and_enter_labels_cardinal(window, ui, qtbot):
    view, model = window.view, window.model
    start = model.text.index("two")
    view.select(start, start + 3)
    ui.key(view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    picker = window.menu_actions.picker
    qtbot.waitUntil(picker.isVisible)
    qtbot.keyClicks(picker.filter, "car")
    assert picker.list.item(0).text().startswith("    CARDINAL — Numerals")  # no digit: only the picker has it
    ui.key(picker.filter, Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert (start, start + 3, "CARDINAL") in _labels(model.project.store, annotator_id=model.project.annotator_id)
    assert model.current_span().label == "CARDINAL"


def test_rename_on_the_command_line_is_undone_with_ctrl_z_in_the_window(project, qtbot, ui):
    store = project.store
    result = CliRunner().invoke(main, ["--db", str(store.path), "--user", USER, "labels", "rename", "GPE", "COUNTRY"])
    assert result.output == "Rename label GPE to COUNTRY (undo: Ctrl+Z in the window).\n"
    assert {label for _, _, label in _labels(store)} == {"PERSON", "COUNTRY"}
    w = make_window(Project(store, USER))
    qtbot.addWidget(w)
    show_active(qtbot, w)
    w.refresh_documents()
    w.open_document(w.documents.model.docs[0].id)
    assert w.menu_actions.undo.text() == "&Undo rename label GPE to COUNTRY"
    ui.key(w.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert {label for _, _, label in _labels(store)} == {"PERSON", "GPE"}
    with store.Session() as s:
        assert s.scalar(select(Label.name).where(Label.name == "COUNTRY")) is None
    assert "GPE" in w.labels.chips and "COUNTRY" not in w.menu_actions.labels
    assert {s.label for s in w.model.spans.values()} == {"PERSON", "GPE"}
    w.close()


def test_hiding_a_label_in_the_scheme_dialog_takes_it_off_the_bar(window, qtbot):
    assert "PERSON" in window.labels.chips
    assert window.labels.chips["PERSON"].text() == "1  PERSON  (2)"  # the legend counts the open document's
    dialog = window.menu_actions.show_scheme_dialog()
    dialog.table.selectRow(0)
    assert dialog.selected() == "PERSON"
    dialog.toggle_hidden()
    assert "PERSON" not in window.labels.chips and "PERSON" not in window.menu_actions.labels
    assert "ORG" in window.labels.chips and window.menu_actions.labels["WORK_OF_ART"].shortcut().toString() == "1"
    with window.model.project.store.Session() as s:
        assert s.scalar(select(Label.hidden).where(Label.name == "PERSON")) is True
    assert any(s.label == "PERSON" for s in window.model.spans.values())  # its spans are still shown
    window.menu_actions.show_picker()
    assert all(i.name != "PERSON" for i in window.menu_actions.picker.labels)
    window.menu_actions.picker.hide()
