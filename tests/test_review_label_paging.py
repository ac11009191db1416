"""The dashboard's list of a label's disagreements is read a page at a time: the first screen costs
the documents it shows, not every imperfect document of the project (at 100,000 documents the whole
list took minutes before the first row showed); scrolling to its end reads the next page, and the
rows in the end are those the whole list had, in the same order."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from test_ui_review import dashboard, open_window

from annotator.core.db.annotators import set_role
from annotator.core.db.store import Store
from annotator.core.review import triage
from annotator.ui import qt_agreement

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))

import generate  # noqa: E402


def test_label_list_pages_and_scrolling_reads_the_rest(tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(qt_agreement, "LABEL_PAGE", 30)  # a few pages over 120 documents
    generate.write_project(tmp_path / "p.db", 120, layers=3, review=True)
    store = Store(tmp_path / "p.db")
    set_role(store, "rev", "reviewer")
    window = open_window(qtbot, store, "rev", 1)
    try:
        dash = dashboard(window, qtbot)
        assert dash.annotators == ["layer1", "layer2", "layer3"] and dash.report.overall.n_docs == 120
        with store.Session() as s:
            everything = triage.items(s, dash.annotators, triage.imperfect(dash.report), "ORG")
        assert len(everything) > 100
        dash.list_label("ORG")
        qtbot.waitUntil(lambda: not dash.list_task.running() and bool(dash.disagreement_model.items),
                        timeout=15_000)
        model = dash.disagreement_model
        first = len(model.items)
        assert 30 <= first < len(everything) and model.canFetchMore()
        assert dash.list_heading.text() == (f"Disagreements involving ORG: {first} ({first} open) so far; "
                                            "more as you scroll")
        dash.disagreements.setFocus()
        dash.disagreements.setCurrentIndex(model.index(3, 0))
        while model.canFetchMore():  # a reviewer pressing Ctrl+End until the list ends
            qtbot.keyClick(dash.disagreements, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
            at = dash.disagreements.currentIndex().row()
            item = model.item(at)
            qtbot.waitUntil(lambda: not dash.list_task.running(), timeout=15_000)
            assert model.item(at) is item  # the next page went after it: the reviewer's place is kept
        assert [(i.document_id, i.disagreement) for i in model.items] == \
            [(i.document_id, i.disagreement) for i in everything]
        assert dash.list_heading.text() == f"Disagreements involving ORG: {len(everything)} ({len(everything)} open)"
    finally:
        window.close()
        store.close()


def test_a_label_asked_for_while_another_lists_gets_its_own_first_page(tmp_path, qtbot, monkeypatch):
    """A page answering an earlier request (another label, or the same one asked again) is not shown
    as the first page of the list asked for last."""
    monkeypatch.setattr(qt_agreement, "LABEL_PAGE", 30)
    generate.write_project(tmp_path / "p.db", 60, layers=3, review=True)
    store = Store(tmp_path / "p.db")
    set_role(store, "rev", "reviewer")
    window = open_window(qtbot, store, "rev", 1)
    try:
        dash = dashboard(window, qtbot)
        with store.Session() as s:
            first, _ = triage.items_page(s, dash.annotators, triage.imperfect(dash.report), "PERSON", 0, 30)
        for label in ("ORG", "PERSON", "ORG", "PERSON"):  # quicker than the background reads
            dash.list_label(label)
        qtbot.waitUntil(lambda: not dash.list_task.running() and dash.disagreement_model.more, timeout=15_000)
        dash.disagreement_model.fetchMore()  # the list scrolled to its end: the second page is read...
        assert dash.list_task.running()
        dash.list_label("PERSON")  # ... and the label activated again meanwhile: its first page again
        qtbot.waitUntil(lambda: not dash.list_task.running() and "PERSON:" in dash.list_heading.text()
                        and "listing" not in dash.list_heading.text(), timeout=15_000)
        qtbot.wait(200)  # nothing else arrives after it
        assert not dash.list_task.running()
        assert [(i.document_id, i.disagreement) for i in dash.disagreement_model.items] == \
            [(i.document_id, i.disagreement) for i in first]
    finally:
        window.close()
        store.close()
