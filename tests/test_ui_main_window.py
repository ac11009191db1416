"""The window around the article: documents, menus, status bar, undo across documents, restarts."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from test_ui_done import press, shown_box

from annotator.core.db.models import DocumentState
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.ui.qt_app import make_window
from annotator.ui.qt_settings import settings

Key = Qt.Key
Mod = Qt.KeyboardModifier


def db_status(project, document_id):
    with project.store.Session() as s:
        return s.scalar(select(DocumentState.status).where(DocumentState.document_id == document_id,
                                                           DocumentState.annotator_id == project.annotator_id))


def list_status(window, document_id):
    model = window.documents.model
    return model.index(model.row_of(document_id), 1).data()


def test_ui_ctrl_return_marks_document_done(window, ui, qtbot):
    doc_id = window.model.doc_id
    ui.key(window.view, Key.Key_Return, Mod.ControlModifier)
    press(qtbot, shown_box(qtbot, window), "Leave them out")  # it has suggestions (tests/test_ui_done.py)
    assert db_status(window.project, doc_id) == "done"
    assert list_status(window, doc_id) == "✓ done"
    assert window.menu_actions.mark_done.isChecked()
    assert window.progress_label.text() == "Done: 1 of 3 documents"
    assert window.saved_label.text() == "Saved ✓"
    ui.key(window.view, Key.Key_Return, Mod.ControlModifier)  # again: back to work
    assert db_status(window.project, doc_id) == "in_progress"
    assert list_status(window, doc_id).endswith("checked")


def test_ui_switching_documents(window, ui, qtbot):
    docs = window.documents.model.docs
    assert window.model.doc_id == docs[0].id
    ui.key(window.view, Key.Key_PageDown, Mod.ControlModifier)
    assert window.model.doc_id == docs[1].id
    assert window.view.toPlainText().startswith(window.project.document(docs[1].id).text[:20])
    assert db_status(window.project, docs[1].id) == "in_progress"  # opened: the layer has started
    assert window.documents.table.currentIndex().row() == 1
    ui.key(window.view, Key.Key_PageUp, Mod.ControlModifier)
    assert window.model.doc_id == docs[0].id
    # clicking a row of the list opens that document
    table = window.documents.table
    rect = table.visualRect(window.documents.model.index(2, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.model.doc_id == docs[2].id
    assert window.panel.table_model.rowCount() == len(window.project.spans(docs[2].id))


def test_ui_filter_box_filters_documents(window, qtbot):
    qtbot.keyClicks(window.documents.filter, "Back To")
    assert window.documents.model.rowCount() == 1
    assert window.model.doc_id == window.project.documents()[0].id  # typing opened nothing
    window.documents.filter.clear()
    assert window.documents.model.rowCount() == 3


def test_ui_undo_of_another_documents_edit_opens_it(window, ui):
    first = window.model.doc_id
    text = window.model.text
    start = text.index("Kim Kwan-jin")
    ui.click(window.view, start)
    ui.key(window.view, Key.Key_Delete)
    ui.key(window.view, Key.Key_PageDown, Mod.ControlModifier)
    assert window.model.doc_id != first
    assert window.menu_actions.undo.text() == "&Undo delete PERSON"
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)
    assert window.model.doc_id == first
    assert (window.model.current_span().start, window.model.current_span().label) == (start, "PERSON")
    assert window.documents.table.currentIndex().row() == 0


def test_ui_restart_keeps_edits_status_and_undo(project, tmp_path, qtbot, ui):
    first = make_window(project)
    qtbot.addWidget(first)
    first.resize(1280, 800)
    ui.show(first)
    first.refresh_documents()
    doc_id = first.documents.model.docs[0].id
    first.open_document(doc_id)
    text = first.model.text
    start = text.index("military intelligence")
    ui.drag(first.view, start, start + len("military intelligence"))
    ui.key(first.view, Key.Key_2)
    ui.key(first.view, Key.Key_Return, Mod.ControlModifier)
    press(qtbot, shown_box(qtbot, first), "Leave them out")
    assert (start, start + len("military intelligence"), "ORG") in \
        [(s.start, s.end, s.label) for s in project.spans(doc_id)]
    first.close()
    project.store.close()

    again = Project(Store(project.store.path), "tester")
    second = make_window(again)
    qtbot.addWidget(second)
    second.resize(1280, 800)
    ui.show(second)
    second.refresh_documents()
    second.open_document(doc_id)
    second.view.highlighter.flush()
    spans = [(s.start, s.end, s.label) for s in second.model.spans.values()]
    assert (start, start + len("military intelligence"), "ORG") in spans
    assert ui.format_at(second.view, start) is not None
    assert list_status(second, doc_id) == "✓ done"
    assert second.menu_actions.undo.text() == "&Undo mark done"
    ui.key(second.view, Key.Key_Z, Mod.ControlModifier)
    ui.key(second.view, Key.Key_Z, Mod.ControlModifier)
    assert (start, start + len("military intelligence"), "ORG") not in \
        [(s.start, s.end, s.label) for s in again.spans(doc_id)]
    second.close()
    again.store.close()


def test_ui_menus_list_every_action_with_its_shortcut(window):
    menus = {m.title().replace("&", ""): m for m in (a.menu() for a in window.menuBar().actions())}
    assert list(menus) == ["File", "Edit", "Navigate", "Labels", "Review", "View", "Model", "Help"]
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString()
                 for m in menus.values() for a in m.actions() if not a.isSeparator() and a.menu() is None}
    assert shortcuts["Next span"] == "Tab"
    assert shortcuts["Previous span"] == "Shift+Tab"
    assert shortcuts["Delete span"] == "Del"
    assert shortcuts["Accept suggestion"] == "Return"
    assert shortcuts["Mark document done"] == "Ctrl+Return"
    assert shortcuts["Accept all remaining suggestions"] == "Ctrl+Shift+Return"
    assert shortcuts["Accept all remaining of the current span's label"] == "Ctrl+Alt+Shift+Return"
    assert shortcuts["Extend end by a token"] == "Shift+Right"
    assert shortcuts["Extend start by a token"] == "Ctrl+Shift+Left"
    assert shortcuts["Next document"] == "Ctrl+PgDown"
    assert shortcuts["Undo"] == "Ctrl+Z" and shortcuts["Redo"] == "Ctrl+Shift+Z"
    assert shortcuts["Merge project…"] == "Ctrl+Shift+M"
    assert shortcuts["Agreement…"] == "Ctrl+Shift+A" and shortcuts["Adjudicate document…"] == "Ctrl+Shift+J"
    assert shortcuts["Model provenance…"] == "Ctrl+Shift+R"
    for info in window.model.labels.values():
        if info.shortcut:
            assert shortcuts[f"{info.shortcut}  {info.name}"] == info.shortcut
    missing = [name for name, key in shortcuts.items() if not key and name.upper() != name]
    assert missing == []  # every command has a key (labels past the tenth have none to give)


def test_ui_label_chip_applies_label(window, ui, qtbot):
    from PySide6.QtWidgets import QMessageBox, QToolButton

    text = window.model.text
    start = text.index("Naoki Tanaka")
    ui.click(window.view, start)
    chip = next(b for b in window.labels.findChildren(QToolButton) if b.text().endswith(" ORG"))
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert window.project.span(window.model.current).label == "ORG"


def test_ui_dropping_files_imports_them(window, qtbot, tmp_path):
    (tmp_path / "dropped.txt").write_text("Seoul and Tokyo signed a pact.\n", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "dropped.txt"))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: len(window.documents.model.docs) == 4, timeout=60_000)
    assert "dropped" in [d.name for d in window.project.documents()]
    assert window.statusBar().currentMessage().startswith("Imported 1 document ")


def test_ui_a_drop_delivered_by_qt_reaches_the_window(window, qtbot):
    """Dropping is handled by the QtWindowImports mixin (qt_window_import): Qt's own event dispatch must
    find it there. A dragged web address is refused (E308) and nothing is imported."""
    before = [d.name for d in window.project.documents()]
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/article.txt")])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime,
                                              Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    assert window.statusBar().currentMessage().startswith("[E308]")
    assert window.failure_box is not None and window.failure_box.windowTitle() == "Import failed"
    assert "https://example.com/article.txt" in window.failure_box.text()
    window.failure_box.accept()
    assert [d.name for d in window.project.documents()] == before


def test_ui_dropping_a_colleagues_file_adds_their_layer(window, qtbot, tmp_path):
    """A JSONL file with a colleague's spans on an article the project has: their layer of it, not a copy."""
    import json

    text = window.project.document(window.documents.model.docs[1].id).text
    start = text.index("Seoul")
    task = {"text": text, "_annotator_id": "bob", "spans": [{"start": start, "end": start + 5, "label": "GPE"}]}
    (tmp_path / "bob.jsonl").write_text(json.dumps(task) + "\n", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "bob.jsonl"))])
    window.dropEvent(QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))
    said = f"Added layer bob to 1 document already in the project, 1 span: {window.documents.model.docs[1].name}"
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == said, timeout=60_000)  # all it did: one line
    assert not [b for b in window.findChildren(QMessageBox) if b.objectName() == "importSummary"]
    assert len(window.documents.model.docs) == 3
    bob = Project(window.project.store, "bob")
    assert [(s.start, s.end, s.label) for s in bob.spans(window.documents.model.docs[1].id)] == [
        (start, start + 5, "GPE")]


def test_ui_layout_goes_to_isolated_settings(window, tmp_path):
    window.close()
    path = settings().fileName()
    assert "qsettings" in path and str(tmp_path.parent) in path or "pytest" in path
    assert settings().value("window/geometry") is not None


def test_ui_side_panels_split_is_kept(window, qtbot):
    """The user drags the line between the span list and the link panel: the next window keeps it."""
    window.right.setSizes([300, 450])
    sizes = window.right.sizes()
    assert sizes[0] < sizes[1]
    window.close()
    again = make_window(window.project)
    qtbot.addWidget(again)
    again.restore_layout()
    again.resize(window.size())  # offscreen, the saved geometry may not come back exactly
    again.show()
    assert again.right.sizes() == sizes
    again.close()


def test_ui_import_summary_lists_what_else_happened(window, qtbot, tmp_path):
    """Nothing silent: an import that skipped a document already here says so in a box (every line of
    the command line's summary), not only in the status bar."""
    again = tmp_path / "again.txt"
    again.write_text(window.project.document(window.documents.model.docs[0].id).text, encoding="utf-8")
    window.import_paths([str(again)], use_model=False)
    qtbot.waitUntil(lambda: any(b.objectName() == "importSummary" and b.isVisible()
                                for b in window.findChildren(QMessageBox)), timeout=60_000)
    box = next(b for b in window.findChildren(QMessageBox) if b.objectName() == "importSummary")
    assert box.text().splitlines() == ["Imported 0 documents with 0 spans.",
                                       "Skipped 1 already in the project: again"]
    box.accept()
