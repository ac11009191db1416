"""Read-only helpers the window needs fast: the open layer as light tuples (read through the project),
the text Qt is given, and spans bucketed by text block. Plain Python (no Qt), testable on their own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import Iterable

from annotator.core.editing.rows import LayerRead, SpanRow  # the views import SpanRow from here

# QTextDocument starts a new block at each of these (it also folds "\r\n" into one, see display_text)
BLOCK_SEPARATORS = re.compile("[\n\r\u2029\ufdd0\ufdd1]")
RARE_SEPARATORS = "\r\u2029\ufdd0\ufdd1"


# The layer reads the document model makes, through the project (core/editing/rows.py holds the SQL).
def read_layer(project, document_id: int, layer_id: int | None = None, until: int | None = None,
               start: bool = True) -> LayerRead:
    return project.read_layer(document_id, layer_id, until, start)


def read_spans(project, document_id: int, layer_id: int, since: int = 0) -> list[SpanRow]:
    return project.read_spans(document_id, layer_id, since)


def document_status(project, document_id: int) -> str:
    return project.document_status(document_id)


def read_span(project, span_id: int, document_id: int, layer_id: int | None = None) -> SpanRow | None:
    return project.read_span(span_id, document_id, layer_id)


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
