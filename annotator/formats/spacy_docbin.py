"""spaCy DocBin (`.spacy`), the input of `spacy train`: entities, their KB ids and sentences.

A DocBin is binary; one document in it, shown as the Doc it holds:

    doc.text        "Kim Kwan-jin visits Tokyo.\\nSeoul agreed."
    doc.ents        Kim Kwan-jin PERSON kb_id_="Q495727", Tokyo GPE, Seoul GPE kb_id_="Q884"
    doc.spans["suggested"]  visits ORG   (unchecked suggestions, only when asked for)
    sentence starts Kim, Seoul
    doc.user_data   {"name": "a1", "title": "...", "meta": {...}, "annotator": "ana"}

Tokens come from `DocRecord.tokens`, else from spacy.blank("en"). Whitespace between tokens other
than a single space becomes a whitespace token, as spaCy's tokenizer does, so `doc.text` is the
record's text exactly. A span off token boundaries, or overlapping a span already placed (doc.ents
cannot overlap; the earlier, then longer one wins), is skipped and listed in
`FormatReport.misaligned` — never moved. Sentences start at the first token, after a newline and
after . ! ? (and their CJK forms), but never inside an entity: EntityLinker training needs every
entity inside one sentence. `doc.ents` holds only a person's decisions, what `spacy train` learns
from; unchecked suggestions go to the span group `doc.spans["suggested"]` (which may overlap),
never into `doc.ents`, and read back as status "suggested". On read, `tokens` are the doc's
non-whitespace tokens.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from pathlib import Path
from typing import Iterable

import numpy
import spacy
import srsly
from spacy.attrs import ENT_IOB, ENT_KB_ID, ENT_TYPE, ORTH, SENT_START
from spacy.strings import StringStore
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_record, read_bytes

SUFFIX = ".spacy"
SUGGESTED = "suggested"  # the span group of unchecked suggestions
_SENTENCE_ENDS = frozenset({".", "!", "?", "。", "！", "？", "…"})
_tokenizer = None


def blank_tokens(text: str) -> list[tuple[int, int]]:
    """spacy.blank("en") tokens of `text` as (start, end) pairs, whitespace tokens left out."""
    global _tokenizer
    if _tokenizer is None:
        _tokenizer = spacy.blank("en").tokenizer
    return [(t.idx, t.idx + len(t)) for t in _tokenizer(text) if not t.text.isspace()]


def words_and_spaces(doc: DocRecord) -> tuple[list[str], list[bool], list[int]]:
    """Words, trailing-space flags and start offsets that rebuild `doc.text` exactly."""
    text = doc.text
    tokens = doc.tokens if doc.tokens is not None else blank_tokens(text)
    words: list[str] = []
    spaces: list[bool] = []
    starts: list[int] = []
    pos, size = 0, len(text)
    for i, (start, end) in enumerate(tokens):
        if not pos <= start < end <= size:
            raise AnnotatorError(Errors.E107.format(name=doc.name, index=i, start=start, end=end))
        if pos < start:  # a gap: one space goes to the word before, the rest is a whitespace token
            if words and text[pos] == " ":
                spaces[-1] = True
                pos += 1
            if pos < start:
                words.append(text[pos:start])
                spaces.append(False)
                starts.append(pos)
        words.append(text[start:end])
        spaces.append(False)
        starts.append(start)
        pos = end
    if pos < size:
        if words and text[pos] == " ":
            spaces[-1] = True
            pos += 1
        if pos < size:
            words.append(text[pos:])
            spaces.append(False)
            starts.append(pos)
    return words, spaces, starts


def place_spans(doc: DocRecord, words: list[str], starts: list[int], report: FormatReport,
                suggested: bool = False):
    """(first token, last token + 1, span) for the accepted spans (`suggested`: the suggestions) on
    token boundaries; accepted spans without overlaps, as doc.ents needs."""
    placed, taken_until, n = [], -1, len(starts)
    for sp in sorted(doc.spans, key=lambda s: (s.start, s.start - s.end, s.label)):
        if (sp.status == SUGGESTED) != suggested:
            continue
        i = bisect_left(starts, sp.start)
        j = bisect_left(starts, sp.end)  # the span's last token is j - 1
        if (i == n or starts[i] != sp.start or j == 0 or starts[j - 1] + len(words[j - 1]) != sp.end
                or i >= j or (i < taken_until and not suggested)):
            report.misaligned.append((doc.name, sp.start, sp.end, doc.text[sp.start:sp.end]))
            continue
        placed.append((i, j, sp))
        taken_until = j
    return placed


def add_suggestions(doc: Doc, placed) -> None:
    """The suggestions as the span group doc.spans["suggested"] (only when there are any)."""
    if placed:
        doc.spans[SUGGESTED] = [Span(doc, i, j, label=sp.label, kb_id=sp.kb_id or "") for i, j, sp in placed]


def sentence_starts(words: list[str], placed) -> list[bool]:
    """A sentence starts after a line break or an end mark (whitespace between is skipped)."""
    starts = []
    pending = True
    for word in words:
        if word.isspace():
            pending = pending or "\n" in word or "\r" in word
            starts.append(False)
        else:
            starts.append(pending)
            pending = word in _SENTENCE_ENDS
    for i, j, _ in placed:  # never inside an entity
        starts[i + 1:j] = [False] * (j - i - 1)
    if words:
        starts[0] = True
    return starts


def to_doc(record: DocRecord, vocab: Vocab, report: FormatReport) -> Doc:
    """The record as a spaCy Doc: what `write` stores, built through spaCy's own objects (slower)."""
    words, spaces, starts = words_and_spaces(record)
    placed = place_spans(record, words, starts, report)
    doc = Doc(vocab, words=words, spaces=spaces, sent_starts=sentence_starts(words, placed))
    doc.ents = [Span(doc, i, j, label=sp.label, kb_id=sp.kb_id or "") for i, j, sp in placed]
    suggested = place_spans(record, words, starts, report, suggested=True)
    add_suggestions(doc, suggested)
    report.spans += len(placed) + len(suggested)
    return doc


def user_data(record: DocRecord) -> dict:
    data = {"name": record.name, "title": record.title, "meta": record.meta}
    if record.annotator is not None:
        data["annotator"] = record.annotator
    return data


class _TokenArrays:
    """The arrays `DocBin.add(to_doc(record))` would store, built straight from the records.

    Building a Doc per record and letting DocBin read it back token by token costs three times
    the DocBin's own serialisation, so the writer fills the DocBin's columns directly: ORTH,
    ENT_IOB, ENT_TYPE, ENT_KB_ID and SENT_START; every other column of a Doc made from words is 0.
    Values are StringStore ids (spaCy's symbol ids for labels such as PERSON, hashes otherwise),
    exactly as a Vocab would give them. Records are gathered in batches and converted to numpy once
    per batch. tests/test_formats_db.py checks the file against one written from `to_doc` Docs.
    """

    BATCH = 2048
    B, I, O = 3, 1, 2  # ENT_IOB codes
    YES, NO = 1, 2**64 - 1  # SENT_START 1 and -1 as uint64

    def __init__(self, doc_bin: DocBin):
        self.doc_bin = doc_bin
        self.columns = {attr: doc_bin.attrs.index(attr) for attr in (ORTH, ENT_IOB, ENT_TYPE, ENT_KB_ID, SENT_START)}
        self.store = StringStore()
        self.ids: dict[str, int] = {}  # every string stored so far, with its id
        self.vocab = Vocab()  # for the few Docs built to pack the suggestions' span group
        self.no_groups = Doc(self.vocab).spans.to_bytes()  # what an empty doc.spans packs to
        self.any_token = False
        self._reset()

    def _reset(self) -> None:
        self.orth: list[int] = []
        self.iob: list[int] = []
        self.type: list[int] = []
        self.kb: list[int] = []
        self.sent: list[int] = []
        self.space: list[bool] = []
        self.lengths: list[int] = []
        self.groups: list[bytes] = []

    def _id(self, string: str) -> int:
        found = self.ids.get(string)
        if found is None:
            found = self.ids[string] = self.store.add(string)
        return found

    def add(self, record: DocRecord, report: FormatReport) -> None:
        words, spaces, starts = words_and_spaces(record)
        placed = place_spans(record, words, starts, report)
        n, base = len(words), len(self.orth)
        ids, new = self.ids.get, self._id
        self.orth.extend([ids(w) or new(w) for w in words])
        self.space.extend(spaces)
        self.lengths.append(n)
        yes, no, sent = self.YES, self.NO, self.sent
        pending = True
        for word in words:
            if word.isspace():
                pending = pending or "\n" in word or "\r" in word
                sent.append(no)
            else:
                sent.append(yes if pending else no)
                pending = word in _SENTENCE_ENDS
        if n:
            sent[base] = yes
            self.any_token = True
        self.iob.extend([self.O] * n)
        self.type.extend([0] * n)
        self.kb.extend([0] * n)
        for i, j, sp in placed:
            i, j = base + i, base + j
            self.iob[i] = self.B
            self.iob[i + 1:j] = [self.I] * (j - i - 1)
            self.sent[i + 1:j] = [no] * (j - i - 1)
            self.type[i:j] = [new(sp.label)] * (j - i)
            if sp.kb_id:
                self.kb[i:j] = [new(sp.kb_id)] * (j - i)
        suggested = place_spans(record, words, starts, report, suggested=True)
        if suggested:
            doc = Doc(self.vocab, words=words, spaces=spaces)
            add_suggestions(doc, suggested)
            self.groups.append(doc.spans.to_bytes())
            for _, _, sp in suggested:
                new(sp.label)
                if sp.kb_id:
                    new(sp.kb_id)
        else:
            self.groups.append(self.no_groups)
        report.spans += len(placed) + len(suggested)
        if len(self.lengths) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.lengths:
            return
        n_docs, bounds = len(self.lengths), numpy.cumsum(self.lengths)[:-1]
        tokens = numpy.zeros((len(self.orth), len(self.doc_bin.attrs)), dtype=numpy.uint64)
        for attr, values in ((ORTH, self.orth), (ENT_IOB, self.iob), (ENT_TYPE, self.type),
                             (ENT_KB_ID, self.kb), (SENT_START, self.sent)):
            tokens[:, self.columns[attr]] = numpy.array(values, dtype=numpy.uint64)
        spaces = numpy.array(self.space, dtype=bool).reshape((len(self.space), 1))
        doc_bin = self.doc_bin
        doc_bin.tokens.extend(numpy.split(tokens, bounds))
        doc_bin.spaces.extend(numpy.split(spaces, bounds))
        doc_bin.flags.extend({"has_unknown_spaces": False} for _ in range(n_docs))
        doc_bin.cats.extend({} for _ in range(n_docs))
        doc_bin.span_groups.extend(self.groups)
        self._reset()

    def finish(self) -> None:
        self.flush()
        self.doc_bin.strings.update(self.ids)
        if self.any_token:  # the empty tag, lemma, norm, morph, dep, ... of every token
            self.doc_bin.strings.add("")


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    report = FormatReport()
    doc_bin = DocBin(store_user_data=True)
    arrays = _TokenArrays(doc_bin)
    # DocBin.add packs user_data with a new msgpack Packer per doc, which scans the installed
    # packages' entry points each time (~1 ms a doc); one Packer for the whole export avoids it.
    pack = srsly.msgpack.Packer(use_bin_type=True).pack
    for record in docs:
        arrays.add(record, report)
        doc_bin.user_data.append(pack(user_data(record)))
        report.documents += 1
    arrays.finish()
    doc_bin.to_disk(out)
    return report


MAX_UNPACKED = 512 << 20  # bytes a DocBin may decompress to


def unpacked_size(data: bytes, path: Path) -> int:
    """How large the zlib stream `data` decompresses to, counted in 1 MB steps without keeping the
    output, and refused (E110) past MAX_UNPACKED: a few MB can unpack to gigabytes."""
    d, size, rest = zlib.decompressobj(), 0, data
    try:
        while rest and not d.eof:
            size += len(d.decompress(rest, 1 << 20))
            rest = d.unconsumed_tail
            if size > MAX_UNPACKED:
                raise AnnotatorError(Errors.E110.format(path=path, limit=MAX_UNPACKED))
    except zlib.error as e:
        raise AnnotatorError(Errors.E101.format(path=path, reason=f"not a spaCy DocBin (zlib: {e})")) from None
    return size


def read(path: Path) -> list[DocRecord]:
    path = Path(path)
    data = read_bytes(path)
    unpacked_size(data, path)
    doc_bin = DocBin(store_user_data=True)
    try:
        doc_bin.from_bytes(data)
        raw, doc_bin.user_data = doc_bin.user_data, [None] * len(doc_bin)
        docs = list(doc_bin.get_docs(Vocab()))
        datas = [srsly.msgpack.unpackb(b, raw=False, use_list=True, object_pairs_hook=dict)
                 if b else {} for b in raw]
        records = [from_doc(doc, data, path, i) for i, (doc, data) in enumerate(zip(docs, datas), 1)]
    except AnnotatorError:
        raise
    except Exception as e:  # zlib, msgpack, numpy and spaCy all raise their own types here
        raise AnnotatorError(Errors.E101.format(
            path=path, reason=f"not a spaCy DocBin ({type(e).__name__}: {e})")) from None
    return [check_record(rec, path, f"document {i}") for i, rec in enumerate(records, 1)]


def from_doc(doc: Doc, data, path: Path, number: int) -> DocRecord:
    def bad(reason: str) -> AnnotatorError:
        return AnnotatorError(Errors.E101.format(path=path, reason=f"document {number} {reason}"))

    if not isinstance(data, dict) or not isinstance(data.get("meta") or {}, dict):
        raise bad("has user_data that is not a dict of name/title/meta")
    name, title = data.get("name") or f"{path.stem}-{number}", data.get("title") or ""
    if not isinstance(name, (str, int)) or isinstance(name, bool) or not isinstance(title, str):
        raise bad("has a name or title that is not a string")
    annotator = data.get("annotator")
    if annotator is not None and not isinstance(annotator, str):
        raise bad("has an annotator that is not a string")
    spans = [SpanRecord(e.start_char, e.end_char, e.label_, e.kb_id_ or None) for e in doc.ents]
    if SUGGESTED in doc.spans:
        spans += [SpanRecord(e.start_char, e.end_char, e.label_, e.kb_id_ or None, SUGGESTED)
                  for e in doc.spans[SUGGESTED]]
    tokens = [(t.idx, t.idx + len(t)) for t in doc]  # the file's own, whitespace tokens too
    return DocRecord(name=str(name), text=doc.text, title=title, meta=dict(data.get("meta") or {}),
                     spans=spans, annotator=annotator, tokens=tokens, annotated=True)
