"""Label scheme edits as commands: add, edit (colour, key, description, hidden), rename, remove.

Each is one undoable edit on its user's stack, recorded in the history like a span edit, so a rename
done on the command line is undone with Ctrl+Z in the window. A rename or a removal moves the spans
of every layer. Who may: `labels.check_scheme_editor` (E520). Their `Change` is a `SchemeChange`, so
views that show labels (the label bar, the menus) know to read the scheme again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from annotator.core.changes import Change
from annotator.core.db.models import Annotator, Label, Span, utcnow
from annotator.core.editing import labels as scheme
from annotator.core.editing.command import Command
from annotator.errors import AnnotatorError, Errors

FIELDS = ("colour", "shortcut", "description", "hidden")


@dataclass(frozen=True)
class SchemeChange(Change):
    """The label scheme changed (and, for a rename or removal, the label of spans in `documents`)."""


def _actor(s: Session) -> int:
    return s.info["actor"]


def _relabel(s: Session, old: str, new: str, ids: list[int] | None = None) -> list[int]:
    """Give the spans labelled `old` (of `ids` only, when given) the label `new`; their ids. Each span's
    version goes up, so a colleague's edit made on the old label is refused rather than lost."""
    where = [Span.label == old] + ([Span.id.in_(ids)] if ids is not None else [])
    moved = list(s.scalars(select(Span.id).where(*where).order_by(Span.id)))
    if moved:
        s.execute(update(Span).where(*where).values(label=new, version=Span.version + 1, updated_at=utcnow()))
    return moved


def _documents(s: Session, ids: list[int]) -> tuple[int, ...]:
    if not ids:
        return ()
    return tuple(s.scalars(select(Span.document_id).where(Span.id.in_(ids)).distinct().order_by(Span.document_id)))


def _fields(row: Label) -> dict[str, Any]:
    return {f: getattr(row, f) for f in FIELDS}


@dataclass
class AddLabel(Command):
    name: ClassVar[str] = "add_label"
    label: str
    colour: str | None = None
    shortcut: str | None = None
    description: str = ""

    def do(self, s: Session) -> Change:
        scheme.check_scheme_editor(s, _actor(s), f"add {self.label}")
        scheme.check_free_name(s, self.label)
        self.colour = scheme.check_colour(self.colour) if self.colour else scheme.next_colour(s)
        if self.shortcut:
            scheme.check_key(s, self.label, self.shortcut)
        else:
            self.shortcut = next(iter(scheme.free_keys(s)), None)
        position = (s.scalar(select(func.max(Label.position))) or 0) + 1
        s.add(Label(name=self.label, colour=self.colour, shortcut=self.shortcut, description=self.description,
                    position=position, hidden=False))
        s.flush()
        return SchemeChange(None)

    def undo(self, s: Session) -> Change:
        if s.scalar(select(func.count()).where(Span.label == self.label)):
            raise AnnotatorError(Errors.E529.format(state=f"spans use {self.label}", action="undone"))
        s.delete(scheme.label_row(s, self.label))
        return SchemeChange(None)

    def text(self) -> str:
        return f"add label {self.label}"


@dataclass
class EditLabel(Command):
    """Colour, key, description or hidden. Hiding gives the label's digit to the first visible label
    without one; showing takes the first free digit: the first visible labels keep the digits."""

    name: ClassVar[str] = "edit_label"
    label: str
    changes: dict[str, Any] = field(default_factory=dict)
    before: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> its fields before

    def do(self, s: Session) -> Change:
        scheme.check_scheme_editor(s, _actor(s), f"edit {self.label}")
        row = scheme.label_row(s, self.label)
        changes = dict(self.changes)
        if "colour" in changes:
            changes["colour"] = scheme.check_colour(changes["colour"])
        if changes.get("shortcut"):
            scheme.check_key(s, self.label, changes["shortcut"])
        after = {self.label: changes}
        if changes.get("hidden") is True and row.shortcut:
            changes.setdefault("shortcut", None)
            heir = s.scalar(select(Label).where(Label.shortcut.is_(None), ~Label.hidden, Label.name != self.label)
                            .order_by(Label.position, Label.name).limit(1))
            if heir is not None:
                after[heir.name] = {"shortcut": row.shortcut}
        elif changes.get("hidden") is False and row.hidden and not row.shortcut:
            changes.setdefault("shortcut", next(iter(scheme.free_keys(s)), None))
        self.before = {}
        for name, values in after.items():
            target = scheme.label_row(s, name)
            self.before[name] = {f: getattr(target, f) for f in values}
            for f, v in values.items():
                setattr(target, f, v)
        s.flush()
        return SchemeChange(None)

    def undo(self, s: Session) -> Change:
        for name, values in self.before.items():
            target = scheme.label_row(s, name)
            for f, v in values.items():
                setattr(target, f, v)
        s.flush()
        return SchemeChange(None)

    def text(self) -> str:
        what = {"colour": "recolour", "shortcut": "key", "description": "describe"}
        if "hidden" in self.changes:
            return f"{'hide' if self.changes['hidden'] else 'show'} label {self.label}"
        return f"{what.get(next(iter(self.changes), ''), 'edit')} label {self.label}"


@dataclass
class RenameLabel(Command):
    """The label and every span carrying it, in every layer. Undo renames back: the new name did not
    exist before, so every span with it came from this rename (or was labelled since under it)."""

    name: ClassVar[str] = "rename_label"
    old: str
    new: str

    def do(self, s: Session) -> Change:
        return self._rename(s, self.old, self.new)

    def undo(self, s: Session) -> Change:
        return self._rename(s, self.new, self.old)

    def _rename(self, s: Session, old: str, new: str) -> Change:
        scheme.check_scheme_editor(s, _actor(s), f"rename {old}")
        row = scheme.label_row(s, old)
        scheme.check_free_name(s, new, " in this project's scheme")
        row.name = new
        s.flush()
        moved = _relabel(s, old, new)
        return SchemeChange(None, documents=_documents(s, moved))

    def text(self) -> str:
        return f"rename label {self.old} to {self.new}"


@dataclass
class RemoveLabel(Command):
    """Remove a label from the scheme; spans that use it go `into` another label, or it is refused
    (E526). Undo brings the label back and gives the moved spans their label again."""

    name: ClassVar[str] = "remove_label"
    label: str
    into: str | None = None
    row: dict[str, Any] = field(default_factory=dict)  # the removed row, for undo
    moved: list[int] = field(default_factory=list)

    def do(self, s: Session) -> Change:
        scheme.check_scheme_editor(s, _actor(s), f"remove {self.label}")
        row = scheme.label_row(s, self.label)
        if self.into is not None:
            if self.into == self.label:
                known = ", ".join(s.scalars(select(Label.name).where(Label.name != self.label).order_by(Label.position)))
                raise AnnotatorError(Errors.E527.format(name=self.label, known=known))
            scheme.label_row(s, self.into)
            self.moved = _relabel(s, self.label, self.into)
        else:
            users = s.execute(select(Annotator.name, func.count()).join(Span, Span.annotator_id == Annotator.id)
                              .where(Span.label == self.label).group_by(Annotator.name).order_by(Annotator.name)).all()
            if users:
                count = sum(n for _, n in users)
                layers = ", ".join(f"{name}'s layer" for name, _ in users)
                raise AnnotatorError(Errors.E526.format(count=count, layers=layers, name=self.label))
        self.row = {"name": row.name, "position": row.position, **_fields(row)}
        s.delete(row)
        s.flush()
        return SchemeChange(None, documents=_documents(s, self.moved))

    def undo(self, s: Session) -> Change:
        scheme.check_free_name(s, self.label)
        s.add(Label(**self.row))
        s.flush()
        if self.moved:
            _relabel(s, self.into, self.label, self.moved)
        return SchemeChange(None, documents=_documents(s, self.moved))

    def text(self) -> str:
        return f"remove label {self.label}" + (f" into {self.into}" if self.into else "")


COMMANDS = (AddLabel, EditLabel, RenameLabel, RemoveLabel)


def scheme_command(action: str, name: str | None = None, value: str | None = None, *, colour: str | None = None,
                   key: str | None = None, description: str | None = None, into: str | None = None) -> Command:
    """The command for one `annotator labels` action (`value`: the new name, colour or key)."""
    if action == "add":
        return AddLabel(name, colour, key, description or "")
    if action == "rename":
        return RenameLabel(name, value)
    if action == "remove":
        return RemoveLabel(name, into)
    edits = {"recolour": ("colour", value), "key": ("shortcut", value), "hide": ("hidden", True),
             "show": ("hidden", False), "describe": ("description", value)}
    if action not in edits:
        raise AnnotatorError(Errors.E528.format(action=action))
    return EditLabel(name, dict([edits[action]]))
