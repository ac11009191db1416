"""What an edit or a colleague changed, as messages views subscribe to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """What an edit touched, so views redraw only that."""

    document_id: int | None
    span_ids: tuple[int, ...] = ()
    kind: str = "spans"  # spans | state | entities
    documents: tuple[int, ...] = ()  # every document whose spans it touched, when more than one can be
