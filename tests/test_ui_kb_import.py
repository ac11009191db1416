"""File → Import knowledge base… in the window: the mentions of the open document that are still
unchecked get their suggested links at once (the window and the database), the status bar says how
many; an annotator of a shared project is refused with a dialog, and nothing is imported."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, select
from test_ui_done import press, shown_box

from annotator.core.db.annotators import record_owner
from annotator.core.db.models import Entity, Span
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.resources import seeds_dir
from annotator.io import kb_transfer
from annotator.ui.qt_app import make_window

STARTER = seeds_dir() / kb_transfer.STARTER_KB


def window_links(window) -> dict[str, int | None]:
    """surface -> entity id of the open document's spans, as the window holds them."""
    text = window.model.doc.text
    return {text[s.start:s.end]: s.entity_id for s in window.model.spans.values()}


def stored_links(project, doc: int) -> dict[str, tuple]:
    text = project.document(doc).text
    with project.store.Session() as s:
        rows = s.execute(select(Span.start, Span.end, Entity.kb_id, Span.status)
                         .outerjoin(Entity, Entity.id == Span.entity_id)
                         .where(Span.document_id == doc, Span.annotator_id == project.annotator_id)).all()
    return {text[r.start:r.end]: (r.kb_id, r.status) for r in rows}


def test_ui_kb_import_links_the_open_documents_unchecked_mentions(window, qtbot):
    project, doc = window.project, window.model.doc_id
    action = window.menu_actions.import_kb
    assert action.text() == "Import &knowledge base…" and action.shortcut().toString() == "Ctrl+Shift+K"
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()
    assert set(window_links(window).values()) == {None}
    with qtbot.waitSignal(window.importer.ended, timeout=60_000):
        assert window.import_kb(STARTER)  # as File → Import knowledge base… does with the chosen file
    assert stored_links(project, doc) == {"Kim Kwan-jin": ("local:kim-kwan-jin", "suggested"),
                                          "Naoki Tanaka": (None, "accepted"),  # checked: as it was
                                          "Japan": ("Q17", "suggested"),
                                          "South Korea": ("Q884", "suggested")}
    with project.store.Session() as s:
        ids = dict(s.execute(select(Entity.kb_id, Entity.id)).all())
    assert window_links(window) == {"Kim Kwan-jin": ids["local:kim-kwan-jin"], "Naoki Tanaka": None,
                                    "Japan": ids["Q17"], "South Korea": ids["Q884"]}
    assert window.statusBar().currentMessage() == ("Added 67 entities with 146 aliases; 3 unchecked mentions "
                                                   "got a suggested link.")
    assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()]  # one line: the status bar


def test_ui_kb_import_refused_to_an_annotator_of_a_shared_project(project, qtbot):
    record_owner(project.store, "lead")  # the project's owner and reviewer; the tester is an annotator
    w = make_window(Project(project.store, "bob"))
    qtbot.addWidget(w)
    w.show()
    w.import_kb(STARTER)
    box = shown_box(qtbot, w)
    assert box.windowTitle() == "Import failed"
    assert box.text().startswith("[E629] 'bob' cannot import a knowledge base")
    press(qtbot, box, "OK")
    with project.store.Session() as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == 0
    w.close()


def test_ui_kb_import_on_another_desktop_shows_the_links_here(window, qtbot):
    """The import writes no event per span; its new entities are what a window notices, and it reads
    its open document again: an Enter on a span whose link it did not show would confirm it unseen."""
    window.watcher.timer.setInterval(50)
    other = Store(window.project.store.url)
    kb_transfer.import_kb(other, STARTER, by=window.project.user)
    other.close()
    qtbot.waitUntil(lambda: window_links(window)["Kim Kwan-jin"] is not None, timeout=5_000)
    with window.project.store.Session() as s:
        kim = s.scalar(select(Entity.id).where(Entity.kb_id == "local:kim-kwan-jin"))
    assert window_links(window)["Kim Kwan-jin"] == kim and window_links(window)["Naoki Tanaka"] is None
