"""What changed, as typed messages, and the one hub that carries them to whoever shows it.

Two sources publish here: the command stack, once per committed edit (undo and redo included), a
`Change` naming what that edit touched; and the watcher, an `Activity` (core/activity.py) when other
people's edits come in. Views subscribe to the message types they show and redraw only what a message
names; an edit's view does not also refresh itself (it hears its own edit here, like everyone else).

Subscriptions are weak: a widget that is gone stops receiving without unsubscribing, and subscribing
the same callback twice delivers once. While a `held()` block runs, messages wait and are delivered
when it ends: the code that caused a change (undo opening another document) finishes before views
react to it.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from types import MethodType
from dataclasses import dataclass
from typing import Any, Callable, Iterator

KINDS = ("spans", "state", "entities")


@dataclass(frozen=True)
class Change:
    """One edit's message: what it touched, so views redraw only that.

    kind "spans": spans of `document_id` (and of `documents`, for a propagation) were added, changed
    or removed — `span_ids`, each read again by whoever shows it; "state": this user's status of
    `document_id` changed; "entities": knowledge-base entities changed (an edit or merge), and the
    spans `span_ids` that point at them."""

    document_id: int | None
    span_ids: tuple[int, ...] = ()
    kind: str = "spans"  # one of KINDS
    documents: tuple[int, ...] = ()  # every document whose spans it touched, when more than one can be


class Hub:
    """Publish a message to the callbacks subscribed to its type (or a base of it)."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[type, Callable[[], Callable | None], Any]] = []
        self._held = 0
        self._waiting: list[Any] = []

    def subscribe(self, callback: Callable[[Any], None], kind: type = object) -> None:
        """Deliver every message of type `kind` to `callback`; a method of an object is held weakly
        (a plain function or a builtin's method, strongly)."""
        key = _key(callback)
        if any(k is kind and held_key == key for k, _, held_key in self._subscribers):
            return
        ref = weakref.WeakMethod(callback) if isinstance(callback, MethodType) else (lambda: callback)
        self._subscribers.append((kind, ref, key))

    def unsubscribe(self, callback: Callable[[Any], None]) -> None:
        key = _key(callback)
        self._subscribers = [s for s in self._subscribers if s[2] != key]

    def publish(self, message: Any) -> None:
        if self._held:
            self._waiting.append(message)
            return
        alive = []
        for kind, ref, key in list(self._subscribers):
            callback = ref()
            if callback is None:
                continue
            alive.append((kind, ref, key))
            if isinstance(message, kind):
                callback(message)
        if len(alive) != len(self._subscribers):
            self._subscribers = [s for s in self._subscribers if s[1]() is not None]

    @contextmanager
    def held(self) -> Iterator[None]:
        """Deliver what is published inside the block after it, in order."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held:
                waiting, self._waiting = self._waiting, []
                for message in waiting:
                    self.publish(message)


def _key(callback: Callable) -> tuple[int, int] | int:
    """A bound method is a new object each time it is read: key it by (object, function)."""
    if isinstance(callback, MethodType):
        return id(callback.__self__), id(callback.__func__)
    return id(callback)
