"""Starting the window (`run`) and rendering it to a PNG (`screenshot`).

The window shows before spaCy is imported: on an empty project the bundled seeds are imported (with
the model) in a background thread after the window is up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from annotator.core.db.annotators import default_user
from annotator.core.project import Project, SchemaState
from annotator.core.resources import resource, seeds_dir
from annotator.errors import AnnotatorError, Errors, SchemaOutdated
from annotator.io import outputs
from annotator.io.kb_transfer import load_starter
from annotator.ui.qt_main_window import QtMainWindow
from annotator.ui.qt_settings import APPLICATION, ORGANIZATION, last_user, remember_project, settings
from annotator.ui.qt_upgrade import upgrade

# What Qt's X11 plugin (xcb) loads besides libxcb itself; a minimal Linux install may lack them, and
# Qt then aborts the process with a message about "reinstalling the application".
XCB_PACKAGES = ("libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
                "libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1")


def check_display(libraries: list[str] | None = None) -> None:
    """E051/E052/E053 instead of Qt's abort when the window cannot open on Linux. `libraries`: what to try
    loading (default: Qt's xcb plugin, which pulls in its dependencies, and libxcb-cursor, which Qt
    loads only at run time)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if sys.platform != "linux" or QApplication.instance() is not None or platform not in ("", "xcb"):
        return
    if not platform and os.environ.get("WAYLAND_DISPLAY"):
        return
    if not os.environ.get("DISPLAY"):
        raise AnnotatorError(Errors.E051)
    import ctypes

    import PySide6

    if libraries is None:
        plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        libraries = [str(plugin), "libxcb-cursor.so.0"] if plugin.exists() else []
    missing = []
    for library in libraries:
        try:
            ctypes.CDLL(library)
        except OSError as e:
            missing.append(str(e).split(":")[0])  # dlopen names the (first) library it could not find
    if missing:
        raise AnnotatorError(Errors.E052.format(missing=", ".join(missing), packages=XCB_PACKAGES))
    if not _display_answers():
        raise AnnotatorError(Errors.E053.format(display=os.environ["DISPLAY"]))


def _display_answers() -> bool:
    """Whether the X server named by DISPLAY accepts a connection (Qt aborts the process if not)."""
    import ctypes

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # cannot tell: Qt will say
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(None, None)  # never NULL: a failed one carries its error
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def application(offscreen: bool = False) -> QApplication:
    """The QApplication, created on first use (offscreen when asked and there is no display)."""
    app = QApplication.instance()
    if app is None:
        if offscreen and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
        app.setStyle("Fusion")  # the same clean look on every platform; colours come from the window
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APPLICATION)
        app.setApplicationDisplayName("annotator")
    return app


def default_db() -> str:
    """ANNOTATOR_DB, else project.db in the user data directory."""
    if os.environ.get("ANNOTATOR_DB"):
        return os.environ["ANNOTATOR_DB"]
    from platformdirs import user_data_dir

    return str(Path(user_data_dir("annotator", appauthor=False)) / "project.db")


def seed_files() -> list[Path]:
    """The bundled sample articles (only the .txt: the starter KB is not a corpus)."""
    return sorted(seeds_dir().glob("*.txt"))


def make_window(project: Project) -> QtMainWindow:
    window = QtMainWindow(project)
    window.apply_style(resource("annotator.qss").read_text(encoding="utf-8"))
    window.projectRequested.connect(lambda db: switch_project(window, db))
    return window


WINDOWS: list[QtMainWindow] = []  # windows opened by switching projects, kept alive until closed


def switch_project(window: QtMainWindow, db: str) -> QtMainWindow | None:
    """File → New/Open/Recent project: the other project opens in a new window in the place of this
    one, which closes (simpler and safer than re-pointing every view at another store). A project that
    cannot be opened leaves this window as it is, with the error in its status bar."""
    try:
        new = launch(db, import_seeds=False)
    except AnnotatorError as e:
        window.show_error(str(e))
        return None
    new.setGeometry(window.geometry())
    WINDOWS.append(new)
    window.close()
    if window in WINDOWS:  # itself opened by a switch: nobody else closes its project
        WINDOWS.remove(window)
        window.project.close()
        window.deleteLater()
    return new


def ask_upgrade(message: str) -> bool:
    """The question put to the user when the project's schema is older than this annotator's."""
    answer = QMessageBox.question(
        None, "Upgrade the project?",
        f"{message}\n\nUpgrade it now? Colleagues using an older annotator will not be able to open it "
        "afterwards.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def open_project(db: str, user: str | None) -> tuple[Project, SchemaState | None]:
    """The project as `user`, else the team login, else the last user; an older schema is upgraded
    (after a backup, for SQLite) if the user agrees, behind a progress dialog (ui/qt_upgrade.py):
    then also what the upgrade did."""
    fallback = last_user() or default_user()
    try:
        return Project.open(db, user, fallback=fallback), None
    except SchemaOutdated as e:
        if not ask_upgrade(str(e)):
            raise
    state = upgrade(db, QApplication.activeWindow())
    return Project.open(db, user, fallback=fallback), state


def upgraded_message(state: SchemaState) -> str:
    kept = f"; the file as it was is kept as {state.backup}" if state.backup is not None else ""
    return f"Upgraded the project from schema {state.before} to {state.revision}{kept}."


def launch(db: str | os.PathLike | None = None, user: str | None = None, *,
           import_seeds: bool = True) -> QtMainWindow:
    """Open the project and show its window; an empty project gets the seeds (in the background)."""
    db = str(db or default_db())
    # on a team server a member works as their login (Project refuses another explicit name)
    project, upgraded = open_project(db, user or os.environ.get("ANNOTATOR_USER"))
    window = make_window(project)
    window.restore_layout()
    window.show()
    window.refresh_documents()
    if upgraded is not None and upgraded.action == "upgraded":  # not when another process upgraded it first
        window.show_message(upgraded_message(upgraded))
    remember_project(db, project.user)
    listed = window.documents.model.rowCount()  # the list reads pages: ask the project, not its rows
    if not listed and import_seeds:
        load_starter(project.store)  # first, so that the import suggests links from it
        window.import_paths(seed_files(), use_model=True)
    elif listed:
        last = settings().value(f"last_document/{db}")
        doc = project.document_ids([last]).get(last) if last else None
        window.open_document(doc or project.first_unfinished())
    window.model.opened.connect(lambda: settings().setValue(f"last_document/{db}", window.model.name))
    return window


def run(db: str | os.PathLike | None = None, user: str | None = None) -> int:
    """`annotator`: the window on a project; returns the exit code."""
    check_display()
    app = application()
    try:
        window = launch(db, user)
    except AnnotatorError as e:
        QMessageBox.critical(None, "annotator", str(e))
        return 1
    report_uncaught_errors(window)
    code = app.exec()
    for each in [window, *WINDOWS]:
        each.project.close()
    return code


def report_uncaught_errors(window: QtMainWindow) -> None:
    """An exception escaping a slot is printed and shown in the status bar instead of going unseen."""
    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        previous(kind, value, tb)
        if isinstance(value, AnnotatorError):
            window.show_error(str(value))
        else:
            window.show_error(f"Unexpected error ({kind.__name__}: {value}). Edits already saved are "
                              "safe; please report this.")

    sys.excepthook = hook


def screenshot(db: str | os.PathLike, doc_name: str, out_png: str | os.PathLike,
               size: tuple[int, int] = (1280, 800), user: str | None = None, force: bool = False) -> Path:
    """Render the window with `doc_name` open (its first span selected) to a PNG, offscreen. The path
    is checked like an export's (never the project or a database; an existing file only with `force`)."""
    app = application(offscreen=True)
    project = Project.open(str(db), user, fallback=default_user(), register=False)  # looking adds nobody
    try:
        out = outputs.check(out_png, project=project.store.path, force=force)
    except AnnotatorError:
        project.close()
        raise
    window = make_window(project)
    window.persist_layout = False  # a screenshot must not overwrite the user's window layout
    try:
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        window.resize(*size)
        window.show()
        window.refresh_documents()
        window.open_document_named(doc_name)
        window.model.load_rest()  # a long document's spans past its first screen, as a moment after opening
        if window.model.order:
            window.model.set_current(window.model.order[0][2])
        window.view.verticalScrollBar().setValue(0)
        window.view.highlighter.flush()
        window.link_panel.run_search()  # the candidates, without waiting for the typing pause
        app.processEvents()
        picture = window.grab()

        def save(path: Path) -> None:
            if not picture.save(str(path), "PNG"):
                raise AnnotatorError(Errors.E307.format(path=out))

        try:
            outputs.replace(out, save)
        except OSError:
            raise AnnotatorError(Errors.E307.format(path=out)) from None
        return out
    finally:
        window.close()
        project.close()
