"""The review windows, used as a reviewer would: the agreement dashboard (numbers from the core,
click-through to disagreements), the adjudication view (each kind resolved by keyboard, undo, gold in
the database), the reviewer guard, merging a colleague's file from the window, model provenance."""

from __future__ import annotations

import pytest
from conftest import show_active
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, insert, select
from test_review import SEEDS, doc_id, entity_id, label, make_store
from test_merge import _adjudicated
from test_review_adjudication import gold_spans
from test_ui_done import press, shown_box

from annotator.core.db.annotators import GOLD, get_annotator, set_role
from annotator.core.db.models import Annotator, DocumentState, Entity, Event, Span
from annotator.core.db.provenance_counts import refresh
from annotator.core.db.store import Store
from annotator.core.guidelines import guidelines
from annotator.core.project import Project
from annotator.core.review.decisions import decisions
from annotator.core.review.inputs import project_agreement
from annotator.core.review.provenance import provenance
from annotator.io.merging import merge
from annotator.ui.qt_agreement import MEASURES, ValueRole, cell

Key = Qt.Key


@pytest.fixture
def team(tmp_path):
    """ana and bob label articles 0 and 1. In article 0 they agree on S.Korea and the first Japan and
    disagree in each way: Kim Kwan-jin only ana's (missing), the second Japan linked differently
    (link), "Japanese" / "Japanese counterpart" (boundary), Naoki Tanaka PERSON / ORG (label). Both
    mark both articles done. rev is a reviewer."""
    store = make_store(tmp_path / "team.db", docs=(0, 1))
    d0, d1 = doc_id(store, 0), doc_id(store, 1)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    for p in (ana, bob):
        p.open_document(d0)
        p.open_document(d1)
        label(p, d0, "S.Korea", "GPE", kb="Q884")
        label(p, d0, "Japan", "GPE", kb="Q17")
        label(p, d1, "South Korea", "GPE", kb="Q884")
    label(ana, d0, "Kim Kwan-jin", "PERSON")
    label(ana, d0, "Japan", "GPE", nth=1, kb="Q17")
    label(bob, d0, "Japan", "GPE", nth=1, kb="NIL")
    label(ana, d0, "Naoki Tanaka", "PERSON")
    label(bob, d0, "Naoki Tanaka", "ORG")
    label(ana, d0, "Japanese", "NORP")
    label(bob, d0, "Japanese counterpart", "NORP")
    for p in (ana, bob):
        for d in (d0, d1):  # agreement compares finished documents
            p.set_status(d, "done")
    set_role(store, "rev", "reviewer")
    yield store, d0
    store.close()


def open_window(qtbot, store, user, document_id):
    from annotator.ui.qt_app import make_window

    w = make_window(Project(store, user))
    w.use_model = False
    qtbot.addWidget(w)
    w.resize(1280, 800)
    show_active(qtbot, w)
    w.refresh_documents()
    w.open_document(document_id)
    return w


@pytest.fixture
def reviewer(team, qtbot):
    store, d0 = team
    w = open_window(qtbot, store, "rev", d0)
    yield w
    w.close()


def activate(qtbot, widget) -> None:
    """Make a review window the active one, as a click on it would: its keys reach only it. (The
    window system activates asynchronously; wait until Qt agrees.)"""
    show_active(qtbot, widget)
    qtbot.waitUntil(widget.isActiveWindow, timeout=5_000)


def dashboard(window, qtbot):
    """Review → Agreement… by its shortcut, and wait for the report."""
    qtbot.keyClick(window, Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dash = window.review.dashboard
    assert dash is not None and dash.isVisible()
    qtbot.waitUntil(lambda: dash.report is not None and not dash.task.running(), timeout=15_000)
    return dash


def rows(model):
    """(title, [value per measure]) per row of a measures table, values as the model holds them."""
    out = []
    for r in range(model.rowCount()):
        values = [model.index(r, c).data(ValueRole) for c in range(1, len(MEASURES) + 1)]
        out.append((model.index(r, 0).data(), values))
    return out


def measures(m):
    return [getattr(m, key) for key, _ in MEASURES]


def event_count(store):
    with store.Session() as s:
        return s.scalar(select(func.count()).select_from(Event))


def test_ui_review_dashboard_ticks_the_reviewers_own_layer(team, qtbot):
    """Regression: a reviewer with a layer of her own (ana) was left out by default, so the dashboard
    compared bob and carol, who share no document: "0 documents", all dashes, while `annotator
    agreement` compared ana / bob. Her layer is a layer like any other."""
    store, d0 = team
    set_role(store, "ana", "reviewer")
    carol = Project(store, "carol")
    d1 = doc_id(store, 1)
    carol.open_document(d1)
    label(carol, d1, "South Korea", "GPE", kb="Q884")
    carol.set_status(d1, "done")
    w = open_window(qtbot, store, "ana", d0)
    try:
        dash = dashboard(w, qtbot)
        assert [(n, box.isChecked()) for n, box in dash.checks.items()] == [("ana", True), ("bob", True),
                                                                            ("carol", True)]
        core = project_agreement(store)  # as `annotator agreement` computes it: every person's layer
        assert [p.a + " / " + p.b for p in core.pairs] == ["ana / bob", "ana / carol", "bob / carol"]
        assert rows(dash.pairs_model) == [("Overall", measures(core.overall))] + [
            (f"{p.a} / {p.b}", measures(p.measures)) for p in core.pairs]
        ana_bob = dash.pairs.model().index(1, 1).data()
        assert ana_bob == f"{core.pairs[0].measures.span_f1_exact:.3f}" != "–"
        assert dash.status.text().startswith("Agreement of ana, bob, carol over 2 documents")
    finally:
        w.close()


def test_ui_review_dashboard_shows_the_cores_numbers(team, reviewer, qtbot):
    store, d0 = team
    dash = dashboard(reviewer, qtbot)
    assert dash.chosen() == ["ana", "bob"]  # rev has no layer: opening a document starts none
    core = project_agreement(store, ["ana", "bob"])
    assert rows(dash.pairs_model) == [("Overall", measures(core.overall)), ("ana / bob", measures(core.pairs[0].measures))]
    assert rows(dash.labels_model) == [(k, measures(m)) for k, m in core.by_label.items()]
    titles = {d.name: d.title for d in reviewer.project.documents()}  # documents are shown by title
    assert rows(dash.documents_model) == [(titles[k], measures(m)) for k, m in core.by_document.items()]
    # what the table shows is those numbers, three decimals, "–" where undefined
    overall = core.overall
    shown = [dash.pairs.model().index(0, c).data() for c in range(1, len(MEASURES) + 1)]
    assert shown == [cell(v) for v in measures(overall)]
    assert shown[0] == f"{overall.span_f1_exact:.3f}" and shown[-1] == "2"
    assert dash.labels_model.index(list(core.by_label).index("PERSON"), 5).data() == "–"  # no PERSON link matched
    # one painted bar per label, with the core's F1
    assert [(name, m) for name, m, _ in dash.bars.rows] == list(core.by_label.items())
    assert cell(-0.0004) == "0.000"  # no "-0.000" for a value that rounds to zero


def test_ui_review_dashboard_says_how_many_documents_entered_and_that_only_finished_ones_count(team, reviewer,
                                                                                              qtbot):
    store, d0 = team
    dash = dashboard(reviewer, qtbot)
    assert dash.entered.isVisible()
    assert dash.entered.text() == (
        "2 documents entered. Only documents two or more of them finished (marked done; a colleague's "
        "imported file counts as done) count, with their accepted spans: suggestions nobody checked are left out.")
    Project(store, "bob").set_status(doc_id(store, 1), "in_progress")  # bob reopens article 1
    activate(qtbot, dash)
    qtbot.keyClick(dash, Key.Key_F5)
    qtbot.waitUntil(lambda: dash.entered.text().startswith("1 document entered."), timeout=15_000)
    assert [k for k, _ in rows(dash.documents_model)] == [reviewer.project.document(d0).title]  # by title
    assert project_agreement(store, ["ana", "bob"]).overall.n_docs == 1


def test_ui_review_document_row_lists_its_disagreements_and_opens_adjudication(team, reviewer, qtbot):
    store, d0 = team
    dash = dashboard(reviewer, qtbot)
    table = dash.documents
    names = [table.model().index(r, 0).data(ValueRole) for r in range(table.model().rowCount())]
    table.setFocus()
    table.setCurrentIndex(table.model().index(names.index(SEEDS[0].stem), 0))
    qtbot.keyClick(table, Key.Key_Return)
    model = dash.disagreement_model
    assert [i.disagreement.kind for i in model.items] == ["missing", "link", "boundary", "label"]
    title = reviewer.project.document(d0).title
    assert dash.list_heading.text() == f"Disagreements in {title}: 4 (4 open)"
    # Enter on the third (boundary) opens the adjudication view there
    dash.disagreements.setFocus()
    dash.disagreements.setCurrentIndex(model.index(2, 0))
    qtbot.keyClick(dash.disagreements, Key.Key_Return)
    view = reviewer.review.adjudication
    assert view is not None and view.isVisible() and view.document_id == d0
    assert view.current().disagreement.kind == "boundary"
    assert view.progress.text() == "0 of 4 resolved · 2 agreed spans went to gold"
    assert gold_spans(store, d0) == [("S.Korea", "GPE", "Q884"), ("Japan", "GPE", "Q17")]
    # a decision in the view shows in the dashboard's list
    activate(qtbot, view)
    qtbot.keyClick(view.table, Key.Key_B)
    assert model.items[2].decision is not None and model.items[2].decision.taken == "bob"
    assert dash.list_heading.text() == f"Disagreements in {title}: 4 (3 open)"


def test_ui_review_documents_named_by_title_with_the_id_in_the_tooltip(team, reviewer, qtbot):
    """Regression: agreement and adjudication named documents by their id (`000_8c62d622aab8081a`)
    where the document list shows titles."""
    store, d0 = team
    title, name = reviewer.project.document(d0).title, SEEDS[0].stem
    assert title and title != name
    listed = {d.title for d in reviewer.documents.model.docs}
    assert title in listed
    dash = dashboard(reviewer, qtbot)
    model = dash.documents_model
    row = [model.index(r, 0).data(ValueRole) for r in range(model.rowCount())].index(name)
    assert model.index(row, 0).data() == title
    assert name in model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    shown = {model.index(r, 0).data() for r in range(model.rowCount())}
    assert not any(n.startswith("00") for n in shown)  # no id where a title exists
    dash.list_label("PERSON")
    qtbot.waitUntil(lambda: bool(dash.disagreement_model.items), timeout=15_000)
    items = dash.disagreement_model
    col = items.columns.index("Document")
    assert items.index(0, col).data() == title
    assert name in items.index(0, col).data(Qt.ItemDataRole.ToolTipRole)
    view = reviewer.review.adjudicate(d0, ["ana", "bob"])
    assert view.heading.text() == title and name in view.heading.toolTip()
    assert view.windowTitle() == f"Adjudicate {title} — annotator"
    view.close()


def test_ui_review_label_bar_click_lists_that_labels_disagreements(team, reviewer, qtbot):
    store, d0 = team
    dash = dashboard(reviewer, qtbot)
    bars = dash.bars
    i = [name for name, _, _ in bars.rows].index("NORP")
    qtbot.mouseClick(bars, Qt.MouseButton.LeftButton, pos=QPoint(40, int(bars.row_rect(i).center().y())))
    assert dash.list_heading.text() == "Disagreements involving NORP: listing…"  # in the background
    qtbot.waitUntil(lambda: not dash.list_task.running(), timeout=10_000)
    assert dash.list_heading.text() == "Disagreements involving NORP: 1 (1 open)"
    assert [(i.document, i.disagreement.kind) for i in dash.disagreement_model.items] == [(SEEDS[0].stem, "boundary")]


def adjudicate(reviewer, qtbot):
    """Review → Adjudicate document… (Ctrl+Shift+J) on the open article."""
    qtbot.keyClick(reviewer, Key.Key_J, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    view = reviewer.review.adjudication
    assert view is not None
    activate(qtbot, view)
    return view


def test_ui_review_each_kind_resolved_by_keyboard_then_undo(team, reviewer, qtbot):
    store, d0 = team
    view = adjudicate(reviewer, qtbot)
    assert view.annotators == ["ana", "bob"]
    assert [i.disagreement.kind for i in view.model.items] == ["missing", "link", "boundary", "label"]
    assert view.current().disagreement.kind == "missing"
    assert view.cards.versions[0].spans.text() == "“Kim Kwan-jin” PERSON"
    assert view.cards.versions[1].spans.text() == "(no span)"

    qtbot.keyClick(view.table, Key.Key_A)  # missing: take ana's
    assert view.current().disagreement.kind == "link"  # on to the next open one
    assert view.progress.text().startswith("1 of 4 resolved")
    qtbot.keyClick(view.table, Key.Key_B)  # link: take bob's (NIL)
    assert view.current().disagreement.kind == "boundary"
    qtbot.keyClick(view.table, Key.Key_E)  # boundary: edit, from ana's "Japanese" ...
    first = view.current().disagreement.spans["ana"][0]
    assert view.editing and view.view.selection() == (first.start, first.end)
    qtbot.keyClick(view.view, Key.Key_Left, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    start, end = view.view.selection()
    assert view.text[start:end] == "his Japanese"  # ... its start a token to the left
    qtbot.keyClick(view.view, Key.Key_Return)  # keeps the label shown (NORP)
    assert not view.editing and view.current().disagreement.kind == "label"
    qtbot.keyClick(view.table, Key.Key_R)  # label: reject
    assert view.progress.text().startswith("4 of 4 resolved")

    gold = gold_spans(store, d0)
    assert sorted(gold) == sorted([("S.Korea", "GPE", "Q884"), ("Japan", "GPE", "Q17"), ("Kim Kwan-jin", "PERSON", None),
                                   ("Japan", "GPE", "NIL"), ("his Japanese", "NORP", None)])
    with store.Session() as s:
        found = [(x.kind, x.disagreement, x.taken, x.reviewer) for x in decisions(s, d0)]
    assert found == [("take", "missing", "ana", "rev"), ("take", "link", "bob", "rev"),
                     ("edit", "boundary", None, "rev"), ("reject", "label", None, "rev")]
    # the gold article in the view shows what the database has
    assert sorted(view.text[s.start:s.end] for s in view.gold.spans.values()) == sorted(t for t, _, _ in gold)

    qtbot.keyClick(view.table, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the rejection
    assert view.progress.text().startswith("3 of 4 resolved")
    assert view.current().disagreement.kind == "label" and view.current().decision is None
    qtbot.keyClick(view.table, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # and the edit
    assert ("his Japanese", "NORP", None) not in gold_spans(store, d0)
    assert view.current().disagreement.kind == "boundary"
    with store.Session() as s:
        assert [x.disagreement for x in decisions(s, d0)] == ["missing", "link"]
    assert "his Japanese" not in [view.text[s.start:s.end] for s in view.gold.spans.values()]

    qtbot.keyClick(view.table, Key.Key_N)  # N / P move through the list
    assert view.current().disagreement.kind == "label"
    qtbot.keyClick(view.table, Key.Key_P)
    qtbot.keyClick(view.table, Key.Key_P)
    assert view.current().disagreement.kind == "link"
    assert view.cards.kind.text().endswith("(decided)")


def test_ui_review_a_decided_disagreement_cannot_be_decided_again(team, reviewer, qtbot):
    store, d0 = team
    view = adjudicate(reviewer, qtbot)
    qtbot.keyClick(view.table, Key.Key_A)
    qtbot.keyClick(view.table, Key.Key_P)  # back on the decided one
    before = event_count(store)
    qtbot.keyClick(view.table, Key.Key_B)
    assert view.error.isVisible() and view.error.text().startswith("[E160]")
    assert event_count(store) == before
    qtbot.keyClick(view.table, Key.Key_N)  # moving on clears the message
    assert not view.error.isVisible()


def test_ui_review_annotator_cannot_open_review_or_adjudicate(team, qtbot):
    store, d0 = team
    before, gold_before = event_count(store), gold_spans(store, d0)
    w = open_window(qtbot, store, "ana", d0)
    try:
        before = event_count(store)  # opening the window may start nothing new: ana's layer exists
        mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        qtbot.keyClick(w, Key.Key_A, mods)
        assert w.review.dashboard is None
        assert w.statusBar().currentMessage().startswith("[E164] 'ana' is not a reviewer")
        qtbot.keyClick(w, Key.Key_J, mods)
        assert w.review.adjudication is None
        assert w.statusBar().currentMessage().startswith("[E156]")
        assert event_count(store) == before and gold_spans(store, d0) == gold_before == []
    finally:
        w.close()


def test_ui_review_reviewer_demoted_meanwhile_gets_the_coded_error(team, reviewer, qtbot):
    store, d0 = team
    view = adjudicate(reviewer, qtbot)
    gold = gold_spans(store, d0)
    set_role(store, "rev", "annotator")
    before = event_count(store)
    qtbot.keyClick(view.table, Key.Key_A)
    assert view.error.isVisible() and view.error.text().startswith("[E156]")
    assert reviewer.statusBar().currentMessage().startswith("[E156]")
    assert view.progress.text().startswith("0 of 4 resolved")
    assert gold_spans(store, d0) == gold and event_count(store) == before


@pytest.fixture
def theirs(team, tmp_path):
    """A colleague's project file: cy labels article 0 and 2, and calls Q17 "Nippon"."""
    other = make_store(tmp_path / "theirs.db", docs=(0, 2))
    cy = Project(other, "cy")
    d0, d2 = doc_id(other, 0), doc_id(other, 2)
    cy.open_document(d0)
    cy.open_document(d2)
    label(cy, d0, "Kim Kwan-jin", "PERSON")
    label(cy, d2, "Japan", "GPE", kb="Q17")
    cy.edit_entity(entity_id(other, "Q17"), name="Nippon")
    other.close()
    return tmp_path / "theirs.db"


def merge_from_the_window(qtbot, window, path):
    """File → Merge project… (Ctrl+Shift+M), the file typed into the chooser: the report dialog."""
    from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

    window.review.merge_report = None
    activate(qtbot, window)
    qtbot.keyClick(window, Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible())
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    name.setText(str(path))
    qtbot.keyClick(name, Key.Key_Return)
    qtbot.waitUntil(lambda: window.review.merge_report is not None, timeout=15_000)
    return window.review.merge_report


def test_ui_review_merge_from_the_window_reports_conflicts_and_overwrites_nothing(team, reviewer, theirs, qtbot):
    store, d0 = team
    assert len(reviewer.documents.model.docs) == 2
    report = merge_from_the_window(qtbot, reviewer, theirs)
    assert report.isVisible()
    assert report.summary.text().startswith(f"Merged {theirs}: 1 document,")
    table = report.conflicts
    assert [[table.item(0, c).text() for c in range(4)]] == [["entity", "Q17", "name: Japan", "name: Nippon"]]
    assert "Conflict, entity Q17 kept as it is here" in report.notes.text()
    # the database: their layer and document came in, our entity is as it was
    with store.Session() as s:
        assert s.scalar(select(Entity.name).where(Entity.kb_id == "Q17")) == "Japan"
        cy = s.scalar(select(Annotator.id).where(Annotator.name == "cy"))
        assert s.scalar(select(func.count()).select_from(Span).where(Span.annotator_id == cy)) == 2
    # the window: the new article is listed, and the status bar says what happened
    assert len(reviewer.documents.model.docs) == 3
    assert reviewer.statusBar().currentMessage().endswith("1 conflict: kept this project's.")
    report.close()


def test_ui_review_merge_again_from_the_window_brings_their_later_version(team, reviewer, theirs, qtbot):
    """cy relabelled her span in her file after the first merge, and nobody here touched her layer: the
    second merge listed it as a conflict and kept her old label. Now it comes, and the report says so."""
    store, d0 = team
    merge_from_the_window(qtbot, reviewer, theirs).close()
    other = Store(theirs)
    cy = Project(other, "cy")
    cy.relabel(cy.spans(doc_id(other, 0))[0].id, "ORG")
    other.close()
    report = merge_from_the_window(qtbot, reviewer, theirs)
    assert ", 1 layer document brought up to their later version, " in report.summary.text()
    assert (f"Layer cy in document {SEEDS[0].stem}: their later version replaced this one (unchanged here since the "
            "last merge).") in report.notes.text()
    assert [[report.conflicts.item(r, 1).text() for r in range(report.conflicts.rowCount())]] == [["Q17"]]
    with store.Session() as s:
        cy_id = s.scalar(select(Annotator.id).where(Annotator.name == "cy"))
        assert s.scalars(select(Span.label).where(Span.annotator_id == cy_id, Span.document_id == d0)).all() == ["ORG"]
    report.close()


def add_model_spans(store, document_id, spans):
    """The model's suggestions, as pre-annotation would have left them: (surface, label). Written with
    raw SQL, so the document's stored provenance is counted again here, as every writer does."""
    text = Project(store, "reader").document(document_id).text
    with store.atomic() as s:
        model = get_annotator(s, "model", is_model=True).id
        s.execute(insert(Span), [dict(document_id=document_id, annotator_id=model, start=text.index(t),
                                      end=text.index(t) + len(t), label=lab, origin="model", status="suggested")
                                 for t, lab in spans])
        refresh(s, [document_id])


def test_ui_review_provenance_panel_shows_the_cores_report(team, reviewer, qtbot):
    store, d0 = team
    add_model_spans(store, d0, [("Naoki Tanaka", "PERSON"), ("Defense Minister", "PERSON")])
    qtbot.keyClick(reviewer, Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    panel = reviewer.review.provenance
    qtbot.waitUntil(lambda: bool(panel.model.rows) and not panel.task.running(), timeout=10_000)
    with store.Session() as s:
        core = provenance(s)
    assert sorted({r[0] for r in panel.model.rows}) == sorted(core)  # a reviewer sees every analyst
    for name, data in core.items():
        assert panel.model.value(name, "all labels", "added") == data["totals"]["added"]
        for label_name, counts in data["by_label"].items():
            for outcome, n in counts.items():
                assert panel.model.value(name, label_name, outcome) == n
    assert panel.model.value("ana", "PERSON", "accepted") == 1  # Naoki Tanaka as the model had it
    assert panel.model.value("bob", "PERSON", "relabelled") == 1  # ORG
    assert panel.model.value("ana", "PERSON", "deleted") == 1  # no Defense Minister
    assert panel.model.value("ana", "all labels", "added") == 6


def test_ui_review_provenance_is_blind_for_annotators(team, qtbot):
    store, d0 = team
    w = open_window(qtbot, store, "bob", d0)
    try:
        qtbot.keyClick(w, Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        panel = w.review.provenance
        qtbot.waitUntil(lambda: bool(panel.model.rows) and not panel.task.running(), timeout=10_000)
        assert {r[0] for r in panel.model.rows} == {"bob"}
    finally:
        w.close()


def test_ui_review_windows_load_only_when_opened(team):
    """The window starts without numpy and the agreement code (launch time); the Review menu loads them."""
    import subprocess
    import sys

    store, _ = team
    code = ("import sys\n"
            "from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "from annotator.core.project import Project\n"
            "from annotator.core.db.store import Store\n"
            "from annotator.ui.qt_app import make_window\n"
            "w = make_window(Project(Store(sys.argv[1]), 'rev'))\n"
            "w.show()\n"
            "app.processEvents()\n"
            "print(sorted(m for m in ('numpy', 'annotator.core.review.agreement', 'annotator.ui.qt_agreement') if m in sys.modules))\n"
            "w.menu_actions.agreement.trigger()\n"
            "print('numpy' in sys.modules)\n"
            "w.close()\n")
    out = subprocess.run([sys.executable, "-c", code, str(store.path)], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def test_ui_review_edit_by_mouse_and_digit_escape_cancels(team, reviewer, qtbot, ui):
    store, d0 = team
    view = adjudicate(reviewer, qtbot)
    qtbot.keyClick(view.table, Key.Key_N)
    qtbot.keyClick(view.table, Key.Key_N)
    assert view.current().disagreement.kind == "boundary"
    before = event_count(store)
    qtbot.keyClick(view.table, Key.Key_E)
    qtbot.keyClick(view.view, Key.Key_Escape)  # cancels the edit; the view stays open
    assert not view.editing and view.isVisible() and event_count(store) == before
    qtbot.keyClick(view.table, Key.Key_E)
    start = view.text.index("counterpart")
    ui.drag(view.view, start + 2, start + 6)  # part of a word: the selection snaps to the token
    assert view.text.__getitem__(slice(*view.view.selection())) == "counterpart"
    person = reviewer.model.labels["PERSON"].shortcut
    qtbot.keyClick(view.view, getattr(Key, f"Key_{person}"))  # the label's digit puts it in gold as PERSON
    assert ("counterpart", "PERSON", None) in gold_spans(store, d0)
    with store.Session() as s:
        assert [(x.kind, x.disagreement) for x in decisions(s, d0)] == [("edit", "boundary")]
    qtbot.keyClick(view.table, Key.Key_C)  # only A and B are compared here
    assert view.error.text().startswith("[E316]")
    assert event_count(store) == before + 1


def test_ui_review_gold_and_own_layer_stay_apart_on_one_stack(team, reviewer, qtbot):
    """The main window (rev's own layer) and the adjudication view (gold) share one command stack;
    each shows only its own layer's spans."""
    store, d0 = team
    view = adjudicate(reviewer, qtbot)
    gold_before = dict(view.gold.spans)
    text = reviewer.model.text
    start = text.index("Seoul")
    reviewer.model.add(start, start + len("Seoul"), "GPE")  # an edit of rev's own layer
    assert len(reviewer.model.spans) == 1 and view.gold.spans == gold_before
    qtbot.keyClick(view.table, Key.Key_A)  # a gold decision
    assert len(view.gold.spans) == len(gold_before) + 1
    assert len(reviewer.model.spans) == 1  # the gold span did not appear in rev's own layer
    assert reviewer.menu_actions.undo.text() == "&Undo take ana's version"
    activate(qtbot, reviewer)
    qtbot.keyClick(reviewer.view, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo from the main window
    assert view.progress.text().startswith("0 of 4 resolved")  # the view follows
    assert view.gold.spans == gold_before and reviewer.model.doc_id == d0


def _boom(store, what):
    if what == "coded":
        from annotator.errors import AnnotatorError, Errors

        raise AnnotatorError(Errors.E317)
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize("what, message", [
    ("coded", "[E317] A merge is already running"),
    ("bug", "[E311] Listing disagreements stopped on an unexpected error (RuntimeError: disk on fire)"),
])
def test_ui_review_background_failures_arrive_as_coded_messages(team, qtbot, what, message):
    from annotator.ui.qt_tasks import QtStoreTask

    store, _ = team
    task = QtStoreTask()
    with qtbot.waitSignal(task.failed, timeout=10_000) as got:
        assert task.start(store.url, _boom, what, what="Listing disagreements")
        assert not task.start(store.url, _boom, what)  # one call at a time
    assert got.args[0].startswith(message)
    assert not task.running()


def gold_status(store, document_id) -> str | None:
    with store.Session() as s:
        return s.scalar(select(DocumentState.status)
                        .join(Annotator, Annotator.id == DocumentState.annotator_id)
                        .where(Annotator.name == GOLD, DocumentState.document_id == document_id))


def test_ui_review_gold_done_with_open_disagreements_asks(team, reviewer, qtbot):
    store, d0 = team
    view = adjudicate(reviewer, qtbot)
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(view.table, Key.Key_Return, ctrl)  # Gold done, with all 4 open
    box = shown_box(qtbot, view)
    assert "4 disagreements are still open" in box.text()
    press(qtbot, box, "Cancel")
    assert gold_status(store, d0) != "done"
    qtbot.keyClick(view.table, Key.Key_Return, ctrl)
    press(qtbot, shown_box(qtbot, view), "Mark done anyway")
    assert gold_status(store, d0) == "done"
    qtbot.keyClick(view.table, Key.Key_Z, ctrl)  # back to work
    assert gold_status(store, d0) == "in_progress"
    for _ in range(4):
        qtbot.keyClick(view.table, Key.Key_R)  # every one decided (rejected)
    assert view.model.open_count() == 0
    qtbot.keyClick(view.table, Key.Key_Return, ctrl)  # nothing open: done at once
    assert gold_status(store, d0) == "done"
    assert not [b for b in view.findChildren(QMessageBox) if b.isVisible()]


def set_note(store, user, document_id, surface, note):
    """`user`'s "Refers to" note on their span of `surface`, as the link panel saves it."""
    with store.Session() as s:
        who = s.scalar(select(Annotator.id).where(Annotator.name == user))
        text = Project(store, "reader").document(document_id).text
        start = text.index(surface)
        sid = s.scalar(select(Span.id).where(Span.annotator_id == who, Span.document_id == document_id,
                                             Span.start == start, Span.end == start + len(surface)))
    Project(store, user).set_referent_note(sid, note)


def gold_notes(store, document_id):
    with store.Session() as s:
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        text = Project(store, "reader").document(document_id).text
        return {text[r.start:r.end]: r.referent_note for r in s.scalars(
            select(Span).where(Span.annotator_id == gold, Span.document_id == document_id)) if r.referent_note}


def test_ui_review_refers_to_notes_travel_to_gold(team, reviewer, qtbot, ui):
    """Regression: an adjudication edit did not carry the annotator's "Refers to" note into gold (nor
    did a take, or the agreed spans)."""
    store, d0 = team
    set_note(store, "ana", d0, "S.Korea", "the South Korean government")  # agreed: goes to gold on opening
    set_note(store, "bob", d0, "Naoki Tanaka", "his ministry")  # bob's version is taken
    set_note(store, "ana", d0, "Japanese", "the Japanese government")  # the reviewer edits this one
    view = adjudicate(reviewer, qtbot)
    assert gold_notes(store, d0) == {"S.Korea": "the South Korean government"}
    kinds = [i.disagreement.kind for i in view.model.items]
    for _ in range(kinds.index("label")):
        qtbot.keyClick(view.table, Key.Key_N)
    qtbot.keyClick(view.table, Key.Key_B)  # take bob's ORG version, with his note
    assert gold_notes(store, d0)["Naoki Tanaka"] == "his ministry"
    view.go_to(*next((i.disagreement.start, i.disagreement.end) for i in view.model.items
                     if i.disagreement.kind == "boundary"))
    qtbot.keyClick(view.table, Key.Key_E)  # edit: the first version (ana's "Japanese") is selected
    qtbot.keyClick(view.view, Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view.view, Key.Key_Return)  # into gold as "Japanese counterpart" (label kept)
    notes = gold_notes(store, d0)
    assert notes["Japanese counterpart"] == "the Japanese government"
    with store.Session() as s:  # the history records it with the decision
        edit = [d for d in decisions(s, d0) if d.kind == "edit"][0]
        assert edit.spans[0]["referent_note"] == "the Japanese government"
    # undo and redo keep it so
    qtbot.keyClick(view.table, Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "Japanese counterpart" not in gold_notes(store, d0)
    qtbot.keyClick(view.table, Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert gold_notes(store, d0)["Japanese counterpart"] == "the Japanese government"
    # the main window, showing gold through the layer switcher, has the note in "Refers to"
    activate(qtbot, reviewer)
    box = reviewer.layer_box
    box.showPopup()  # opening it reads the layers again: gold has started meanwhile
    box.hidePopup()
    box.setCurrentIndex(box.findText(f"{GOLD} (read-only)"))
    box.activated.emit(box.currentIndex())
    text = reviewer.model.text
    start = text.index("S.Korea")
    reviewer.model.set_current(next(s.id for s in reviewer.model.spans.values() if s.start == start))
    assert reviewer.link_panel.note.text() == "the South Korean government"


def test_ui_review_merge_brings_guidelines_to_the_open_pane_and_lists_a_guidelines_conflict(team, reviewer, theirs,
                                                                                            qtbot):
    """Their guidelines were left behind: the pane stayed empty after the merge. Where ours differ they are
    kept, and the merge report's table lists the conflict."""
    store, _ = team
    other = Store(theirs)
    set_role(other, "lead", "reviewer")
    Project(other, "lead").set_guidelines("# Guidelines\n\n## GPE\nCountries and their governments.\n")
    other.close()
    pane = reviewer.show_guidelines()
    assert pane.markdown == ""
    reviewer.watcher.timer.stop()  # its "Updated with changes by ..." (the merged events) would race the merge's line

    report = merge_from_the_window(qtbot, reviewer, theirs)
    assert pane.markdown.startswith("# Guidelines") and "Countries" in pane.browser.toPlainText()
    assert "The project's guidelines came from it (this project had none)." in report.notes.text()
    report.close()
    with store.Session() as s:
        assert guidelines(s).startswith("# Guidelines")

    reviewer.project.set_guidelines("# Ours\n")
    report = merge_from_the_window(qtbot, reviewer, theirs)
    table = report.conflicts
    rows = [[table.item(r, c).text() for c in range(4)] for r in range(table.rowCount())]
    assert ["setting", "guidelines", "kept (this project's)", "differs (not copied)"] in rows
    assert reviewer.statusBar().currentMessage().endswith(f"{len(rows)} conflict{'s' * (len(rows) != 1)}: kept this project's.")
    assert Project(store, "rev").guidelines() == "# Ours\n"
    report.close()


def test_ui_review_merged_adjudication_opens_resolved_in_the_view(tmp_path, qtbot):
    """A colleague's adjudicated article: after the merge the adjudication view listed every disagreement
    as open again ("0 of 2 resolved"), the rejected span waiting to be decided anew."""
    _adjudicated(tmp_path / "theirs.db").close()
    ours = make_store(tmp_path / "ours.db", docs=(0,))
    set_role(ours, "rev", "reviewer")
    merge(ours, tmp_path / "theirs.db")
    w = open_window(qtbot, ours, "rev", doc_id(ours, 1))
    try:
        view = adjudicate(w, qtbot)
        assert view.annotators == ["ana", "bob"]
        assert view.progress.text() == "2 of 2 resolved · 1 agreed span went to gold · gold marked done ✓"
        decided = [(i.decision.kind, i.decision.reviewer) for i in view.model.items]
        assert decided == [("take", "rev"), ("reject", "rev")]
        assert sorted(gold_spans(ours, doc_id(ours, 1))) == [("Seoul", "ORG", None), ("South Korea", "GPE", "Q884")]
    finally:
        w.close()
        ours.close()
