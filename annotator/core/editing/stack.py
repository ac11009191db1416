"""The command stack: runs each edit's command in its own transaction with its event, keeps undo and
redo for one annotator (rebuilt from the event history after a restart), and publishes what each edit
changed on the change hub (core/changes.py). Each edit goes to its person's own layer (targets.py)
and passes the guard of who edits which layer (permissions.py); it also recounts the provenance of
the documents it touched (core/db/provenance_counts.py) and adds its time to the person's day
(core/db/edit_seconds.py), all in its transaction. The commands themselves are in spans.py,
kb/linking.py and review/decisions.py.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotator.core.changes import Change, Hub
from annotator.core.db import edit_seconds
from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.db.models import Annotator, Event, utcnow
from annotator.core.db.store import Store
from annotator.core.editing.command import Command, Registry
from annotator.core.editing.permissions import check_command
from annotator.core.editing.targets import to_own_layer
from annotator.core.db.provenance_counts import refresh
from annotator.errors import AnnotatorError, ConnectionLost, Errors

_INSERT_EVENT = insert(Event).returning(Event.id)
_UNDO_EVENT = update(Event).where(Event.id == bindparam("event_id")).values(undone=True)
_REDO_EVENT = (update(Event).where(Event.id == bindparam("event_id"))
               .values(undone=False, payload=bindparam("payload", type_=Event.payload.type)))

_ACTOR_NAME = select(Annotator.name).where(Annotator.id == bindparam("id"))

DROPPED = "dropped"  # the event of a step taken off the stack because its undo or redo was refused (E546)


class CommandStack:
    """Runs commands for one annotator, keeps undo/redo, and publishes what each edit changed."""

    def __init__(self, store: Store, annotator_id: int, commands: Registry, changes: Hub | None = None):
        self.store = store
        self.annotator_id = annotator_id
        self.commands = commands  # every command by name (core/commands.py): what restore can rebuild
        self.changes = changes or Hub()  # each committed edit's Change is published here
        self._undo: list[tuple[int, Command]] = []  # (event id, command)
        self._redo: list[tuple[int, Command]] = []
        self.generation = 0  # counts changes, so views can tell whether anything happened since they drew
        self.recorded: set[int] = set()  # events written here: subscribers saw them (see forget_recorded)
        self._model_actor: bool | None = None  # whether this stack's annotator is the model (no edits then)

    def _notify(self, change: Change) -> None:
        self.generation += 1
        self.changes.publish(change)

    # --- running
    def _transact(self, work: Callable[[Session], tuple[int, Change]], action: str | None,
                  command: Command) -> tuple[int, Change]:
        """Run `work` (which records one event and returns (event id, change)) in one transaction.

        A dropped connection (server restarted, network cut: ConnectionLost) is retried once on a new
        one. When it dropped while committing, the first try may have gone through: its event row
        says so, and it is not done twice. When `action` is given (an undo, a redo, a command that
        undoes others), a row put back that the database refuses (its id or key taken since, or what
        it refers to gone: an IntegrityError) rolls everything back and is E546, never a traceback."""
        for attempt in (1, 2):
            done = None
            try:
                with self.store.atomic() as s:
                    s.info["actor"] = self.annotator_id
                    try:
                        done = work(s)
                    except IntegrityError as e:  # the rows it puts back, refused: not the bookkeeping below
                        if action is None:
                            raise
                        said = str(e.orig).strip()
                        reason = said.splitlines()[0] if said else type(e.orig).__name__
                        raise AnnotatorError(Errors.E546.format(action=action, what=command.text(),
                                                                reason=reason)) from None
                    refresh(s, (done[1].document_id, *done[1].documents))  # the provenance of what it touched
                return done
            except ConnectionLost:
                if done is not None and self._committed(done[0]):
                    return done  # the answer to COMMIT was lost, not the commit
                if attempt == 2:
                    raise

    def _committed(self, event_id: int) -> bool:
        try:
            with self.store.Session() as s:
                return s.scalar(select(Event.id).where(Event.id == event_id)) is not None
        except ConnectionLost:
            raise AnnotatorError(Errors.E400.format(
                reason="no answer to the commit", what="Your last edit may or may not have been saved: look "
                "at it once the server is back.")) from None

    def push(self, command: Command) -> Change:
        """Do the command and record it; when this returns, the edit is committed."""
        def work(s: Session) -> tuple[int, Change]:
            self._guard(s, command)
            change = command.do(s)
            return self._record(s, command.name, command.payload(), change.document_id), change

        event_id, change = self._transact(work, "do" if command.puts_back else None, command)
        self._undo.append((event_id, command))
        self._redo.clear()
        self._notify(change)
        return change

    def undo(self) -> Change:
        return self._replay("undo", self._undo, self._redo)

    def redo(self) -> Change:
        return self._replay("redo", self._redo, self._undo)

    def _replay(self, action: str, source: list, target: list) -> Change:
        """Undo or redo the command on top of `source` (marking its event), then move it to `target`."""
        if not source:
            raise AnnotatorError(Errors.E035.format(action=action))
        event_id, command = source[-1]

        def work(s: Session) -> tuple[int, Change]:
            if action == "undo":
                change = command.undo(s)
                s.connection().execute(_UNDO_EVENT, {"event_id": event_id})
            else:
                self._guard(s, command)
                change = command.do(s)
                s.connection().execute(_REDO_EVENT, {"event_id": event_id, "payload": command.payload()})
            return self._record(s, action, {"event": event_id}, change.document_id), change

        try:
            _, change = self._transact(work, action, command)
        except AnnotatorError as e:
            if e.code in ("E546", "E620"):  # it will never go through: left on top it would block every older step
                self._drop(action, event_id, source)
            raise
        source.pop()
        target.append((event_id, command))
        self._notify(change)
        return change

    def _guard(self, s: Session, command: Command) -> None:
        """Before a command is done (first, or again by redo): it goes to this person's own layer,
        starting it from the model's suggestions if need be (editing/targets.py); only reviewers edit
        gold, and nobody the model's layer (E620)."""
        if self._model_actor is None:  # read once: a read-only look at the model's layer has a stack too
            self._model_actor = s.connection().execute(_ACTOR_NAME, {"id": self.annotator_id}).scalar() == MODEL_LAYER
        if self._model_actor:
            raise AnnotatorError(Errors.E620.format(what=command.text(), why="this is the model's layer, not a "
                                                    "person's"))
        to_own_layer(s, self.annotator_id, command)
        check_command(s, self.annotator_id, command)

    def _drop(self, action: str, event_id: int, source: list) -> None:
        """Take a refused undo or redo off its stack, and say so in the history (a "dropped" event naming
        the edit, of no document: it changed nothing), so a restart does not put it back either."""
        source.pop()
        try:
            with self.store.atomic() as s:
                s.info["actor"] = self.annotator_id
                self._record(s, DROPPED, {"event": event_id, "action": action}, None)
        except ConnectionLost:
            pass  # the refusal stands; the step comes back after a restart, and is refused again
        self.generation += 1

    def _record(self, s: Session, name: str, payload: dict, document_id: int | None) -> int:
        event_id = s.connection().execute(_INSERT_EVENT, dict(
            annotator_id=self.annotator_id, document_id=document_id, command=name, payload=payload,
            created_at=utcnow(), undone=False)).scalar_one()
        edit_seconds.record(s, (event_id,))  # the time spent, per person and day
        self.recorded.add(event_id)
        return event_id

    def forget_recorded(self, through: int) -> None:
        """Drop the ids of events written here up to `through`: whoever skips them (a window looking for
        changes made elsewhere) has looked past them."""
        self.recorded = {i for i in self.recorded if i > through}

    # --- state for menus
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1][1].text() if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1][1].text() if self._redo else ""

    def restore(self, limit: int = 200) -> None:
        """Rebuild undo/redo from the event history, so undo works across restarts; steps refused and
        dropped since (`_drop`) stay off."""
        with self.store.Session() as s:
            rows = s.execute(select(Event.id, Event.command, Event.payload, Event.undone)
                             .where(Event.annotator_id == self.annotator_id, Event.command.in_(list(self.commands)))
                             .order_by(Event.id.desc()).limit(limit)).all()
            dropped = {p.get("event") for p in s.scalars(select(Event.payload).where(
                Event.annotator_id == self.annotator_id, Event.command == DROPPED,
                Event.id > (rows[-1].id if rows else 0)))}
        rows = [r for r in reversed(rows) if r.id not in dropped]
        last_done = max((r.id for r in rows if not r.undone), default=0)
        self._undo = [(r.id, self.commands[r.command](**r.payload)) for r in rows if not r.undone]
        self._redo = [(r.id, self.commands[r.command](**r.payload)) for r in reversed(rows)
                      if r.undone and r.id > last_done]
