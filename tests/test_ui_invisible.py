"""Bidi overrides and invisible characters in an article are shown as visible marks of the same
length: "gnp.exe" behind a right-to-left override is not shown as "exe.png", and every offset (spans,
selections) stays what it is in the database, whose text is never changed."""

from __future__ import annotations

from conftest import show_active
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from annotator.core.project import Project
from annotator.core.records import DocRecord, SpanRecord
from annotator.io.importing import import_records
from annotator.ui.qt_app import make_window
from annotator.ui.spans import BIDI_MARK, INVISIBLE_MARK, display_text

Key = Qt.Key
Mod = Qt.KeyboardModifier
USER = "tester"
RLO, ZWSP, LRI, PDI = "\u202e", "\u200b", "\u2066", "\u2069"
TEXT = (f"Open the attachment {RLO}gnp.exe now, wrote Anna Berg from Oslo.\n"
        f"Invisible: Ber{ZWSP}gen and {LRI}Tromsø{PDI} here; 😀 keeps two units.\n")


def db_spans(project, doc_id):
    return sorted((s.start, s.end, s.label) for s in project.spans(doc_id))


def open_window(qtbot, store):
    anna = TEXT.index("Anna Berg")
    import_records(store, [DocRecord(name="bidi", text=TEXT, spans=[SpanRecord(anna, anna + 9, "PERSON")])],
                   use_model=False, as_layer=USER)
    w = make_window(Project(store, USER))
    w.use_model = False
    qtbot.addWidget(w)
    w.resize(1280, 800)
    show_active(qtbot, w)
    w.refresh_documents()
    w.open_document(w.documents.model.docs[0].id)
    w.view.highlighter.flush()
    return w


def test_display_text_keeps_every_offset():
    shown = display_text(TEXT + "\r\n")
    assert len(shown) == len(TEXT) + 2
    assert len(shown.encode("utf-16-le")) == len((TEXT + "\r\n").encode("utf-16-le"))
    assert RLO not in shown and ZWSP not in shown.replace("\u200b\n", "")
    assert shown[TEXT.index(RLO)] == BIDI_MARK and shown[TEXT.index(ZWSP)] == INVISIBLE_MARK
    # a joiner between Latin letters hides; in an emoji sequence or Persian it does visible work
    assert display_text("Ber\u200dgen") == f"Ber{INVISIBLE_MARK}gen"
    for kept in ("👨\u200d👩\u200d👧", "می\u200cخواهم"):
        assert display_text(kept) == kept


def test_ui_right_to_left_override_is_shown_not_applied(store, qtbot, ui):
    w = open_window(qtbot, store)
    view, doc_id = w.view, w.model.doc_id
    shown = view.toPlainText()
    assert RLO not in shown and LRI not in shown and ZWSP not in shown
    assert shown.index("gnp") < shown.index("exe")  # in logical order, as the bytes are
    rlo = TEXT.index(RLO)
    assert shown[rlo] == BIDI_MARK and shown[TEXT.index(ZWSP)] == INVISIBLE_MARK
    # the mark is drawn apart from the text around it
    block = view.document().findBlock(view.to_qt(rlo))
    marks = [r for r in block.layout().formats() if r.start == ui.block_offset(view, rlo) and r.length == 1]
    assert marks and marks[-1].format.foreground().color().name() == "#b3261e"
    # the database keeps the text as it came, and the span after the override where it was
    assert w.project.document(doc_id).text == TEXT
    anna = TEXT.index("Anna Berg")
    assert db_spans(w.project, doc_id) == [(anna, anna + 9, "PERSON")]
    got = ui.format_at(view, anna)
    assert got[:2] == (ui.block_offset(view, anna), 9)
    w.close()


def test_ui_selecting_across_the_mark_gives_code_point_offsets(store, qtbot, ui):
    w = open_window(qtbot, store)
    view, doc_id = w.view, w.model.doc_id
    start, end = TEXT.index("attachment"), TEXT.index(" now")
    ui.drag(view, start, end, Mod.AltModifier)  # the mouse, character precise, across the override
    assert view.selection() == (start, end)
    ui.key(view, Key.Key_2)  # ORG
    assert (start, end, "ORG") in db_spans(w.project, doc_id)
    assert w.project.document(doc_id).text[start:end] == f"attachment {RLO}gnp.exe"
    # the keyboard: the span's end moves by a token, past the mark in the second line as well
    bergen = TEXT.index(f"Ber{ZWSP}")
    ui.drag(view, bergen, bergen + 3, Mod.AltModifier)
    ui.key(view, Key.Key_3)  # GPE
    ui.key(view, Key.Key_Right, Mod.ShiftModifier)
    span = w.model.current_span()
    assert (span.start, span.end, span.label) in db_spans(w.project, doc_id)
    assert span.start == bergen and span.end > bergen + 3
    assert w.project.document(doc_id).text[span.start:span.end].startswith(f"Ber{ZWSP}")
    # after the astral emoji (two UTF-16 units) offsets are still code points
    here = TEXT.index("keeps")
    ui.drag(view, here, here + 5)
    assert view.selection() == (here, here + 5)
    w.close()


def test_ui_copy_gives_the_stored_characters_not_the_marks(store, qtbot, ui):
    w = open_window(qtbot, store)
    start, end = TEXT.index("attachment"), TEXT.index(" now")
    ui.drag(w.view, start, end, Mod.AltModifier)
    ui.key(w.view, Key.Key_C, Mod.ControlModifier)  # Ctrl+C, as a user copies
    assert QApplication.clipboard().text() == f"attachment {RLO}gnp.exe"
    w.close()


def test_ui_hovering_a_mark_names_the_hidden_character(store, qtbot, ui):
    """A mark says what it stands for: hovering it shows the character's code and Unicode name."""
    w = open_window(qtbot, store)
    view = w.view
    for char, name in ((RLO, "U+202E RIGHT-TO-LEFT OVERRIDE"), (ZWSP, "U+200B ZERO WIDTH SPACE")):
        point = ui.point_at(view, TEXT.index(char)) + QPoint(2, 0)  # on the mark, just past its left edge
        assert view.tooltip_at(QPointF(point)).startswith(name + ": in the text, unseen")
    anna = ui.point_at(view, TEXT.index("Anna") + 1)
    assert view.tooltip_at(QPointF(anna)).startswith("PERSON")  # a plain letter: only its span
    point = ui.point_at(view, TEXT.index(RLO)) + QPoint(2, 0)
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, point, view.viewport().mapToGlobal(point)))
    assert QToolTip.text().startswith("U+202E RIGHT-TO-LEFT OVERRIDE")
