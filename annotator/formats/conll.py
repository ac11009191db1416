"""CoNLL-2003 style NER: one token per line, IOB2 tags, an optional KB id column.

    -DOCSTART- -X- -X- O

    Kim B-PERSON Q495727
    Kwan-jin I-PERSON Q495727
    visits O _
    Tokyo B-GPE _
    . O _

    Seoul B-GPE NIL
    agreed O _

Writing: tokens are the record's tokens (else spacy.blank("en")'s), split at any whitespace inside
them; a sentence ends where the text between two tokens holds a line break, except inside an entity.
The KB column is written when any span in the export has a KB id; `_` means none. Spans off token
boundaries or overlapping an earlier span are skipped and listed in `FormatReport.misaligned`; when
one touches a word no other entity tags, the document is left out whole (`unplaced_documents`):
O would say a person's entity is none.
Reading: 2 columns (token tag), 3 (token tag kb), 4 (CoNLL-2003: token pos chunk tag) or 5 (token
pos chunk tag kb); IOB1 is converted to IOB2 (an I- that does not continue the same type starts an
entity). CoNLL keeps no whitespace, so the text is rebuilt: tokens joined by single spaces, sentences
by "\\n"; the tokens are the file's, and the document keeps them. Documents are named
`<file stem>-<n>`.

POS and chunk columns travel: read into `carried["conll"]` = {"columns": ["pos", "chunk"], "values":
[[pos, chunk] per token]}, stored with the document, and written back as CoNLL-2003's middle columns
when the export's tokens are those same tokens (a document without them gets `_ _`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_record, read_text

SUFFIX = ".conll"
DOCSTART = "-DOCSTART- -X- -X- O"
NO_KB = "_"
FORMAT = "conll"  # this format's key of DocRecord.carried: the POS and chunk columns
EXTRA = ["pos", "chunk"]
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_NON_SPACE = re.compile(r"\S+")


def conll_tokens(doc: DocRecord) -> list[tuple[int, int]]:
    """The record's tokens cut at whitespace, so each fits one CoNLL line."""
    if doc.tokens is None:
        from annotator.formats.spacy_docbin import blank_tokens
        tokens = blank_tokens(doc.text)
    else:
        tokens = doc.tokens
    pieces = []
    for start, end in tokens:
        pieces.extend((start + m.start(), start + m.end()) for m in _NON_SPACE.finditer(doc.text[start:end]))
    return pieces


def tags_for(doc: DocRecord, tokens: list[tuple[int, int]], report: FormatReport):
    """IOB2 tag and KB id per token, and the spans left out (misaligned)."""
    first = {s: i for i, (s, _) in enumerate(tokens)}
    after = {e: i + 1 for i, (_, e) in enumerate(tokens)}
    tags, kbs = ["O"] * len(tokens), [None] * len(tokens)
    taken_until = -1
    skipped = []
    for sp in sorted(doc.spans, key=lambda s: (s.start, s.start - s.end, s.label)):
        i, j = first.get(sp.start), after.get(sp.end)
        if i is None or j is None or i >= j or i < taken_until:
            report.misaligned.append((doc.name, sp.start, sp.end, doc.text[sp.start:sp.end]))
            skipped.append(sp)
            continue
        for what, value in (("label", sp.label), ("KB id", sp.kb_id)):
            if value is not None and (not value or _NON_SPACE.fullmatch(value) is None or value == NO_KB):
                raise AnnotatorError(Errors.E104.format(
                    fmt="CoNLL", what=what, value=value, name=doc.name,
                    reason=f"empty, '{NO_KB}', or containing whitespace"))
        tags[i:j] = [f"B-{sp.label}"] + [f"I-{sp.label}"] * (j - i - 1)
        kbs[i:j] = [sp.kb_id] * (j - i)
        taken_until = j
        report.spans += 1
    return tags, kbs, skipped


def left_as_o(tokens: list[tuple[int, int]], tags: list[str], skipped) -> bool:
    """Whether a span left out touches a token tagged O: a person's "entity here" written as a non-entity."""
    return any(tags[k] == "O" for sp in skipped for k, (s, e) in enumerate(tokens) if s < sp.end and sp.start < e)


def extra_columns(doc: DocRecord, n_tokens: int) -> list[list[str]] | None:
    """The POS and chunk per token the document came with, if they still fit its tokens."""
    kept = doc.carried.get(FORMAT)
    values = kept.get("values") if isinstance(kept, dict) else None
    if (not isinstance(values, list) or len(values) != n_tokens
            or not all(isinstance(v, list) and len(v) == len(EXTRA) for v in values)
            or not all(isinstance(x, str) and _NON_SPACE.fullmatch(x) for v in values for x in v)):
        return None
    return values


def doc_lines(doc: DocRecord, with_kb: bool, report: FormatReport, with_extra: bool = False) -> list[str] | None:
    """The document's lines; None (and its name in `report.unplaced_documents`) when a span left out
    would leave its words O: no tag says "not annotated", and O would teach a marked entity as none."""
    tokens = conll_tokens(doc)
    placed = report.spans
    tags, kbs, skipped = tags_for(doc, tokens, report)
    if skipped and left_as_o(tokens, tags, skipped):
        report.spans = placed
        report.unplaced_documents.append(doc.name)
        return None
    extra = extra_columns(doc, len(tokens)) if with_extra else None
    lines = [DOCSTART, ""]
    for k, (start, end) in enumerate(tokens):
        if k and tags[k][0] != "I" and _LINE_BREAKS.search(doc.text, tokens[k - 1][1], start):
            lines.append("")
        cols = [doc.text[start:end]]
        if with_extra:
            cols += extra[k] if extra else [NO_KB] * len(EXTRA)
        cols.append(tags[k])
        if with_kb:
            cols.append(kbs[k] or NO_KB)
        lines.append(" ".join(cols))
    if tokens:
        lines.append("")
    return lines


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    docs = list(docs)
    with_kb = any(sp.kb_id is not None for doc in docs for sp in doc.spans)
    with_extra = any(extra_columns(doc, len(conll_tokens(doc))) for doc in docs if FORMAT in doc.carried)
    report = FormatReport()
    lines: list[str] = []
    for doc in docs:
        written = doc_lines(doc, with_kb, report, with_extra)
        if written is not None:
            lines.extend(written)
            report.documents += 1
    Path(out).write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
    return report


def read(path: Path) -> list[DocRecord]:
    path = Path(path)
    text = read_text(path)
    if not text.strip():
        raise AnnotatorError(Errors.E012.format(path=path))
    reader = _Reader(path)
    for lineno, line in enumerate(text.split("\n"), start=1):
        reader.line(lineno, line.removesuffix("\r"))
    return [check_record(doc, path, f"document {i}") for i, doc in enumerate(reader.finish(), 1)]


class _Reader:
    """Collects documents line by line; each sentence is a list of (token, tag, kb_id, [pos, chunk])."""

    def __init__(self, path: Path):
        self.path = path
        self.docs: list[DocRecord] = []
        self.sentences: list[list[tuple[str, str, str | None, list[str] | None]]] = [[]]
        self.width: int | None = None
        self.started = False

    def line(self, lineno: int, line: str) -> None:
        cols = line.split()
        if not cols:
            if self.sentences[-1]:
                self.sentences.append([])
            return
        if cols[0] == "-DOCSTART-":
            self.flush()
            self.started = True
            return
        if self.width is None:
            self.width = len(cols)
        if len(cols) != self.width or self.width not in (2, 3, 4, 5):
            raise AnnotatorError(Errors.E100.format(path=self.path, line=lineno, reason=(
                f"expected {self.width if self.width in (2, 3, 4, 5) else '2, 3, 4 or 5'} columns "
                f"(token tag [kb_id], or token pos chunk tag [kb_id]), found {len(cols)}")))
        tag = cols[3] if self.width >= 4 else cols[1]
        if tag != "O" and not re.fullmatch(r"[BI]-\S+", tag):
            raise AnnotatorError(Errors.E100.format(path=self.path, line=lineno, reason=(
                f"tag {tag!r} is not O, B-<label> or I-<label> (IOB1/IOB2)")))
        kb = cols[-1] if self.width in (3, 5) and cols[-1] != NO_KB else None
        self.sentences[-1].append((cols[0], tag, kb, cols[1:3] if self.width >= 4 else None))
        self.started = True

    def flush(self) -> None:
        sentences = [s for s in self.sentences if s]
        self.sentences = [[]]
        if not sentences and not self.started:
            return
        self.docs.append(build_doc(f"{self.path.stem}-{len(self.docs) + 1}", sentences))

    def finish(self) -> list[DocRecord]:
        self.flush()
        return self.docs


def build_doc(name: str, sentences) -> DocRecord:
    """Text from tokens joined by spaces and sentences by newlines; IOB1 or IOB2 tags to spans."""
    parts, tokens, spans, extra = [], [], [], []
    pos, current = 0, None  # current: [start, end, label, kb_id] of the open entity
    for s, sentence in enumerate(sentences):
        if current is not None:  # an entity never runs on into the next sentence
            spans.append(SpanRecord(*current))
            current = None
        for k, (word, tag, kb, columns) in enumerate(sentence):
            extra.append(columns)
            if k or s:
                parts.append(" " if k else "\n")
                pos += 1
            start, end = pos, pos + len(word)
            parts.append(word)
            tokens.append((start, end))
            pos = end
            kind, _, label = tag.partition("-")
            if kind == "I" and current is not None and current[2] == label:
                current[1] = end
                continue
            if current is not None:
                spans.append(SpanRecord(*current))
                current = None
            if kind in ("B", "I"):
                current = [start, end, label, kb]
    if current is not None:
        spans.append(SpanRecord(*current))
    carried = {FORMAT: {"columns": EXTRA, "values": extra}} if extra and extra[0] is not None else {}
    return DocRecord(name=name, text="".join(parts), spans=spans, tokens=tokens, carried=carried, annotated=True)
