"""The linking panel, driven from the keyboard as a user does, checked in the widgets and in the database."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from sqlalchemy import func, select

from annotator.core.db.models import Alias, Entity, Span
from annotator.io import kb_transfer

Key = Qt.Key
Mod = Qt.KeyboardModifier


@pytest.fixture
def project(project):
    """The sample project with the starter KB loaded (which queues link suggestions) before the window opens."""
    kb_transfer.load_starter(project.store)
    return project


def span_id(window, text: str, nth: int = 0) -> int:
    doc = window.project.document(window.model.doc_id)
    start = -1
    for _ in range(nth + 1):
        start = doc.text.index(text, start + 1)
    return next(s.id for s in window.project.spans(doc.id) if s.start == start and s.end == start + len(text))


def entity_id(project, kb_id: str) -> int:
    with project.store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


def db_span(project, sid) -> tuple:
    with project.store.Session() as s:
        r = s.get(Span, sid)
        return r.entity_id, bool(r.nil), r.status


def select_span(window, ui, sid: int) -> None:
    """Click inside the span in the article, as a user does."""
    span = window.model.spans[sid]
    ui.click(window.view, span.start + 1)
    assert window.model.current == sid


def names(panel) -> list[str]:
    return [c.name for c in panel.entries]


def search_for(window, ui, qtbot, text: str) -> None:
    """Press L in the article, type, and wait for the debounced search."""
    panel = window.link_panel
    ui.key(window.view, Key.Key_L)
    assert panel.search.hasFocus()
    qtbot.keyClicks(panel.search, text)
    qtbot.waitUntil(lambda: not panel.timer.isActive(), timeout=2000)


def test_ui_link_by_typing_part_of_a_name(window, ui, qtbot):
    panel, sid = window.link_panel, span_id(window, "Kim Kwan-jin")
    kim = entity_id(window.project, "local:kim-kwan-jin")
    assert db_span(window.project, sid) == (kim, False, "suggested")  # the starter KB suggested it
    select_span(window, ui, sid)
    assert panel.state.text().startswith("Suggested link: Kim Kwan-jin (local:kim-kwan-jin)")
    assert panel.state.font().italic()  # a suggestion looks different from a confirmed link
    qtbot.waitUntil(lambda: "Kim Kwan-jin" in names(panel), timeout=2000)  # the initial list: candidates
    search_for(window, ui, qtbot, "Kwan")
    assert names(panel) == ["Kim Kwan-jin"]
    assert "PERSON" in panel.list.item(0).text()
    ui.key(panel.search, Key.Key_Down)
    ui.key(panel.search, Key.Key_Return)
    assert db_span(window.project, sid) == (kim, False, "accepted")
    assert panel.state.text() == "Linked: Kim Kwan-jin (local:kim-kwan-jin)"
    assert not panel.state.font().italic()
    assert window.model.spans[sid].status == "accepted"
    assert window.view.hasFocus()  # back to the article: Tab goes on to the next span


def test_ui_arrow_keys_choose_and_undo_restores(window, ui, qtbot):
    panel, sid = window.link_panel, span_id(window, "Naoki Tanaka")
    assert db_span(window.project, sid) == (None, False, "accepted")
    select_span(window, ui, sid)
    assert panel.state.text() == "Not linked"
    search_for(window, ui, qtbot, "Kim")
    assert names(panel)[:2] == ["Kim Min-seok", "Kim Kwan-jin"]
    assert panel.list.currentRow() == 0
    ui.key(panel.search, Key.Key_Down)
    assert panel.list.currentRow() == 1
    ui.key(panel.search, Key.Key_Down)
    ui.key(panel.search, Key.Key_Up)
    ui.key(panel.search, Key.Key_Enter)
    kim = entity_id(window.project, "local:kim-kwan-jin")
    assert db_span(window.project, sid) == (kim, False, "accepted")
    assert panel.state.text() == "Linked: Kim Kwan-jin (local:kim-kwan-jin)"
    assert window.menu_actions.undo.text().startswith("&Undo")
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)
    assert db_span(window.project, sid) == (None, False, "accepted")
    assert panel.state.text() == "Not linked"
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
    assert db_span(window.project, sid) == (kim, False, "accepted")
    assert panel.state.text() == "Linked: Kim Kwan-jin (local:kim-kwan-jin)"


def test_ui_undo_of_a_link_restores_a_suggestion(window, ui, qtbot):
    panel, sid = window.link_panel, span_id(window, "Japan")
    japan = entity_id(window.project, "Q17")
    select_span(window, ui, sid)
    qtbot.waitUntil(lambda: names(panel)[:1] == ["Japan"], timeout=2000)
    ui.key(window.view, Key.Key_L)
    ui.key(panel.search, Key.Key_Down)  # second candidate, e.g. the government of Japan (metonymy)
    other = panel.selected_entity()
    assert other != japan
    ui.key(panel.search, Key.Key_Return)
    assert db_span(window.project, sid) == (other, False, "accepted")
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)
    assert db_span(window.project, sid) == (japan, False, "suggested")
    assert panel.state.text().startswith("Suggested link: Japan (Q17)")


def test_ui_nil_from_the_keyboard_and_the_button(window, ui, qtbot):
    panel = window.link_panel
    assert window.link_panel.actions_by_name["nil"].shortcut().toString() == "Ctrl+N"
    japan, korea = span_id(window, "Japan"), span_id(window, "South Korea")
    select_span(window, ui, japan)
    ui.key(window.view, Key.Key_N, Mod.ControlModifier)
    assert db_span(window.project, japan) == (None, True, "accepted")
    assert panel.state.text().startswith("NIL")
    assert window.model.spans[japan].nil
    select_span(window, ui, korea)
    qtbot.mouseClick(panel.nil_button, Qt.MouseButton.LeftButton)
    assert db_span(window.project, korea)[1] is True
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)
    assert db_span(window.project, korea) == (entity_id(window.project, "Q884"), False, "suggested")


def test_ui_new_entity_from_span(window, ui, qtbot):
    panel, project = window.link_panel, window.project
    text = "government source"
    start = project.document(window.model.doc_id).text.index(text)
    sid = window.model.add(start, start + len(text), "ORG")
    assert window.model.current == sid
    window.view.setFocus()
    ui.key(window.view, Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    assert panel.new_form.isVisible()
    assert (panel.new_form.name.text(), panel.new_form.type.text()) == (text, "ORG")
    qtbot.keyClicks(panel.new_form.description, "an unnamed official")
    ui.key(panel.new_form.description, Key.Key_Return)
    with project.store.Session() as s:
        entity = s.scalars(select(Entity).where(Entity.name == text)).one()
        assert (entity.type, entity.description) == ("ORG", "an unnamed official")
        assert [a.text for a in s.scalars(select(Alias).where(Alias.entity_id == entity.id))] == [text]
        new_id = entity.id
        kb_id = entity.kb_id
    assert db_span(project, sid) == (new_id, False, "accepted")
    assert panel.state.text() == f"Linked: {text} ({kb_id})"
    assert not panel.new_form.isVisible()
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)  # undo removes the entity and its alias
    with project.store.Session() as s:
        assert s.get(Entity, new_id) is None
        assert s.scalar(select(Alias).where(Alias.entity_id == new_id)) is None
    assert panel.state.text() == "Not linked"


def geometry(panel) -> dict:
    """Where each widget of the panel is, and whether it is shown."""
    return {w.objectName() or repr(w): (w.isVisible(), w.geometry().getRect())
            for w in panel.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)}


def test_ui_offer_counted_for_a_span_left_meanwhile_is_not_shown(window, ui, qtbot):
    """The count behind the offer comes from a background task: when the analyst has moved on to
    another span before it arrives, it is dropped, not written under that span's link."""
    panel = window.link_panel
    sid = span_id(window, "Japan")
    select_span(window, ui, sid)
    qtbot.waitUntil(lambda: names(panel)[:1] == ["Japan"], timeout=2000)
    ui.key(window.view, Key.Key_L)
    ui.key(panel.search, Key.Key_Return)  # link: the count starts
    assert panel.offer.counter.running()
    ui.key(window.view, Key.Key_Tab)  # on to the next span before it comes
    assert window.model.current != sid
    qtbot.waitUntil(lambda: not panel.offer.counter.running())
    qtbot.wait(50)
    assert not panel.offer.text()
    ui.key(window.view, Key.Key_Tab, Mod.ShiftModifier)  # back: the link is shown, no offer made up
    assert window.model.current == sid and not panel.offer.text()


def test_ui_propagate_to_identical_mentions(window, ui, qtbot):
    panel, project = window.link_panel, window.project
    sid, japan = span_id(window, "Japan"), entity_id(project, "Q17")
    select_span(window, ui, sid)
    qtbot.waitUntil(lambda: names(panel)[:1] == ["Japan"], timeout=2000)
    layout = geometry(panel)
    assert not panel.offer.text()  # a suggested link: nothing offered yet
    ui.key(window.view, Key.Key_L)
    ui.key(panel.search, Key.Key_Return)  # confirm Japan → Q17
    assert not panel.offer.text() and panel.offer.counter.running()  # counted in the background: linking did not wait
    preview = project.propagation_preview(sid)
    assert preview.new or preview.existing
    # linking offers to propagate, without asking anything (the other articles are not started)
    qtbot.waitUntil(lambda: panel.offer.text() == f"{preview.total} identical mentions here — Ctrl+Shift+P")
    assert panel.offer.isVisible() and panel.corpus_button.isEnabled()
    before = set(window.model.spans)
    assert panel.propagate_button.isEnabled()
    qtbot.mouseClick(panel.propagate_button, Qt.MouseButton.LeftButton)
    with project.store.Session() as s:
        rows = s.execute(select(Span.id, Span.entity_id, Span.status, Span.start, Span.end)
                         .where(Span.document_id == window.model.doc_id, Span.id != sid,
                                Span.entity_id == japan)).all()
    text = project.document(window.model.doc_id).text
    assert len(rows) == len(preview.new) + len(preview.existing) >= 5
    assert all(r.status == "suggested" and text[r.start:r.end] == "Japan" for r in rows)
    assert {r.id for r in rows} <= set(window.model.spans)  # the article and span list show them
    assert set(window.model.spans) - before
    qtbot.waitUntil(lambda: not panel.offer.counter.running())  # none left to offer
    assert panel.offer.text() == f"Link suggested on {len(rows)} identical mentions here."
    assert geometry(panel) == layout  # the texts changed, not the layout of the right column
    ui.click(window.view, rows[0].start + 1)  # a propagated suggestion says so, not "model's choice"
    assert window.model.current == rows[0].id
    assert panel.state.text().startswith("Suggested link: Japan (Q17)  ◇ propagated link")
    with project.store.Session() as s:
        assert s.get(Span, rows[0].id).link_source == "propagated"
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)
    with project.store.Session() as s:
        assert s.scalar(select(Span.id).where(Span.entity_id == japan, Span.status == "suggested",
                                              Span.document_id == window.model.doc_id, Span.id != sid)) is None
    assert set(window.model.spans) == before


def test_ui_l_still_types_in_text_boxes(window, ui, qtbot):
    panel = window.link_panel
    select_span(window, ui, span_id(window, "Kim Kwan-jin"))
    search_for(window, ui, qtbot, "Lee")
    assert panel.search.text() == "Lee"
    assert names(panel)[0].startswith("Lee")
    window.documents.filter.setFocus()
    qtbot.keyClicks(window.documents.filter, "l")
    assert window.documents.filter.text() == "l"
    assert panel.search.text() == "Lee"


def test_ui_link_menu_lists_every_shortcut(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    ours = set(window.link_panel.actions_by_name.values())
    keys = {a.text(): a.shortcut().toString() for a in menu.actions() if a in ours}
    assert len(keys) == len(ours)
    assert keys["&Link… (search the knowledge base)"] == "L"
    assert keys["Mark &NIL"] == "Ctrl+N"
    assert keys["New &entity from span…"] == "Ctrl+Shift+N"
    assert keys["&Propagate link in document"] == "Ctrl+Shift+P"
    assert keys["Propagate link to &corpus"] == "Ctrl+Alt+P"
    others = {a.shortcut().toString() for m in window.menuBar().actions()
              for a in m.menu().actions() if a not in ours} - {""}
    assert not others & set(keys.values())  # no clash with the rest of the window


def test_ui_search_is_debounced(window, ui, qtbot, monkeypatch):
    panel = window.link_panel
    select_span(window, ui, span_id(window, "Naoki Tanaka"))
    qtbot.waitUntil(lambda: not panel.timer.isActive(), timeout=2000)
    calls = []
    real = window.project.search_entities
    monkeypatch.setattr(window.project, "search_entities", lambda *a, **k: calls.append(a) or real(*a, **k))
    ui.key(window.view, Key.Key_L)
    qtbot.keyClicks(panel.search, "Tanaka")
    assert calls == []  # nothing while typing
    qtbot.waitUntil(lambda: bool(calls), timeout=2000)
    assert len(calls) == 1 and calls[0][0] == "Tanaka"
    assert names(panel)[0] == "Naoki Tanaka"


def test_ui_new_entity_warns_of_near_duplicate_and_links_instead(window, ui, qtbot):
    """Regression: Ctrl+Shift+N on "Aegis" created a second entity beside "Aegis Combat System",
    the top candidate, without a word."""
    panel, project = window.link_panel, window.project
    start = project.document(window.model.doc_id).text.index("Aegis")
    sid = window.model.add(start, start + len("Aegis"), "PRODUCT")
    aegis = entity_id(project, "local:aegis-combat-system")
    window.view.setFocus()
    ui.key(window.view, Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    assert panel.new_form.isVisible() and panel.new_form.name.text() == "Aegis"
    assert panel.new_form.warning.isVisible() and "Aegis Combat System" in panel.new_form.warning.text()
    assert panel.new_form.link.isVisible() and "Aegis Combat System" in panel.new_form.link.text()
    with project.store.Session() as s:
        before = s.scalar(select(func.count()).select_from(Entity))
    ui.key(panel.new_form.name, Key.Key_Return)  # the first Enter only warns
    assert "[E221]" in window.statusBar().currentMessage()
    assert panel.new_form.isVisible()
    with project.store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == before
    assert db_span(project, sid) == (None, False, "accepted")
    ui.key(panel.new_form.name, Key.Key_L, Mod.ControlModifier)  # link to the existing one instead
    assert db_span(project, sid) == (aegis, False, "accepted")
    assert not panel.new_form.isVisible()
    assert panel.state.text() == "Linked: Aegis Combat System (local:aegis-combat-system)"
    with project.store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == before


def test_ui_new_entity_created_on_second_enter_and_unrelated_name_needs_one(window, ui, qtbot):
    panel, project = window.link_panel, window.project
    start = project.document(window.model.doc_id).text.index("Aegis")
    sid = window.model.add(start, start + len("Aegis"), "PRODUCT")
    window.view.setFocus()
    ui.key(window.view, Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    ui.key(panel.new_form.name, Key.Key_Return)
    ui.key(panel.new_form.name, Key.Key_Return)  # twice: created anyway
    with project.store.Session() as s:
        names_ = set(s.scalars(select(Entity.name).where(Entity.name.like("Aegis%"))))
    assert names_ == {"Aegis", "Aegis Combat System"}
    assert db_span(project, sid)[0] == entity_id(project, "local:aegis")
    # a name like nothing in the knowledge base: no warning, one Enter
    text = "government source"
    start = project.document(window.model.doc_id).text.index(text)
    window.model.add(start, start + len(text), "ORG")
    window.view.setFocus()
    ui.key(window.view, Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    assert not panel.new_form.warning.isVisible()
    ui.key(panel.new_form.name, Key.Key_Return)
    assert not panel.new_form.isVisible()
    assert entity_id(project, "local:government-source") is not None


def test_ui_undo_new_entity_refreshes_candidates_and_enter_gives_no_e210(window, ui, qtbot):
    """Regression: after creating an entity and undoing it, the deleted entity still headed the
    candidates and Enter gave `[E210] Entity 68 does not exist`."""
    panel, project = window.link_panel, window.project
    text = "government source"
    start = project.document(window.model.doc_id).text.index(text)
    sid = window.model.add(start, start + len(text), "ORG")
    window.view.setFocus()
    ui.key(window.view, Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    ui.key(panel.new_form.name, Key.Key_Return)
    new = entity_id(project, "local:government-source")
    assert db_span(project, sid) == (new, False, "accepted")
    qtbot.waitUntil(lambda: not panel.timer.isActive(), timeout=2000)
    assert panel.entries and panel.entries[0].entity_id == new  # the new entity heads the list
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)  # undo: the entity is gone
    with project.store.Session() as s:
        assert s.get(Entity, new) is None
    assert window.model.current == sid
    # pressed at once, before the list is read again: no E210, the list is refreshed instead
    panel.list.setFocus()
    ui.key(panel.list, Key.Key_Return)
    message = window.statusBar().currentMessage()
    assert "E210" not in message and "[E220]" in message
    assert new not in [c.entity_id for c in panel.entries]
    assert db_span(project, sid) == (None, False, "accepted")
    # and without pressing anything, the hub's change alone refreshes the list
    window.view.setFocus()
    ui.key(window.view, Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    ui.key(panel.new_form.name, Key.Key_Return)
    again = db_span(project, sid)[0]
    qtbot.waitUntil(lambda: bool(panel.entries) and panel.entries[0].entity_id == again, timeout=2000)
    ui.key(window.view, Key.Key_Z, Mod.ControlModifier)
    qtbot.waitUntil(lambda: again not in [c.entity_id for c in panel.entries], timeout=2000)
