"""The Model menu: Train… (`annotator train` in a thread, spaCy's lines shown, Cancel ends the spaCy
process), Model runs… (held-out P/R/F and links F, the suggester, the gain over the stock model on the same
documents; "Use this run"), Re-suggest unchecked documents with the suggester; and Navigate → Next
uncertain document (io.uncertainty: where the suggester and its reference disagree most).

Training and choosing the suggester change the whole project: reviewers only, as on the command line.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFormLayout, QLabel, QMainWindow, QMenu,
                               QPlainTextEdit, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout)

from annotator.core.words import plural
from annotator.errors import AnnotatorError, Errors
from annotator.io import model_runs
from annotator.io.resuggesting import resuggest
from annotator.io.training import train
from annotator.io.uncertainty import opened, uncertain_order
from annotator.ui.qt_actions import make_action
from annotator.ui.qt_jobs import QtJobRunner

TRAIN_CANCELLED = "Training cancelled; nothing was recorded."
COLUMNS = ["", "Run", "Trained", "Documents", "Base", "P", "R", "F", "F vs stock", "Links F"]


def _train(viewer: str, max_steps: int, line, store, _progress, cancelled):
    return train(store, viewer=viewer, max_steps=max_steps, progress=line, cancelled=cancelled)


def _resuggest(run: str, viewer: str, store, progress, _cancelled):
    return resuggest(store, run, "unchecked", viewer=viewer, progress=progress)


class QtTrainer(QtJobRunner):
    """One training at a time; `line` carries spaCy's output, `finished` the TrainReport."""

    busy = Errors.E615
    unexpected = Errors.E616

    def start(self, url: str, viewer: str, max_steps: int) -> bool:
        return self.run_job(url, partial(_train, viewer, max_steps, self.say), "training")


class QtResuggester(QtJobRunner):
    busy = Errors.E615
    unexpected = Errors.E616


def _rank(store, progress, cancelled) -> list[int]:
    return [u.document_id for u in uncertain_order(store, progress=progress, cancelled=cancelled)]


class QtRanker(QtJobRunner):
    """Both models read a pool of unchecked documents: that takes a while, so off the UI thread."""

    busy = ""  # never shown: asking again while ranking waits for the same order
    unexpected = Errors.E623


def links_f(scores: dict) -> str:
    """F1 of the run's entity linker on the held-out mentions a person linked; why there is none if not."""
    if "links" in scores:
        return f"{scores['links']['f']:.3f}"
    linker = scores.get("linker")
    if linker and not linker.get("trained"):
        return f"no linker ({linker.get('mentions', 0)} links)"
    return ""


def gain(scores: dict) -> str:
    """F1 over the stock model's, both on the run's held-out documents ("" if the stock one was not scored)."""
    stock = (scores.get("stock") or {}).get("overall")
    if not stock:
        return ""
    return f"{scores['overall']['f'] - stock['f']:+.3f}"


def details(run: model_runs.RunInfo) -> str:
    """The selected run, label by label: what the table's one F hides (a new label learned, an old one lost)."""
    scores = run.scores
    stock = (scores.get("stock") or {}).get("per_label") or {}
    layers = (scores.get("trained_on") or {}).get("layers") or {}
    whose = f" ({', '.join(f'{layer} {n}' for layer, n in layers.items())})" if layers else ""
    lines = [f"{run.name}: trained on {plural(run.documents, 'document')}{whose}, scored on "
             f"{scores.get('documents', 0)} held out."]
    for label, prf in (scores.get("per_label") or {}).items():
        versus = f"   (stock F {stock[label]['f']:.3f})" if label in stock else "   (the stock model lacks it)"
        lines.append(f"{label}: P {prf['p']:.3f}  R {prf['r']:.3f}  F {prf['f']:.3f}" + (versus if stock else ""))
    if "links" in scores:
        lines.append("Links: P {p:.3f}  R {r:.3f}  F {f:.3f}".format(**scores["links"]))
    return "\n".join(lines)


class QtTrainDialog(QDialog):
    """Steps, Train, spaCy's lines as they come; Cancel stops the training."""

    trained = Signal(object)  # the TrainReport

    def __init__(self, window: QMainWindow, trainer: QtTrainer):
        super().__init__(window)
        self.window_, self.trainer = window, trainer
        self.setObjectName("trainDialog")
        self.setWindowTitle("Train the model")
        self.setMinimumWidth(620)
        self.steps = QSpinBox()
        self.steps.setObjectName("trainSteps")
        self.steps.setRange(1, 100_000)
        self.steps.setValue(1000)
        form = QFormLayout()
        form.addRow("Training &steps:", self.steps)
        about = QLabel("Learns from every finished document's accepted spans (never an unchecked suggestion); "
                       "a fifth is held out to score the run.")
        about.setWordWrap(True)
        self.log = QPlainTextEdit()
        self.log.setObjectName("trainLog")
        self.log.setReadOnly(True)
        self.message = QLabel()
        self.message.setObjectName("trainMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox()
        self.train_button = self.buttons.addButton("&Train", QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.train_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)
        trainer.line.connect(self.log.appendPlainText)
        trainer.finished.connect(self._on_finished)
        trainer.failed.connect(lambda text: self._show(text, error=True))
        trainer.cancelled.connect(lambda: self._show(TRAIN_CANCELLED, error=False))
        trainer.ended.connect(self._update_buttons)
        self._update_buttons()

    def start(self) -> bool:
        project = self.window_.project
        self.log.clear()
        self._show("", error=False)
        started = self.trainer.start(project.store.url, project.user, self.steps.value())
        self._update_buttons()
        return started

    def _on_finished(self, report) -> None:
        s = report.run.scores.get("overall", {})
        versus = gain(report.run.scores)
        self._show(f"Trained run {report.run.name} on {plural(report.train, 'document')} ({report.held_out} held out): "
                   f"P {s.get('p', 0):.3f} R {s.get('r', 0):.3f} F {s.get('f', 0):.3f}"
                   + (f", F {versus} over the stock model" if versus else "")
                   + (f", links F {links_f(report.run.scores)}" if "links" in report.run.scores else "")
                   + ". Model → Model runs… makes it the suggester.", error=False)
        self.trained.emit(report)

    def _show(self, text: str, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #B00020" if error else "")

    def _update_buttons(self, *_args) -> None:
        running = self.trainer.running()
        self.train_button.setEnabled(not running)
        self.steps.setEnabled(not running)
        self.close_button.setText("Cancel" if running else "Close")

    def reject(self) -> None:
        """Close, or first cancel a running training (spaCy's process is ended)."""
        if self.trainer.running():
            self.trainer.cancel()
            self.close_button.setEnabled(False)
            self._show("Cancelling…", error=False)
            return
        super().reject()


class QtRunsDialog(QDialog):
    """The runs with their held-out scores; "Use this run" makes the selected one the suggester."""

    used = Signal(str)

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("runsDialog")
        self.setWindowTitle("Model runs")
        self.resize(760, 320)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        note = QLabel("P, R, F: on the documents held out of the run's training. F vs stock: the gain over the "
                      "stock model scored on the same documents and labels. Links F: the entity linker, on "
                      "the held-out mentions a person linked. ● suggests.")
        note.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("runsMessage")
        self.message.setWordWrap(True)
        self.detail = QLabel()  # the selected run, label by label
        self.detail.setObjectName("runsDetail")
        self.detail.setTextFormat(Qt.TextFormat.PlainText)  # label names come from the project
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.use_button = self.buttons.addButton("&Use this run", QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        self.use_button.clicked.connect(self.use_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.reload()

    def reload(self) -> None:
        self.runs = model_runs.runs(self.window_.project.store)
        self.table.setRowCount(len(self.runs))
        for row, r in enumerate(self.runs):
            o = r.scores.get("overall", {})
            cells = ["●" if r.active else "", r.name + ("" if r.exists else " (folder missing)"), r.created_at,
                     str(r.documents), r.base, *(f"{o.get(k, 0):.3f}" for k in "prf"), gain(r.scores),
                     links_f(r.scores)]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self._update_buttons()

    def select_run(self, name: str) -> None:
        self.table.selectRow(next(i for i, r in enumerate(self.runs) if r.name == name))

    def selected(self) -> model_runs.RunInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.runs[rows[0].row()] if rows else None

    def use_selected(self) -> None:
        run = self.selected()
        if run is None:
            return
        project = self.window_.project
        try:
            model_runs.use_run(project.store, run.name, viewer=project.user)
        except AnnotatorError as e:
            self.message.setText(str(e))
            return
        self.message.setText(f"{run.name} is now the project's suggester.")
        self.reload()
        self.used.emit(run.name)

    def _update_buttons(self) -> None:
        run = self.selected()
        self.use_button.setEnabled(run is not None and not run.active and run.exists)
        self.detail.setText(details(run) if run is not None else "Select a run to see its scores label by label.")


class QtModelTools(QObject):
    """The Model menu and Navigate → Next uncertain document of a QtMainWindow."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window_ = w = window
        self.trainer = QtTrainer(self)
        self.resuggester = QtResuggester(self)
        w.model.hold_while(self.resuggester)
        self.ranker = QtRanker(self)
        self.train_dialog: QtTrainDialog | None = None
        self.runs_dialog: QtRunsDialog | None = None
        self.queue: list[int] = []  # the uncertain order, until a run or the suggestions change
        self.generation = 0  # bumped by forget(): a ranking asked for before is out of date
        self.asked: tuple[int, int | None] = (0, None)  # (generation, open document) when ranking started
        self.train = make_action(w, "&Train…", ["Ctrl+Alt+T"], self.show_train,
                                 "Train a model on the finished documents (reviewers)")
        self.runs = make_action(w, "Model &runs…", ["Ctrl+Alt+R"], self.show_runs,
                                "The trained runs, their scores, and which one suggests")
        self.resuggest = make_action(w, "Re-&suggest unchecked documents", ["Ctrl+Alt+S"],
                                     self.resuggest_unchecked,
                                     "Replace the suggestions of documents nobody opened with the suggester's")
        self.next_uncertain = make_action(w, "Next &uncertain document", ["Ctrl+Shift+PgDown"], self.next_uncertain_doc,
                                          "The unchecked document where the suggester and its stock model disagree "
                                          "most")
        bar = w.menuBar()
        help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)  # Help stays last
        menu = QMenu("&Model", bar)
        if help_menu is not None:
            bar.insertMenu(help_menu, menu)
        else:
            bar.addMenu(menu)
        menu.setObjectName("modelMenu")
        menu.addActions([self.train, self.runs])
        menu.addSeparator()
        menu.addAction(self.resuggest)
        nav = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Navigate")
        actions = nav.actions()
        after = actions.index(w.menu_actions.prev_doc) + 1
        nav.insertAction(actions[after] if after < len(actions) else None, self.next_uncertain)
        reviewer = w.project.is_reviewer()
        for action in (self.train, self.resuggest):
            action.setEnabled(reviewer)
        self.trainer.finished.connect(lambda _r: self.forget())
        self.resuggester.finished.connect(self._on_resuggested)
        self.resuggester.failed.connect(w.show_error)
        self.ranker.progress.connect(lambda done, total: w.show_message(
            f"Ranking the unchecked documents by uncertainty: {done} of {total}…"))
        self.ranker.finished.connect(self._on_ranked)
        self.ranker.failed.connect(w.show_error)

    def forget(self) -> None:
        """A run was trained or chosen, or suggestions changed: the uncertain order (also one being
        ranked) is out of date."""
        self.generation += 1
        self.queue = []
        if self.runs_dialog is not None:
            self.runs_dialog.reload()

    def show_train(self) -> QtTrainDialog | None:
        if not self.window_.project.is_reviewer():
            self.window_.show_error(Errors.E614.format(user=self.window_.project.user))
            return None
        if self.train_dialog is None:
            self.train_dialog = QtTrainDialog(self.window_, self.trainer)
        self.train_dialog.open()
        return self.train_dialog

    def show_runs(self) -> QtRunsDialog:
        if self.runs_dialog is None:
            self.runs_dialog = QtRunsDialog(self.window_)
            self.runs_dialog.used.connect(lambda name: (self.forget(), self.window_.show_message(
                f"{name} is now the project's suggester.")))
        self.runs_dialog.reload()
        self.runs_dialog.open()
        return self.runs_dialog

    def resuggest_unchecked(self) -> bool:
        w = self.window_
        active = model_runs.active_run(w.project.store)
        if active is None:
            w.show_error(Errors.E612)
            return False
        return self.resuggester.run_job(w.project.store.url, partial(_resuggest, active.name, w.project.user),
                                        "re-suggesting")

    def _on_resuggested(self, report) -> None:
        self.forget()
        self.window_.refresh_documents()
        self.window_.show_message(f"{report.run} suggested {plural(report.suggestions, 'span')} in "
                                  f"{plural(report.documents, 'unchecked document')}.")

    def next_uncertain_doc(self) -> int | None:
        """Open the most uncertain unchecked document. The order is computed once, in the background
        (the document opens when it is ready), then walked; a run or new suggestions make it anew."""
        w = self.window_
        if not self.queue:
            try:
                active = model_runs.active_run(w.project.store)
            except AnnotatorError as e:  # the server away, the file replaced: said, never a traceback
                w.show_error(str(e))
                return None
            if active is None:
                w.show_error(Errors.E612)
            elif not self.ranker.running():
                self.asked = (self.generation, w.model.doc_id)
                self.ranker.run_job(w.project.store.url, _rank, "ranking")
                w.show_message("Ranking the unchecked documents by uncertainty…")
            return None
        return self._open_next()

    def _on_ranked(self, order: list[int]) -> None:
        """The order arrives: kept only if no run or suggestion changed meanwhile; its first document
        opens only if the user is still where they asked from."""
        generation, where = self.asked
        if generation != self.generation:
            return
        self.queue = order
        if not order:
            self.window_.show_message("No unchecked document left.")
        elif self.window_.model.doc_id == where:
            self._open_next()
        else:
            self.window_.show_message("The uncertain order is ready: Ctrl+Shift+PgDown opens its first document.")

    def _open_next(self) -> int | None:
        """The first of the order that nobody opened since it was computed (checked 50 at a time); past
        its end, the next pool of unchecked documents is ranked (io/uncertainty.py POOL)."""
        w = self.window_
        while self.queue:
            batch = self.queue[:50]
            try:
                seen = opened(w.project.store, batch) | {w.model.doc_id}
            except AnnotatorError as e:
                w.show_error(str(e))
                return None
            fresh = next((i for i in batch if i not in seen), None)
            del self.queue[:len(batch) if fresh is None else batch.index(fresh) + 1]
            if fresh is not None:
                w.open_document(fresh)
                return fresh
        return self.next_uncertain_doc()  # the queue is empty: rank what is unchecked now

    def close(self) -> None:
        self.trainer.wait()
        self.resuggester.wait()
        self.ranker.wait()
