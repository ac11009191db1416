"""The window's review windows and long review work, in one place: the agreement dashboard, the
adjudication view, the provenance panel, and merging a colleague's project file.

Roles are read from the project when a command is triggered (a role may change while the window is
open): the dashboard is for reviewers (E164 for anyone else: annotation is blind), and so is
adjudication (the core's E156).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from annotator.core.words import plural
from annotator.errors import AnnotatorError, Errors
from annotator.io.merging import MergeReport, merge
from annotator.ui.qt_tasks import QtStoreTask

if TYPE_CHECKING:  # the review windows (and numpy, with the agreement code) load when first opened
    from annotator.ui.qt_adjudication import QtAdjudicationView
    from annotator.ui.qt_agreement import QtAgreementDashboard
    from annotator.ui.qt_merge import QtMergeReport
    from annotator.ui.qt_provenance import QtProvenancePanel


class QtReview(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.project = window.project
        self.dashboard: QtAgreementDashboard | None = None
        self.adjudication: QtAdjudicationView | None = None
        self.provenance: QtProvenancePanel | None = None
        self.merge_report: QtMergeReport | None = None
        self.merge_task = QtStoreTask(self)
        window.model.hold_while(self.merge_task)
        self.merge_task.finished.connect(self._on_merged)
        self.merge_task.failed.connect(window.show_error)

    def is_reviewer(self) -> bool:
        return self.project.is_reviewer()

    @staticmethod
    def _raise(widget) -> None:
        widget.show()
        widget.raise_()
        widget.activateWindow()

    # --- agreement
    def show_agreement(self) -> QtAgreementDashboard | None:
        if not self.is_reviewer():
            self.window.show_error(Errors.E164.format(name=self.project.user, what="the agreement dashboard"))
            return None
        if self.dashboard is None:
            from annotator.ui.qt_agreement import QtAgreementDashboard

            self.dashboard = QtAgreementDashboard(self.project, self.window.model.labels, self.window)
            self.dashboard.openDisagreement.connect(lambda d, names, at: self.adjudicate(d, names, at))
            self.dashboard.failed.connect(self.window.show_error)
        self._raise(self.dashboard)
        self.dashboard.compute()
        return self.dashboard

    # --- adjudication
    def adjudicate(self, document_id: int | None = None, annotators: list[str] | None = None,
                   at: tuple[int, int] | None = None) -> QtAdjudicationView | None:
        """Open the adjudication view of a document (default: the open one) between `annotators`
        (default: the people's layers holding it, but the reviewer's own when two others remain),
        at the disagreement of region `at`. Coded errors go to the status bar."""
        try:
            return self._adjudicate(document_id, annotators, at)
        except AnnotatorError as e:
            self.window.show_error(str(e))
            return None

    def _adjudicate(self, document_id, annotators, at):
        from annotator.core.review.facade import Review
        from annotator.ui.qt_adjudication import QtAdjudicationView

        document_id = self.window.model.doc_id if document_id is None else document_id
        self.project.check_reviewer()  # E156 before anything else is said
        if document_id is None:
            raise AnnotatorError(Errors.E312)
        if annotators is None:
            annotators = Review(self.project).adjudication_annotators(document_id)
        view = self.adjudication
        if view is not None and view.isVisible() and view.document_id == document_id \
                and view.annotators == list(annotators):
            if at is not None:
                view.go_to(*at)
            self._raise(view)
            return view
        if view is not None:
            view.close()
            view.deleteLater()
        view = QtAdjudicationView.start(self.project, document_id, list(annotators), self.window.model.labels, at,
                                        parent=self.window)
        view.failed.connect(self.window.show_error)
        view.message.connect(self.window.show_message)
        self.adjudication = view
        self._raise(view)
        return view

    # --- provenance
    def show_provenance(self) -> QtProvenancePanel:
        reviewer = self.is_reviewer()
        if self.provenance is None or self.provenance.reviewer != reviewer:
            if self.provenance is not None:
                self.provenance.close()
            from annotator.ui.qt_provenance import QtProvenancePanel

            self.provenance = QtProvenancePanel(self.project, reviewer, self.window)
        self._raise(self.provenance)
        self.provenance.refresh()
        return self.provenance

    # --- merging
    def merge_dialog(self):
        """Choose the other project file; the merge starts when one is chosen."""
        from annotator.ui.qt_merge import merge_file_dialog

        dialog = merge_file_dialog(self.window)
        dialog.fileSelected.connect(self.merge_project)
        dialog.open()
        return dialog

    def merge_project(self, path: str) -> bool:
        if not self.merge_task.start(self.project.store.url, merge, path, what="The merge"):
            self.window.show_error(Errors.E317)
            return False
        self.window.show_message(f"Merging {path}…")
        return True

    def _on_merged(self, report: MergeReport) -> None:
        from annotator.ui.qt_merge import QtMergeReport

        self.window.reload_labels()
        self.window.refresh_documents()
        if self.dashboard is not None and self.dashboard.isVisible():
            self.dashboard.labels = self.window.model.labels
            self.dashboard.set_annotators()
            self.dashboard.compute()
        self.merge_report = QtMergeReport(report, self.window)
        self.merge_report.open()
        if self.window.guidelines_pane.isVisible():  # they may have come with the file
            self.window.guidelines_pane.load(self.project.guidelines())
        conflicts = report.conflicts
        self.window.show_message(report.summary() + (f" {plural(conflicts, 'conflict')}: kept this project's." if conflicts
                                                     else ""))

    def close(self) -> None:
        """The window closes: wait for a merge, close the review windows."""
        self.merge_task.wait()
        for widget in (self.dashboard, self.adjudication, self.provenance):
            if widget is not None:
                widget.close()
