"""Plain records that formats read and write, so formats never touch the database.

Offsets are code points into `DocRecord.text`, end exclusive (DESIGN.md, "Offsets").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NIL = "NIL"  # the kb_id of a span checked with no entity that fits


@dataclass(frozen=True)
class SpanRecord:
    start: int
    end: int
    label: str
    kb_id: str | None = None  # the linked entity's kb_id; "NIL" when checked and nothing fits
    status: str = "accepted"


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


CARRIED = "_carried"  # the key of DocRecord.carried in a document's stored meta


@dataclass
class FormatReport:
    """What a reader or writer did: counts, and spans it could not place exactly."""

    documents: int = 0
    spans: int = 0
    misaligned: list[tuple[str, int, int, str]] = field(default_factory=list)  # (doc, start, end, text)


@dataclass
class KbEntry:
    name: str
    kb_id: str | None = None  # None: the importer mints a local id
    type: str = ""
    description: str = ""
    aliases: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # one per alias
