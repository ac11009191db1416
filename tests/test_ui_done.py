"""Gold means checked: accepting every suggestion left with one key (one Ctrl+Z brings them back, also
after a restart), per label; Ctrl+Enter on a document with unchecked suggestions asks first; a failed
import or export opens a dialog. The window is driven by keys and clicks; the database is checked."""

from __future__ import annotations

import pytest
import spacy
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from spacy.tokens import DocBin
from sqlalchemy import select

from annotator.core.db.models import DocumentState, Span
from annotator.core.db.store import Store
from annotator.core.project import Project

from test_ui_export import choose, open_dialog, press_export, type_path

Key, Mod = Qt.Key, Qt.KeyboardModifier
CTRL_SHIFT = Mod.ControlModifier | Mod.ShiftModifier


def layer(project, document_id) -> dict[str, tuple[str, str]]:
    """Span text → (label, status) in the user's layer, as the database has it."""
    text = project.document(document_id).text
    with project.store.Session() as s:
        rows = s.execute(select(Span.start, Span.end, Span.label, Span.status)
                         .where(Span.document_id == document_id, Span.annotator_id == project.annotator_id)).all()
    return {text[r.start:r.end]: (r.label, r.status) for r in rows}


def suggested(project, document_id) -> list[str]:
    return sorted(t for t, (_, status) in layer(project, document_id).items() if status == "suggested")


def db_status(project, document_id) -> str | None:
    with project.store.Session() as s:
        return s.scalar(select(DocumentState.status).where(DocumentState.document_id == document_id,
                                                           DocumentState.annotator_id == project.annotator_id))


def shown_box(qtbot, parent) -> QMessageBox:
    """The message box open over `parent` (or over one of its dialogs), found as a user sees it."""
    found: list[QMessageBox] = []

    def visible() -> bool:
        found[:] = [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
        return len(found) == 1

    qtbot.waitUntil(visible, timeout=5_000)
    box = found[0]
    assert box.windowModality() == Qt.WindowModality.WindowModal
    return box


def press(qtbot, box: QMessageBox, text: str) -> None:
    """Click the box's button labelled `text` (mnemonic ampersands ignored)."""
    button = next(b for b in box.buttons() if b.text().replace("&", "") == text)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)


def no_box(window) -> bool:
    return not [b for b in window.findChildren(QMessageBox) if b.isVisible()]


# --- accepting every suggestion left
def test_ui_accept_all_by_shortcut_one_undo_and_after_a_restart(window, ui, qtbot):
    project, doc = window.project, window.model.doc_id
    assert suggested(project, doc) == ["Japan", "Kim Kwan-jin", "South Korea"]
    assert window.menu_actions.accept_all.isEnabled()
    ui.key(window.view, Key.Key_Return, CTRL_SHIFT)
    assert suggested(project, doc) == []
    assert window.model.suggested == 0 and window.model.counts() == (4, 0)
    assert window.statusBar().currentMessage() == "Accepted 3 suggestions; Ctrl+Z brings them all back."
    assert not window.menu_actions.accept_all.isEnabled()  # nothing left to accept
    assert window.menu_actions.undo.text() == "&Undo accept 3 suggestions"

    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)  # one undo: all three back
    assert suggested(project, doc) == ["Japan", "Kim Kwan-jin", "South Korea"]
    assert window.model.suggested == 3
    ui.key(window.view, Key.Key_Z, CTRL_SHIFT)  # redo
    assert suggested(project, doc) == [] and window.model.suggested == 0
    window.close()
    project.store.close()

    again = Project(Store(project.store.path), project.user)  # a restart
    try:
        assert again.stack.can_undo and again.stack.undo_text == "accept 3 suggestions"
        again.stack.undo()
        assert suggested(again, doc) == ["Japan", "Kim Kwan-jin", "South Korea"]
    finally:
        again.close()


def test_ui_accept_all_of_one_label(window, ui):
    project, doc = window.project, window.model.doc_id
    ui.click(window.view, window.model.text.index("Japan"))
    assert window.model.current_span().label == "GPE"
    ui.key(window.view, Key.Key_Return, CTRL_SHIFT | Mod.AltModifier)  # the current span's label only
    assert suggested(project, doc) == ["Kim Kwan-jin"]
    assert layer(project, doc)["Kim Kwan-jin"] == ("PERSON", "suggested")
    assert window.statusBar().currentMessage() == "Accepted 2 GPE suggestions; Ctrl+Z brings them all back."

    menu = window.menu_actions.accept_label_menu  # Edit → Accept all remaining of label
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.actions()] == ["PERSON (1)"]  # only labels that still have some
    menu.actions()[0].trigger()
    assert suggested(project, doc) == []
    menu.aboutToShow.emit()
    assert [(a.text(), a.isEnabled()) for a in menu.actions()] == [("No suggestions left", False)]
    assert window.statusBar().currentMessage() == "Accepted 1 PERSON suggestion; Ctrl+Z brings it back."
    assert not window.menu_actions.accept_all.isEnabled()
    ui.key(window.view, Key.Key_Return, CTRL_SHIFT)  # nothing left: no empty edit
    assert window.menu_actions.undo.text() == "&Undo accept 1 PERSON suggestion"
    assert window.model.accept_all() is None  # asked anyway (a colleague was quicker): a coded line
    assert window.statusBar().currentMessage().startswith("[E038] Nothing to accept")


# --- done means done
@pytest.mark.parametrize("answer", ["Accept the rest", "Leave them out", "Cancel"])
def test_ui_done_with_suggestions_asks(window, ui, qtbot, answer):
    project, doc = window.project, window.model.doc_id
    ui.key(window.view, Key.Key_Return, Mod.ControlModifier)
    box = shown_box(qtbot, window)
    assert "still has 3 suggestions" in box.text()
    assert db_status(project, doc) == "in_progress"  # nothing happens before the answer
    assert not window.menu_actions.mark_done.isChecked()
    press(qtbot, box, answer)
    if answer == "Accept the rest":
        assert db_status(project, doc) == "done" and suggested(project, doc) == []
        assert window.menu_actions.mark_done.isChecked() and window.model.suggested == 0
        ui.key(window.view, Key.Key_Z, Mod.ControlModifier)  # two edits: first the status ...
        assert db_status(project, doc) == "in_progress" and suggested(project, doc) == []
        ui.key(window.view, Key.Key_Z, Mod.ControlModifier)  # ... then the suggestions
        assert suggested(project, doc) == ["Japan", "Kim Kwan-jin", "South Korea"]
    elif answer == "Leave them out":
        assert db_status(project, doc) == "done"
        assert suggested(project, doc) == ["Japan", "Kim Kwan-jin", "South Korea"]  # still suggestions
        assert window.menu_actions.mark_done.isChecked()
        assert window.statusBar().currentMessage() == "Marked done; 3 suggestions left unchecked."
    else:
        assert db_status(project, doc) == "in_progress" and len(suggested(project, doc)) == 3
        assert not window.menu_actions.mark_done.isChecked()


def test_ui_done_message_goes_when_the_next_document_is_shown(window, ui, qtbot):
    """"Marked done; 3 suggestions left unchecked." stayed in the status bar over the next document,
    as if it were about that one."""
    project, first = window.project, window.model.doc_id
    ui.key(window.view, Key.Key_Return, Mod.ControlModifier)
    press(qtbot, shown_box(qtbot, window), "Leave them out")
    assert window.statusBar().currentMessage() == "Marked done; 3 suggestions left unchecked."
    ui.key(window.view, Key.Key_PageDown, Mod.ControlModifier)  # the next document
    assert window.model.doc_id not in (None, first)
    assert window.statusBar().currentMessage() == ""
    assert db_status(project, first) == "done" and len(suggested(project, first)) == 3  # the work stays
    window.show_message("Imported 1 document with 0 spans.")  # a message about the project stays
    ui.key(window.view, Key.Key_PageUp, Mod.ControlModifier)
    assert window.model.doc_id == first
    assert window.statusBar().currentMessage() == "Imported 1 document with 0 spans."


def test_ui_leave_them_out_then_export_marks_their_words_missing(window, ui, qtbot, tmp_path):
    """Regression: "Leave them out" then a spaCy export wrote the unchecked suggestions' words as O, so
    `spacy train` learned "Kim Kwan-jin" as no entity. Now they are missing (ent_iob_ ""), while a
    suggestion the analyst deleted stays O: a rejection is a decision."""
    project, doc = window.project, window.model.doc_id
    ui.click(window.view, window.model.text.index("Japan"))
    ui.key(window.view, Key.Key_Delete)  # a person says no to this one
    ui.key(window.view, Key.Key_Return, Mod.ControlModifier)
    press(qtbot, shown_box(qtbot, window), "Leave them out")
    assert db_status(project, doc) == "done" and suggested(project, doc) == ["Kim Kwan-jin", "South Korea"]
    assert "Japan" not in layer(project, doc)

    dialog = open_dialog(window, qtbot)
    choose(qtbot, dialog.format, "s")
    assert dialog.format.currentData() == "spacy" and "marked missing" in dialog.hint.text()
    out = tmp_path / "mine.spacy"
    type_path(qtbot, dialog, out)
    press_export(qtbot, dialog, dialog.exported)
    assert window.statusBar().currentMessage() == (
        f"Wrote 1 document, 1 span to {out}. 2 unchecked suggestions in 1 document: not entities in the file, "
        "their words marked missing (neither entity nor O), so training neither learns them nor learns against "
        "them.")
    [exported] = DocBin().from_disk(out).get_docs(spacy.blank("en").vocab)
    text = exported.text

    def iob(surface: str) -> list[str]:
        return [t.ent_iob_ for t in exported.char_span(text.index(surface), text.index(surface) + len(surface))]

    assert [e.text for e in exported.ents] == ["Naoki Tanaka"]
    assert iob("Kim Kwan-jin") == ["", "", "", ""] and iob("South Korea") == ["", ""]  # unknown, not O
    assert iob("Japan") == ["O"] and iob("Naoki Tanaka") == ["B", "I"]
    assert [t.text for t in exported if t.ent_iob_ == ""] == ["Kim", "Kwan", "-", "jin", "South", "Korea"]
    assert suggested(project, doc) == ["Kim Kwan-jin", "South Korea"]  # exporting changed nothing


def test_ui_done_from_the_menu_asks_too_and_without_suggestions_does_not(window, ui, qtbot):
    project, doc = window.project, window.model.doc_id
    window.menu_actions.mark_done.trigger()  # Navigate → Mark document done
    press(qtbot, shown_box(qtbot, window), "Cancel")
    assert db_status(project, doc) == "in_progress" and not window.menu_actions.mark_done.isChecked()
    ui.key(window.view, Key.Key_Return, CTRL_SHIFT)  # accept them all first
    ui.key(window.view, Key.Key_Return, Mod.ControlModifier)
    assert db_status(project, doc) == "done" and no_box(window)  # done at once, nothing asked
    ui.key(window.view, Key.Key_Return, Mod.ControlModifier)  # reopening never asks
    assert db_status(project, doc) == "in_progress" and no_box(window)


# --- errors you cannot miss
def test_ui_import_of_a_bad_file_opens_a_dialog(window, qtbot, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"\nnot json\n', encoding="utf-8")
    before = len(window.documents.model.docs)
    window.import_paths([bad])  # as File → Import files… does with the chosen file
    box = shown_box(qtbot, window)
    assert box.windowTitle() == "Import failed"
    assert box.text().startswith(f"[E015] '{bad}', line 1: invalid JSON")
    assert window.statusBar().currentMessage() == box.text()
    press(qtbot, box, "OK")
    assert len(window.project.documents()) == before


def test_ui_failed_export_opens_a_dialog(window, qtbot, tmp_path):
    window.project.set_status(window.model.doc_id, "done")  # something to export by default
    qtbot.keyClick(window.view, Key.Key_E, Mod.ControlModifier)
    dialog = window._export
    out = tmp_path / "missing" / "out.jsonl"
    qtbot.keyClick(dialog.path, Key.Key_A, Mod.ControlModifier)
    qtbot.keyClicks(dialog.path, str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    box = shown_box(qtbot, window)
    assert box.parent() is dialog  # over the export dialog, which stays open with its choices
    assert box.windowTitle() == "Export failed" and box.text().startswith(f"[E043] Cannot write '{out}'")
    press(qtbot, box, "OK")
    assert dialog.isVisible() and not out.parent.exists()
