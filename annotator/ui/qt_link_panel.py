"""The linking panel: the current span's link, a knowledge-base search and the ranked candidates.

Keyboard: L (anywhere) focuses the search box; typing filters (debounced); Up/Down move in the list;
Enter links the chosen candidate and hands the focus back to the article. Ctrl+N marks the span NIL,
Ctrl+Shift+N creates an entity from the span (inline name/type/description), Ctrl+Shift+P queues the
link on identical mentions of the document, Ctrl+Alt+P on those of the other documents (as suggested
links, which Enter confirms one by one). After a link is made the panel says how many identical
mentions there are, without asking (qt_link_offer). A linked span has a referent note (metonymy:
"Seoul" meaning the government), saved when editing it finishes (qt_referent_note); the new-entity
form is qt_new_entity. Each edit is one undoable command of the project stack. Everything is plain
text (no rich-text labels).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QListWidgetItem, QMenuBar, QWidget

from annotator.core.changes import Change
from annotator.errors import AnnotatorError, Errors
from annotator.ui.qt_actions import ENTER, make_action
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_link_build import build_panel
from annotator.ui.qt_link_offer import propagated_text
from annotator.ui.qt_tables import step_from_search
from annotator.ui.qt_text_line import short

DEBOUNCE_MS = 120
Key = Qt.Key
EntityRole = Qt.ItemDataRole.UserRole

# (attribute, menu text, shortcuts, status tip, slot name): the linking keys in one place
LINK_KEYS = [
    ("focus_search", "&Link… (search the knowledge base)", ["L"], "Focus the entity search of the current span",
     "focus_search"),
    ("nil", "Mark &NIL", ["Ctrl+N"], "Nothing in the knowledge base fits this span", "mark_nil"),
    ("new_entity", "New &entity from span…", ["Ctrl+Shift+N"],
     "Create an entity named after the span, its label as type, and link the span to it", "show_new_entity"),
    ("propagate", "&Propagate link in document", ["Ctrl+Shift+P"],
     "Suggest the span's link on identical mentions in this document", "propagate"),
    ("propagate_corpus", "Propagate link to &corpus", ["Ctrl+Alt+P"],
     "Suggest the span's link on identical mentions in the other documents you have opened", "propagate_corpus"),
    ("unlink", "&Remove link", ["Ctrl+Shift+U"], "Remove the span's link (or NIL)", "unlink"),
]


MODEL_MARK = "◆ model's choice"  # the entity the suggesting run's entity linker chose for this span
PRIOR_MARK = "◇ most frequent link of this alias"
# The span's suggested link, by who chose it (core/kb/suggestions.suggested_by): (mark, tooltip words)
SOURCE_MARKS = {
    "linker": (MODEL_MARK, "the trained entity linker's choice"),
    "prior": (PRIOR_MARK, "suggested because analysts linked this text to it most often (the alias counts)"),
    "propagated": ("◇ propagated link", "queued from a link made on an identical mention"),
    "unknown": ("◆? linker or alias prior", "suggested by the run's entity linker or, where it had no candidate, "
                "by the alias counts: this project did not record which"),
}


def source_mark(source: str | None) -> str:
    return SOURCE_MARKS[source][0] if source in SOURCE_MARKS else ""


def candidate_text(c) -> str:
    """Name · TYPE · kb_id (and who suggested it, if it is the span's suggested link), a short
    description, and where it was linked before (keyword in context)."""
    mark = source_mark(c.suggested)
    lines = [f"{c.name} · {c.type or '—'} · {c.kb_id}" + (f"  {mark}" if mark else "")]
    if c.description:
        lines.append(f"   {short(c.description, 90)}")
    if c.snippet is not None:
        s = c.snippet
        lines.append(f"   …{short(s.left, 40)} [{s.text}] {short(s.right, 40)}…")
    return "\n".join(lines)


class QtLinkPanel(QWidget):
    finished = Signal()  # an edit was made from the keyboard: the article may take the focus back
    failed = Signal(str)
    entityRequested = Signal(int)  # show this entity in the entity view

    def __init__(self, model: QtDocumentModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.project = model.project
        self.setObjectName("linkPanel")
        self.span_id: int | None = None
        self.entries: list = []  # the candidates shown, in list order

        build_panel(self)  # qt_link_build: the widgets, laid out
        self.new_form.createRequested.connect(self.create_entity)
        self.new_form.linkInsteadRequested.connect(self.link_instead)
        self.new_form.cancelled.connect(lambda: self.search.setFocus())

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.run_search)
        self.search.textEdited.connect(lambda _t: self.timer.start())
        self.search.installEventFilter(self)
        self.list.installEventFilter(self)
        self.list.itemDoubleClicked.connect(lambda _item: self.link_selected())
        self.link_button.clicked.connect(self.link_selected)
        self.nil_button.clicked.connect(self.mark_nil)
        self.new_button.clicked.connect(self.show_new_entity)
        self.propagate_button.clicked.connect(self.propagate)
        self.entity_button.clicked.connect(self.show_entity)
        self.corpus_button.clicked.connect(self.propagate_corpus)
        self.note.saveRequested.connect(self.save_note)
        self.note.done.connect(self.finished)
        self._seen: tuple[int | None, int | None] = (None, None)  # (span, linked entity) last shown
        self._propagating = False

        model.currentChanged.connect(self._on_current)
        model.opened.connect(lambda: self._on_current(None, model.current))
        model.spansChanged.connect(self._on_spans)
        model.stackChanged.connect(self.refresh_state)
        # every committed change (undo and redo too): an entity shown as a candidate may be gone
        self.project.changes.subscribe(self._on_change, Change)
        self.actions_by_name: dict = {}
        self._on_current(None, model.current)

    # --- menu
    def add_menu(self, window, bar: QMenuBar):
        """Every linking command with its shortcut, in a section at the end of the Edit menu
        (window-wide shortcuts; a text box that has the focus keeps typing L)."""
        menu = next((a.menu() for a in bar.actions() if a.menu() is not None and a.text() == "&Edit"), None)
        if menu is None:
            menu = bar.addMenu("Lin&k")
        menu.addSeparator()
        for name, text, keys, tip, slot in LINK_KEYS:
            action = make_action(window, text, keys, getattr(self, slot), tip)
            self.actions_by_name[name] = action
            menu.addAction(action)
            if name == "focus_search":
                menu.addSeparator()
        self.refresh_state()
        return menu

    # --- state
    def _on_current(self, _old, new) -> None:
        if not self.model.busy:  # during an edit the span stays the same one (or its copy): nothing to save
            self.note.save()  # typed, then moved on without leaving the field: keep it
        self.span_id = new
        self.new_form.hide()
        self.search.clear()
        self.refresh_state()
        if new is None:
            self.show_candidates([])
        else:
            self.timer.start()  # candidates after a short pause, so Tab through spans stays quick

    def _on_change(self, change: Change) -> None:
        """Candidates never outlive their entity: after an edit of the knowledge base (an entity made,
        undone, edited or merged) the current span's list is read again, after the usual pause."""
        if self.span_id is None:
            return
        shown = {c.entity_id for c in self.entries}
        if change.kind == "entities" or self.span_id in change.span_ids or (
                shown and self.project.existing_entities(sorted(shown)) != shown):
            self.timer.start()

    def _on_spans(self, deltas) -> None:
        if any(d.id == self.span_id for d in deltas):
            self.refresh_state()

    def refresh_state(self) -> None:
        span = self.model.current_span()
        # several signals arrive per edit; redraw (and query the link) only when the span's link changed
        key = (span, self.project.stack.generation)
        if key == getattr(self, "_shown", None):
            return
        self._shown = key
        has = span is not None
        for w in (self.search, self.list, self.link_button, self.nil_button, self.new_button):
            w.setEnabled(has)
        # an unlinked span (the usual case) needs no look-up of its entity
        try:
            link = self.project.span_link(span.id) if has and (span.entity_id is not None or span.nil) else None
        except AnnotatorError as e:  # the server is away: say so, show what the span row knows
            self.model.after_error(e)
            link = None
        linked = link is not None and link.entity_id is not None and not link.nil
        self.propagate_button.setEnabled(linked)
        self.corpus_button.setEnabled(linked)
        self.unlink_enabled = link is not None and (link.entity_id is not None or bool(link.nil))
        for name, action in self.actions_by_name.items():
            action.setEnabled({"propagate": linked, "propagate_corpus": linked,
                               "unlink": self.unlink_enabled}.get(name, has))
        self.entity_button.setEnabled(linked)
        self.note.show_for(span.id if has else None, link, linked)
        if not has:
            text, kind = "No span selected", "none"
        elif link is None:
            text, kind = "Not linked", "unlinked"
        elif link.nil:
            text, kind = "NIL — nothing in the knowledge base fits", "nil"
        elif link.entity_id is None:
            text, kind = "Not linked", "unlinked"
        elif link.suggested:
            mark = f"  {source_mark(link.suggested_by)}" if link.suggested_by in SOURCE_MARKS else ""
            text = f"Suggested link: {link.name} ({link.kb_id}){mark} — Enter on the span confirms it"
            kind = "suggested"
        else:
            text, kind = f"Linked: {link.name} ({link.kb_id})", "linked"
        if has:
            self.heading.setText(f"Link · {short(self.model.span_text(span), 40)} · {span.label}")
        else:
            self.heading.setText("Link")
        self.state.setText(text)
        self.state.setProperty("kind", kind)
        # a link was just made on this span (not merely shown): offer to propagate it
        seen = (span.id if has else None, link.entity_id if kind == "linked" else None)
        if kind == "linked" and seen[0] == self._seen[0] and (seen[1] != self._seen[1] or (
                bool(self.offer.text()) and not self._propagating)):  # linked, or the counts changed (undo)
            self.offer.offer(span.id)
        elif kind != "linked" or seen[0] != self._seen[0]:
            self.offer.clear()
        self._seen = seen
        if kind != getattr(self, "kind", None):  # restyling a widget is costly: only when the kind changes
            italic = self.state.font()
            italic.setItalic(kind == "suggested")
            self.state.setFont(italic)
            self.state.setColour({"suggested": "#8A5A00", "nil": "#6B6B6B", "linked": "#1B5E20"}.get(kind))
        self.kind = kind

    # --- search
    def run_search(self) -> None:
        self.timer.stop()
        span = self.model.current_span()
        if span is None:
            self.show_candidates([])
            return
        query = self.search.text().strip()
        try:
            found = (self.project.search_entities(query, label=span.label) if query
                     else self.project.candidates(self.model.doc_id, self.model.text[span.start:span.end],
                                                 span.label, span_id=span.id))
        except Exception as e:  # noqa: BLE001 (a search must never take the window down)
            self.failed.emit(str(e))
            found = []
        self.show_candidates(found, query)

    def show_candidates(self, found: list, query: str = "") -> None:
        self.entries = list(found)
        self.list.clear()
        for c in self.entries:
            item = QListWidgetItem(candidate_text(c))
            item.setData(EntityRole, c.entity_id)
            item.setToolTip(f"{c.name} ({c.kb_id}) — {c.description}\nscore {c.score:.2f}, {c.why} match"
                            + (f"; {SOURCE_MARKS[c.suggested][1]}" if c.suggested in SOURCE_MARKS else ""))
            self.list.addItem(item)
        if self.entries:
            self.list.setCurrentRow(0)
        if self.span_id is None:
            self.empty.setText("")
        elif not self.entries:
            self.empty.setText(f"No entity matches “{query}”." if query else
                               "No candidates. Type to search, Ctrl+N for NIL, Ctrl+Shift+N for a new entity.")
        else:
            self.empty.setText("")

    def focus_search(self) -> None:
        if self.model.current_span() is None:
            self.failed.emit("Select a span first (Tab moves to the next one), then press L to link it.")
            return
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
        if self.timer.isActive():
            self.run_search()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(obj, event)
        key = event.key()
        if obj is self.search:
            if step_from_search(key, self.list, self.timer, self.run_search):
                return True
            if key in ENTER:
                if self.timer.isActive():
                    self.run_search()
                self.link_selected()
                return True
            if key == Key.Key_Escape:
                self.finished.emit()
                return True
        if obj is self.list:
            if key in ENTER:
                self.link_selected()
                return True
            if key == Key.Key_Escape:
                self.finished.emit()
                return True
        return super().eventFilter(obj, event)

    # --- edits
    def _edit(self, fn, *args, **kwargs):
        """Run one edit of the current span: a note typed and not saved yet is saved first (its own
        edit); the first edit of a reviewer's document starts their layer (`QtDocumentModel.prepare`)."""
        if self.model.read_only:
            self.failed.emit(self.model.read_only)
            return None
        if fn != self.project.set_referent_note:
            self.note.save()
        with self.model.editing():
            try:
                self.model.prepare(fn)
                return fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 (AnnotatorError: a coded message; nothing changed)
                if isinstance(e, AnnotatorError):
                    self.model.after_error(e)
                self.failed.emit(str(e))
                return None

    def reload(self) -> None:
        """The knowledge base changed elsewhere: show the current span's link and candidates afresh."""
        self._shown = None
        self.refresh_state()
        if self.model.current_span() is not None:
            self.timer.start()

    def selected_entity(self) -> int | None:
        item = self.list.currentItem()
        return item.data(EntityRole) if item is not None else None

    def link_selected(self) -> None:
        span, entity_id = self.model.current_span(), self.selected_entity()
        if span is None or entity_id is None:
            return
        if not self.project.existing_entities([entity_id]):  # a stale list: read it again, link nothing
            name = next((c.name for c in self.entries if c.entity_id == entity_id), str(entity_id))
            self.run_search()
            self.failed.emit(Errors.E220.format(name=name))
            return
        self._edit(self.project.link, span.id, entity_id, version=span.version)  # the hub redraws it
        self.finished.emit()

    def mark_nil(self) -> None:
        span = self.model.current_span()
        if span is not None:
            self._edit(self.project.mark_nil, span.id, version=span.version)

    def unlink(self) -> None:
        span = self.model.current_span()
        if span is not None and self.unlink_enabled:
            self._edit(self.project.unlink, span.id, version=span.version)

    def show_new_entity(self) -> None:
        span = self.model.current_span()
        if span is not None:
            self.new_form.start(" ".join(self.model.span_text(span).split()), span.label)

    def link_instead(self) -> None:
        """Ctrl+L in the new-entity form: link the span to the closest existing entity instead."""
        span = self.model.current_span()
        if span is None or not self.new_form.duplicates:
            return
        self.new_form.hide()
        self._edit(self.project.link, span.id, self.new_form.duplicates[0].entity_id, version=span.version)
        self.finished.emit()

    def create_entity(self) -> int | None:
        span = self.model.current_span()
        if span is None:
            return None
        warning = self.new_form.unconfirmed()  # the first Enter on a name with near-duplicates only warns
        if warning is not None:
            self.failed.emit(warning)
            return None
        form = self.new_form
        entity_id = self._edit(self.project.new_entity_from_span, span.id, form.name.text().strip(),
                               form.type.text().strip(), form.description.text().strip(), version=span.version)
        if entity_id is not None:
            form.hide()
            self.finished.emit()
        return entity_id

    def propagate(self) -> list[int]:
        return self._propagate("document")

    def propagate_corpus(self) -> list[int]:
        return self._propagate("corpus")

    def _propagate(self, scope: str) -> list[int]:
        """Queue the current span's link on identical mentions, as suggestions, and say where."""
        span = self.model.current_span()
        if span is None or self.kind not in ("linked", "suggested"):
            return []
        self._propagating = True  # the offer is redrawn below, with what was done
        try:
            touched = self._edit(self.project.propagate, span.id, scope)
        finally:
            self._propagating = False
        if touched is None:
            return []
        per_document = self.project.span_documents(touched) if touched else {}
        self.offer.offer(span.id, propagated_text(scope, per_document, self.model.doc_id))
        return touched

    def stop(self) -> None:
        """The window closes: no count outlives it."""
        self.offer.stop()
        self.project.changes.unsubscribe(self._on_change)

    # --- entity view and referent note (qt_referent_note)
    def show_entity(self) -> None:
        span = self.model.current_span()
        if span is not None and span.entity_id is not None:
            self.entityRequested.emit(span.entity_id)

    def save_note(self, span_id: int, text: str) -> None:
        """The referent note as typed (qt_referent_note): one undoable command."""
        span = self.model.spans.get(span_id)
        self._edit(self.project.set_referent_note, span_id, text, version=span.version if span is not None else None)
