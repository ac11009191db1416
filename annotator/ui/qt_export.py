"""File → Export…: the options of `annotator export` in a dialog, the export in a background thread.

The dialog offers the formats `annotator export` writes (registry.export_names), the layers this user
may see (blind annotation: their own and the model's, every layer for a reviewer), done/all (done by
default: what a person finished) and "Include unchecked suggestions" (the command line's
--include-suggestions; the hint says how the chosen format marks them, or that it leaves them out). The
export runs in a QtExporter thread with a determinate progress bar and Cancel; the core writes into a
temporary folder and swaps the result into place, so a failed or cancelled export leaves nothing.
Replacing an existing export is confirmed first (the command line's --force).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QMessageBox, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from annotator.core.db.annotators import GOLD, MODEL_LAYER
from annotator.core.project import Project
from annotator.errors import AnnotatorError, Errors
from annotator.formats import registry
from annotator.io import outputs
from annotator.io.exporting import STATUSES, export, summary
from annotator.ui.qt_files import file_dialog
from annotator.ui.qt_jobs import QtJobRunner

STATUS_TEXT = {"done": "Only documents marked done (done)", "all": "Every document marked done or in progress (all)"}
SUGGESTION_MARK = {"jsonl": 'span "status": "suggested"', "labelstudio": "predictions",
                   "spacy": 'doc.spans["suggested"], never doc.ents', "brat": "the attribute Suggested",
                   "xmi": "inception_internal_predicted on the NamedEntity"}
CANCELLED = "Export cancelled; nothing was written."


def _export(fmt: str, out: str, layer: str, status: str, suggestions: bool, viewer: str | None, force: bool,
            store, progress, cancelled):
    return export(store, fmt, out, layer=layer, status=status, suggestions=suggestions, viewer=viewer,
                  progress=progress, cancelled=cancelled, force=force)


class QtExporter(QtJobRunner):
    """Runs one export at a time; `finished` carries the FormatReport."""

    busy = Errors.E310
    unexpected = Errors.E309

    def start(self, url: str, fmt: str, out: str | Path, *, layer: str, status: str = "done",
              suggestions: bool = False, viewer: str | None = None, force: bool = False) -> bool:
        return self.run_job(url, partial(_export, fmt, str(out), layer, status, suggestions, viewer, force),
                            Path(out).name)


def layer_text(name: str, user: str) -> str:
    if name == user:
        return f"{name} (yours)"
    return {GOLD: f"{GOLD} (adjudicated)", MODEL_LAYER: f"{MODEL_LAYER} (suggestions)"}.get(name, name)


class QtExportDialog(QDialog):
    """Format, layer, documents and output path; Export runs it, Cancel stops it."""

    exported = Signal(str)  # the summary, for the window's status bar
    failed = Signal(str)  # a coded error message
    cancelled = Signal()

    def __init__(self, project: Project, exporter: QtExporter, parent: QWidget | None = None):
        super().__init__(parent)
        self.project, self.exporter = project, exporter
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export annotations")
        self.setModal(True)
        self.setMinimumWidth(560)
        self._suggested = ""
        self._path_format: str | None = None  # the format the path in the box was written for
        self.out: Path | None = None
        self.confirm: QMessageBox | None = None  # "replace the existing export?", while it is asked

        self.format = QComboBox()
        for name in registry.export_names():
            self.format.addItem(f"{name} — {registry.info(name).title}", name)
        self.layer = QComboBox()
        self.status = QComboBox()
        for status in STATUSES:
            self.status.addItem(STATUS_TEXT[status], status)
        self.suggestions = QCheckBox("Include unchecked &suggestions, marked as such")
        self.suggestions.setObjectName("exportSuggestions")
        self.suggestions.setToolTip("Suggestions nobody has accepted yet; never written as a decision")
        self.path = QLineEdit()
        self.path.setObjectName("exportPath")
        self.path.setClearButtonEnabled(True)
        self.browse = QPushButton("Browse…")
        self.browse.setAutoDefault(False)
        self.browse_dialog: QFileDialog | None = None
        where = QWidget()
        row = QHBoxLayout(where)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        where_label = QLabel("&Write to:")
        where_label.setBuddy(self.path)
        self.hint = QLabel()
        self.hint.setObjectName("exportHint")
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #6B6B6B")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Format:", self.format)
        form.addRow("&Layer:", self.layer)
        form.addRow("&Documents:", self.status)
        form.addRow("", self.suggestions)
        form.addRow(where_label, where)
        form.addRow("", self.hint)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.hide()  # shown while an export runs
        self.message = QLabel()
        self.message.setObjectName("exportMessage")
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # may quote document names
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()  # shown with a message
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.format.currentIndexChanged.connect(self._on_format)
        self.layer.currentIndexChanged.connect(lambda _i: self._suggest())
        self.suggestions.toggled.connect(self._on_format)
        self.path.textChanged.connect(self._update_buttons)
        self.browse.clicked.connect(self.open_browser)
        self.export_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)
        exporter.started.connect(self._on_started)
        exporter.progress.connect(self._on_progress)
        exporter.finished.connect(self._on_finished)
        exporter.failed.connect(self._on_failed)
        exporter.cancelled.connect(self._on_cancelled)
        exporter.ended.connect(self._update_buttons)
        self.set_choice(self.format, "jsonl")
        self.set_choice(self.status, "done")  # the command line's defaults
        self.reload_layers()
        self._on_format()

    def reopen(self) -> None:
        """Show the dialog again with the last choices, the layers re-read and no old message."""
        if not self.exporter.running():
            self.reload_layers()
            self._reset_progress()
            self._show("", error=False)
        self._update_buttons()
        self.open()
        self.format.setFocus()

    # --- choices
    def fmt(self) -> str:
        return self.format.currentData()

    def reload_layers(self) -> None:
        """The layers this user may export; theirs first and chosen (roles can change between openings)."""
        chosen = self.layer.currentData()
        user = self.project.user
        names = [info.name for info in self.project.visible_layers()]
        names.sort(key=lambda n: (n != user, n))
        self.layer.blockSignals(True)
        self.layer.clear()
        for name in names:
            self.layer.addItem(layer_text(name, user), name)
        self.layer.setCurrentIndex(max(0, self.layer.findData(chosen if chosen in names else user)))
        self.layer.blockSignals(False)
        self._suggest()

    def set_choice(self, combo: QComboBox, value: str) -> None:
        combo.setCurrentIndex(combo.findData(value))

    def _on_format(self, *_args) -> None:
        kind = registry.info(self.fmt())
        what = ("a folder: one file per document and the format's own files; an existing export folder is "
                "replaced as a whole, after you confirm" if kind.folder
                else f"one {kind.suffix} file, replaced if it exists, after you confirm")
        tokens = " Spans off token boundaries are left out and reported." if kind.tokens else ""
        if kind.tokens:  # an unchecked suggestion is neither an entity nor O
            tokens += (" The words of unchecked suggestions are marked missing (not annotated)." if kind.missing else
                       " A document with unchecked suggestions is left out and named: every word would be O.")
        marks = ""
        if self.suggestions.isChecked():
            mark = SUGGESTION_MARK.get(self.fmt())
            marks = (f" Suggestions are marked as {mark}." if mark and kind.status else
                     f" {self.fmt()} cannot mark a suggestion: they are left out and counted.")
        self.hint.setText(f"Writes {what}.{tokens}{marks}")
        self._suggest()

    def _suggest(self) -> None:
        """Propose `<project>-<layer>.<suffix>` beside the project file, until the user types their own;
        a path of their own follows the format's suffix (`_follow_format`)."""
        current = self.path.text().strip()
        before, self._path_format = self._path_format, self.fmt()
        kind = registry.info(self.fmt())
        if current and current != self._suggested:
            self._follow_format(current, before, kind)
            return
        folder = Path(current).parent if current else self._base()
        stem = self.project.store.path.stem if self.project.store.path else "export"
        layer = self.layer.currentData() or self.project.user
        name = f"{stem}-{layer}-{self.fmt()}" if kind.folder else f"{stem}-{layer}{kind.suffix}"
        self._suggested = str(folder / name)
        self.path.setText(self._suggested)

    def _follow_format(self, current: str, before: str | None, kind) -> None:
        """The user's path for the format chosen before, given the new one's suffix (out.jsonl becomes
        out.spacy, a folder for brat out.conll): switching the format after an export wrote a DocBin under
        the JSONL's name, over it, once Replace was pressed."""
        if before is None or before == self.fmt():
            return
        path, was = Path(current), registry.info(before)
        if (path.suffix.lower() != was.suffix.lower()) if was.suffix else path.suffix:
            return  # a name of the user's own making: left as typed
        base = str(path.with_suffix("")) if was.suffix else current
        self.path.setText(base + kind.suffix)

    def _base(self) -> Path:
        return self.project.store.path.parent if self.project.store.path else Path.home()

    def out_path(self) -> Path:
        """The path typed, with ~ expanded; a relative one is taken from the project's folder."""
        path = Path(self.path.text().strip()).expanduser()
        return path if path.is_absolute() else self._base() / path

    def open_browser(self) -> None:
        """Qt's file dialog, for a file or (brat, XMI) a folder; its choice goes into the path box."""
        kind = registry.info(self.fmt())
        out = self.out_path()
        dialog = file_dialog(self, "Export to a folder" if kind.folder else "Export to a file",
                             str(out.parent if out.parent.is_dir() else self._base()))
        dialog.setObjectName("exportBrowser")
        if kind.folder:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)  # Export asks (start)
            dialog.setFileMode(QFileDialog.FileMode.AnyFile)
            dialog.setNameFilters([f"{self.fmt()} (*{kind.suffix})", "All files (*)"])
            dialog.setDefaultSuffix(kind.suffix.lstrip("."))
            dialog.selectFile(out.name)
        dialog.fileSelected.connect(self.path.setText)
        self.browse_dialog = dialog
        dialog.open()

    # --- running
    def start(self, force: bool = False) -> bool:
        """Run the export; an existing one is replaced only once the user confirms (then `force`)."""
        if self.exporter.running() or not self.path.text().strip():
            return False
        self.out = self.out_path()
        self._show("", error=False)
        if not force:
            try:
                outputs.check(self.out, project=self.project.store.path, force=True,
                              folder=registry.info(self.fmt()).folder)
            except AnnotatorError as e:  # never replaceable: no question to ask
                self._on_failed(str(e))
                return False
            if self.out.is_file() or (self.out.is_dir() and any(self.out.iterdir())):
                self.ask_replace()
                return False
        return self.exporter.start(self.project.store.url, self.fmt(), self.out, layer=self.layer.currentData(),
                                   status=self.status.currentData(), suggestions=self.suggestions.isChecked(),
                                   viewer=self.project.user, force=force)

    def ask_replace(self) -> None:
        """A window-modal question; Replace runs the export with force."""
        box = QMessageBox(QMessageBox.Icon.Question, "Replace the export?",
                          f"'{self.out}' already exists. Replace it with this export? The old "
                          f"{'folder' if self.out.is_dir() else 'file'} is removed once the new one is complete.",
                          QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("exportConfirm")
        replace = box.addButton("&Replace", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is replace and self.start(force=True))
        box.finished.connect(lambda _r: setattr(self, "confirm", None))
        self.confirm = box
        box.open()

    def _on_started(self, _what: str) -> None:
        self.progress.show()
        self.progress.setRange(0, 0)  # busy until the documents are counted
        self.progress.setFormat("counting documents…")
        self._fit()
        self._update_buttons()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done if total else 1)
        self.progress.setFormat(f"{done} / {total} documents")

    def _on_finished(self, report) -> None:
        text = " ".join(summary(report, self.out))
        self._show(text, error=False)
        self.exported.emit(text)
        self.accept()

    def _on_failed(self, message: str) -> None:
        self._reset_progress()
        self._show(message, error=True)
        self.failed.emit(message)

    def _on_cancelled(self) -> None:
        self._reset_progress()
        self._show(CANCELLED, error=False)
        self.cancelled.emit()

    def _reset_progress(self) -> None:
        self.progress.hide()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")

    def _show(self, text: str, error: bool) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))  # no empty gap above the buttons
        self.message.setStyleSheet("color: #B00020" if error else "")
        self._fit()

    def _fit(self) -> None:
        """Grow to show a long message or the progress bar (wrapped labels do not resize the dialog)."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.heightForWidth(self.width()),
                                      self.sizeHint().height()))

    def _update_buttons(self, *_args) -> None:
        running = self.exporter.running()
        self.close_button.setEnabled(True)
        self.export_button.setEnabled(not running and bool(self.path.text().strip()))
        self.close_button.setText("Cancel" if running else "Close")
        self.close_button.setToolTip("Stop the export; nothing is written" if running else "")
        for widget in (self.format, self.layer, self.status, self.suggestions, self.path, self.browse):
            widget.setEnabled(not running)

    def reject(self) -> None:
        """Close, or (Escape, Cancel, the window's close button) cancel a running export first."""
        if self.exporter.running():
            self.exporter.cancel()
            self.close_button.setEnabled(False)
            self.progress.setFormat("cancelling…")
            return
        super().reject()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.exporter.running():
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)
