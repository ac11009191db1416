"""How the main window is put together (qt_main_window): its widgets and splitters, and its status
bar. Construction only: what the widgets do is wired in the window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from annotator.ui.qt_document_list import QtDocumentList
from annotator.ui.qt_document_view import QtDocumentView
from annotator.ui.qt_import import QtImportProgress
from annotator.ui.qt_label_bar import QtLabelBar
from annotator.ui.qt_layer_box import QtLayerBox
from annotator.ui.qt_link_panel import QtLinkPanel
from annotator.ui.qt_span_panel import QtSpanPanel
from annotator.ui.qt_status_bar import QtStatusBar

if TYPE_CHECKING:  # type names only: qt_main_window imports this module to build itself
    from annotator.ui.qt_main_window import QtMainWindow


MIN_CENTRE_HEIGHT = 240  # the label bar's row and a few lines of the article, the list and the panels


def build_centre(w: QtMainWindow) -> None:
    """Documents on the left, the article in the centre, the span and link panels on the right, the
    label bar above; the article keeps a readable width, the side panels give way first."""
    w.documents = QtDocumentList(w.project)
    w.view = QtDocumentView(w.model)
    w.labels = QtLabelBar()
    w.panel = QtSpanPanel(w.model)
    w.link_panel = QtLinkPanel(w.model)  # below the span panel, in its own splitter
    w.right = QSplitter(Qt.Orientation.Vertical)
    w.right.setObjectName("sideSplitter")
    w.right.setChildrenCollapsible(False)
    w.right.addWidget(w.panel)
    w.right.addWidget(w.link_panel)
    w.right.setSizes([420, 330])  # the span list gets the larger share; the user's split is kept
    # in a scroll area: in a short window (a laptop's, the corpus search open below) the panels keep
    # the height their buttons and lists need and scroll, instead of being squashed unreadable
    side = QScrollArea()
    side.setObjectName("sidePanels")
    side.setWidget(w.right)
    side.setWidgetResizable(True)
    side.setFrameShape(QFrame.Shape.NoFrame)
    side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    w.splitter = QSplitter(Qt.Orientation.Horizontal)
    w.splitter.setObjectName("mainSplitter")
    w.splitter.setChildrenCollapsible(False)
    w.splitter.setHandleWidth(5)
    for widget, stretch in ((w.documents, 0), (w.view, 1), (side, 0)):
        w.splitter.addWidget(widget)
        w.splitter.setStretchFactor(w.splitter.count() - 1, stretch)
    w.splitter.setSizes([290, 660, 330])
    w.view.setMinimumWidth(440)
    w.documents.setMinimumWidth(180)
    w.panel.setMinimumWidth(240)
    side.setMinimumWidth(240 + side.verticalScrollBar().sizeHint().width())
    centre = QWidget()
    centre.setObjectName("centre")
    column = QVBoxLayout(centre)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(w.labels)
    column.addWidget(w.splitter, 1)
    # the label bar wraps its chips: its height at the narrowest width (several rows) would be the whole
    # centre's minimum, and a dock below (the corpus search) could only have what that leaves
    centre.setMinimumHeight(MIN_CENTRE_HEIGHT)
    w.setCentralWidget(centre)


def build_status_bar(w: QtMainWindow) -> None:
    """Import progress, the server's absence, the user's progress, the saved state, the layer shown
    and the user, as permanent widgets."""
    w.setStatusBar(QtStatusBar())  # a message too long for one line wraps
    bar = w.statusBar()
    w.import_progress = QtImportProgress(w.importer)
    w.progress_label = QLabel()
    w.saved_label = QLabel("All changes saved ✓")
    w.saved_label.setObjectName("savedLabel")
    w.saved_label.setToolTip("Every edit is committed to the project file as you make it; "
                             "there is nothing to save.")
    w.user_label = QLabel(f"User: {w.project.user}")
    w.layer_box = QtLayerBox(w)  # the layer shown: this user's, or another read-only
    w.offline_label = QLabel("Server unreachable — read-only")
    w.offline_label.setObjectName("offlineLabel")
    w.offline_label.setStyleSheet("color: #B00020; font-weight: bold")  # rarely shown: no repaint cost
    w.offline_label.setToolTip("The database server does not answer. You can read what is open; "
                               "edits are refused until it answers again (checked every few seconds).")
    w.offline_label.hide()
    for widget in (w.import_progress, w.offline_label, w.progress_label, w.saved_label,
                   QLabel("Layer:"), w.layer_box, w.user_label):
        bar.addPermanentWidget(widget)
