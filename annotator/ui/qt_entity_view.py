"""The entity view: browse the knowledge base, see every mention of an entity across the corpus
(keyword in context), edit the entity, merge it into another.

A window of its own (non-modal, owned by the main window), opened with Ctrl+Shift+E or from the link
panel. Left: the entities, most mentioned first, with a search box (the link panel's search) and a type
filter. Right: the chosen entity's fields, merging, and its mentions. Enter or a double-click on a
mention opens its document in the main window with the span selected. Edits are commands of the
project stack, so Ctrl+Z here undoes them as it does in the main window. Article text is plain text:
table cells and plain-text labels only.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from annotator.core.changes import Change
from annotator.core.kb.mentions import EntityInfo, Mention
from annotator.errors import ConflictError
from annotator.ui.qt_actions import ENTER
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_entity_tables import DOC, LAYER, MENTION, NOTE
from annotator.ui.qt_entity_view_build import build_details, build_list, build_menu
from annotator.ui.qt_link_panel import DEBOUNCE_MS
from annotator.ui.qt_tables import step_from_search
from annotator.ui.qt_text_line import plural, short

Key = Qt.Key
ALL_TYPES = "All types"
LIST_LIMIT = 200  # entities listed without a search
SEARCH_LIMIT = 50
CONTEXT = 80  # characters each side: more than a column shows, so the table elides ("…") where it cuts


class QtEntityView(QWidget):
    """Emits `openMention(document id, span id, start, end)` for the main window to show."""

    openMention = Signal(int, int, int, int)

    def __init__(self, model: QtDocumentModel, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.model = model
        self.project = model.project
        self.setObjectName("entityView")
        self.setWindowTitle("Entities — annotator")
        self.resize(1240, 680)
        self.entity: EntityInfo | None = None  # the entity shown on the right
        self.form_values: dict[str, str] = {}  # the fields as last loaded, to tell what the user changed
        self.dirty = False  # something changed while the window was hidden

        left, right = build_list(self), build_details(self)  # qt_entity_view_build

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([340, 900])
        self.splitter.setChildrenCollapsible(False)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.splitter)
        build_menu(self, column)
        self._on_stack_text()

        # --- wiring
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.reload_entities)
        self.search.textEdited.connect(lambda _t: self.timer.start())
        self.type_filter.activated.connect(lambda _i: self.reload_entities())
        self.merge_box.confirmed.connect(self.merge)
        self.merge_box.failed.connect(lambda message: self.show_message(message, error=True))
        self.table.selectionModel().currentRowChanged.connect(self._on_entity_row)
        self.mentions.doubleClicked.connect(lambda index: self.open_mention(index.row()))
        self.save_button.clicked.connect(self.save)
        self.merge_button.clicked.connect(self.start_merge)
        for widget in (self.search, self.table, self.mentions, self.name_edit, self.kb_id_edit,
                       self.description_edit):
            widget.installEventFilter(self)
        self.project.changes.subscribe(self._on_change, Change)
        self.reload_types()
        self.reload_entities()
        self.show_entity(None)

    # --- opening
    def present(self, entity_id: int | None = None) -> None:
        """Show the window (raised, active), on `entity_id` if given."""
        if self.dirty:
            self.refresh()
        if entity_id is not None:
            self.show_entity(entity_id)
        self.show()
        self.raise_()
        self.activateWindow()
        (self.mentions if entity_id is not None and self.mention_model.rows else self.search).setFocus()

    # --- the entity list
    def reload_types(self) -> None:
        current = self.type_filter.currentText() or ALL_TYPES
        in_use = self.project.entity_types()
        with QSignalBlocker(self.type_filter):
            self.type_filter.clear()
            self.type_filter.addItems([ALL_TYPES, *in_use])
            self.type_filter.setCurrentText(current)
        types = sorted({*self.model.labels, *in_use})
        typed = self.type_edit.currentText()
        with QSignalBlocker(self.type_edit):
            self.type_edit.clear()
            self.type_edit.addItems(types)
            self.type_edit.setCurrentText(typed)

    def chosen_type(self) -> str | None:
        text = self.type_filter.currentText()
        return None if text in ("", ALL_TYPES) else text

    def reload_entities(self) -> None:
        """The browse list, or the search result (filtered by type), keeping the chosen entity."""
        self.timer.stop()
        query, kind = self.search.text().strip(), self.chosen_type()
        try:
            if query:
                found = self.project.search_entities(query, label=kind, limit=SEARCH_LIMIT)
                rows = [e for e in self.project.entity_infos([c.entity_id for c in found])
                        if kind is None or e.type == kind]
                note = (f"{plural(len(rows), 'entity')} match “{short(query, 30)}”" if rows
                        else f"No entity matches “{short(query, 30)}”.")
            else:
                rows = self.project.entities(type=kind, limit=LIST_LIMIT)
                note = ("The most mentioned first; type to search the whole knowledge base."
                        if len(rows) >= LIST_LIMIT else f"{plural(len(rows), 'entity')}, the most mentioned first.")
        except Exception as e:  # noqa: BLE001 (a search must never take the window down)
            self.show_message(str(e), error=True)
            return
        chosen = self.entity.id if self.entity is not None else None
        with QSignalBlocker(self.table.selectionModel()):
            self.list_model.set_rows(rows)
        self.list_note.setText(note)
        self._select_entity_row(chosen)

    def _select_entity_row(self, entity_id: int | None) -> None:
        row = self.list_model.row_of(entity_id)
        self.table.follow(self.list_model.index(row, 0) if row >= 0 else QModelIndex())

    def _on_entity_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and not self.table.following:
            self.show_entity(self.list_model.rows[current.row()].id)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # --- one entity
    def show_entity(self, entity_id: int | None) -> None:
        """Show the entity (fields, mentions); one the list does not hold is added at its top."""
        info = self.project.entity(entity_id) if entity_id is not None else None
        changed = (info.id if info else None) != (self.entity.id if self.entity else None)
        self.entity = info
        if changed:
            self.merge_box.cancel()
        if info is not None and self.list_model.row_of(info.id) < 0:
            with QSignalBlocker(self.table.selectionModel()):
                self.list_model.set_rows([info, *self.list_model.rows])
        self._select_entity_row(info.id if info else None)
        self._show_fields(info, reload=changed)
        self._show_mentions()

    def _show_fields(self, info: EntityInfo | None, reload: bool) -> None:
        has = info is not None
        for widget in (self.name_edit, self.type_edit, self.kb_id_edit, self.description_edit, self.save_button,
                       self.merge_button, self.mentions):
            widget.setEnabled(has)
        for name in ("save", "merge"):
            self.actions_by_name[name].setEnabled(has)
        if not has:
            self.heading.setText("No entity chosen")
            self.description.setText("Pick an entity on the left, or open this view on a linked span "
                                     "(Ctrl+Shift+E in the main window).")
            self.form_values = {}
            for edit in (self.name_edit, self.kb_id_edit, self.description_edit):
                edit.clear()
            self.type_edit.setCurrentText("")
            return
        self.heading.setText(f"{info.name} · {info.type or '—'} · {info.kb_id}")
        self.description.setText(info.description or "No description.")
        values = {"name": info.name, "type": info.type, "kb_id": info.kb_id, "description": info.description}
        # a field typed and not saved yet survives a refresh caused by some other edit; the others show
        # what is stored now (else saving would put back what a colleague just changed)
        typed = set() if reload else {k for k, v in self.fields().items() if v != self.form_values.get(k)}
        for key, edit in (("name", self.name_edit), ("kb_id", self.kb_id_edit),
                          ("description", self.description_edit)):
            if key not in typed and edit.text() != values[key]:
                edit.setText(values[key])
                edit.setCursorPosition(0)
        if "type" not in typed:
            self.type_edit.setCurrentText(info.type)
        self.form_values = values

    def fields(self) -> dict[str, str]:
        return {"name": self.name_edit.text().strip(), "type": self.type_edit.currentText().strip(),
                "kb_id": self.kb_id_edit.text().strip(), "description": self.description_edit.text().strip()}

    def _show_mentions(self) -> None:
        chosen = self.current_mention()
        rows = self.project.entity_mentions(self.entity.id, width=CONTEXT) if self.entity is not None else []
        self.mention_model.set_rows(rows)
        self.mentions.setColumnHidden(LAYER, not any(m.annotator != self.project.user for m in rows))  # reviewers
        self.mentions.setColumnHidden(NOTE, not any(m.referent_note for m in rows))
        if rows:  # the document and mention columns as wide as their widest text, within reason
            header = self.mentions.horizontalHeader()
            widest = max(QFontMetrics(self.mention_model.bold).horizontalAdvance(m.snippet.text) for m in rows[:500])
            header.resizeSection(MENTION, min(max(widest + 20, 80), 260))
            widest = max(self.fontMetrics().horizontalAdvance(m.snippet.document) for m in rows[:500])
            header.resizeSection(DOC, min(max(widest + 16, 80), 220))
        if self.entity is None:
            self.mention_heading.setText("Mentions")
        elif not rows:
            self.mention_heading.setText("No mentions linked yet")
        else:
            docs = len({m.snippet.document_id for m in rows})
            suggested = sum(m.status == "suggested" for m in rows)
            waiting = f", {suggested} of them suggested" if suggested else ""
            self.mention_heading.setText(f"{plural(len(rows), 'mention')} in {plural(docs, 'document')}{waiting}"
                                         " — Enter or double-click opens one")
        row = self.mention_model.row_of(chosen.span_id) if chosen is not None else -1
        if rows:
            self.mentions.setCurrentIndex(self.mention_model.index(max(row, 0), 0))

    def current_mention(self) -> Mention | None:
        row = self.mentions.currentIndex().row()
        return self.mention_model.rows[row] if 0 <= row < len(self.mention_model.rows) else None

    def open_mention(self, row: int) -> None:
        if 0 <= row < len(self.mention_model.rows):
            s = self.mention_model.rows[row].snippet
            self.openMention.emit(s.document_id, self.mention_model.rows[row].span_id, s.start, s.end)

    def open_current_mention(self) -> None:
        self.open_mention(self.mentions.currentIndex().row())

    # --- editing
    def save(self) -> None:
        if self.entity is None:
            return
        changes = {k: v for k, v in self.fields().items() if v != self.form_values.get(k)}
        if not changes:
            self.show_message("Nothing to save: the fields are as stored.")
            return
        if self._edit(self.project.edit_entity, self.entity.id, version=self.entity.version, **changes):
            self.show_message(f"Saved: {self.project.stack.undo_text}. Ctrl+Z undoes it.")

    def start_merge(self) -> None:
        if self.entity is not None:
            self.merge_box.start(self.entity)

    def merge(self, target) -> None:
        """Merge the entity shown into `target` (the merge box's confirmed candidate)."""
        source = self.entity
        if source is None:
            return
        if self._edit(self.project.merge_entities, source.id, target.entity_id, versions=(source.version, None)):
            self.merge_box.hide()
            self.show_entity(target.entity_id)
            self.show_message(f"Merged “{source.name}” into “{target.name}”: "
                              f"{plural(source.mentions, 'mention')} moved. Ctrl+Z undoes it.")
            self.mentions.setFocus()

    def escape(self) -> None:
        if not self.merge_box.isHidden():
            self.merge_box.cancel()
            self.mentions.setFocus()
        else:
            self.close()

    def _edit(self, fn, *args, **kwargs) -> bool:
        try:
            fn(*args, **kwargs)
            return True
        except Exception as e:  # noqa: BLE001 (AnnotatorError: a coded message; nothing changed)
            if isinstance(e, ConflictError):
                self.refresh()  # as it is now; what the user typed stays
            self.show_message(str(e), error=True)
            return False

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #B00020" if error else "color: #1B5E20")

    # --- the project changed (an edit here, in the main window, an undo; by someone else: `changed_elsewhere`)
    def changed_elsewhere(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self.dirty = True

    def _on_change(self, change: Change) -> None:
        self._on_stack_text()
        if change.kind == "state":  # a document marked done or reopened: no entity or mention moved
            return
        if self.isVisible():
            self.refresh()
        else:
            self.dirty = True

    def _on_stack_text(self) -> None:
        stack = self.project.stack
        undo, redo = self.actions_by_name["undo"], self.actions_by_name["redo"]
        undo.setEnabled(stack.can_undo)
        undo.setText(f"&Undo {stack.undo_text}" if stack.can_undo else "&Undo")
        redo.setEnabled(stack.can_redo)
        redo.setText(f"&Redo {stack.redo_text}" if stack.can_redo else "&Redo")

    def refresh(self) -> None:
        self.dirty = False
        shown = self.entity.id if self.entity is not None else None
        self.reload_types()
        self.reload_entities()
        self.show_entity(shown)
        if shown is not None and self.entity is None:
            self.show_message("That entity no longer exists (merged or deleted); Ctrl+Z may bring it back.")

    # --- keys
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(obj, event)
        key = event.key()
        if obj is self.search and step_from_search(key, self.table, self.timer, self.reload_entities):
            return True
        if key not in ENTER:
            return super().eventFilter(obj, event)
        if obj is self.search:
            if self.timer.isActive():
                self.reload_entities()
            if self.table.currentIndex().isValid() or self.list_model.rows:
                if not self.table.currentIndex().isValid():
                    self.table.setCurrentIndex(self.list_model.index(0, 0))
                self.mentions.setFocus()
            return True
        if obj is self.table:
            self.mentions.setFocus()
            return True
        if obj is self.mentions:
            self.open_current_mention()
            return True
        if obj in (self.name_edit, self.kb_id_edit, self.description_edit):
            self.save()
            return True
        return super().eventFilter(obj, event)
