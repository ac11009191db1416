"""Plain records that formats read and write, so formats never touch the database.

Offsets are code points into `DocRecord.text`, end exclusive (DESIGN.md, "Offsets").
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

NIL = "NIL"  # the kb_id of a span checked with no entity that fits
SPAN_STATUSES = ("accepted", "suggested")  # a suggestion still to check, or checked
SPAN_ORIGINS = ("model", "human", "import", "propagated", "search")  # who or what made a span
# Who chose a span's link (`Span.link_source`, NULL: unknown, or no link): the trained entity linker of
# its run, the alias prior (the most frequent link of the mention's text), a person's link on an
# identical mention (propagation), or a person on this span. A person confirming a suggested link as it
# stands keeps its source (status "accepted" says a person checked it); a person's other link is theirs.
LINK_SOURCES = ("linker", "prior", "propagated", "person")
# The command name of a history event copied from a colleague's file (io/merging.py); its payload holds
# the original {"command", "payload", "undone", "source_event", "source"} (and "superseded": a decision on
# a gold layer this project kept its own of)
MERGED = "merged"


@dataclass(frozen=True)
class SpanRecord:
    start: int
    end: int
    label: str
    kb_id: str | None = None  # the linked entity's kb_id; "NIL" when checked and nothing fits
    status: str = "accepted"
    note: str = ""  # the person's "Refers to" note (Span.referent_note)


@dataclass
class DocRecord:
    name: str
    text: str
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    spans: list[SpanRecord] = field(default_factory=list)
    annotator: str | None = None  # the layer the spans belong to, when the source says
    tokens: list[tuple[int, int]] | None = None  # (start, end) per token, when known
    answer: str | None = None  # the source's verdict on the task (Prodigy: accept, reject, ignore), if it says
    annotated: bool = False  # the source holds someone's annotation of it, even with no span: checked, empty
    # What a format read and the project cannot hold (brat relations, XMI sentences ...), per format name,
    # kept in the document's meta under CARRIED and written back when exporting to that format; its
    # "counts" ({what: n}) go into the import summary.
    carried: dict[str, Any] = field(default_factory=dict)
    # What a reader found and neither keeps nor writes back ({"xmi webanno.custom.Relation": 2}): the import
    # summary names it with its count, so nothing is lost without a word.
    left_out: dict[str, int] = field(default_factory=dict)
    # (start, end) of the unchecked suggestions an export leaves out of `spans`: nobody accepted or
    # deleted them, so their text is neither an entity nor a non-entity. A format that can say "not
    # annotated" marks their tokens so (DocBin: ent_iob 0, spaCy's missing); exporting.py reports them.
    unchecked: list[tuple[int, int]] = field(default_factory=list)


CARRIED = "_carried"  # the key of DocRecord.carried in a document's stored meta


class StoredRecord(DocRecord):
    """A DocRecord read from a project: `packed` keeps its tokens as stored (native int32 start, end
    pairs) and `tokens` unpacks them on first reading; `span_rows` keeps its spans as read, tuples
    (document id, start, end, label, kb_id, status), and `spans` builds the SpanRecords on first
    reading (then `span_rows` is dropped, so the two never disagree). A writer that takes the tokens
    and spans whole (the DocBin's numpy batches) reads `packed` and `span_rows` and skips building an
    object per token and per span (a SpanRecord costs a microsecond: 0.15 s of 10,000 articles); to
    the other formats it is a DocRecord. Setting `tokens` drops `packed`, setting `spans` `span_rows`."""

    def __init__(self, *args, packed: bytes | None = None, span_rows: list[tuple] | None = None, **kwargs):
        self.packed = packed
        super().__init__(*args, **kwargs)
        if span_rows is not None:
            self._spans, self.span_rows = None, span_rows

    @property  # type: ignore[override]
    def tokens(self) -> list[tuple[int, int]] | None:
        if self._tokens is None and self.packed is not None:
            flat = memoryview(self.packed).cast("i")
            self._tokens = list(zip(flat[0::2], flat[1::2]))
        return self._tokens

    @tokens.setter
    def tokens(self, value: list[tuple[int, int]] | None) -> None:
        self._tokens = value
        if value is not None:
            self.packed = None

    @property  # type: ignore[override]
    def spans(self) -> list[SpanRecord]:
        if self._spans is None:
            self._spans = [SpanRecord(*row[1:]) for row in self.span_rows]
            self.span_rows = None
        return self._spans

    @spans.setter
    def spans(self, value: list[SpanRecord]) -> None:
        self._spans, self.span_rows = value, None

    def __eq__(self, other: object) -> bool:  # equal to the DocRecord with the same fields
        if not isinstance(other, DocRecord):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(DocRecord))

    __hash__ = None  # type: ignore[assignment]


@dataclass
class FormatReport:
    """What a reader or writer did: counts, and spans it could not place exactly."""

    documents: int = 0
    spans: int = 0
    misaligned: list[tuple[str, int, int, str]] = field(default_factory=list)  # (doc, start, end, text)
    as_text: list[tuple[str, str]] = field(default_factory=list)  # (doc, meta key): a value the format
    # cannot hold (an integer beyond 64 bits in a DocBin) written as its text
    # names of documents a writer left out whole: a person's span it could not place would have gone out
    # as a non-entity (CoNLL has no "not annotated" tag)
    unplaced_documents: list[str] = field(default_factory=list)


@dataclass
class KbEntry:
    name: str
    kb_id: str | None = None  # None: the importer mints a local id
    type: str = ""
    description: str = ""
    aliases: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # one per alias
