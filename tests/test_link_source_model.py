"""Who chose a suggested link, with a real trained entity linker (test_model_loop's run): the linker's
own choices are "the model's choice"; where it had no candidate the alias prior fills in, and the link
panel says so. The places' aliases are gone (the prior cannot link them: what is linked, the linker
chose) and GSOMIA is added to the knowledge base after training (the linker has no candidate for it:
the prior's fill-in)."""

import pytest
from PySide6.QtCore import Qt

from annotator.core.db.models import Alias, Document, Entity, Span
from annotator.core.db.store import Store
from annotator.core.kb.suggestions import linker_choice, suggested_by
from annotator.core.project import Project
from annotator.ui.qt_link_panel import MODEL_MARK, PRIOR_MARK

from factories import write_jsonl
from test_model_loop import PLACES, cli, project_dir, trained, window_on  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
Key = Qt.Key
Mod = Qt.KeyboardModifier


def suggest_with_a_gap(project_dir, prior_of_places: bool = False) -> tuple[Store, dict[str, int]]:
    """Re-suggest with the linking run where the linker has no candidate for GSOMIA; kb_id → entity id.
    Without `prior_of_places` the places' aliases are gone first: a place linked, the linker linked."""
    db = project_dir / "p.db"
    store = Store(str(db))
    if not prior_of_places:
        with store.atomic() as s:
            s.query(Alias).filter(Alias.text.in_(PLACES)).delete(synchronize_session=False)
    gsomia = write_jsonl(project_dir / "kb.jsonl", [{"id": "local:gsomia", "name": "GSOMIA", "type": "AGREEMENT"}])
    assert cli(db, "kb", "import", gsomia).exit_code == 0
    result = cli(db, "suggest", "--model", "first")
    assert result.exit_code == 0, result.output
    with store.Session() as s:
        return store, dict(s.query(Entity.kb_id, Entity.id).all())


def test_link_source_resuggest_tells_the_linkers_links_from_the_priors(project_dir):
    store, entity = suggest_with_a_gap(project_dir)
    ben = Project(store, "ben")
    doc = ben.document_ids(["new-1"])["new-1"]
    text = ben.document(doc).text
    opened = {text[v.start:v.end]: v for v in ben.open_document(doc)}
    with store.Session() as s:
        model = {text[r.start:r.end]: (r.entity_id, r.link_source) for r in s.query(Span).filter(
            Span.document_id == doc, Span.annotator_id != ben.annotator_id)}
        mine = {text[r.start:r.end]: (r.entity_id, r.link_source) for r in s.query(Span).filter(
            Span.document_id == doc, Span.annotator_id == ben.annotator_id)}
        assert model["Seoul"] == mine["Seoul"] == (entity["local:seoul"], "linker")
        assert model["Manila"] == mine["Manila"] == (entity["local:manila"], "linker")
        assert model["GSOMIA"] == mine["GSOMIA"] == (entity["local:gsomia"], "prior")  # the linker had none
        gsomia, seoul = opened["GSOMIA"].id, opened["Seoul"].id
        assert suggested_by(s, gsomia) == (entity["local:gsomia"], "prior")
        assert linker_choice(s, gsomia) is None  # not the model's choice
        assert linker_choice(s, seoul) == entity["local:seoul"]
    # the ranking pulls the linker's own choice only: the prior's fill-in scores as the prior ranks it
    label = opened["GSOMIA"].label
    plain = ben.candidates(doc, "GSOMIA", label)
    marked = ben.candidates(doc, "GSOMIA", label, span_id=gsomia)
    assert [(c.entity_id, c.score) for c in marked] == [(c.entity_id, c.score) for c in plain]
    assert marked[0].suggested == "prior" and not marked[0].model
    store.close()


def test_link_source_importing_with_a_linking_suggester_marks_the_linkers_links(project_dir):
    """New articles pre-annotated by the suggester at import: its linker's links are "linker"."""
    store, entity = suggest_with_a_gap(project_dir)
    db = project_dir / "p.db"
    assert cli(db, "models", "use", "first").exit_code == 0
    fresh = write_jsonl(project_dir / "later.jsonl", [{"text": "Officials in Jakarta said GSOMIA protects Canberra.",
                                                       "meta": {"name": "later-1"}}])
    result = cli(db, "import", fresh, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    with store.Session() as s:
        doc = s.query(Document.id).filter(Document.name == "later-1").scalar()
        text = s.get(Document, doc).text
        found = {text[r.start:r.end]: (r.entity_id, r.link_source) for r in s.query(Span).filter(
            Span.document_id == doc) if r.entity_id is not None}
    assert found["Jakarta"] == (entity["local:jakarta"], "linker")
    assert found["Canberra"] == (entity["local:canberra"], "linker")
    if "GSOMIA" in found:  # the NER may not find it in this sentence; when it does, the prior linked it
        assert found["GSOMIA"] == (entity["local:gsomia"], "prior")
    store.close()


def row_of(store, span_id: int) -> tuple:
    with store.Session() as s:
        r = s.get(Span, span_id)
        return r.entity_id, r.status, r.link_source


def test_link_source_panel_marks_the_models_choice_and_the_priors_apart(project_dir, qtbot, ui):
    """ben clicks GSOMIA: the prior's fill-in is not called the model's choice; Tab to Manila, which the
    linker chose; he links it to another entity from the keyboard (a person's link: no mark), undoes
    (the linker's suggestion and its mark are back), redoes; Enter on GSOMIA confirms it as it stands.
    The places keep their aliases here, so they have candidates to show."""
    store, entity = suggest_with_a_gap(project_dir, prior_of_places=True)
    project = Project(store, "ben")
    doc = project.document_ids(["new-1"])["new-1"]
    w = window_on(project, doc, qtbot)
    text = project.document(doc).text
    at = {text[v.start:v.end]: v for v in project.spans(doc)}
    panel = w.link_panel
    gsomia, manila = at["GSOMIA"].id, at["Manila"].id

    ui.click(w.view, at["GSOMIA"].start + 1)
    assert w.model.current == gsomia
    qtbot.waitUntil(lambda: [c.kb_id for c in panel.entries][:1] == ["local:gsomia"], timeout=3000)
    first = panel.list.item(0)
    assert PRIOR_MARK in first.text() and "model's choice" not in first.text()
    assert "entity linker" not in first.toolTip() and "linked this text to it most often" in first.toolTip()
    assert panel.state.text().startswith(f"Suggested link: GSOMIA (local:gsomia)  {PRIOR_MARK}")
    assert "model's choice" not in panel.state.text()
    assert row_of(store, gsomia) == (entity["local:gsomia"], "suggested", "prior")

    ui.key(w.view, Key.Key_Tab)  # on to Manila, the linker's choice
    assert w.model.current == manila
    qtbot.waitUntil(lambda: "local:manila" in [c.kb_id for c in panel.entries], timeout=3000)
    shown = {c.kb_id: panel.list.item(i).text() for i, c in enumerate(panel.entries)}
    assert MODEL_MARK in shown["local:manila"] and all(MODEL_MARK not in t for k, t in shown.items()
                                                        if k != "local:manila")
    assert panel.state.text().startswith(f"Suggested link: Manila (local:manila)  {MODEL_MARK}")

    ui.key(w.view, Key.Key_L)  # a person's link instead: the id typed, Enter
    qtbot.keyClicks(panel.search, "local:tokyo")
    qtbot.waitUntil(lambda: [c.kb_id for c in panel.entries][:1] == ["local:tokyo"], timeout=3000)
    ui.key(panel.search, Key.Key_Return)
    assert row_of(store, manila) == (entity["local:tokyo"], "accepted", "person")
    assert panel.state.text() == "Linked: Tokyo (local:tokyo)"
    qtbot.waitUntil(lambda: not panel.timer.isActive(), timeout=3000)
    assert all(MODEL_MARK not in panel.list.item(i).text() for i in range(panel.list.count()))

    ui.key(w.view, Key.Key_Z, Mod.ControlModifier)  # undo: the linker's suggestion, said to be its own
    assert row_of(store, manila) == (entity["local:manila"], "suggested", "linker")
    assert panel.state.text().startswith(f"Suggested link: Manila (local:manila)  {MODEL_MARK}")
    ui.key(w.view, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)  # redo: the person's link again
    assert row_of(store, manila) == (entity["local:tokyo"], "accepted", "person")
    assert panel.state.text() == "Linked: Tokyo (local:tokyo)"

    ui.click(w.view, at["GSOMIA"].start + 1)
    ui.key(w.view, Key.Key_Return)  # Enter confirms the prior's link as it stands: it stays the prior's
    assert row_of(store, gsomia) == (entity["local:gsomia"], "accepted", "prior")
    ui.click(w.view, at["GSOMIA"].start + 1)
    assert panel.state.text() == "Linked: GSOMIA (local:gsomia)"
    w.close()
    store.close()
