"""The guidelines pane, the progress dashboard and the history panel, used as a person would: from the
menus and keys of the real window, checked against the database."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from sqlalchemy import func, select

from annotator.core.db.models import DocumentState, Span
from annotator.core.project import Project

GUIDE = ("# Guidelines\n\nRead this first.\n\n" + "Filler line.\n\n" * 80 + "## PERSON\n\nPeople, by name.\n\n"
         + "More filler.\n\n" * 80 + "## ORG — organisations\n\nCompanies and agencies.\n")


def trigger(window, menu_text: str, action_text: str) -> None:
    """Choose a menu entry as a user does (the menu's own action)."""
    menus = {a.text(): a.menu() for a in window.menuBar().actions() if a.menu() is not None}
    [action] = [a for a in menus[menu_text].actions() if a.text() == action_text]
    action.trigger()


def test_ui_guidelines_open_from_the_menu_and_jump_to_the_label(window, qtbot):
    reviewer = Project(window.project.store, "rev", role="reviewer")
    reviewer.set_guidelines(GUIDE)
    trigger(window, "&File", "&Guidelines…")
    pane = window.guidelines_pane
    qtbot.waitUntil(pane.isVisible)
    assert "Read this first." in pane.browser.toPlainText()
    assert pane.browser.document().begin().blockFormat().headingLevel() == 1  # rendered, not raw Markdown
    span = window.model.current_span() or window.model.spans[next(iter(window.model.spans))]
    window.model.set_current(span.id)
    window.model.relabel("ORG")
    qtbot.keyClick(window.view, Qt.Key.Key_F1, Qt.KeyboardModifier.ShiftModifier)
    assert pane.current_heading() == "ORG — organisations"
    assert pane.browser.verticalScrollBar().value() > 0


def test_ui_progress_dashboard_matches_the_database(window, qtbot, tmp_path):
    project = window.project
    doc = window.model.doc_id
    span = next(iter(window.model.spans))
    window.model.set_current(span)
    window.model.relabel("ORG")
    window.done_flow.accept_all()
    window.done_flow.toggle()
    trigger(window, "&Review", "&Progress…")
    dialog = window.progress_dialog
    with project.store.Session() as s:
        done = s.scalar(select(func.count()).select_from(DocumentState)
                        .where(DocumentState.annotator_id == project.annotator_id, DocumentState.status == "done"))
        checked = s.scalar(select(func.count()).select_from(Span).where(
            Span.annotator_id == project.annotator_id, Span.status == "accepted",
            (Span.origin != "import") | (Span.version > 1)))
    row = [dialog.totals.item(0, c).text() for c in range(3)]
    assert row == [project.user, str(done), str(checked)] and done == 1 and checked > 0 and doc is not None
    assert dialog.chart.bars == [(project.user, done)]
    dialog.chart_of.setCurrentText("Spans checked")
    assert dialog.chart.bars == [(project.user, checked)]
    out = tmp_path / "chart.png"
    assert dialog.export_png(str(out))
    image = QImage(str(out))
    assert not image.isNull() and image.width() == dialog.chart.width()


def test_ui_history_lists_an_edit_reverts_to_here_and_ctrl_z(window, qtbot):
    project = window.project
    ids = list(window.model.spans)
    window.model.set_current(ids[0])
    window.model.relabel("ORG")
    window.model.set_current(ids[1])
    window.model.relabel("GPE")
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    panel = window.history_panel
    qtbot.waitUntil(panel.isVisible)
    texts = [panel.rows.data(panel.rows.index(r, 3)) for r in range(panel.rows.rowCount())]
    assert texts[:2] == ["relabel as GPE", "relabel as ORG"]  # newest first
    panel.table.selectRow(1)
    panel.table.setCurrentIndex(panel.rows.index(1, 0))
    assert panel.revert.isEnabled()
    qtbot.mouseClick(panel.revert, Qt.MouseButton.LeftButton)
    assert project.span(ids[1]).label != "GPE" and project.span(ids[0]).label == "ORG"
    assert window.model.spans[ids[1]].label == project.span(ids[1]).label
    assert panel.rows.data(panel.rows.index(0, 3)).startswith("revert 1 edit")
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.span(ids[1]).label == "GPE" and window.model.spans[ids[1]].label == "GPE"
