"""An open project as one user sees it: their documents, their layer, their command stack.

The window and the command line both work through this class; it holds no Qt. Its linking and
knowledge-base methods are in core/kb/facade.py (`LinkingFacade`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from sqlalchemy import bindparam, case, event, func, select, tuple_

from annotator.core import guidelines as guide, history as hist, progress as prog
from annotator.core.changes import Hub
from annotator.core.commands import COMMANDS, RevertTo
from annotator.core.db.annotators import (MODEL_LAYER, LayerInfo, default_user, find_annotator, get_annotator,
                                          is_reviewer, known_annotators)
from annotator.core.db.models import Annotator, Document, DocumentState, Span
from annotator.core.db.schema import SchemaState, Steps
from annotator.core.db.store import Store
from annotator.core.editing import rows, spans as cmd
from annotator.core.editing.labels import LabelInfo, all_labels
from annotator.core.editing.layers import SpanView, layer_spans, open_layer
from annotator.core.editing.permissions import check_reviewer, visible_layers
from annotator.core.editing.stack import CommandStack
from annotator.core.kb import linking
from annotator.core.kb.facade import LinkingFacade
from annotator.core.search import Filters, Hit, check_label, search
from annotator.core.text import Tokens
from annotator.errors import AnnotatorError, Errors


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    name: str
    title: str
    status: str  # new | in_progress | done, for this user
    spans: int  # spans in this user's layer (0 until opened)
    suggested: int  # of which still suggestions


@dataclass(frozen=True)
class DocumentText:
    id: int
    name: str
    title: str
    text: str
    tokens: Tokens


# a document's status for this user (no state row: new), the text the list shows for it, and the
# orders the list offers; every order ends with the name, which is unique, so rows have one place
_STATUS = func.coalesce(DocumentState.status, "new")
_STATUS_TEXT = case((_STATUS == "in_progress", "in progress"), (_STATUS == "done", "✓ done"), else_=_STATUS)
DOCUMENT_SORTS = ("name", "title", "status")


_PY_LOWER: weakref.WeakSet = weakref.WeakSet()  # SQLite engines whose connections have py_lower


def _py_lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _order(sort: str, descending: bool = False, keys: bool = False) -> list:
    """The ORDER BY of a sort (DOCUMENT_SORTS), or with `keys` its bare columns."""
    if sort not in DOCUMENT_SORTS:
        raise ValueError(f"no such sort: {sort}")
    first = {"name": [], "title": [case((func.coalesce(Document.title, "") != "", Document.title),
                                         else_=Document.name)],
             "status": [case((_STATUS == "new", 0), (_STATUS == "in_progress", 1), else_=2)]}[sort]
    columns = [*first, Document.name]
    return columns if keys else [c.desc() if descending else c for c in columns]


_DOCUMENT = select(Document.id, Document.name, Document.title, Document.text, Document.tokens).where(
    Document.id == bindparam("id"))


class Project(LinkingFacade):
    """One user's view of a store, with their undo/redo stack restored from the history."""

    def __init__(self, store: Store, user: str | None = None, role: str = "annotator", *, register: bool = True):
        """`register=False` (a read-only look, e.g. a screenshot): the user must already be an annotator
        (E055), and none is created."""
        self.store = store
        member = store.member  # on a team server a member works as their login, the server checks it
        if member is not None and user not in (None, member):
            raise AnnotatorError(Errors.E403.format(login=member, user=user))
        self.user = member or user or store.login or default_user()
        if self.user == MODEL_LAYER and register:  # a look at the model's layer is fine; working in it is not
            raise AnnotatorError(Errors.E547.format(name=self.user))
        with store.atomic() as s:
            if register:
                self.annotator_id = get_annotator(s, self.user, role=role).id
            else:
                row = find_annotator(s, self.user)
                if row is None:  # nobody of that name; the model's name is no person's, whatever the project
                    raise AnnotatorError(Errors.E547.format(name=self.user) if self.user == MODEL_LAYER
                                         else Errors.E055.format(name=self.user, known=known_annotators(s)))
                self.annotator_id = row.id
        self.changes = Hub()  # what this user's edits and the watcher's polls changed (core/changes.py)
        self.stack = CommandStack(store, self.annotator_id, COMMANDS, self.changes)
        self.stack.restore()

    @classmethod
    def open(cls, db: str, user: str | None = None, *, fallback: str | None = None,
             upgrade: bool = False, register: bool = True) -> Project:
        """The project at `db` (a path or URL) as `user`, else the team login, else `fallback`. An older
        schema is refused (SchemaOutdated, E005) unless `upgrade`."""
        store = Store(db, upgrade=upgrade)
        try:
            return cls(store, user or store.member or fallback, register=register)
        except BaseException:
            store.close()
            raise

    @staticmethod
    def upgrade(db: str, on_step: Steps | None = None) -> SchemaState:
        """Upgrade the older project at `db` and close it; `on_step(k, n)` hears the progress (ui/qt_upgrade.py)."""
        store = Store(db, upgrade=True, on_step=on_step)
        store.close()
        return store.schema

    def close(self) -> None:
        self.store.close()

    # --- roles
    def is_reviewer(self) -> bool:
        with self.store.Session() as s:
            return is_reviewer(s, self.annotator_id)

    def check_reviewer(self) -> None:
        """E156 unless this user is a reviewer."""
        with self.store.Session() as s:
            check_reviewer(s, self.annotator_id)

    # --- reading
    def documents(self, offset: int = 0, limit: int | None = None, text: str = "", sort: str = "name",
                  descending: bool = False) -> list[DocumentInfo]:
        """This user's documents (all, or a page of `limit` from `offset`), those whose name, title or
        status text contain `text` (any case), in `sort` order (DOCUMENT_SORTS). Filter, order and
        page are SQL; the span counts are read for the returned rows only, so a page costs the same
        in a project of three documents as in one of a hundred thousand."""
        q = (self._listed(select(Document.id, Document.name, Document.title, _STATUS.label("status")), text, True)
             .order_by(*_order(sort, descending)).offset(offset))
        if limit is not None:
            q = q.limit(limit)
        with self.store.Session() as s:
            found = s.execute(q).all()
            counts: dict[int, tuple[int, int]] = {}
            ids = [r.id for r in found]
            for at in range(0, len(ids), 500):  # bound parameters stay below every server's limit
                counts.update((r.document_id, (r.n, r.sugg or 0)) for r in s.execute(
                    select(Span.document_id, func.count().label("n"),
                           func.sum(case((Span.status == "suggested", 1), else_=0)).label("sugg"))
                    .where(Span.annotator_id == self.annotator_id, Span.document_id.in_(ids[at:at + 500]))
                    .group_by(Span.document_id)))
        return [DocumentInfo(r.id, r.name, r.title, r.status, *counts.get(r.id, (0, 0))) for r in found]

    def count_documents(self, text: str = "") -> int:
        """How many documents `documents(text=text)` lists."""
        with self.store.Session() as s:
            return s.execute(self._listed(select(func.count()).select_from(Document), text)).scalar_one()

    def document_row(self, document_id: int, text: str = "", sort: str = "name", descending: bool = False) -> int:
        """Where `document_id` is in `documents(text=text, sort=sort, descending=descending)`; -1 when it
        is not listed. Counts the rows before it by their sort key (the name breaks ties: it is unique)."""
        keys = _order(sort, descending, keys=True)
        with self.store.Session() as s:
            mine = s.execute(self._listed(select(*keys, Document.id), text, True)
                             .where(Document.id == document_id)).first()
            if mine is None:
                return -1
            before = tuple_(*keys) > tuple_(*mine[:-1]) if descending else tuple_(*keys) < tuple_(*mine[:-1])
            return s.execute(self._listed(select(func.count()).select_from(Document), text, sort == "status")
                             .where(before)).scalar_one()

    def done_count(self) -> tuple[int, int]:
        """(documents this user marked done, documents in the project)."""
        with self.store.Session() as s:
            done = s.execute(select(func.count()).select_from(DocumentState).where(
                DocumentState.annotator_id == self.annotator_id, DocumentState.status == "done")).scalar_one()
            return done, s.execute(select(func.count()).select_from(Document)).scalar_one()

    def first_unfinished(self) -> int | None:
        """The first document by name this user has not marked done, else the first; None: no documents."""
        with self.store.Session() as s:
            first = s.execute(self._listed(select(Document.id), "", True).where(_STATUS != "done")
                              .order_by(Document.name).limit(1)).scalar()
            return first or s.execute(select(Document.id).order_by(Document.name).limit(1)).scalar()

    def _listed(self, q, text: str, status: bool = False):
        """`q` over the documents whose name, title or status text contain `text`; joined with this
        user's states when the filter or the caller (`status`) needs them."""
        if text or status:
            q = q.outerjoin(DocumentState, (DocumentState.document_id == Document.id)
                            & (DocumentState.annotator_id == self.annotator_id))
        if text:
            shown = Document.name + " " + func.coalesce(Document.title, "") + " " + _STATUS_TEXT
            q = q.where(self._lower(shown, text).contains(text.lower(), autoescape=True))
        return q

    def _lower(self, column, text: str):
        """`column` in lower case as Python lowers it: SQLite's lower() folds ASCII letters only, so a
        filter with others ("É") lowers through Python's, on the connections of this store."""
        if text.isascii() or self.store.engine.dialect.name != "sqlite":
            return func.lower(column)
        if self.store.engine not in _PY_LOWER:
            event.listen(self.store.engine, "connect",
                         lambda con, _record: con.create_function("py_lower", 1, _py_lower, deterministic=True))
            _PY_LOWER.add(self.store.engine)
            self.store.engine.dispose()  # pooled connections made before the listener get it too
        return func.py_lower(column)

    def document(self, document_id: int) -> DocumentText:
        # a plain row, no ORM object: this is on the path of opening a document
        with self.store.engine.connect() as conn:
            d = conn.execute(_DOCUMENT, {"id": document_id}).one()
        return DocumentText(d.id, d.name, d.title, d.text, Tokens(d.tokens))

    def open_document(self, document_id: int) -> list[SpanView]:
        """This user's spans of the document, their layer started from the model's on first open."""
        with self.store.atomic() as s:
            open_layer(s, document_id, self.annotator_id)
        return self.spans(document_id)

    def spans(self, document_id: int) -> list[SpanView]:
        with self.store.Session() as s:
            return layer_spans(s, document_id, self.annotator_id)

    def span(self, span_id: int) -> SpanView | None:
        with self.store.Session() as s:
            row = s.get(Span, span_id)
            return None if row is None else SpanView(row.id, row.start, row.end, row.label, row.status,
                                                     row.origin, row.entity_id, row.nil, row.version)

    def document_ids(self, names: list[str]) -> dict[str, int]:
        """Document name → id, for those of `names` that exist."""
        with self.store.Session() as s:
            return dict(s.execute(select(Document.name, Document.id).where(Document.name.in_(names))).all())

    # the window's fast reads (core/editing/rows.py): light tuples, no ORM objects
    def read_layer(self, document_id: int, layer_id: int | None = None, until: int | None = None,
                   start: bool = True) -> rows.LayerRead:
        """This user's layer of a document, or another layer, only read. An annotator's layer starts
        (as a copy of the model's suggestions) on first open, unless not `start` (the window's own job
        holds the project); a reviewer's only with their first edit (`start_layer`): reviewers open
        documents to look, and an untouched copy would count as a layer of theirs in agreement and
        adjudication."""
        own = layer_id is None or layer_id == self.annotator_id
        start = start and not (own and self.is_reviewer())
        return rows.read_layer(self.store, self.annotator_id, document_id, layer_id, until, start=start)

    def model_layer_id(self) -> int | None:
        """The model layer's annotator, if the project has one (what a new layer starts from)."""
        with self.store.Session() as s:
            return s.scalar(select(Annotator.id).where(Annotator.name == MODEL_LAYER))

    def start_layer(self, document_id: int) -> bool:
        """Start this user's layer of a document (from the model's suggestions) if it is not yet;
        True when it was started now."""
        with self.store.atomic() as s:
            started = s.get(DocumentState, (document_id, self.annotator_id)) is None
            open_layer(s, document_id, self.annotator_id)
        return started

    def read_spans(self, document_id: int, layer_id: int, since: int = 0) -> list[rows.SpanRow]:
        return rows.read_spans(self.store, document_id, layer_id, since)

    def read_span(self, span_id: int, document_id: int, layer_id: int | None = None) -> rows.SpanRow | None:
        return rows.read_span(self.store, span_id, document_id, self.annotator_id if layer_id is None else layer_id)

    def document_status(self, document_id: int) -> str:
        return rows.document_status(self.store, self.annotator_id, document_id)

    def visible_layers(self) -> list[LayerInfo]:
        """The layers this user may see and export: all for a reviewer, else their own and the model's."""
        with self.store.Session() as s:
            return visible_layers(s, self.annotator_id)

    def labels(self) -> list[LabelInfo]:
        with self.store.Session() as s:
            return all_labels(s)

    # --- editing: each call is one committed, undoable command. `version` is the version of the span
    # (or entity) the user saw: when someone else changed it since, the edit is refused (ConflictError).
    def add_span(self, document_id: int, start: int, end: int, label: str) -> int:
        command = cmd.AddSpan(document_id, self.annotator_id, start, end, label)
        self.stack.push(command)
        return command.span_id

    def delete_span(self, span_id: int, version: int | None = None) -> None:
        self.stack.push(cmd.DeleteSpan(span_id, seen_version=version))

    def relabel(self, span_id: int, label: str, version: int | None = None) -> None:
        self.stack.push(cmd.RelabelSpan.make(span_id, label, version))

    def move(self, span_id: int, start: int, end: int, version: int | None = None) -> None:
        self.stack.push(cmd.MoveSpan.make(span_id, start, end, version))

    def accept(self, span_id: int, version: int | None = None) -> None:
        """Enter on a span: confirm it, with its suggested link if it has one (which teaches the alias)."""
        with self.store.Session() as s:
            entity_id = s.scalar(select(Span.entity_id).where(Span.id == span_id))
        self.stack.push(linking.LinkSpan.make(span_id, entity_id, version) if entity_id is not None
                        else cmd.AcceptSpan.make(span_id, version))

    def accept_all(self, document_id: int, label: str | None = None) -> int:
        """Accept every suggestion left in this user's layer of the document (only `label`'s, if
        given), each as Enter would, as one undoable command; returns how many. E038 if none is left."""
        command = linking.AcceptSuggestions(document_id, self.annotator_id, label)
        self.stack.push(command)
        return command.count

    def set_status(self, document_id: int, status: str) -> None:
        self.stack.push(cmd.SetDocumentStatus(document_id, self.annotator_id, status))

    # --- guidelines, progress, history (core/guidelines.py, progress.py, history.py)
    def guidelines(self) -> str:
        with self.store.Session() as s:
            return guide.guidelines(s)

    def set_guidelines(self, text: str) -> None:
        """Replace the project's guidelines (reviewers only, E512)."""
        with self.store.atomic() as s:
            guide.set_guidelines(s, self.annotator_id, text)

    def progress(self) -> list[prog.Totals]:
        """Everyone's figures for a reviewer; an annotator's own only (annotation is blind)."""
        with self.store.Session() as s:
            return prog.progress(s, None if is_reviewer(s, self.annotator_id) else self.annotator_id)

    def history(self, document: int | None = None, user: str | None = None, limit: int | None = None
                ) -> list[hist.Entry]:
        with self.store.Session() as s:
            return hist.history(s, COMMANDS, self.annotator_id, document=document, user=user, limit=limit)

    def revert_to(self, event_id: int) -> RevertTo:
        """Undo this user's edits of the document made after `event_id`, newest first, as one undoable
        command (E516 not an edit of theirs, E517 nothing after it)."""
        with self.store.Session() as s:
            document_id, at, steps = hist.later_edits(s, COMMANDS, self.annotator_id, event_id)
        command = RevertTo(document_id, self.annotator_id, event_id, hist.stamp(at), steps)
        self.stack.push(command)
        return command

    # --- corpus search (core/search.py)
    def search(self, query: str = "", *, regex: bool = False, filters: Filters = Filters(), layer: str | None = None,
               limit: int = 100) -> list[Hit]:
        """Text or regex matches and/or filtered spans in `layer` (default: this user's), which this user
        must be allowed to see (E163: annotation is blind); a label the project does not know is E031."""
        with self.store.Session() as s:
            if filters.label is not None:
                check_label(s, filters.label)
            return search(s, self.annotator_id, query, regex=regex, filters=filters, layer=layer, limit=limit)

    def label_matches(self, hits: list[Hit], label: str) -> list[int]:
        """Label each hit's text in this user's layer as a suggestion (one undoable step); returns the new spans."""
        command = cmd.LabelMatches(self.annotator_id, label, [(h.document_id, h.start, h.end) for h in hits])
        self.stack.push(command)
        return command.created
