"""The command base class and the registry that names every command.

Every edit is a command with do/undo, run through one `CommandStack` (`stack.py`), each in its own
short transaction with its event. A command records the state it replaced when it runs (its payload),
which is what lets the stack be rebuilt from the history after a restart: for that the stack needs
every command class by name, from a registry built explicitly (`core/commands.py`), never from what
happened to be imported before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Iterable, Mapping

from sqlalchemy.orm import Session

from annotator.core.changes import Change


@dataclass
class Command:
    name: ClassVar[str] = ""
    puts_back: ClassVar[bool] = False  # its `do` undoes other edits (puts rows back): a refusal is E546 then too

    def do(self, s: Session) -> Change:
        raise NotImplementedError

    def undo(self, s: Session) -> Change:
        raise NotImplementedError

    def text(self) -> str:
        """How menus name it: "Undo <text>"."""
        return self.name.replace("_", " ")

    def payload(self) -> dict[str, Any]:
        return asdict(self)


Registry = Mapping[str, type[Command]]


def registry(classes: Iterable[type[Command]]) -> Registry:
    """Command classes by name; a name given twice is a programming error."""
    found: dict[str, type[Command]] = {}
    for cls in classes:
        if not cls.name or found.setdefault(cls.name, cls) is not cls:
            raise ValueError(f"command {cls.__name__} has no name or shares {cls.name!r}")
    return found
