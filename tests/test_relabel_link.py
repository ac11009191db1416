"""Relabelling or resizing a suggestion checks the span, not its suggested link: the link is dropped
rather than confirmed unseen. Regression: the span became "accepted" with the model's (the alias
prior's) link, which every export then wrote as a person's decision, and unlinking it later took a
count off the alias that somebody else's Enter had added."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select
from test_ui_first_edit import entity, first_doc, q, readme_project  # noqa: F401, F811 (fixtures)
from test_ui_review import open_window

from annotator.core.db.models import Alias, Span
from annotator.core.project import Project
from annotator.io.exporting import export

pytestmark = pytest.mark.single_backend


def seoul(project: Project, doc: int) -> Span:
    """The annotator's copy of the suggestion on the first "Seoul" (the layer started on opening)."""
    at = project.document(doc).text.index("Seoul")
    project.read_layer(doc)
    with project.store.Session() as s:
        return s.scalars(select(Span).where(Span.document_id == doc, Span.annotator_id == project.annotator_id,
                                            Span.start == at)).one()


def fields(project: Project, span_id: int) -> tuple:
    with project.store.Session() as s:
        row = s.get(Span, span_id)
        return row.start, row.end, row.label, row.status, row.entity_id, row.link_source


def korea_count(store) -> int:
    with store.Session() as s:
        return s.scalar(select(Alias.count).where(Alias.text == "Seoul", Alias.entity_id == entity(store, "Q8684")))


@pytest.mark.parametrize("edit", ["relabel", "resize"])
def test_relabel_link_a_suggestions_link_is_dropped_not_confirmed(q, tmp_path, edit):  # noqa: F811
    store = q()
    bob = Project(store, "bob")
    doc = first_doc(store)
    span = seoul(bob, doc)
    suggested = fields(bob, span.id)
    assert suggested[3:5] == ("suggested", entity(store, "Q8684"))
    count = korea_count(store)
    if edit == "relabel":
        bob.relabel(span.id, "LOC", version=span.version)
    else:
        bob.move(span.id, span.start, span.end + 2, version=span.version)  # "Seoul's" (say)
    done = fields(bob, span.id)
    assert done[3:] == ("accepted", None, None)  # checked, and not linked by anyone
    assert korea_count(store) == count

    bob.set_status(doc, "done")
    out = tmp_path / "bob.jsonl"
    export(store, "jsonl", out, layer="bob", status="done")
    [task] = [json.loads(line) for line in out.read_text().splitlines()]
    [exported] = [sp for sp in task["spans"] if sp["start"] == span.start]
    assert "kb_id" not in exported or exported["kb_id"] is None

    bob.stack.undo()  # mark done
    bob.stack.undo()
    assert fields(bob, span.id) == suggested  # the suggestion with its link, as it was
    bob.stack.redo()
    assert fields(bob, span.id) == done


def test_relabel_link_a_checked_link_stays_with_its_span(q):  # noqa: F811
    """A link somebody confirmed (Enter) is theirs: relabelling the span afterwards keeps it."""
    store = q()
    bob = Project(store, "bob")
    doc = first_doc(store)
    span = seoul(bob, doc)
    bob.accept(span.id, version=span.version)
    again = fields(bob, span.id)
    assert again[3:5] == ("accepted", entity(store, "Q8684"))
    with store.Session() as s:
        version = s.get(Span, span.id).version
    bob.relabel(span.id, "LOC", version=version)
    assert fields(bob, span.id)[2:5] == ("LOC", "accepted", entity(store, "Q8684"))


def test_relabel_link_the_window_shows_the_span_unlinked_after_a_label_key(q, qtbot, ui):  # noqa: F811
    store = q()
    doc = first_doc(store)
    w = open_window(qtbot, store, "bob", doc)
    try:
        at = w.model.text.index("Seoul")
        ui.click(w.view, at + 2)
        assert w.model.current_span().entity_id == entity(store, "Q8684")
        ui.key(w.view, Qt.Key.Key_4)  # LOC
        span = w.model.current_span()
        assert (span.label, span.status, span.entity_id) == ("LOC", "accepted", None)
        assert not w.link_panel.state.text().startswith("Linked")
        assert fields(Project(store, "bob"), span.id)[2:5] == ("LOC", "accepted", None)
    finally:
        w.close()
