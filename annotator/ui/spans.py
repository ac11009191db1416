"""Read-only helpers the window needs fast: the open layer as light tuples, the text Qt is given,
and spans bucketed by text block. Plain Python (no Qt), so they are testable on their own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from operator import attrgetter
from typing import Iterable, NamedTuple

from sqlalchemy import text

from annotator.core.editing.layers import open_layer

# QTextDocument starts a new block at each of these (it also folds "\r\n" into one, see display_text)
BLOCK_SEPARATORS = re.compile("[\n\r\u2029\ufdd0\ufdd1]")
RARE_SEPARATORS = "\r\u2029\ufdd0\ufdd1"


class SpanRow(NamedTuple):
    """A span of the open layer; the same fields as core's SpanView, but cheap to make by the thousand."""

    id: int
    start: int
    end: int
    label: str
    status: str
    origin: str
    entity_id: int | None
    nil: bool  # truthy (SQLite gives 0/1)
    version: int  # passed with each edit: a change made by someone else meanwhile is refused (E037)


# Core SQL without ORM objects: 1,000 spans load in a third of the time project.spans() takes.
# No ORDER BY: rows come back nearly sorted, and Python's sort finishes them in one pass where
# SQLite would build a temporary B-tree (a third of the query's time).
_LAYER_SQL = text('SELECT id, start, "end", label, status, origin, entity_id, nil, version FROM spans '
                  "WHERE document_id = :d AND annotator_id = :a AND start >= :since AND start < :until")
_COUNT_SQL = text("SELECT count(*), sum(CASE WHEN status = 'suggested' THEN 1 ELSE 0 END) FROM spans "
                  "WHERE document_id = :d AND annotator_id = :a AND start >= :since")
_STATE_SQL = text("SELECT status FROM document_states WHERE document_id = :d AND annotator_id = :a")
EVERYWHERE = 2**62  # beyond any offset


_ORDER = attrgetter("start", "end", "id")


def _sorted_rows(rows) -> list[SpanRow]:
    return sorted(map(SpanRow._make, rows), key=_ORDER)


class LayerRead(NamedTuple):
    spans: list[SpanRow]  # sorted by (start, end, id)
    status: str  # this user's state of the document: new, in_progress or done
    started: bool  # this read created that state (new → in progress)
    unread: int  # spans starting at `until` or later, left for `read_spans(..., since=until)`
    unread_suggested: int  # of which suggestions


def read_layer(project, document_id: int, layer_id: int | None = None, until: int | None = None) -> LayerRead:
    """This user's spans of a document, starting their layer from the model's on first open.

    Another layer (`layer_id`, e.g. gold under adjudication) is only read, never started. With `until`,
    only spans starting before that offset are read (what a first screen shows); the others are counted.
    """
    own = layer_id is None or layer_id == project.annotator_id
    params = {"d": document_id, "a": project.annotator_id if own else layer_id,
              "since": 0, "until": EVERYWHERE if until is None else until}
    with project.store.engine.connect() as conn:
        state = conn.execute(_STATE_SQL, {"d": document_id, "a": project.annotator_id}).first()
        if state is not None or not own:
            return _read(conn, params, state[0] if state is not None else "new", False)
    with project.store.atomic() as s:
        status = open_layer(s, document_id, project.annotator_id).status
    with project.store.engine.connect() as conn:
        return _read(conn, params, status, True)


def _read(conn, params: dict, status: str, started: bool) -> LayerRead:
    spans = _sorted_rows(conn.execute(_LAYER_SQL, params).all())
    unread = suggested = 0
    if params["until"] != EVERYWHERE:
        unread, suggested = conn.execute(_COUNT_SQL, {**params, "since": params["until"]}).one()
    return LayerRead(spans, status, started, unread, suggested or 0)


def read_spans(project, document_id: int, layer_id: int, since: int = 0) -> list[SpanRow]:
    """A layer's spans of a document that start at `since` or later, sorted by (start, end, id)."""
    params = {"d": document_id, "a": layer_id, "since": since, "until": EVERYWHERE}
    with project.store.engine.connect() as conn:
        return _sorted_rows(conn.execute(_LAYER_SQL, params).all())


def document_status(project, document_id: int) -> str:
    with project.store.engine.connect() as conn:
        row = conn.execute(_STATE_SQL, {"d": document_id, "a": project.annotator_id}).first()
    return row[0] if row is not None else "new"


_SPAN_SQL = text('SELECT id, start, "end", label, status, origin, entity_id, nil, version FROM spans '
                 "WHERE id = :i AND document_id = :d AND annotator_id = :a")


def read_span(project, span_id: int, document_id: int, layer_id: int | None = None) -> SpanRow | None:
    """One span of a document in a layer (default: this user's) as it is now in the database; None once
    deleted, or when it is in another document (an edit such as corpus propagation touches several) or
    another layer (the one stack also edits gold). Plain SQL, no ORM object: this runs on the path of
    every edit."""
    layer = project.annotator_id if layer_id is None else layer_id
    with project.store.engine.connect() as conn:
        r = conn.execute(_SPAN_SQL, {"i": span_id, "d": document_id, "a": layer}).first()
    return None if r is None else SpanRow._make(r)


# Characters that change how text reads without being seen: bidi embeddings, overrides, isolates and
# marks (U+202E shows "gnp.exe" as "exe.png"), zero-width characters, invisible operators, the BOM.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
INVISIBLES = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
BIDI_MARK = "\u21c4"  # ⇄ : one UTF-16 unit, like every character it stands for, so no offset moves
INVISIBLE_MARK = "\u25cc"  # ◌
_MARKS = {c: BIDI_MARK for c in BIDI_CONTROLS} | {c: INVISIBLE_MARK for c in INVISIBLES}
# Zero-width (non-)joiners do visible work between the letters of joining scripts (Persian, Indic) and
# in emoji sequences (👨‍👩‍👧): there, with such a character on both sides, they are left alone.
_SHAPED = "[\u0590-\U0010ffff]"
_ANY = re.compile(f"[{BIDI_CONTROLS}{INVISIBLES}]")  # a quick look first: most texts have none
_HIDDEN = re.compile(f"[{BIDI_CONTROLS}\u200b\u2060-\u2064\ufeff]"
                     f"|(?<!{_SHAPED})[\u200c\u200d]|[\u200c\u200d](?!{_SHAPED})")


def display_text(text: str) -> str:
    """The text as handed to QPlainTextEdit, position for position the same as `text`.

    Each bidi control or invisible character becomes a visible mark of the same length (the highlighter
    draws it apart), so nothing is reordered or hidden; the document's own text is never changed.
    QTextDocument folds "\\r\\n" into one paragraph break, which would shift every later offset by one;
    the "\\r" of each pair becomes an invisible zero-width space so both keep their place.
    """
    if _ANY.search(text):
        text = _HIDDEN.sub(lambda m: _MARKS[m.group()], text)
    return text.replace("\r\n", "\u200b\n") if "\r" in text else text


def hidden_positions(text: str) -> list[int]:
    """Code points of `text` that `display_text` shows as marks."""
    return [m.start() for m in _HIDDEN.finditer(text)] if _ANY.search(text) else []


def block_starts(display: str) -> list[int]:
    """Code-point offset where each QTextDocument block starts."""
    rare = any(sep in display for sep in RARE_SEPARATORS)  # a plain split is six times the regex's speed
    parts = BLOCK_SEPARATORS.split(display) if rare else display.split("\n")
    return list(accumulate([len(part) + 1 for part in parts], initial=0))[:-1]


class BlockIndex:
    """Spans bucketed by the text block(s) they touch: highlighting a block looks at its bucket only."""

    def __init__(self, starts: list[int], spans: Iterable[SpanRow] = ()):
        self.starts = starts
        self.buckets: dict[int, list[int]] = {}
        # One pass over the spans (as read: sorted by start) and the block starts together; spans
        # out of order or crossing a block boundary (both rare) take the general path.
        block, n = 0, len(starts)
        following = starts[1] if n > 1 else float("inf")
        for span in spans:
            if span.start < starts[block]:
                self.add(span)
                continue
            while span.start >= following:
                block += 1
                following = starts[block + 1] if block + 1 < n else float("inf")
            if span.end <= following:
                bucket = self.buckets.get(block)
                if bucket is None:
                    self.buckets[block] = [span.id]
                else:
                    bucket.append(span.id)
            else:
                self.add(span)

    def blocks_of(self, start: int, end: int) -> range:
        first = bisect_right(self.starts, start) - 1
        last = bisect_right(self.starts, max(start, end - 1)) - 1
        return range(max(first, 0), max(last, 0) + 1)

    def add(self, span: SpanRow) -> range:
        blocks = self.blocks_of(span.start, span.end)
        for b in blocks:
            self.buckets.setdefault(b, []).append(span.id)
        return blocks

    def remove(self, span: SpanRow) -> range:
        blocks = self.blocks_of(span.start, span.end)
        for b in blocks:
            ids = self.buckets.get(b)
            if ids and span.id in ids:
                ids.remove(span.id)
        return blocks

    def get(self, block: int) -> list[int]:
        return self.buckets.get(block, [])

    def block_start(self, block: int) -> int:
        return self.starts[block]
