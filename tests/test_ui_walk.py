"""A working day in the window, as a newcomer and an analyst: defects found walking through it, each
driven by keys and the mouse, checked in the window and in the project file."""

from __future__ import annotations

import factories
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextLayout, QTextOption
from PySide6.QtWidgets import QApplication, QScrollArea
from sqlalchemy import insert, select
from spacy.tokens import DocBin
from test_ui_export import choose, every_document, open_dialog, press_export, type_path
from test_ui_review import adjudicate, gold_status, reviewer, team  # noqa: F401 (fixtures)

from annotator.core.db.annotators import MODEL_LAYER, get_annotator, record_owner
from annotator.core.db.models import Annotator, Entity, Span
from annotator.core.db.provenance_counts import refresh
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.resources import seeds_dir
from annotator.io import kb_transfer
from annotator.io.importing import import_paths
from annotator.ui.qt_app import make_window

Key = Qt.Key
Mod = Qt.KeyboardModifier
SUGGESTED = [("Kim Kwan-jin", "PERSON"), ("Japan", "GPE"), ("Naoki Tanaka", "PERSON"), ("Seoul", "GPE")]


def stored(store, layer: str, doc: int) -> list[tuple]:
    with store.Session() as s:
        return sorted(s.execute(select(Span.start, Span.end, Span.label, Span.status)
                                .join(Annotator, Annotator.id == Span.annotator_id)
                                .where(Annotator.name == layer, Span.document_id == doc)).all())


def shown(window) -> list[tuple]:
    return sorted((s.start, s.end, s.label, s.status) for s in window.model.spans.values())


@pytest.fixture
def suggested(tmp_path):
    """The sample articles, the model's suggestions in the first; ana owns the project (a reviewer:
    opening a document does not start her layer), bob is an annotator."""
    store = factories.new_store(tmp_path / "project.db")
    import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=False)
    record_owner(store, "ana")
    doc = Project(store, "bob").documents()[0].id
    text = Project(store, "bob").document(doc).text
    with store.atomic() as s:
        model = get_annotator(s, MODEL_LAYER, is_model=True).id
        s.execute(insert(Span), [dict(document_id=doc, annotator_id=model, start=text.index(t),
                                      end=text.index(t) + len(t), label=label, origin="model", status="suggested")
                                 for t, label in SUGGESTED])
        refresh(s, [doc])
    return store, doc, text


def test_ui_walk_suggestions_stay_shown_when_others_change_the_document(suggested, qtbot, ui):
    """Regression: until a person's layer of the open document starts (a reviewer's first edit; an
    analyst's document opened while the first run's import held the project) the window shows the
    model's suggestions; a change made elsewhere (a colleague's edit, an import, a knowledge base)
    re-read the person's own, empty layer, and the article went blank: no highlight, 0 spans, Tab
    and Enter doing nothing. That is what `make run` showed on its first article."""
    store, doc, text = suggested
    window = make_window(Project(store, "ana"))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    ui.show(window)
    window.refresh_documents()
    window.open_document(doc)
    window.watcher.timer.setInterval(50)
    before = shown(window)
    assert sorted((text[a:b], label) for a, b, label, _ in before) == sorted(SUGGESTED)
    other = Store(store.url)  # bob, on his desktop
    bob = Project(other, "bob")
    bob.add_span(doc, text.index("Defense Minister"), text.index("Defense Minister") + 7, "ORG")
    qtbot.waitUntil(lambda: "Updated with changes by bob" in window.statusBar().currentMessage(), timeout=5_000)
    other.close()
    assert shown(window) == before
    assert stored(store, "ana", doc) == []  # still only looked at
    ui.key(window.view, Key.Key_Tab)
    ui.key(window.view, Key.Key_Return)  # accept the first suggestion: ana's layer starts
    first = text.index("Japan")  # in the title
    assert (first, first + len("Japan"), "GPE", "accepted") in stored(store, "ana", doc)
    assert (first, first + len("Japan"), "GPE", "accepted") in shown(window)
    assert len(stored(store, "ana", doc)) == len(SUGGESTED)
    window.close()


def test_ui_walk_shift_right_at_a_paragraph_end_passes_over_the_line_break(window, ui):
    """Regression: spaCy keeps the "\\n\\n" between paragraphs as a token, and Shift+Right on a span
    ending a paragraph moved its end onto it: the article showed the span as before, while the project
    held it with two line breaks (exported so). A boundary move passes over whitespace tokens."""
    view, text, project = window.view, window.model.text, window.project
    start = text.index("Military Agreement")
    end = start + len("Military Agreement")
    assert text[end:end + 2] == "\n\n"
    ui.drag(view, start + 1, end - 1)  # snaps to the two words
    ui.key(view, Key.Key_7)  # LAW
    stored_spans = lambda: [(s.start, s.end, s.label) for s in project.spans(window.model.doc_id)  # noqa: E731
                            if s.label == "LAW"]
    assert stored_spans() == [(start, end, "LAW")]
    ui.key(view, Key.Key_Right, Mod.ShiftModifier)
    (a, b, _), = stored_spans()
    assert text[a:b] == text[a:b].strip() and text[a:b].endswith("May")
    current = window.model.current_span()
    assert (current.start, current.end) == (a, b)
    ui.key(view, Key.Key_Left, Mod.ShiftModifier)  # back over the line break, not onto it
    assert stored_spans() == [(start, end, "LAW")]
    ui.key(view, Key.Key_Escape)
    ui.key(view, Key.Key_Escape)
    view.select(end, end)  # the caret after "Agreement": Shift+Right selects up to the next word
    ui.key(view, Key.Key_Right, Mod.ShiftModifier)
    a, b = view.selection()
    assert text[a:b] == "May"
    ui.key(view, Key.Key_0)  # DATE
    assert (a, b, "DATE") in [(s.start, s.end, s.label) for s in project.spans(window.model.doc_id)]


def test_ui_walk_new_entity_form_scrolls_into_view_with_its_warning(window, ui, qtbot):
    """Regression: at 1280×800 Ctrl+Shift+N opened the new-entity form below the side panels' edge:
    the near-duplicate warning (why the first Enter creates nothing) and the Create button were out of
    sight, and the first Enter seemed to do nothing."""
    view, text, store = window.view, window.model.text, window.project.store
    at = text.index("Japan")
    window.watcher.timer.setInterval(50)
    kb_transfer.load_starter(store)  # the starter knowledge base, as on a first run
    qtbot.waitUntil(lambda: any(s.entity_id for s in window.model.spans.values()), timeout=5_000)
    ui.click(view, at + 1)
    assert window.model.span_text(window.model.current_span()) == "Japan"
    ui.key(view, Key.Key_N, Mod.ControlModifier | Mod.ShiftModifier)
    form, area = window.link_panel.new_form, window.findChild(QScrollArea, "sidePanels")

    def seen(widget) -> bool:
        top = widget.mapTo(area.viewport(), QPoint(0, 0)).y()
        return widget.isVisible() and top >= 0 and top + widget.height() <= area.viewport().height()

    qtbot.wait(200)  # the layout has placed the form, as the user looks at it
    assert seen(form.name) and seen(form.warning) and seen(form.create)
    assert form.warning.text().startswith("Similar: Japan (GPE, Q17)")
    ui.key(form.name, Key.Key_Return)  # warns
    ui.key(form.name, Key.Key_Return)  # creates
    with store.Session() as s:
        made = s.scalars(select(Entity).where(Entity.name == "Japan", Entity.kb_id != "Q17")).one()
        linked = s.scalar(select(Span.entity_id).where(Span.start == at, Span.end == at + 5,
                                                       Span.document_id == window.model.doc_id))
    assert linked == made.id
    assert window.model.current_span().entity_id == made.id


def test_ui_walk_export_path_follows_the_format(window, qtbot, tmp_path):
    """Regression: after a JSONL export to a path of one's own, choosing spaCy in the next export kept
    `out.jsonl` in the path box (the hint saying "Writes one .spacy file"): Export asked to replace
    out.jsonl, and Replace wrote the DocBin over the JSONL under its name."""
    dialog = open_dialog(window, qtbot)
    every_document(qtbot, dialog)
    assert dialog.format.currentData() == "jsonl"
    type_path(qtbot, dialog, tmp_path / "out.jsonl")
    press_export(qtbot, dialog, dialog.exported)
    jsonl = (tmp_path / "out.jsonl").read_bytes()
    dialog = open_dialog(window, qtbot)
    qtbot.wait(QApplication.keyboardInputInterval())  # a combo's type-ahead starts again
    choose(qtbot, dialog.format, "spacy")
    assert dialog.path.text() == str(tmp_path / "out.spacy")
    press_export(qtbot, dialog, dialog.exported)
    assert (tmp_path / "out.jsonl").read_bytes() == jsonl
    assert len(DocBin().from_disk(tmp_path / "out.spacy")) == len(jsonl.splitlines()) == 1  # the started one
    dialog = open_dialog(window, qtbot)
    qtbot.wait(QApplication.keyboardInputInterval())
    choose(qtbot, dialog.format, "brat")  # a folder
    assert dialog.format.currentData() == "brat"
    assert dialog.path.text() == str(tmp_path / "out")
    type_path(qtbot, dialog, tmp_path / "mine.txt")  # a name of the user's making stays as typed
    qtbot.wait(QApplication.keyboardInputInterval())
    choose(qtbot, dialog.format, "conll")
    assert dialog.path.text() == str(tmp_path / "mine.txt")
    dialog.reject()


@pytest.mark.parametrize("size", [(1280, 800), (1024, 700)])
def test_ui_walk_a_long_refusal_wraps_in_the_status_bar(window, ui, qtbot, size):
    """Regression: Review → Agreement… (Ctrl+Shift+A) as an annotator says why not and what to do,
    `[E164] ... A reviewer (or the project lead) can run annotator role NAME reviewer`; the status bar
    cut it off at "A reviewer (c", the command out of sight. A message too long for one line wraps."""
    window.resize(*size)
    qtbot.wait(50)
    ui.key(window.view, Key.Key_A, Mod.ControlModifier | Mod.ShiftModifier)
    bar = window.statusBar()
    text = bar.currentMessage()
    assert text.startswith("[E164]") and text.endswith("`annotator role tester reviewer`.")
    left_of = min(w.x() for w in (window.progress_label, window.saved_label, window.user_label))
    width = left_of - 12  # the room left of the permanent widgets
    one_line = bar.fontMetrics().horizontalAdvance(text)
    lines = bar.fontMetrics().boundingRect(0, 0, width, 10_000, int(Qt.TextFlag.TextWordWrap), text).height()
    assert one_line > width  # it does not fit on one line here
    qtbot.waitUntil(lambda: bar.height() >= lines, timeout=2_000)  # every line of it shows
    shot = bar.grab()  # and something is drawn on the second line, left of the permanent widgets
    second = [shot.toImage().pixelColor(x, bar.height() // 2 + bar.fontMetrics().lineSpacing() // 2)
              for x in range(6, width)]
    assert len({c.name() for c in second}) > 1
    bar.clearMessage()
    qtbot.waitUntil(lambda: bar.height() < lines, timeout=2_000)


def test_ui_walk_gold_done_is_said_in_the_adjudication_view(team, reviewer, qtbot):
    """Regression: Ctrl+Enter in the adjudication view marked gold done and said so only in the main
    window's status bar, under the adjudication window: nothing in the view changed, and a reviewer
    pressed it again or wondered whether it had worked. The progress line says it now."""
    store, d0 = team
    view = adjudicate(reviewer, qtbot)
    for _ in range(len(view.model.items)):
        qtbot.keyClick(view.table, Key.Key_R)  # every disagreement decided (rejected)
    assert "gold marked done" not in view.progress.text()
    qtbot.keyClick(view.table, Key.Key_Return, Mod.ControlModifier)
    assert gold_status(store, d0) == "done"
    assert view.progress.text().endswith("· gold marked done ✓") and view.progress.isVisible()
    qtbot.keyClick(view.table, Key.Key_Z, Mod.ControlModifier)  # undone: said no more
    assert gold_status(store, d0) == "in_progress"
    assert "gold marked done" not in view.progress.text()


def test_ui_walk_propagating_again_says_every_mention_is_linked(window, ui, qtbot):
    """Regression: Ctrl+Shift+P on a link already on every identical mention said "No other identical
    mention in this document." beside a dozen of them in the article; it says none is left unlinked."""
    view, text, store = window.view, window.model.text, window.project.store
    window.watcher.timer.setInterval(50)
    kb_transfer.load_starter(store)
    qtbot.waitUntil(lambda: any(s.entity_id for s in window.model.spans.values()), timeout=5_000)
    at = text.index("Japan")
    ui.click(view, at + 1)
    ui.key(view, Key.Key_Return)  # confirms the suggested link (Japan, Q17) and moves on
    ui.click(view, at + 1)
    panel = window.link_panel

    def linked() -> int:
        with store.Session() as s:
            return len(s.scalars(select(Span.id).join(Annotator, Annotator.id == Span.annotator_id).where(
                Annotator.name == "tester", Span.document_id == window.model.doc_id,
                Span.entity_id == window.model.current_span().entity_id)).all())

    ui.key(view, Key.Key_P, Mod.ControlModifier | Mod.ShiftModifier)
    n = text.count("Japan") - text.count("Japanese")
    assert panel.offer.text().startswith(f"Link suggested on {n - 1} identical mentions here.")
    assert linked() == n
    ui.key(view, Key.Key_P, Mod.ControlModifier | Mod.ShiftModifier)  # again: nothing left to do
    assert panel.offer.text().startswith("No identical mention here is left without a link.")
    assert linked() == n


def lines_needed(widget, width: int) -> int:
    """How many lines a QtTextLine's text takes at `width`, wrapped as it paints it."""
    layout = QTextLayout(widget.text(), widget.font())
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    n = 0
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        n += 1
    layout.endLayout()
    return n


@pytest.mark.parametrize("size", [(1280, 800), (1024, 700)])
def test_ui_walk_the_no_span_hint_is_read_whole(window, ui, qtbot, size):
    """Regression: with no span current, the selected-span box says how to pick and how to add one; it
    holds two lines, and the hint took three, cut at "To…": how to add a span, the one thing a newcomer
    looks there for, was never seen."""
    window.resize(*size)
    qtbot.wait(50)
    ui.key(window.view, Key.Key_Escape)
    box = window.panel.text
    assert window.model.current is None and "select text" in box.text()
    assert lines_needed(box, box.width() - 2 * box.PAD[0]) <= 2


@pytest.mark.parametrize("size", [(1280, 800), (1024, 700)])
def test_ui_walk_a_suggestions_status_is_read_whole(window, ui, qtbot, size):
    """Regression: the span panel's Status line of a suggestion, "suggestion (Enter accepts), from the
    model", was cut at "from the mo…" at 1280×800 (here: the side panels dragged to their narrowest, as
    fonts differ between displays): where the span came from, and the key, unread."""
    window.resize(*size)
    window.splitter.setSizes([290, 10_000, 0])  # the side panels as narrow as they go
    qtbot.wait(50)
    text = window.model.text
    ui.click(window.view, text.index("Kim Kwan-jin") + 1)
    status = window.panel.status
    assert status.text().startswith("suggestion (Enter accepts), ")
    needed = lines_needed(status, status.width())
    assert needed * status.fontMetrics().lineSpacing() <= status.height()
