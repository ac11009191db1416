"""Find anything in the corpus: text or a regular expression over every document, and/or spans of one
layer by label, link, NIL, status or origin — "every unlinked ORG", "Seoul where it is not linked",
"where did we label 'the two sides'".

With text, a hit is a match in a document (plain text: case-insensitive; a regex: as written, `(?i)`
for either case) and carries the tightest span of the layer that covers it, if any. With span filters
too, only matches inside a span passing them count, except that a match no span covers is unlinked
(an unlabelled mention is not linked either). With span filters alone, a hit is a span.

Offsets are code points into `Document.text`; `left` / `match` / `right` are exact substrings (views
flatten whitespace for one line). Hits come in document import order, then by offset.

Speed: documents are looked up in a text index on a literal the matches must contain (FTS5 on
SQLite, pg_trgm or pairs of words on PostgreSQL: core/db/text_index.py); a regex without such a
literal, or text shorter than a trigram, scans the text in chunks. Python's `re` then finds the exact
offsets, so an index only has to give a superset. Span filters walk an index of the layer's spans in
the order hits are shown, label by label (`_page`).
"""

from __future__ import annotations

import re
import re._parser as sre  # the stdlib's own regex parser: which literals every match must contain
from dataclasses import asdict, dataclass
from typing import Iterator

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from annotator.core.db.raw import marks, rows
from annotator.core.db.text_index import candidates
from annotator.core.editing.permissions import check_visible
from annotator.core.records import SPAN_ORIGINS, SPAN_STATUSES
from annotator.errors import AnnotatorError, Errors

WIDTH = 40  # context, code points on each side
MIN_LITERAL = 3  # a trigram index looks up nothing shorter
WHOLE = 65536  # span hits: a text up to this many code points (PostgreSQL: bytes) is read whole, ...
PIECE_GAP = 2000  # ... a longer one in pieces around its spans, those this close together in one piece
PIECES = 300  # ... pieces read per statement (three parameters each)
FEW = 200  # span filters: a label with at most this many spans passing is read by ix_spans_layer_counts
ARMS = 100  # ... and at most this many labels walked and merged; a layer with more is read in one walk (SQLite
# allows 500 terms in a compound SELECT, and PostgreSQL plans each arm: 0.5 s for 500)


@dataclass(frozen=True)
class Filters:
    """Span filters; all given ones must hold."""

    label: str | None = None
    kb_id: str | None = None
    unlinked: bool = False  # no entity, not NIL
    nil: bool = False
    suggested: bool = False  # status "suggested": a suggested span or a suggested link
    origin: str | None = None

    @property
    def any(self) -> bool:
        return any(asdict(self).values())

    @property
    def only_unlinked(self) -> bool:
        return self == Filters(unlinked=True)


@dataclass(frozen=True)
class Hit:
    document_id: int
    document: str  # name
    title: str
    start: int
    end: int
    left: str
    match: str
    right: str
    span_id: int | None = None
    label: str | None = None
    kb_id: str | None = None
    status: str | None = None
    nil: bool = False
    origin: str | None = None
    version: int | None = None

    def to_json(self) -> dict:
        out = {"document": self.document, "title": self.title, "start": self.start, "end": self.end,
               "left": self.left, "match": self.match, "right": self.right}
        if self.span_id is not None:
            out.update(label=self.label, kb_id=self.kb_id, status=self.status, nil=self.nil)
        return out


def flat(s: str) -> str:
    """Whitespace runs (newlines, tabs) as one space: a hit on one line."""
    return re.sub(r"\s+", " ", s)


# --- the pattern and the literals that every match must contain
def compile_query(query: str, regex: bool) -> re.Pattern:
    if not regex:
        return re.compile(re.escape(query), re.IGNORECASE)
    try:
        return re.compile(query)
    except re.error as e:
        raise AnnotatorError(Errors.E501.format(pattern=query, reason=e)) from None


def required_literals(pattern: re.Pattern) -> list[str] | None:
    """Strings one of which every match contains (each at least MIN_LITERAL long), or None."""
    try:
        parsed = sre.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - compiled already; an unforeseen parse tree only costs a scan
        return None
    return _required(list(parsed))


def _required(items: list) -> list[str] | None:
    best: list[str] | None = None
    run = ""

    def consider(found: list[str] | None) -> None:
        nonlocal best
        if found and min(map(len, found)) >= MIN_LITERAL and (
                best is None or (len(found), -min(map(len, found))) < (len(best), -min(map(len, best)))):
            best = found

    for op, av in items + [(None, None)]:
        if op is sre.LITERAL:
            run += chr(av)
            continue
        if op is sre.AT:  # an anchor consumes nothing: the literal goes on
            continue
        consider([run])
        run = ""
        if op is sre.SUBPATTERN:
            consider(_required(list(av[-1])))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            consider(_required(list(av[2])))
        elif op is sre.BRANCH:
            alternatives = [_required(list(branch)) for branch in av[1]]
            if all(alternatives):
                consider(sorted({s for alt in alternatives for s in alt}))
    return best


# --- spans of the layer
SPAN_COLUMNS = ('s.id, s.document_id, s.start, s."end", s.label, e.kb_id, s.status, s.nil, s.origin, '
                's.version, s.entity_id')
SPAN_ROW = SPAN_COLUMNS.replace("e.kb_id", "(SELECT e.kb_id FROM entities e WHERE e.id = s.entity_id)")


def _layer_spans(conn: Connection, layer_id: int, document_ids: list[int]) -> dict[int, list]:
    found: dict[int, list] = {}
    if document_ids:
        for r in rows(conn, f"SELECT {SPAN_COLUMNS} FROM spans s LEFT JOIN entities e ON e.id = s.entity_id "
                            f"WHERE s.annotator_id = ? AND s.document_id IN ({marks(len(document_ids))})",
                      [layer_id, *document_ids]):
            found.setdefault(r[1], []).append(r)
    return found


def _passes(span, f: Filters) -> bool:
    _, _, _, _, label, kb_id, status, nil, origin, _, entity_id = span
    return ((f.label is None or label == f.label) and (f.kb_id is None or kb_id == f.kb_id)
            and (not f.unlinked or (entity_id is None and not nil)) and (not f.nil or bool(nil))
            and (not f.suggested or status == "suggested") and (f.origin is None or origin == f.origin))


def _span_fields(span) -> dict:
    if span is None:
        return {}
    return dict(span_id=span[0], label=span[4], kb_id=span[5], status=span[6], nil=bool(span[7]), origin=span[8],
                version=span[9])


def _text_hits(conn: Connection, pattern: re.Pattern, layer_id: int, f: Filters, limit: int,
               width: int) -> list[Hit]:
    hits: list[Hit] = []
    for page in candidates(conn, required_literals(pattern)):
        matches = [(doc, m) for doc in page for m in pattern.finditer(doc[3]) if m.end() > m.start()]
        spans = _layer_spans(conn, layer_id, sorted({doc[0] for doc, _ in matches}))
        for (doc_id, name, title, text), m in matches:
            a, b = m.span()
            covering = sorted((s for s in spans.get(doc_id, ()) if s[2] <= a and b <= s[3]),
                              key=lambda s: (s[3] - s[2], s[0]))
            span = covering[0] if covering else None
            if f.any:
                passing = [s for s in covering if _passes(s, f)]
                if passing:
                    span = passing[0]
                elif covering or not f.only_unlinked:
                    continue
            hits.append(Hit(doc_id, name, title, a, b, text[max(0, a - width):a], text[a:b], text[b:b + width],
                            **_span_fields(span)))
            if len(hits) >= limit:
                return hits
    return hits


def _span_hits(conn: Connection, layer_id: int, f: Filters, entity_id: int | None, limit: int,
               width: int) -> list[Hit]:
    """A page of spans and, in the same statement, the name, title and text of their documents, each
    read once (a text over WHOLE code points, bytes on PostgreSQL, comes in pieces after). Cut out per
    span in SQL, a text was walked again for each of its spans; joined per span, the documents and
    entities cost the server more planning than the page's rows (PostgreSQL, 100 hits: 1.0 ms through
    the driver, now 0.3)."""
    # PostgreSQL knows a text's size in bytes without reading it (an upper bound of its code points);
    # SQLite 3.40 has no octet_length, and counting code points reads the text
    size = "octet_length" if conn.dialect.name == "postgresql" else "length"
    page = _page(conn, layer_id, f, entity_id, limit)
    if page is None:
        return []
    spans, params = page
    found = rows(conn, f"WITH h AS ({spans}) SELECT h.*, NULL, NULL, NULL FROM h UNION ALL "
                       f"SELECT NULL, d.id, {', '.join(['NULL'] * 9)}, d.name, d.title, "
                       f"CASE WHEN {size}(d.text) <= {WHOLE} THEN d.text END "
                       "FROM documents d WHERE d.id IN (SELECT document_id FROM h)", params)
    documents = {r[1]: (r[11], r[12], [(0, r[13])] if r[13] is not None else []) for r in found if r[0] is None}
    found = sorted((r[:11] for r in found if r[0] is not None), key=lambda r: (r[1], r[2], r[3], r[0]))
    big = {doc for doc, (_, _, pieces) in documents.items() if not pieces}
    if big:
        for doc, offset, text in _pieces(conn, [r[1:4] for r in found if r[1] in big], width):
            documents[doc][2].append((offset, text))
    hits = []
    for span in found:
        name, title, pieces = documents[span[1]]
        a, b = span[2], span[3]
        offset, text = next(p for p in pieces if p[0] <= max(0, a - width) and b <= p[0] + len(p[1]))
        a, b = a - offset, b - offset
        hits.append(Hit(span[1], name, title, span[2], span[3], text[max(0, a - width):a], text[a:b],
                        text[b:b + width], **_span_fields(span)))
    return hits


def _page(conn: Connection, layer_id: int, f: Filters, entity_id: int | None,
          limit: int) -> tuple[str, list] | None:
    """The statement of the first `limit` spans of the layer passing `f`, in hit order, and its
    parameters; None when no span can pass.

    ix_spans_layer_label (annotator_id, label, document_id, start, end) gives a label's spans in hit
    order: each label's walk stops at the limit and the labels' walks are merged, instead of reading,
    cutting and sorting every span of the layer (2 s at 3 M spans). A walk reads every span of its
    label when few pass (a suggestion left, a NIL): where ix_spans_layer_counts finds at most FEW of
    them, they are read from it and sorted instead. The limit is written out: with it a parameter,
    PostgreSQL never settles on a generic plan and plans every run."""
    where, params = [], []
    for sql, value, given in (("s.entity_id = ?", entity_id, f.kb_id is not None),
                              ("s.origin = ?", f.origin, f.origin is not None),
                              ("s.status = ?", "suggested", f.suggested), ("s.nil = ?", True, f.nil)):
        if given:
            where.append(sql)
            params.append(value)
    if f.unlinked:  # coalesce: not a look-up in ix_spans_entity (nearly every row), a walk in document order
        where.append("coalesce(s.entity_id, 0) = 0 AND s.nil = ?")
        params.append(False)
    few, few_params = _few(f)
    if f.kb_id is not None:  # ix_spans_entity finds the entity's few spans
        labels: list = [(f.label, None)]
    else:
        labels = _labels(conn, layer_id, f.label, few, few_params)
    order = f'ORDER BY s.document_id, s.start, s."end", s.id LIMIT {int(limit)}'
    arms, arm_params = [], []
    for label, passing in labels:
        head, head_params = ["annotator_id = ?"], [layer_id]
        if label is not None:
            head.append("label = ?")
            head_params.append(label)
        if passing == 0:
            continue
        if passing is not None and passing <= FEW:
            first = f"s.id IN (SELECT id FROM spans WHERE {' AND '.join(head + few)})"
            head_params += few_params
        else:
            first = " AND ".join("s." + c for c in head)
        arms.append(f"SELECT {SPAN_ROW} FROM spans s WHERE {' AND '.join([first, *where])} {order}")
        arm_params += head_params + params
    if not arms:
        return None
    if len(arms) > ARMS:
        return (f"SELECT {SPAN_ROW} FROM spans s WHERE {' AND '.join(['s.annotator_id = ?', *where])} {order}",
                [layer_id, *params])
    if len(arms) == 1:
        return arms[0], arm_params
    return (" UNION ALL ".join(f"SELECT * FROM ({arm}) a{i}" for i, arm in enumerate(arms))
            + f" ORDER BY 2, 3, 4, 1 LIMIT {int(limit)}", arm_params)


def _few(f: Filters) -> tuple[list[str], list]:
    """What of `f` ix_spans_layer_counts (annotator_id, label, status, nil, entity_id) can look up
    (conditions and their parameters); nothing when it cannot narrow a label."""
    if not (f.suggested or f.nil or f.unlinked):
        return [], []
    every = ", ".join(f"'{s}'" for s in SPAN_STATUSES)  # status is the index's third column: all, to reach nil
    found = ["status = 'suggested'" if f.suggested else f"status IN ({every})"]
    params = []
    if f.nil or f.unlinked:
        found.append("nil = ?")
        params.append(f.nil)
    if f.unlinked:
        found.append("entity_id IS NULL")
    return found, params


def _labels(conn: Connection, layer_id: int, label: str | None, few: list[str],
            params: list) -> list[tuple[str, int | None]]:
    """`label`, or each label the layer's spans have (one step down ix_spans_layer_label per label),
    with, given `few`, how many of its spans pass them (counted up to FEW + 1 in their range of
    ix_spans_layer_counts, else None): one statement."""
    if label is not None and not few:
        return [(label, None)]
    count = (f"(SELECT count(*) FROM (SELECT 1 FROM spans WHERE annotator_id = ? AND label = l.label AND "
             f"{' AND '.join(few)} LIMIT {FEW + 1}) x)" if few else "NULL")
    counted = [layer_id, *params] if few else []
    if label is not None:
        return rows(conn, f"SELECT l.label, {count} FROM (SELECT ? AS label) l", [*counted, label])
    return rows(conn, "WITH RECURSIVE l(label) AS (SELECT min(label) FROM spans WHERE annotator_id = ? "
                      "UNION ALL SELECT (SELECT min(s.label) FROM spans s WHERE s.annotator_id = ? "
                      "AND s.label > l.label) FROM l WHERE l.label IS NOT NULL) "
                      f"SELECT l.label, {count} FROM l WHERE l.label IS NOT NULL", [layer_id, layer_id, *counted])


def _pieces(conn: Connection, spans: list, width: int) -> Iterator[tuple[int, int, str]]:
    """(document, offset, text) pieces of long texts around (document, start, end) spans: spans close
    together share a piece and each piece is read once (a substring by code points walks its text
    from the start)."""
    merged: list[list[int]] = []  # [document, first, last] in code points
    for doc, start, end in sorted(spans):
        lo, hi = max(0, start - width), end + width
        if merged and merged[-1][0] == doc and lo <= merged[-1][2] + PIECE_GAP:
            merged[-1][2] = max(merged[-1][2], hi)
        else:
            merged.append([doc, lo, hi])
    for i in range(0, len(merged), PIECES):
        chunk = merged[i:i + PIECES]
        values = ", ".join(["(CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS INTEGER))"] * len(chunk))
        yield from rows(conn, f"SELECT v.column1, v.column2, substr(d.text, v.column2 + 1, v.column3) "
                              f"FROM (VALUES {values}) v JOIN documents d ON d.id = v.column1",
                        [x for doc, lo, hi in chunk for x in (doc, lo, hi - lo)])


def check_label(session: Session, label: str) -> None:
    """E031 for a label neither in the scheme nor on any span: a person searching for it (`search
    --label PERSNO`) would read "No hits." as "none left"."""
    conn = session.connection()
    if rows(conn, "SELECT 1 FROM labels WHERE name = ?", (label,)):
        return
    if not rows(conn, "SELECT 1 FROM spans WHERE label = ? LIMIT 1", (label,)):
        known = [name for name, in rows(conn, "SELECT name FROM labels ORDER BY position, id", ())]
        raise AnnotatorError(Errors.E031.format(label=label, known=", ".join(known)))


def search(session: Session, viewer_id: int, query: str = "", *, regex: bool = False,
           filters: Filters = Filters(), layer: str | None = None, limit: int = 100,
           width: int = WIDTH) -> list[Hit]:
    """Hits in `layer` (default: the viewer's own), which the viewer must be allowed to see (E163)."""
    query = query.replace("\x00", "")  # PostgreSQL refuses NUL in text
    if not query and not filters.any:
        raise AnnotatorError(Errors.E500)
    if limit < 1:
        raise AnnotatorError(Errors.E503.format(limit=limit))
    if filters.origin is not None and filters.origin not in SPAN_ORIGINS:
        raise AnnotatorError(Errors.E504.format(origin=filters.origin, known=", ".join(SPAN_ORIGINS)))
    pattern = compile_query(query, regex) if query else None
    conn = session.connection()
    if layer is None:
        layer_id = viewer_id
    else:
        check_visible(session, viewer_id, layer)
        layer_id = rows(conn, "SELECT id FROM annotators WHERE name = ?", (layer,))[0][0]
    entity_id = None
    if filters.kb_id is not None:
        found = rows(conn, "SELECT id FROM entities WHERE kb_id = ?", (filters.kb_id,))
        if not found:
            raise AnnotatorError(Errors.E502.format(kb_id=filters.kb_id))
        entity_id = found[0][0]
    if pattern is None:
        return _span_hits(conn, layer_id, filters, entity_id, limit, width)
    return _text_hits(conn, pattern, layer_id, filters, limit, width)
