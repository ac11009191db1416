"""A first edit made in the window on a model suggestion goes to the user's own layer, for a reviewer
(whose layer starts with that edit) as for an annotator (whose layer started on opening).

Regression, as a newcomer found it on the README's project (starter KB, then the sample articles
with the model's suggestions): the owner (a reviewer) clicked "Seoul", pressed Ctrl+N (or L, typed,
Enter) and the NIL (the link) was written into the MODEL layer: "Seoul" lost its highlight, the
counts dropped, the reviewer had no layer at all, and undo after a restart did not stick. Checked
here in the window and in the database, with undo, redo, and undo again after reopening.
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select
from test_ui_review import open_window

from annotator.core.db.annotators import MODEL_LAYER, record_owner
from annotator.core.db.models import Annotator, Document, DocumentState, Entity, Event, Span
from annotator.core.db.store import Store
from annotator.core.resources import seeds_dir
from annotator.io import kb_transfer
from annotator.io.importing import import_paths

Key = Qt.Key
Mod = Qt.KeyboardModifier
FIELDS = ("start", "end", "label", "status", "entity_id", "nil", "referent_note", "origin")


@pytest.fixture(scope="module")
def readme_project(tmp_path_factory):
    """As README says: `annotator kb import seeds/kb.jsonl; annotator import seeds/` by ana, who made
    the project (its owner, a reviewer). Built once (spaCy runs); each test works on a copy."""
    path = tmp_path_factory.mktemp("readme") / "q.db"
    store = Store(str(path))
    record_owner(store, "ana")
    kb_transfer.import_kb(store, seeds_dir() / "kb.jsonl")
    import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=True)
    store.close()
    return path


@pytest.fixture
def q(readme_project, tmp_path):
    """A copy of the README's project; the stores opened on it are closed after the test."""
    path = tmp_path / "q.db"
    shutil.copy(readme_project, path)
    stores: list[Store] = []

    def open_store() -> Store:
        stores.append(Store(str(path)))
        return stores[-1]

    yield open_store
    for store in stores:
        store.close()


def layer(store, name: str, doc: int | None = None) -> list[tuple]:
    """A layer's spans (FIELDS, with the id first), in id order."""
    with store.Session() as s:
        q = (select(Span.id, *(getattr(Span, f) for f in FIELDS)).join(Annotator, Annotator.id == Span.annotator_id)
             .where(Annotator.name == name).order_by(Span.id))
        if doc is not None:
            q = q.where(Span.document_id == doc)
        return [tuple(r) for r in s.execute(q)]


def first_doc(store) -> int:
    with store.Session() as s:
        return s.scalar(select(Document.id).order_by(Document.name).limit(1))


def entity(store, kb_id: str) -> int:
    with store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


def state(store, name: str, doc: int) -> str | None:
    with store.Session() as s:
        who = s.scalar(select(Annotator.id).where(Annotator.name == name))
        row = s.get(DocumentState, (doc, who))
        return row.status if row is not None else None


def last_edit(store, name: str) -> tuple[str, bool]:
    with store.Session() as s:
        row = s.execute(select(Event.command, Event.undone).join(Annotator, Annotator.id == Event.annotator_id)
                        .where(Annotator.name == name, Event.command.not_in(("undo", "redo")))
                        .order_by(Event.id.desc()).limit(1)).one()
    return row.command, bool(row.undone)


def at_seoul(rows: list[tuple], start: int) -> list[tuple]:
    return [r[1:] for r in rows if (r[1], r[2]) == (start, start + len("Seoul"))]


def edit_seoul(w, ui, qtbot, how: str) -> None:
    """Click "Seoul" in the article, then Ctrl+N (NIL), or L, type "South Korea", Enter (link)."""
    at = w.model.text.index("Seoul")
    ui.click(w.view, at + 2)
    shown = w.model.current_span()
    assert (shown.start, shown.end, shown.status) == (at, at + 5, "suggested")
    if how == "nil":
        ui.key(w.view, Key.Key_N, Mod.ControlModifier)
        return
    panel = w.link_panel
    ui.key(w.view, Key.Key_L)
    assert panel.search.hasFocus()
    qtbot.keyClicks(panel.search, "South Korea")
    qtbot.waitUntil(lambda: not panel.timer.isActive() and bool(panel.entries), timeout=3000)
    ui.key(panel.search, Key.Key_Return)


@pytest.mark.parametrize("how", ["nil", "link"])
@pytest.mark.parametrize("user", ["ana", "bob"], ids=["reviewer", "annotator"])
def test_ui_first_edit_of_a_suggestion_goes_to_the_users_layer(q, qtbot, ui, user, how):
    store = q()
    doc = first_doc(store)
    model = layer(store, MODEL_LAYER)
    assert len(model) == 228 and {r[4] for r in model} == {"suggested"}
    korea = entity(store, "Q884")
    w = open_window(qtbot, store, user, doc)
    text = w.model.text
    at = text.index("Seoul")
    [(*_, suggested_link, _nil, _note, _origin)] = at_seoul(layer(store, MODEL_LAYER, doc), at)
    assert suggested_link is not None  # the starter KB suggested a link
    total, unchecked = w.model.counts()
    assert total == unchecked == len(layer(store, MODEL_LAYER, doc))
    done = (at, at + 5, "GPE", "accepted", None, True, "", "model") if how == "nil" else \
        (at, at + 5, "GPE", "accepted", korea, False, "", "model")
    as_suggested = (at, at + 5, "GPE", "suggested", suggested_link, False, "", "model")
    try:
        edit_seoul(w, ui, qtbot, how)
        # the window: "Seoul" still highlighted, now checked; one suggestion fewer, no span fewer
        span = w.model.current_span()
        assert (span.start, span.end, span.label, span.status, span.entity_id, bool(span.nil)) == done[:6]
        assert ui.format_at(w.view, at) is not None
        assert w.model.counts() == (total, unchecked - 1)
        assert w.link_panel.state.text().startswith("NIL" if how == "nil" else "Linked: South Korea (Q884)")
        # the database: the user's own layer holds the edit; the model's layer is as it was
        mine = layer(store, user, doc)
        assert len(mine) == total and at_seoul(mine, at) == [done]
        assert [r for r in mine if r[4] != "suggested"] == [(span.id, *done)]
        assert state(store, user, doc) == "in_progress"
        assert layer(store, MODEL_LAYER) == model
        assert last_edit(store, user) == ("nil_span" if how == "nil" else "link_span", False)

        ui.key(w.view, Key.Key_Z, Mod.ControlModifier)
        assert at_seoul(layer(store, user, doc), at) == [as_suggested]
        assert last_edit(store, user)[1] is True
        assert w.model.counts() == (total, unchecked) and w.model.spans[span.id].status == "suggested"
        assert w.menu_actions.redo.text() == ("&Redo mark NIL" if how == "nil" else "&Redo link to South Korea")
        ui.key(w.view, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
        assert at_seoul(layer(store, user, doc), at) == [done] and last_edit(store, user)[1] is False
        assert w.model.counts() == (total, unchecked - 1)
        assert layer(store, MODEL_LAYER) == model
    finally:
        w.close()

    again = open_window(qtbot, q(), user, doc)  # after a restart
    try:
        assert again.model.status() == "in_progress" and again.model.counts() == (total, unchecked - 1)
        span = again.model.spans[span.id]
        assert (span.status, bool(span.nil), span.entity_id) == ("accepted", done[5], done[4])
        ui.key(again.view, Key.Key_Z, Mod.ControlModifier)
        assert at_seoul(layer(store, user, doc), at) == [as_suggested] and last_edit(store, user)[1] is True
        assert again.model.counts() == (total, unchecked)
        assert layer(store, MODEL_LAYER) == model
    finally:
        again.close()


def _unlink(w, ui, qtbot):
    ui.key(w.view, Key.Key_U, Mod.ControlModifier | Mod.ShiftModifier)


def _propagate(w, ui, qtbot):
    ui.key(w.view, Key.Key_P, Mod.ControlModifier | Mod.ShiftModifier)


def _note(w, ui, qtbot):
    note = w.link_panel.note
    note.setFocus()
    qtbot.keyClicks(note, "the government")
    ui.key(note, Key.Key_Return)


def _new_entity(w, ui, qtbot):
    ui.key(w.view, Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    form = w.link_panel.new_form
    assert form.isVisible()
    form.name.selectAll()
    qtbot.keyClicks(form.name, "Seoul city")
    ui.key(form.name, Key.Key_Return)
    if form.isVisible():  # the first Enter only warned of a near-duplicate
        ui.key(form.name, Key.Key_Return)


@pytest.mark.parametrize("act, command", [(_unlink, "unlink_span"), (_propagate, "propagate_link"),
                                          (_note, "set_referent_note"), (_new_entity, "new_entity_from_span")],
                         ids=["unlink", "propagate", "referent note", "new entity"])
def test_ui_first_edit_from_the_link_panel_by_a_reviewer(q, qtbot, ui, act, command):
    store = q()
    doc = first_doc(store)
    model = layer(store, MODEL_LAYER)
    w = open_window(qtbot, store, "ana", doc)
    try:
        at = w.model.text.index("Seoul")
        ui.click(w.view, at + 2)
        shown = w.model.current_span()
        act(w, ui, qtbot)
        assert last_edit(store, "ana") == (command, False), w.statusBar().currentMessage()
        assert layer(store, MODEL_LAYER) == model
        mine = layer(store, "ana", doc)
        assert state(store, "ana", doc) == "in_progress" and len(mine) >= len(layer(store, MODEL_LAYER, doc))
        # the window shows ana's layer, the edited copy current, and nothing of the model's
        assert set(w.model.spans) == {r[0] for r in mine}
        current = w.model.current_span()
        assert (current.start, current.end) == (shown.start, shown.end) and current.id != shown.id
        [copy] = [r for r in mine if r[0] == current.id]
        if command == "unlink_span":
            assert (copy[4], copy[5], copy[6]) == ("accepted", None, False)
        elif command == "set_referent_note":
            assert copy[7] == "the government"
        elif command == "new_entity_from_span":
            assert copy[5] == entity_named(store, "Seoul city") and copy[4] == "accepted"
        else:
            # the model had suggested a link on every other "Seoul" already: the layer is as it was copied
            assert sorted(r[1:] for r in mine) == sorted(r[1:] for r in layer(store, MODEL_LAYER, doc))
        ui.key(w.view, Key.Key_Z, Mod.ControlModifier)
        assert last_edit(store, "ana") == (command, True)
        assert at_seoul(layer(store, "ana", doc), at) == at_seoul(layer(store, MODEL_LAYER, doc), at)
        assert layer(store, MODEL_LAYER) == model
    finally:
        w.close()


def entity_named(store, name: str) -> int | None:
    with store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.name == name))


def test_ui_first_edit_label_all_from_search_shows_the_reviewers_layer(q, qtbot, ui):
    """"Label all matches" as a reviewer's first edit of the open document starts their layer: the
    article shows that layer (not the model's suggestions mixed with it), and Ctrl+Z takes it back."""
    store = q()
    doc = first_doc(store)
    w = open_window(qtbot, store, "ana", doc)
    try:
        suggestions = dict(w.model.spans)
        ui.key(w.view, Key.Key_F, Mod.ControlModifier | Mod.ShiftModifier)
        panel = w.search_panel
        qtbot.waitUntil(panel.query.hasFocus, timeout=2000)
        qtbot.keyClicks(panel.query, "government source")
        ui.key(panel.query, Key.Key_Return)
        assert panel.proxy.rowCount() >= 1
        panel.label_as.setCurrentText("ORG")
        qtbot.mouseClick(panel.label_all, Qt.MouseButton.LeftButton)
        mine = layer(store, "ana", doc)
        assert len(mine) == len(suggestions) + sum(h.document_id == doc for h in panel.hits.rows)
        assert set(w.model.spans) == {r[0] for r in mine}
        assert w.model.status() == "in_progress"
        ui.key(w.view, Key.Key_Z, Mod.ControlModifier)
        assert layer(store, "ana", doc) == [] and state(store, "ana", doc) is None
        assert w.model.spans == suggestions and w.model.status() == "new"
    finally:
        w.close()


@pytest.mark.parametrize("change", ["relinked", "relabelled"])
def test_ui_first_edit_confirms_only_the_suggestion_shown(q, qtbot, ui, change):
    """A suggestion the reviewer looks at is changed by another process (a `suggest` run, a knowledge
    base loaded) before their first edit; Enter confirms what they saw or nothing. Regression: the
    window started the layer from the model's suggestions as they were now and confirmed its copy, so
    a link (a label) nobody in the window had seen was accepted as the reviewer's."""
    store = q()
    doc = first_doc(store)
    w = open_window(qtbot, store, "ana", doc)
    try:
        at = w.model.text.index("Seoul")
        ui.click(w.view, at + 2)
        shown = w.model.current_span()
        assert shown.status == "suggested" and shown.entity_id == entity(store, "Q8684")  # Seoul, the city
        other = q()  # another process changes the suggestion behind the window's back
        with other.atomic() as s:
            row = s.get(Span, shown.id)
            if change == "relinked":
                row.entity_id = entity(store, "Q884")  # South Korea
            else:
                row.label = "LOC"
            row.version += 1
        changed = at_seoul(layer(store, MODEL_LAYER, doc), at)
        ui.key(w.view, Key.Key_Return)
        assert "E037" in w.statusBar().currentMessage()
        assert [r[4] for r in layer(store, "ana", doc)] == ["suggested"] * len(layer(store, "ana", doc))
        assert at_seoul(layer(store, "ana", doc), at) == changed  # started from the suggestions as they are now
        [span] = [v for v in w.model.spans.values() if (v.start, v.end) == (at, at + 5)]  # ... and shown so
        assert (span.label, span.status, span.entity_id) == changed[0][2:5]
        assert w.model.counts()[0] == w.model.counts()[1]  # nothing checked
    finally:
        w.close()
