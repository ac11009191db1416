"""Every command the project knows, by name: what the undo stack is rebuilt from after a restart.

Listed explicitly, so restoring a reviewer's or an analyst's history never depends on which modules
happened to be imported before (commands used to register themselves on import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from annotator.core.changes import Change
from annotator.core.editing import label_commands, spans
from annotator.core.editing.command import Command, registry
from annotator.core.kb import linking, propagating
from annotator.core.review import decisions


@dataclass
class RevertTo(Command):
    """"Revert to here" on one document: undo this user's later edits on it, newest first, as ONE
    command (one Ctrl+Z brings them all back). `steps` are [command name, payload] of those edits in
    the order they were made; their own events stay as they are (the history still shows them, then
    this). Lives here because it rebuilds its steps from the full registry."""

    name: ClassVar[str] = "revert_to"
    puts_back: ClassVar[bool] = True
    document_id: int
    annotator_id: int
    event_id: int  # the edit reverted to (kept)
    at: str = ""  # when that edit was made, for the menu text
    steps: list[list[Any]] = field(default_factory=list)

    def _commands(self) -> list[Command]:
        return [COMMANDS[name](**payload) for name, payload in self.steps]

    def _run(self, s: Session, forward: bool) -> Change:
        commands = self._commands()
        span_ids: list[int] = []
        for command in (commands if forward else reversed(commands)):
            span_ids += (command.do(s) if forward else command.undo(s)).span_ids
        self.steps = [[c.name, c.payload()] for c in commands]
        return Change(self.document_id, tuple(dict.fromkeys(span_ids)))

    def do(self, s: Session) -> Change:
        change = self._run(s, forward=False)
        return Change(self.document_id, change.span_ids, kind="spans")

    def undo(self, s: Session) -> Change:
        return self._run(s, forward=True)

    def text(self) -> str:
        n = len(self.steps)
        return f"revert {n} edit{'s' if n != 1 else ''}" + (f" (to {self.at})" if self.at else "")


COMMANDS = registry([*spans.COMMANDS, *label_commands.COMMANDS, *linking.COMMANDS, *propagating.COMMANDS, *decisions.COMMANDS, RevertTo])
