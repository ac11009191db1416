"""Shared fixtures: a fresh project per test (SQLite, or PostgreSQL too in modules that set
`BACKENDS`), the throwaway PostgreSQL server, and Qt settings kept out of the user's home."""

from __future__ import annotations

import sys

import factories
import pytest
from pg import PgCluster

from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.core.records import SpanRecord
from annotator.core.resources import seeds_dir
from annotator.io.importing import import_records
from annotator.io.sources import read_paths

USER = "tester"
# Hand-made spans in the first seed article, in the tester's own layer: (text, label, status)
HAND_SPANS = [("Kim Kwan-jin", "PERSON", "suggested"), ("Naoki Tanaka", "PERSON", "accepted"),
              ("Japan", "GPE", "suggested"), ("South Korea", "GPE", "suggested")]


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path_factory):
    """Window layout and last user go to a temporary INI file, never the real one."""
    if "PySide6.QtCore" not in sys.modules:  # tests without Qt need nothing
        yield
        return
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    yield


def pytest_generate_tests(metafunc):
    """A module with `BACKENDS = ("sqlite", "postgresql")` runs each of its tests on both, except
    those marked `single_backend` (about the SQLite file itself, or needing no project) and those
    that choose their own (`@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)`)."""
    backends = getattr(metafunc.module, "BACKENDS", None)
    own = any("backend" in m.args[0] for m in metafunc.definition.iter_markers("parametrize"))
    if backends and not own and not metafunc.definition.get_closest_marker("single_backend"):
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture(scope="session")
def pg_cluster():
    """The throwaway PostgreSQL server (started once; see tests/pg.py)."""
    cluster = PgCluster()
    yield cluster
    cluster.remove()


@pytest.fixture(autouse=True)
def backend(request):
    """"sqlite", or "postgresql" in the parametrised modules: `factories.new_store` follows it."""
    name = getattr(request, "param", "sqlite")
    if name == "postgresql":
        factories.use_postgres(request.getfixturevalue("pg_cluster"))
    yield name
    factories.close_stores()


@pytest.fixture
def store(tmp_path, backend):
    """A new, empty project."""
    return factories.new_store(tmp_path / "project.db")


@pytest.fixture
def project(store):
    """The three sample articles (no model: fast) with a few spans in the tester's layer."""
    records = read_paths(sorted(seeds_dir().glob("*.txt")))
    first = records[0]
    for text, label, status in HAND_SPANS:
        start = first.text.index(text)
        first.spans.append(SpanRecord(start, start + len(text), label, status=status))
    import_records(store, records, use_model=False, as_layer=USER)
    return Project(store, USER)


def show_active(qtbot, widget) -> None:
    """Show a window and wait until it is active: shortcuts reach only the active window."""
    with qtbot.waitActive(widget):
        widget.show()
        widget.activateWindow()


@pytest.fixture
def window(project, qtbot):
    """The main window on `project`, 1280×800, with the first article open."""
    from annotator.ui.qt_app import make_window

    w = make_window(project)
    w.use_model = False  # imports in these tests need no spaCy model
    qtbot.addWidget(w)
    w.resize(1280, 800)
    show_active(qtbot, w)
    w.refresh_documents()
    w.open_document(w.documents.model.docs[0].id)
    w.view.highlighter.flush()
    yield w
    w.close()


class UiDriver:
    """Acting on the article as a user does: code points → pixels, drags, clicks, and reading back
    what the highlighter drew (block-relative UTF-16 ranges, as Qt stores them)."""

    def __init__(self, qtbot):
        self.qtbot = qtbot

    def show(self, widget) -> None:
        show_active(self.qtbot, widget)

    @staticmethod
    def point_at(view, cp: int):
        from PySide6.QtGui import QTextCursor

        cursor = QTextCursor(view.document())
        cursor.setPosition(view.to_qt(cp))
        return view.cursorRect(cursor).center()

    def drag(self, view, start: int, end: int, modifier=None) -> None:
        """Press at code point `start`, move to and release at `end`."""
        from PySide6.QtCore import QPoint, Qt

        modifier = modifier if modifier is not None else Qt.KeyboardModifier.NoModifier
        a, b = self.point_at(view, start), self.point_at(view, end)
        self.qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, modifier, a)
        self.qtbot.mouseMove(view.viewport(), QPoint((a.x() + b.x()) // 2, b.y()))
        self.qtbot.mouseMove(view.viewport(), b)
        self.qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, modifier, b)

    def click(self, view, cp: int) -> None:
        """Click in the middle of the character at code point `cp`."""
        from PySide6.QtCore import QPoint, Qt

        a, b = self.point_at(view, cp), self.point_at(view, cp + 1)
        if a.y() != b.y():  # the character ends a line
            b = QPoint(a.x() + 4, a.y())
        self.qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint((a.x() + b.x()) // 2, a.y()))

    def key(self, widget, key, modifier=None) -> None:
        from PySide6.QtCore import Qt

        self.qtbot.keyClick(widget, key, modifier if modifier is not None else Qt.KeyboardModifier.NoModifier)

    @staticmethod
    def format_at(view, cp: int):
        """(start, length, QTextCharFormat) of the highlight covering code point `cp`, else None;
        start is block-relative UTF-16."""
        from PySide6.QtGui import QTextCharFormat

        pos = view.to_qt(cp)
        block = view.document().findBlock(pos)
        rel = pos - block.position()
        return next(((r.start, r.length, QTextCharFormat(r.format)) for r in block.layout().formats()
                     if r.start <= rel < r.start + r.length), None)

    @staticmethod
    def utf16_len(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    @staticmethod
    def block_offset(view, cp: int) -> int:
        """Block-relative UTF-16 position of code point `cp`."""
        pos = view.to_qt(cp)
        return pos - view.document().findBlock(pos).position()


@pytest.fixture
def ui(qtbot):
    return UiDriver(qtbot)
