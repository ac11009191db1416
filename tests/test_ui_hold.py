"""A job of the window that writes in one transaction (an import, a merge, new suggestions) holds an
SQLite project's write lock until it ends. Meanwhile the window refuses edits at once (E023) and opens
documents without starting a layer; once the job has ended, the same keys work.

Regression: each edit froze the window for the busy timeout (10 s) and then failed, and an analyst
opening a document waited as long (their layer starts on opening)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select
from test_ui_first_edit import first_doc, layer, q, readme_project, state  # noqa: F401, F811 (fixtures)
from test_ui_review import open_window

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Document
from annotator.ui.qt_tasks import QtStoreTask

pytestmark = pytest.mark.single_backend


def hold(store, release: threading.Event) -> None:
    """A job that writes in one transaction and ends when told to."""
    with store.atomic():
        release.wait(30)


@pytest.fixture
def held(qtbot):
    """Start `hold` as a job of the window (a runner the window holds edits for, as it does for its
    importer, merges and re-suggesting); returns the event that ends it."""
    release = threading.Event()
    tasks = []

    def start(w) -> threading.Event:
        task = QtStoreTask(w)
        tasks.append(task)
        w.model.hold_while(task)
        assert task.start(w.project.store.url, hold, release, what="A long write")
        assert w.model.holders == {task}
        return release

    yield start
    release.set()
    for task in tasks:
        qtbot.waitUntil(lambda: not task.running(), timeout=5000)


def docs(store) -> list[int]:
    with store.Session() as s:
        return list(s.scalars(select(Document.id).order_by(Document.name)))


@pytest.mark.parametrize("user", ["ana", "bob"], ids=["reviewer", "annotator"])
def test_ui_hold_edits_are_refused_at_once_and_work_after(q, qtbot, ui, held, user):  # noqa: F811
    store = q()
    first, second = docs(store)[:2]
    model = layer(store, MODEL_LAYER)
    w = open_window(qtbot, store, user, first)
    try:
        release = held(w)
        w.open_document(second)  # an analyst's layer is not started while the project is held
        assert state(store, user, second) is None and w.model.unstarted
        span = next(v for v in w.model.spans.values() if v.status == "suggested")
        ui.click(w.view, span.start + 1)
        assert w.model.current_span().id == span.id
        ui.key(w.view, Qt.Key.Key_Return)
        assert w.statusBar().currentMessage().startswith("[E023]")
        assert state(store, user, second) is None and layer(store, MODEL_LAYER) == model
        assert w.model.current_span().status == "suggested"

        release.set()
        qtbot.waitUntil(lambda: not w.model.holders, timeout=5000)
        ui.key(w.view, Qt.Key.Key_Return)  # the same key, now the job has ended
        mine = [r for r in layer(store, user, second) if (r[1], r[2]) == (span.start, span.end)]
        assert [r[4] for r in mine] == ["accepted"] and state(store, user, second) == "in_progress"
        [shown] = [v for v in w.model.spans.values() if (v.start, v.end) == (span.start, span.end)]
        assert shown.status == "accepted" and layer(store, MODEL_LAYER) == model
    finally:
        w.close()


def test_ui_hold_the_windows_writing_jobs_hold_edits(q, qtbot, tmp_path):  # noqa: F811
    """The importer (a real import of an article), merges and re-suggesting hold edits from
    their start to their end."""
    store = q()
    w = open_window(qtbot, store, "ana", first_doc(store))
    try:
        article = tmp_path / "new.txt"
        article.write_text("Kim Jong Un met Moon Jae-in in Panmunjom.", encoding="utf-8")
        assert w.import_paths([article], use_model=False)
        assert w.model.holders == {w.importer} and w.model.read_only.startswith("[E023]")
        qtbot.waitUntil(lambda: not w.importer.running(), timeout=10_000)
        assert not w.model.holders and w.model.read_only is None
        for job in (w.review.merge_task, w.model_tools.resuggester):
            job.started.emit("a job")
            assert w.model.holders == {job}
            job.ended.emit()
            assert not w.model.holders
    finally:
        w.close()
