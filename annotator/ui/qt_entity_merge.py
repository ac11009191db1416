"""The entity view's merge box: search the entity to merge the shown one into (the link panel's search,
ranked for its type), pick it (Up/Down and Enter, or a double-click), then confirm (Enter again, or
the button). The view does the merge when `confirmed` names the target.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from annotator.core.kb.mentions import EntityInfo
from annotator.ui.qt_actions import ENTER
from annotator.ui.qt_link_panel import DEBOUNCE_MS, EntityRole, candidate_text
from annotator.ui.qt_tables import step_from_search
from annotator.ui.qt_text_line import plain_label, plural, short


class QtEntityMerge(QWidget):
    confirmed = Signal(object)  # the candidate (core.candidates) to merge the source into
    failed = Signal(str)

    def __init__(self, project, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = project
        self.setObjectName("mergeBox")
        self.source: EntityInfo | None = None  # the entity to merge
        self.candidates: list = []
        self.target = None  # a candidate chosen, awaiting confirmation
        self.prompt = plain_label()
        self.search = QLineEdit()
        self.search.setObjectName("mergeSearch")
        self.search.setPlaceholderText("Search the entity to merge into")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("mergeCandidates")
        self.list.setWordWrap(True)
        self.list.setMaximumHeight(150)
        self.confirm = plain_label(name="mergeConfirm")
        self.go = QPushButton("Merge (Enter)")
        cancel = QPushButton("Cancel (Esc)")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.confirm, 1)
        buttons.addWidget(self.go)
        buttons.addWidget(cancel)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 4, 0, 4)
        for widget in (self.prompt, self.search, self.list):
            column.addWidget(widget)
        column.addLayout(buttons)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.run_search)
        self.search.textEdited.connect(lambda _t: (self.clear_target(), self.timer.start()))
        self.list.currentRowChanged.connect(lambda _r: self.clear_target())
        self.list.itemDoubleClicked.connect(lambda _item: self.choose_target())
        self.go.clicked.connect(self._confirm)
        cancel.clicked.connect(self.cancel)
        for widget in (self.search, self.list):
            widget.installEventFilter(self)
        self.hide()

    def start(self, source: EntityInfo) -> None:
        self.source = source
        self.prompt.setText(f"Merge “{source.name}” ({plural(source.mentions, 'mention')}) into:")
        self.search.clear()
        self.list.clear()
        self.candidates = []
        self.clear_target()
        self.show()
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def cancel(self) -> None:
        self.hide()
        self.clear_target()

    def run_search(self) -> None:
        """The link panel's search, ranked for the source's type; the source itself left out."""
        self.timer.stop()
        query = self.search.text().strip()
        found = []
        if query and self.source is not None:
            try:
                found = [c for c in self.project.search_entities(query, label=self.source.type or None)
                         if c.entity_id != self.source.id]
            except Exception as e:  # noqa: BLE001
                self.failed.emit(str(e))
        self.candidates = found
        with QSignalBlocker(self.list):
            self.list.clear()
            for c in found:
                item = QListWidgetItem(candidate_text(c))
                item.setData(EntityRole, c.entity_id)
                self.list.addItem(item)
            if found:
                self.list.setCurrentRow(0)
        self.clear_target()
        if query and not found:
            self.confirm.setText(f"No other entity matches “{short(query, 30)}”.")

    def choose_target(self) -> None:
        """First Enter: name the target and what the merge does; a second Enter (or the button) merges."""
        if self.timer.isActive():
            self.run_search()
        row = self.list.currentRow()
        if self.source is None or not 0 <= row < len(self.candidates):
            return
        source, target = self.source, self.candidates[row]
        self.target = target
        self.confirm.setText(
            f"Merge “{source.name}” into “{target.name}” ({target.kb_id})? Its "
            f"{plural(source.mentions, 'mention')} and aliases move over and “{source.name}” is "
            "removed; Ctrl+Z brings it back. Enter merges, Esc cancels.")
        self.go.setEnabled(True)

    def clear_target(self) -> None:
        self.target = None
        self.confirm.setText("Pick the target (Up/Down, Enter), then confirm.")
        self.go.setEnabled(False)

    def _confirm(self) -> None:
        if self.target is not None:
            self.confirmed.emit(self.target)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(obj, event)
        key = event.key()
        if obj is self.search and step_from_search(key, self.list, self.timer, self.run_search):
            return True
        if key in ENTER:
            if self.target is not None:
                self._confirm()
            else:
                self.choose_target()
            return True
        return super().eventFilter(obj, event)
