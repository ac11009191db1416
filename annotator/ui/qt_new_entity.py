"""The link panel's inline "new entity" form (Ctrl+Shift+N): name, type and description of an entity
made from the current span. The near-duplicates of the typed name are said before anything is
created, with a way to link to the closest one instead (Ctrl+L); Enter then creates only when pressed
twice on the same name. The panel (qt_link_panel) makes the edits: the form asks for them."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QWidget

from annotator.errors import AnnotatorError, Errors
from annotator.ui.qt_actions import ENTER
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_text_line import short


class QtNewEntityForm(QWidget):
    createRequested = Signal()  # Enter in a field, or the Create button
    linkInsteadRequested = Signal()  # Ctrl+L, or the "Link to … instead" button
    cancelled = Signal()  # Escape: the form hid itself

    def __init__(self, model: QtDocumentModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.name, self.type, self.description = QLineEdit(), QLineEdit(), QLineEdit()
        self.create = QPushButton("Create and link (Enter)")
        self.warning = QLabel()
        self.warning.setObjectName("newEntityWarning")
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #8A5A00")
        self.link = QPushButton()
        self.link.setObjectName("newEntityLinkInstead")
        self.link.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.duplicates: list = []  # near-duplicates of the name in the form, best first
        self.confirmed_name: str | None = None  # Enter pressed once on this name despite the warning
        form.addRow("Name", self.name)
        form.addRow("Type", self.type)
        form.addRow("Description", self.description)
        form.addRow(self.warning)
        form.addRow(self.link)
        form.addRow(self.create)
        self.warning.hide()
        self.link.hide()
        self.hide()
        for field in (self.name, self.type, self.description):
            field.installEventFilter(self)
        self.create.clicked.connect(self.createRequested)
        self.link.clicked.connect(self.linkInsteadRequested)
        self.name.textEdited.connect(lambda _t: self.check_duplicates())

    def start(self, name: str, entity_type: str) -> None:
        """Show the form filled from the span, the name selected for typing over."""
        self.name.setText(name)
        self.type.setText(entity_type)
        self.description.clear()
        self.check_duplicates()
        self.show()
        self.name.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.name.selectAll()
        QTimer.singleShot(0, self.reveal)  # once the layout has placed it

    def reveal(self) -> None:
        """Scroll the side panels so the whole form shows: at 1280×800 it opened below their edge, its
        near-duplicate warning (why Enter must be pressed twice) and Create button out of sight."""
        area = self.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is not None and self.isVisible():
            for _ in range(3):  # the form's rows, then the panels, then the scroll area's widget grow
                QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            area.ensureWidgetVisible(self.create, 0, 8)
            area.ensureWidgetVisible(self.name, 0, 8)  # a form taller than the panel: its top first

    def check_duplicates(self) -> list:
        """Entities the name in the form would likely duplicate, shown above the Create button."""
        name = self.name.text().strip()
        try:
            self.duplicates = (self.model.project.near_duplicates(name, self.type.text().strip() or None)
                               if name else [])
        except AnnotatorError as e:  # the server is away: no warning rather than no form
            self.model.after_error(e)
            self.duplicates = []
        self.confirmed_name = None
        if self.duplicates:
            first = self.duplicates[0]
            listed = "; ".join(f"{c.name} ({c.type or '—'}, {c.kb_id})" for c in self.duplicates[:3])
            self.warning.setText(f"Similar: {listed}. Enter creates a new entity only when pressed twice.")
            self.link.setText(f"Link to {short(first.name, 40)} instead (Ctrl+L)")
            self.link.setToolTip(f"Link the span to {first.name} ({first.kb_id}) and create nothing")
        shown = self.warning.isVisible()
        self.warning.setVisible(bool(self.duplicates))
        self.link.setVisible(bool(self.duplicates))
        if self.isVisible() and shown != bool(self.duplicates):
            QTimer.singleShot(0, self.reveal)
        return self.duplicates

    def unconfirmed(self) -> str | None:
        """The warning (E221) when the name has near-duplicates and Enter was not pressed on it yet:
        the first Enter only warns. None when the entity may be created."""
        name = self.name.text().strip()
        if not self.duplicates or self.confirmed_name == name:
            return None
        self.confirmed_name = name
        names = ", ".join(c.name for c in self.duplicates[:3])
        n = len(self.duplicates)
        return Errors.E221.format(n=n, ies="y" if n == 1 else "ies", s="s" if n == 1 else "", names=names,
                                  name=name, first=self.duplicates[0].name)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(obj, event)
        key = event.key()
        if key == Qt.Key.Key_L and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.linkInsteadRequested.emit()
            return True
        if key in ENTER:
            self.createRequested.emit()
            return True
        if key == Qt.Key.Key_Escape:
            self.hide()
            self.cancelled.emit()
            return True
        return False
