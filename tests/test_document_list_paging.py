"""The document list over a project bigger than one page: SQL does the filter, sort and paging, the
window reads only the rows it shows, and every way through the list still works across pages."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from annotator.core.project import Project
from annotator.core.records import DocRecord, SpanRecord
from annotator.io.importing import import_records
from annotator.ui.qt_app import make_window
from annotator.ui.qt_document_list import PAGE

BACKENDS = ("sqlite", "postgresql")  # the core tests run on both (tests/conftest.py)
N = 2 * PAGE + 50
Key, Mod = Qt.Key, Qt.KeyboardModifier


def article(i: int) -> DocRecord:
    """Names in an order their ids do not follow; every tenth with a title; every seventh with spans."""
    text = f"Report {i} from Seoul and Tokyo on Monday."
    spans = [SpanRecord(text.index("Seoul"), text.index("Seoul") + 5, "GPE"),
             SpanRecord(text.index("Tokyo"), text.index("Tokyo") + 5, "GPE", status="suggested")] if i % 7 == 0 else []
    return DocRecord(name=f"doc{(i * 37) % N:04d}", text=text, title=f"Talks Épisode {i}" if i % 10 == 0 else "",
                     spans=spans)


@pytest.fixture
def big(store) -> Project:
    import_records(store, [article(i) for i in range(N)], use_model=False, as_layer="ana")
    project = Project(store, "ana")
    every = project.documents()
    project.set_status(every[3].id, "done")
    project.set_status(every[PAGE + 5].id, "in_progress")
    return project


def shown(doc) -> str:
    """What the filter box matches today: name, title and the status as listed."""
    return f"{doc.name} {doc.title} {({'in_progress': 'in progress', 'done': '✓ done'}).get(doc.status, doc.status)}"


def test_document_pages_filter_sort_and_rows_match_the_whole_list(big):
    every = big.documents()
    assert [d.name for d in every] == sorted(d.name for d in every) and len(every) == N
    assert big.documents(PAGE, PAGE) == every[PAGE:2 * PAGE]  # counts read for the page equal the full read
    assert sum(d.spans for d in every) == 2 * len(range(0, N, 7))
    for text in ("talks", "TALKS épisode", "done", "in progress", "doc00", "new", "%", "zzz"):
        expected = [d for d in every if text.lower() in shown(d).lower()]
        assert big.count_documents(text) == len(expected), text
        assert big.documents(0, 30, text) == expected[:30], text
    by_status = big.documents(sort="status")
    assert [d.status for d in by_status[-2:]] == ["in_progress", "done"]
    assert big.documents(0, 1, sort="status", descending=True)[0].status == "done"
    titled = big.documents(sort="title")
    assert [d.title or d.name for d in titled] == sorted(d.title or d.name for d in every)
    for sort in ("name", "title", "status"):
        for descending in (False, True):
            listed = big.documents(sort=sort, descending=descending)
            for row in (0, 1, PAGE, N - 1):
                assert big.document_row(listed[row].id, sort=sort, descending=descending) == row
    assert big.document_row(every[0].id, "done") == -1
    assert big.done_count() == (1, N)
    assert big.first_unfinished() == every[0].id


@pytest.fixture
def big_window(big, qtbot):
    w = make_window(big)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.refresh_documents()
    w.open_document(big.documents(0, 1)[0].id)
    yield w
    w.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_ui_document_list_reads_pages_and_steps_across_them(big_window, qtbot):
    window, model = big_window, big_window.documents.model
    every = window.project.documents()
    assert model.rowCount() == N and set(model.pages) == {0}  # only the rows on screen were read
    window.open_document(every[PAGE - 1].id)
    qtbot.keyClick(window.view, Key.Key_PageDown, Mod.ControlModifier)
    assert window.model.doc_id == every[PAGE].id  # the next page, read on the way
    assert window.documents.table.currentIndex().row() == PAGE
    qtbot.keyClick(window.view, Key.Key_PageUp, Mod.ControlModifier)
    qtbot.keyClick(window.view, Key.Key_PageUp, Mod.ControlModifier)
    assert window.model.doc_id == every[PAGE - 2].id
    # a document far down the list, opened another way (search, undo): its row is found by SQL
    window.open_document(every[N - 1].id)
    assert window.documents.table.currentIndex().row() == N - 1
    assert window.documents.table.currentIndex().data(Qt.ItemDataRole.UserRole) == every[N - 1].id
    qtbot.keyClick(window.view, Key.Key_PageDown, Mod.ControlModifier)
    assert window.model.doc_id == every[N - 1].id  # the last: nowhere further


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_ui_document_list_filter_sort_and_status_in_sql(big_window, qtbot):
    window, model, table = big_window, big_window.documents.model, big_window.documents.table
    every = window.project.documents()
    target = every[PAGE + 10]
    window.open_document(target.id)
    window.done_flow.toggle()
    assert window.project.documents(PAGE + 10, 1)[0].status == "done"
    assert model.doc(PAGE + 10).status == "done"  # the one row repainted
    assert window.progress_label.text() == f"Done: 2 of {N} documents"
    window.documents.filter.setText("✓ DONE")  # as typed (QTest cannot type "✓")
    assert model.rowCount() == 2 and [d.id for d in model.docs] == [every[3].id, target.id]
    assert window.model.doc_id == target.id and table.currentIndex().row() == 1  # typing opened nothing
    qtbot.keyClick(window.view, Key.Key_PageUp, Mod.ControlModifier)
    assert window.model.doc_id == every[3].id
    window.documents.filter.clear()
    assert model.rowCount() == N and table.currentIndex().row() == 3
    header = table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header.rect().center()
                     .__class__(header.sectionViewportPosition(1) + 5, header.height() // 2))
    order = header.sortIndicatorOrder()
    by_status = window.project.documents(sort="status", descending=order == Qt.SortOrder.DescendingOrder)
    assert [model.doc(r).id for r in (0, 1, N - 1)] == [by_status[r].id for r in (0, 1, N - 1)]
    assert table.currentIndex().row() == model.row_of(every[3].id)  # the open document stays selected
