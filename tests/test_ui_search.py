"""The search panel, used as a user does: Ctrl+Shift+F, type, Enter; Enter on a hit selects the match in
its document (emoji before it: code points, not UTF-16 units); label all matches, then Ctrl+Z puts the
database back as it was."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import select

from annotator.core.db.models import DocumentState, Span
from annotator.core.records import DocRecord
from annotator.io.importing import import_records

Key = Qt.Key
EMOJI = "🇰🇷🇯🇵 Talks in Seoul; 서울 and <b>Seoul</b> again."


def tables(project):
    with project.store.Session() as s:
        return (s.execute(select(Span.id, Span.document_id, Span.annotator_id, Span.start, Span.end, Span.label,
                                 Span.status, Span.origin, Span.version).order_by(Span.id)).all(),
                s.execute(select(DocumentState.document_id, DocumentState.annotator_id, DocumentState.status)
                          .order_by(DocumentState.document_id)).all())


def search(window, ui, qtbot, text):
    ui.key(window.view, Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    panel = window.search_panel
    qtbot.waitUntil(panel.query.hasFocus, timeout=2000)
    qtbot.keyClicks(panel.query, text)
    ui.key(panel.query, Key.Key_Return)
    return panel


def shown(panel):
    return [[panel.proxy.index(r, c).data() for c in range(5)] for r in range(panel.proxy.rowCount())]


def test_ui_search_enter_selects_the_match_in_its_document(window, ui, qtbot):
    import_records(window.project.store, [DocRecord("zz_emoji", EMOJI, title="Emoji")], use_model=False)
    window.refresh_documents()
    panel = search(window, ui, qtbot, "and <b>seoul")  # typed: QTest types ASCII only
    assert panel.isVisible() and panel.table.hasFocus()
    assert shown(panel) == [["Emoji", "🇰🇷🇯🇵 Talks in Seoul; 서울 ", "and <b>Seoul", "</b> again.", ""]]
    ui.key(panel.table, Key.Key_Return)
    emoji = window.project.document_ids(["zz_emoji"])["zz_emoji"]
    start = EMOJI.index("and <b>")
    assert window.model.doc_id == emoji
    assert window.view.selection() == (start, start + len("and <b>Seoul"))
    assert window.view.textCursor().selectedText() == "and <b>Seoul"
    # every hit of a word, the same as the core's, sortable by document
    ui.key(window.view, Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    panel.query.clear()
    qtbot.keyClicks(panel.query, "Seoul")
    ui.key(panel.query, Key.Key_Return)
    hits = window.project.search("Seoul", limit=500)
    assert panel.proxy.rowCount() == len(hits) > 5
    ui.key(panel.table, Key.Key_Down)
    ui.key(panel.table, Key.Key_Return)
    assert (window.model.doc_id, window.view.selection()) == (hits[1].document_id, (hits[1].start, hits[1].end))
    panel.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    titles = [row[0] for row in shown(panel)]
    assert titles == sorted(titles, key=str.casefold, reverse=True) and titles != [row[0] for row in
                                                                                   sorted(shown(panel))]


def test_ui_search_label_all_matches_then_ctrl_z(window, ui, qtbot):
    project = window.project
    before = tables(project)
    panel = search(window, ui, qtbot, "Seoul")
    n = panel.proxy.rowCount()
    panel.label_as.setCurrentText("GPE")
    qtbot.mouseClick(panel.label_all, Qt.MouseButton.LeftButton)
    spans, _ = tables(project)
    made = [s for s in spans if s.origin == "search"]
    assert len(made) == n and {(s.label, s.status) for s in made} == {("GPE", "suggested")}
    assert panel.note.text() == f"Labelled {n} matches as GPE, as suggestions to check (Ctrl+Z undoes)"
    qtbot.waitUntil(lambda: {row[4] for row in shown(panel)} == {"GPE · unlinked · suggested"}, timeout=2000)
    assert window.menu_actions.undo.text() == f"&Undo label {n} matches as GPE"
    ui.key(panel.table, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tables(project) == before
    qtbot.waitUntil(lambda: {row[4] for row in shown(panel)} == {""}, timeout=2000)
    # accept: search the suggestions, select one, accept it
    ui.key(window.view, Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)  # redo
    panel.suggested.setChecked(True)
    panel.run()
    first = panel.hit_at(panel.proxy.index(0, 0))
    rect = panel.table.visualRect(panel.proxy.index(0, 2))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseClick(panel.accept, Qt.MouseButton.LeftButton)
    assert first.status == "suggested", first
    assert project.span(first.span_id).status == "accepted", window.statusBar().currentMessage()
