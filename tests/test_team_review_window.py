"""Two reviewers adjudicating the same document from two desktops: the adjudication view shows the
other's decisions without a restart, and a decision someone else took first is refused (E160) with
the view brought up to date."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_review_adjudication import gold_spans
from test_ui_review import adjudicate, reviewer, team  # noqa: F401 (fixtures)

from annotator.core.db.annotators import set_role
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.review.adjudication import start_adjudication

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)
Key = Qt.Key


def test_team_review_window_shows_another_reviewers_decisions(team, reviewer, qtbot):  # noqa: F811
    store, d0 = team
    reviewer.watcher.timer.setInterval(50)
    view = adjudicate(reviewer, qtbot)
    assert view.current().disagreement.kind == "missing" and view.current().decision is None
    set_role(store, "rev2", "reviewer")
    other = Store(store.url)  # rev2, on another desktop
    theirs = start_adjudication(other, d0, Project(other, "rev2").stack, ["ana", "bob"])
    missing = next(d for d in theirs if d.kind == "missing")
    theirs.take(missing, "ana")  # Kim Kwan-jin into gold, by rev2
    qtbot.waitUntil(lambda: view.progress.text().startswith("1 of 4 resolved"), timeout=5000)
    assert "Kim Kwan-jin" in [view.text[s.start:s.end] for s in view.gold.spans.values()]
    assert reviewer.statusBar().currentMessage().startswith("Updated with changes by rev2 (")
    link = next(d for d in theirs if d.kind == "link")
    reviewer.watcher.timer.stop()  # rev decides before seeing rev2's next decision
    theirs.take(link, "bob")
    while view.current().disagreement.kind != "link":
        qtbot.keyClick(view.table, Key.Key_N)
    assert view.current().decision is None  # what rev sees: still open
    qtbot.keyClick(view.table, Key.Key_A)  # take ana's: too late
    assert view.error.isVisible() and view.error.text().startswith("[E160]") and "rev2" in view.error.text()
    assert view.current().decision is not None  # the view now shows rev2's decision
    assert ("Japan", "GPE", "NIL") in gold_spans(store, d0) and ("Japan", "GPE", "Q17") in gold_spans(store, d0)
    assert sorted(gold_spans(store, d0)).count(("Japan", "GPE", "Q17")) == 1  # only the agreed one
    other.close()
