"""The adjudication view on a project imported with the model's suggestions, driven by keys as a
reviewer would: what the list offers and what reaches gold are decisions, never an unchecked
suggestion, and a decision replaces what gold held in its region (window and database)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from test_review_trust import checked, gold_versions, settle, suggested  # noqa: F401 (fixture)
from test_review import entity_id
from test_review_adjudication import gold_spans
from test_ui_review import activate, open_window, reviewer, team  # noqa: F401 (fixtures)


Key = Qt.Key


@pytest.fixture
def project(suggested):  # noqa: F811 (the fixture)
    """The seeds with the model's suggestions; in article 0 ana and bob both checked "Japan" (GPE, Q17),
    ana also "Seoul" (its suggested link); both delete every other suggestion (an unchecked one would be
    a region to decide too: test_review_trust.py)."""
    store, d, ana, bob = suggested
    text = ana.document(d).text
    japan, seoul = text.index("Japan"), text.index("Seoul")
    spans = {}
    for p in (ana, bob):
        p.open_document(d)
        spans[p.user] = checked(p, d, japan, japan + 5, "GPE")
        p.link(spans[p.user], entity_id(store, "Q17"))
    checked(ana, d, seoul, seoul + 5, "GPE")
    settle(ana, bob, d=d)
    return store, d, bob, spans["bob"], japan, seoul


def test_ui_review_trust_adjudication_by_keys_puts_only_decisions_in_gold(project, qtbot):
    store, d, bob, bob_japan, japan, seoul = project
    w = open_window(qtbot, store, "rev", d)
    try:
        qtbot.keyClick(w, Key.Key_J, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        view = w.review.adjudication
        activate(qtbot, view)
        # the one span both checked went to gold
        assert gold_versions(store, d) == {(japan, japan + 5, "GPE", "Q17")}
        assert sorted(view.text[s.start:s.end] for s in view.gold.spans.values()) == ["Japan"]
        assert [(i.disagreement.kind, i.disagreement.start) for i in view.model.items] == [("missing", seoul)]
        assert view.cards.versions[1].spans.text() == "(no span)"  # bob deleted his
        assert view.progress.text().startswith("0 of 1 resolved")

        bob.relabel(bob_japan, "ORG")  # bob, at his desk, changes his mind after the agreement went to gold
        view.reload()
        assert [(i.disagreement.kind, i.disagreement.start) for i in view.model.items] == [
            ("label", japan), ("missing", seoul)]
        view._select(0)
        qtbot.keyClick(view.table, Key.Key_B)  # take bob's ORG: gold's GPE there goes
        assert gold_versions(store, d) == {(japan, japan + 5, "ORG", "Q17")}
        assert [(s.start, s.label) for s in view.gold.spans.values()] == [(japan, "ORG")]
        assert view.current().disagreement.kind == "missing"
        qtbot.keyClick(view.table, Key.Key_R)  # Seoul: reject
        assert view.progress.text().startswith("2 of 2 resolved")
        assert gold_versions(store, d) == {(japan, japan + 5, "ORG", "Q17")}

        qtbot.keyClick(view.table, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the rejection
        qtbot.keyClick(view.table, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # taking ORG: GPE is back
        assert gold_versions(store, d) == {(japan, japan + 5, "GPE", "Q17")}
        assert [(s.start, s.label) for s in view.gold.spans.values()] == [(japan, "GPE")]
        assert view.current().disagreement.kind == "label" and view.current().decision is None
        view.close()
    finally:
        w.close()


def test_ui_review_trust_edit_of_a_link_disagreement_takes_no_side(team, reviewer, qtbot):
    """ana linked the second "Japan" to Q17, bob marked it NIL. E then Enter (the span as it is) put
    ana's Q17 into gold, silently settling the dispute for her; the edit now keeps a link only where
    the versions agree on it (A / B choose a side)."""
    store, d0 = team
    qtbot.keyClick(reviewer, Key.Key_J, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    view = reviewer.review.adjudication
    activate(qtbot, view)
    row = [i.disagreement.kind for i in view.model.items].index("link")
    view._select(row)
    qtbot.keyClick(view.table, Key.Key_E)
    qtbot.keyClick(view.view, Key.Key_Return)
    assert ("Japan", "GPE", None) in gold_spans(store, d0)
    assert ("Japan", "GPE", "Q17") in gold_spans(store, d0)  # the first Japan, agreed, keeps its link
    assert gold_spans(store, d0).count(("Japan", "GPE", "Q17")) == 1
    view.close()
