"""The entity view, corpus propagation and the referent note, driven with keys and the mouse as a user
does, checked in the widgets and in the database."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenuBar
from sqlalchemy import select

from annotator.core.db.models import Alias, Entity, Span
from annotator.core.db.store import Store
from annotator.io import kb_transfer
from annotator.core.project import Project

Key = Qt.Key
Mod = Qt.KeyboardModifier
CTRL, SHIFT, ALT = Mod.ControlModifier, Mod.ShiftModifier, Mod.AltModifier


@pytest.fixture
def project(project):
    """The sample project with the starter KB loaded (which queues link suggestions)."""
    kb_transfer.load_starter(project.store)
    return project


def docs(project) -> list:
    return project.documents()  # by name: 000_..., 001_..., 002_...


def find_span(project, doc_id: int, text: str, nth: int = 0) -> int | None:
    body, start = project.document(doc_id).text, -1
    for _ in range(nth + 1):
        start = body.index(text, start + 1)
    return next((s.id for s in project.spans(doc_id) if (s.start, s.end) == (start, start + len(text))), None)


def add_span(project, doc_id: int, text: str, label: str) -> int:
    start = project.document(doc_id).text.index(text)
    return project.add_span(doc_id, start, start + len(text), label)


def entity_id(project, kb_id: str) -> int | None:
    with project.store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


def db_span(project, sid: int) -> tuple:
    with project.store.Session() as s:
        r = s.get(Span, sid)
        return r.entity_id, r.status, r.referent_note


def db_entity(project, eid: int) -> tuple | None:
    with project.store.Session() as s:
        e = s.get(Entity, eid)
        return None if e is None else (e.name, e.type, e.description, e.kb_id)


def select_span(window, ui, sid: int) -> None:
    """Click inside the span in the article, as a user does."""
    ui.click(window.view, window.model.spans[sid].start + 1)
    assert window.model.current == sid


def open_entity_view(window, ui, qtbot, sid: int):
    """Select the span in the article and press Ctrl+Shift+E."""
    select_span(window, ui, sid)
    ui.key(window.view, Key.Key_E, CTRL | SHIFT)
    view = window.entity_view
    assert view is not None and view.isVisible()
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    return view


def rows(view) -> list[tuple]:
    """What the mention table shows, cell by cell: (document, left, mention, right, label, status)."""
    m = view.mention_model
    return [tuple(m.index(r, c).data() for c in (0, 1, 2, 3, 4, 6)) for r in range(m.rowCount())]


@pytest.fixture
def kim(project):
    """Kim Kwan-jin linked in the first two articles: the suggested link confirmed in the first, a span
    added and linked in the second (its layer started by opening it)."""
    first, second = (d.id for d in docs(project)[:2])
    project.open_document(second)
    a = find_span(project, first, "Kim Kwan-jin")
    project.accept(a)
    b = add_span(project, second, "Kim Kwan-jin", "PERSON")
    project.link(b, entity_id(project, "local:kim-kwan-jin"))
    return a, b


def test_ui_entity_view_shows_mentions_across_documents(window, ui, qtbot, kim):
    project, (a, b) = window.project, kim
    first, second = docs(project)[:2]
    view = open_entity_view(window, ui, qtbot, a)
    assert view.heading.text() == "Kim Kwan-jin · PERSON · local:kim-kwan-jin"
    assert view.name_edit.text() == "Kim Kwan-jin" and view.kb_id_edit.text() == "local:kim-kwan-jin"
    shown = rows(view)
    assert [r[0] for r in shown] == [first.name, second.name]
    with project.store.Session() as s:  # exactly the spans linked to the entity in the database
        linked = s.execute(select(Span.id, Span.document_id, Span.start, Span.end)
                           .where(Span.entity_id == entity_id(project, "local:kim-kwan-jin"))
                           .order_by(Span.document_id)).all()
    assert [m.span_id for m in view.mention_model.rows] == [r.id for r in linked] == [a, b]
    for (doc, left, mention, right, label, status), r in zip(shown, linked):
        text = project.document(r.document_id).text
        assert mention == text[r.start:r.end] == "Kim Kwan-jin"
        assert " ".join(text[:r.start].split()).endswith(left) and left.endswith("Defense Minister")
        assert " ".join(text[r.end:].split()).startswith(right) and right.startswith("is to visit" if
                                                                                      doc == first.name else "and")
        assert (label, status) == ("PERSON", "✓ linked")
    assert view.mention_heading.text().startswith("2 mentions in 2 documents")
    assert view.list_model.rows[view.table.currentIndex().row()].name == "Kim Kwan-jin"
    assert view.list_model.rows[view.table.currentIndex().row()].mentions == 2
    # entity names and contexts come from the corpus: never rich text
    shows_kb_text = [view.heading, view.description, view.mention_heading, view.message, view.list_note,
                     view.merge_box.prompt, view.merge_box.confirm]
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in shows_kb_text)
    assert view.mentions.hasFocus()  # Enter opens the chosen mention straight away


def test_ui_entity_view_enter_opens_the_document_with_the_span_selected(window, ui, qtbot, kim):
    project, (a, b) = window.project, kim
    second = docs(project)[1]
    view = open_entity_view(window, ui, qtbot, a)
    ui.key(view.mentions, Key.Key_Down)
    ui.key(view.mentions, Key.Key_Return)
    assert window.model.doc_id == second.id
    assert window.model.current == b
    span = window.model.spans[b]
    assert window.view.textCursor().position() == window.view.to_qt(span.start)
    assert window.link_panel.state.text() == "Linked: Kim Kwan-jin (local:kim-kwan-jin)"
    assert window.documents.current_id == second.id
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    assert window.view.hasFocus()
    # and with the mouse: a double-click on the first row goes back to the first article
    view.present()
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    rect = view.mentions.visualRect(view.mention_model.index(0, 2))
    qtbot.mouseClick(view.mentions.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a double-click
    qtbot.mouseDClick(view.mentions.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # is both
    assert (window.model.doc_id, window.model.current) == (docs(project)[0].id, a)


def test_ui_entity_view_edit_name_and_undo(window, ui, qtbot, kim):
    project, (a, _b) = window.project, kim
    eid = entity_id(project, "local:kim-kwan-jin")
    before = db_entity(project, eid)
    view = open_entity_view(window, ui, qtbot, a)
    view.name_edit.setFocus()
    view.name_edit.selectAll()
    qtbot.keyClicks(view.name_edit, "Kim Kwan-jin (minister)")
    view.description_edit.setFocus()
    ui.key(view.description_edit, Key.Key_End)
    qtbot.keyClicks(view.description_edit, " Visited Japan in May 2012.")
    ui.key(view.name_edit, Key.Key_Return)
    after = ("Kim Kwan-jin (minister)", "PERSON", before[2] + " Visited Japan in May 2012.", "local:kim-kwan-jin")
    assert db_entity(project, eid) == after
    with project.store.Session() as s:  # the new name is an alias too
        assert "Kim Kwan-jin (minister)" in s.scalars(select(Alias.text).where(Alias.entity_id == eid)).all()
    assert view.heading.text() == "Kim Kwan-jin (minister) · PERSON · local:kim-kwan-jin"
    assert view.type_edit.currentText() == "PERSON"
    assert view.list_model.rows[view.table.currentIndex().row()].name == "Kim Kwan-jin (minister)"
    assert window.link_panel.state.text() == "Linked: Kim Kwan-jin (minister) (local:kim-kwan-jin)"
    undo_text = "&Undo rename Kim Kwan-jin to Kim Kwan-jin (minister)"
    assert window.menu_actions.undo.text() == view.actions_by_name["undo"].text() == undo_text
    assert "Ctrl+Z undoes it" in view.message.text()
    view.mentions.setFocus()
    ui.key(view.mentions, Key.Key_Z, CTRL)  # undo, from the entity view
    assert db_entity(project, eid) == before
    with project.store.Session() as s:
        assert "Kim Kwan-jin (minister)" not in s.scalars(select(Alias.text).where(Alias.entity_id == eid)).all()
    assert view.name_edit.text() == "Kim Kwan-jin"
    assert view.heading.text() == "Kim Kwan-jin · PERSON · local:kim-kwan-jin"
    assert window.link_panel.state.text() == "Linked: Kim Kwan-jin (local:kim-kwan-jin)"
    assert window.menu_actions.undo.text() != undo_text
    assert window.menu_actions.redo.text() == "&Redo rename Kim Kwan-jin to Kim Kwan-jin (minister)"
    # a refused edit says why and changes nothing
    view.kb_id_edit.setFocus()
    view.kb_id_edit.selectAll()
    qtbot.keyClicks(view.kb_id_edit, "Q17")
    ui.key(view.kb_id_edit, Key.Key_Return)
    assert view.message.text().startswith("[E211]")
    assert db_entity(project, eid) == before


def test_ui_entity_view_merge_and_undo(window, ui, qtbot, kim):
    """A duplicate made from a span is merged into the KB entity: the mentions follow, undo splits them."""
    project, (a, b) = window.project, kim
    first, second = docs(project)[:2]
    original = entity_id(project, "local:kim-kwan-jin")
    c = find_span(project, first.id, "Naoki Tanaka")
    duplicate = project.new_entity_from_span(b, name="Minister Kim", type="PERSON")
    assert db_span(project, b)[0] == duplicate
    window.open_document(second.id)
    view = open_entity_view(window, ui, qtbot, b)
    assert view.heading.text().startswith("Minister Kim · PERSON")
    ui.key(view.mentions, Key.Key_M, CTRL)
    assert view.merge_box.isVisible() and view.merge_box.search.hasFocus()
    qtbot.keyClicks(view.merge_box.search, "Kwan")
    qtbot.waitUntil(lambda: bool(view.merge_box.candidates), timeout=2000)
    assert view.merge_box.candidates[0].entity_id == original
    assert all(c.entity_id != duplicate for c in view.merge_box.candidates)  # not into itself
    ui.key(view.merge_box.search, Key.Key_Return)  # choose: asks to confirm, nothing merged yet
    assert view.merge_box.confirm.text().startswith("Merge “Minister Kim” into “Kim Kwan-jin” (local:kim-kwan-jin)?")
    assert db_entity(project, duplicate) is not None
    ui.key(view.merge_box.search, Key.Key_Return)  # confirm
    assert db_entity(project, duplicate) is None
    assert db_span(project, b)[0] == original
    assert view.entity.id == original and not view.merge_box.isVisible()
    assert [m.span_id for m in view.mention_model.rows] == [a, b]
    assert window.model.spans[b].entity_id == original  # the open article's span follows
    assert window.link_panel.state.text() == "Linked: Kim Kwan-jin (local:kim-kwan-jin)"
    assert window.menu_actions.undo.text() == "&Undo merge Minister Kim into Kim Kwan-jin"
    ui.key(view.mentions, Key.Key_Z, CTRL)
    assert db_entity(project, duplicate)[0] == "Minister Kim"
    assert db_span(project, b)[0] == duplicate and db_span(project, a)[0] == original
    assert window.model.spans[b].entity_id == duplicate
    assert window.link_panel.state.text().startswith("Linked: Minister Kim")
    assert [m.span_id for m in view.mention_model.rows] == [a]
    assert duplicate in [e.id for e in view.list_model.rows]
    assert db_span(project, c)[0] is None  # other spans untouched


def test_ui_entity_view_browse_by_type_and_search(window, ui, qtbot, kim):
    project = window.project
    ui.key(window.view, Key.Key_E, CTRL | SHIFT)
    view = window.entity_view
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    assert view.list_model.rows[0].name == "Kim Kwan-jin"  # the most mentioned first
    view.type_filter.setCurrentText("LAW")
    view.type_filter.activated.emit(view.type_filter.currentIndex())
    with project.store.Session() as s:
        laws = set(s.scalars(select(Entity.name).where(Entity.type == "LAW")))
    assert {e.name for e in view.list_model.rows} == laws and laws
    view.type_filter.setCurrentText("All types")
    view.type_filter.activated.emit(view.type_filter.currentIndex())
    ui.key(view.search, Key.Key_F, CTRL)
    assert view.search.hasFocus()
    qtbot.keyClicks(view.search, "GSOMIA")
    qtbot.waitUntil(lambda: not view.timer.isActive(), timeout=2000)
    assert view.list_model.rows[0].name == "General Security of Military Information Agreement"
    ui.key(view.search, Key.Key_Return)
    assert view.entity.name == "General Security of Military Information Agreement"
    assert view.mention_heading.text() == "No mentions linked yet"
    # Escape closes the view; the link panel's button opens it on the current span's entity
    ui.key(view.mentions, Key.Key_Escape)
    assert not view.isVisible()
    window.activateWindow()
    select_span(window, ui, kim[0])
    qtbot.mouseClick(window.link_panel.entity_button, Qt.MouseButton.LeftButton)
    assert view.isVisible() and view.entity.id == entity_id(project, "local:kim-kwan-jin")
    assert [m.span_id for m in view.mention_model.rows] == list(kim)


def test_ui_entity_view_menus_list_its_keys(window, qtbot):
    nav = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Navigate")
    assert {a.text(): a.shortcut().toString() for a in nav.actions()}["&Entity view…"] == "Ctrl+Shift+E"
    view = window.show_entity_view()
    menu = view.findChild(QMenuBar).actions()[0].menu()
    keys = {a.text().split("\t")[0]: a.shortcut().toString() for a in menu.actions() if not a.isSeparator()}
    assert keys == {"&Find entity…": "Ctrl+F", "&Save changes": "Ctrl+S", "&Merge into…": "Ctrl+M",
                    "&Open mention": "", "&Undo": "Ctrl+Z", "&Redo": "Ctrl+Shift+Z", "&Close": "Esc"}


def test_ui_propagate_to_the_corpus_then_accept_with_enter(window, ui, qtbot):
    project = window.project
    first, second = docs(project)[:2]
    japan = entity_id(project, "Q17")
    window.open_document(second.id)  # the analyst has started the second article (it has no spans yet)
    window.open_document(first.id)
    sid = find_span(project, first.id, "Japan")
    select_span(window, ui, sid)
    panel = window.link_panel
    qtbot.waitUntil(lambda: [c.name for c in panel.entries][:1] == ["Japan"], timeout=2000)
    assert not panel.offer.text()  # a suggested link: nothing offered yet
    ui.key(window.view, Key.Key_L)
    ui.key(panel.search, Key.Key_Return)  # confirm Japan → Q17
    preview = project.propagation_preview(sid, "corpus")
    here, there = preview.per_document.get(first.id, 0), preview.per_document[second.id]
    assert here >= 5 and there >= 5
    qtbot.waitUntil(lambda: panel.offer.text() == (f"{here} identical mentions here, {there} in other documents — "
                                                   "Ctrl+Shift+P / Ctrl+Alt+P"))
    assert panel.corpus_button.isEnabled()
    ui.key(window.view, Key.Key_P, CTRL | ALT)
    with project.store.Session() as s:
        queued = s.execute(select(Span.id, Span.start, Span.end, Span.entity_id, Span.status, Span.origin)
                           .where(Span.document_id == second.id, Span.annotator_id == project.annotator_id)
                           .order_by(Span.start)).all()
    text = project.document(second.id).text
    assert len(queued) == there
    assert all((text[r.start:r.end], r.entity_id, r.status, r.origin) == ("Japan", japan, "suggested", "propagated")
               for r in queued)
    qtbot.waitUntil(lambda: not panel.offer.counter.running())
    assert panel.offer.text() == (f"Link suggested on {here + there} identical mentions ({here} here, {there} in 1 "
                                  "other document).")
    assert window.menu_actions.undo.text() == f"&Undo propagate link to {here + there} mentions in the corpus"
    assert not (set(window.model.spans) & {r.id for r in queued})  # the open article holds only its own spans
    row = window.documents.model.row_of(second.id)
    qtbot.waitUntil(lambda: window.documents.model.docs[row].suggested == there, timeout=2000)
    # undo takes them all back, in both documents; redo queues them again
    ui.key(window.view, Key.Key_Z, CTRL)
    with project.store.Session() as s:
        assert s.scalar(select(Span.id).where(Span.document_id == second.id)) is None
        assert s.scalar(select(Span.id).where(Span.document_id == first.id, Span.entity_id == japan,
                                              Span.status == "suggested", Span.origin == "propagated")) is None
    assert window.model.doc_id == first.id and window.model.current == sid
    qtbot.waitUntil(lambda: window.documents.model.docs[row].spans == 0, timeout=2000)
    qtbot.waitUntil(lambda: panel.offer.text().startswith(f"{here} identical mentions here, {there} in other documents"))
    ui.key(window.view, Key.Key_Z, CTRL | SHIFT)
    with project.store.Session() as s:
        assert s.scalar(select(Span.id).where(Span.document_id == second.id).limit(1)) is not None
    qtbot.waitUntil(lambda: window.documents.model.docs[row].suggested == there, timeout=2000)
    # the analyst goes to the other article and confirms each suggested link with Enter
    ui.key(window.view, Key.Key_PageDown, CTRL)
    assert window.model.doc_id == second.id
    assert window.model.counts() == (there, there)
    ui.key(window.view, Key.Key_Tab)
    for _ in range(there):  # Enter confirms and goes on to the next suggestion
        assert window.link_panel.state.text().startswith("Suggested link: Japan (Q17)")
        ui.key(window.view, Key.Key_Return)
    assert window.link_panel.state.text() == "Linked: Japan (Q17)"  # the last stays current
    with project.store.Session() as s:
        statuses = s.execute(select(Span.entity_id, Span.status).where(Span.id.in_([r.id for r in queued]))).all()
        assert set(statuses) == {(japan, "accepted")}
        assert s.scalar(select(Alias.count).where(Alias.entity_id == japan, Alias.norm == "japan")) == 1 + there
    assert window.model.counts() == (there, 0)


def test_ui_referent_note_is_saved_undone_and_reopened(window, ui, qtbot, tmp_path):
    project = window.project
    doc = docs(project)[0]
    sid = find_span(project, doc.id, "South Korea")
    panel = window.link_panel
    select_span(window, ui, sid)
    assert panel.note.isEnabled()  # a suggested link can carry a note too
    ui.key(window.view, Key.Key_L)
    ui.key(panel.search, Key.Key_Return)  # confirm South Korea → Q884
    assert panel.state.text() == "Linked: South Korea (Q884)" and panel.note.isEnabled()
    qtbot.mouseClick(panel.note, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(panel.note, "the South Korean government")
    assert db_span(project, sid)[2] == ""  # nothing saved while typing
    ui.key(panel.note, Key.Key_Return)
    assert db_span(project, sid) == (entity_id(project, "Q884"), "accepted", "the South Korean government")
    assert window.view.hasFocus()
    assert window.menu_actions.undo.text() == "&Undo set referent note"
    ui.key(window.view, Key.Key_Z, CTRL)
    assert db_span(project, sid)[2] == "" and panel.note.text() == ""
    ui.key(window.view, Key.Key_Z, CTRL | SHIFT)
    assert db_span(project, sid)[2] == panel.note.text() == "the South Korean government"
    # leaving the field (a click on another span) saves too
    qtbot.mouseClick(panel.note, Qt.MouseButton.LeftButton)
    ui.key(panel.note, Key.Key_End)
    qtbot.keyClicks(panel.note, " (metonymy)")
    other = find_span(project, doc.id, "Naoki Tanaka")
    select_span(window, ui, other)
    assert db_span(project, sid)[2] == "the South Korean government (metonymy)"
    assert not panel.note.isEnabled() and panel.note.text() == ""  # Naoki Tanaka is not linked
    # the note survives closing and reopening the project
    path = project.store.path
    window.close()
    project.store.close()
    from annotator.ui.qt_app import make_window

    again = Project(Store(path), project.user)
    w = make_window(again)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    ui.show(w)
    w.refresh_documents()
    w.open_document(doc.id)
    select_span(w, ui, sid)
    assert w.link_panel.note.text() == "the South Korean government (metonymy)"
    assert db_span(again, sid)[2] == "the South Korean government (metonymy)"
    assert w.menu_actions.undo.text() == "&Undo set referent note"  # and it is still undoable
    w.close()
    again.store.close()
