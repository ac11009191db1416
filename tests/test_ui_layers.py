"""Whose layer the main window shows: a reviewer views a colleague's layer read-only through the layer
switcher, and opening a document does not start a reviewer's own layer until they edit (an analyst's
still starts as a copy of the model's suggestions on first open). Checked in the window and the database."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import func, select
from test_review import doc_id
from test_ui_review import add_model_spans, open_window, team  # noqa: F401 (the fixture)

from annotator.core.db.models import Annotator, DocumentState, Span

Key = Qt.Key
Mod = Qt.KeyboardModifier


def layer_rows(store, user, document_id):
    """(spans, has a document state) of `user`'s layer of the document, from the database."""
    with store.Session() as s:
        who = s.scalar(select(Annotator.id).where(Annotator.name == user))
        spans = s.scalars(select(Span).where(Span.annotator_id == who, Span.document_id == document_id)
                          .order_by(Span.start)).all()
        state = s.get(DocumentState, (document_id, who)) if who is not None else None
        return [(r.start, r.end, r.label, r.status) for r in spans], state is not None


def test_ui_layers_switcher_shows_a_colleagues_layer_read_only(team, qtbot, ui):
    store, d0 = team
    w = open_window(qtbot, store, "rev", d0)
    try:
        box = w.layer_box
        entries = [box.itemText(i) for i in range(box.count())]
        assert entries[0] == "Mine (rev)" and "ana (read-only)" in entries and "bob (read-only)" in entries
        ana_before, _ = layer_rows(store, "ana", d0)
        box.setCurrentIndex(entries.index("ana (read-only)"))
        box.activated.emit(box.currentIndex())  # as a choice in the box does
        # the article shows ana's layer, each span highlighted
        assert [(s.start, s.end, s.label, s.status) for s in w.model.spans.values()] == ana_before
        first = ana_before[0]
        assert ui.format_at(w.view, first[0]) is not None
        assert "ana's layer, read-only" in w.statusBar().currentMessage()
        # edits are disabled in the menus and refused when reached some other way; nothing changes
        assert not w.menu_actions.delete.isEnabled() or w.model.current is None
        assert not w.menu_actions.mark_done.isEnabled()
        assert not any(a.isEnabled() for a in w.menu_actions.labels.values())
        ui.key(w.view, Key.Key_Tab)
        assert w.model.current_span() is not None
        assert not w.menu_actions.delete.isEnabled() and not w.menu_actions.accept.isEnabled()
        ui.key(w.view, Key.Key_Delete)
        ui.key(w.view, Key.Key_1)
        w.model.delete()  # the model refuses too (a coded message)
        assert "[E222]" in w.statusBar().currentMessage()
        w.link_panel.mark_nil()
        assert layer_rows(store, "ana", d0)[0] == ana_before
        assert layer_rows(store, "rev", d0) == ([], False)
        # back to their own layer: editable again
        box.setCurrentIndex(0)
        box.activated.emit(0)
        assert w.model.layer_id == w.project.annotator_id and w.model.read_only is None
        assert w.menu_actions.mark_done.isEnabled()
    finally:
        w.close()


def test_ui_layers_annotator_sees_only_own_and_model(team, qtbot):
    store, d0 = team
    add_model_spans(store, d0, [("Naoki Tanaka", "PERSON")])
    w = open_window(qtbot, store, "bob", d0)
    try:
        entries = [w.layer_box.itemText(i) for i in range(w.layer_box.count())]
        assert entries == ["Mine (bob)", "model (read-only)"]
    finally:
        w.close()


def test_ui_layers_reviewer_opening_leaves_nothing_until_the_first_edit(team, qtbot, ui):
    """Regression: merely opening a document created the reviewer's own layer (a copy of the model's
    suggestions and a document state), which then counted as a layer of theirs."""
    store, d0 = team
    add_model_spans(store, d0, [("Naoki Tanaka", "PERSON")])
    w = open_window(qtbot, store, "rev", d0)
    try:
        naoki = w.model.text.index("Naoki Tanaka")  # shown: the model's suggestion the layer will start from
        assert w.model.doc_id == d0 and [(v.start, v.label, v.status) for v in w.model.spans.values()] == [
            (naoki, "PERSON", "suggested")]
        d1 = doc_id(store, 1)
        w.open_document(d1)
        w.open_document(d0)
        for d in (d0, d1):
            assert layer_rows(store, "rev", d) == ([], False)
        assert w.documents.model.docs[0].status == "new"
        # the first edit starts the layer (from the model's suggestions, as an analyst's) and is applied
        text = w.model.text
        start = text.index("Defense Minister")
        ui.drag(w.view, start, start + len("Defense Minister"))
        ui.key(w.view, Key.Key_2)  # ORG
        spans, state = layer_rows(store, "rev", d0)
        naoki = text.index("Naoki Tanaka")
        assert state
        assert spans == sorted([(naoki, naoki + 12, "PERSON", "suggested"),
                                (start, start + len("Defense Minister"), "ORG", "accepted")])
        assert sorted((s.start, s.label) for s in w.model.spans.values()) == sorted((s[0], s[2]) for s in spans)
        assert layer_rows(store, "rev", d1) == ([], False)  # only the edited document
    finally:
        w.close()


def test_ui_layers_analyst_layer_still_starts_from_the_model_on_first_open(team, qtbot):
    store, _ = team
    d1 = doc_id(store, 1)
    add_model_spans(store, d1, [("South Korea", "GPE")])
    w = open_window(qtbot, store, "cy", d1)  # a new analyst
    try:
        spans, state = layer_rows(store, "cy", d1)
        assert state and [(s[2], s[3]) for s in spans] == [("GPE", "suggested")]
        assert len(w.model.spans) == 1
    finally:
        w.close()


def test_ui_layers_reviewer_accepts_a_shown_suggestion_as_the_first_edit(team, qtbot, ui):
    """A reviewer's first edit may be on a suggestion shown before their layer exists: Tab, Enter starts
    the layer from the model's suggestions and accepts the copy of the one shown (not the model's)."""
    store, d0 = team
    add_model_spans(store, d0, [("Naoki Tanaka", "PERSON"), ("Japan", "GPE")])
    w = open_window(qtbot, store, "rev", d0)
    try:
        assert layer_rows(store, "rev", d0) == ([], False)
        ui.key(w.view, Key.Key_Tab)
        first = w.model.current_span()
        ui.key(w.view, Key.Key_Return)
        spans, state = layer_rows(store, "rev", d0)
        assert state and (first.start, first.end, first.label, "accepted") in spans and len(spans) == 2
        model = layer_rows(store, "model", d0)[0]
        assert all(status == "suggested" for *_, status in model)  # the model's own layer is untouched
    finally:
        w.close()
