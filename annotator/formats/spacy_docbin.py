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
never into `doc.ents`, and read back as status "suggested". An unchecked suggestion is no decision
either way: the tokens it covers (those of `doc.spans["suggested"]` and of `DocRecord.unchecked`, also
off token boundaries) are missing in `doc.ents` (ent_iob 0, `ent_iob_ == ""`, as
`Doc.set_ents(missing=...)` sets them), unless a person's entity holds them, so `spacy train`
neither learns them as entities nor as O (`Example.get_aligned_ner` gives None there), and spaCy's
scorer counts no prediction on them. A person's span left out (misaligned) is no non-entity either:
its tokens that no placed entity holds are missing too. On read, `tokens` are the doc's
non-whitespace tokens. A meta integer beyond 64 bits (JSON has no bound, msgpack stops there) is
written as its decimal text and listed in `FormatReport.as_text`.

`stream` (docbin_read) reads a document at a time, the token rows spilled to a temporary file, so a
DocBin of any size imports in bounded memory; `read` is the same as a list.

`write` streams: records are converted a batch at a time with numpy (`_Batches`, the rules of
`to_doc` vectorised) and the file is written by docbin_stream.DocBinStream, memory bounded by a
batch whatever the corpus (a 100,000-article export no longer holds gigabytes of token rows).
"""

from __future__ import annotations

import struct
from bisect import bisect_left, bisect_right
from itertools import chain
from pathlib import Path
from typing import Iterable

import numpy
import spacy
import srsly
from spacy.attrs import ENT_IOB, ENT_KB_ID, ENT_TYPE, ORTH, SENT_START
from spacy.strings import StringStore
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from annotator.core.records import DocRecord, FormatReport
from annotator.errors import AnnotatorError, Errors
from annotator.formats import docbin_arrays
from annotator.formats.docbin_arrays import SENTENCE_ENDS as _SENTENCE_ENDS
from annotator.formats.docbin_arrays import SUGGESTED, not_o_extents
from annotator.formats.docbin_read import count, from_doc, stream  # noqa: F401  # the format's reading side
from annotator.formats.docbin_stream import DocBinStream

SUFFIX = ".spacy"
_SPAN_ROW = struct.Struct(">QQQllll")
MIN_INT, MAX_INT = -2**63, 2**64 - 1  # msgpack's integers
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


def missing_tokens(extents: list[tuple[int, int]], words: list[str], starts: list[int], placed) -> list[int]:
    """The tokens an extent (`not_o_extents`) touches that no placed entity holds: not annotated (missing)."""
    ends = [start + len(word) for start, word in zip(starts, words)]
    held = {k for i, j, _ in placed for k in range(i, j)}
    touched = {k for s, e in extents for k in range(bisect_right(ends, s), bisect_left(starts, e))}
    return sorted(touched - held)


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
    missing = missing_tokens(not_o_extents(record), words, starts, placed)
    doc.set_ents([Span(doc, i, j, label=sp.label, kb_id=sp.kb_id or "") for i, j, sp in placed],
                 missing=[Span(doc, k, k + 1) for k in missing])
    suggested = place_spans(record, words, starts, report, suggested=True)
    add_suggestions(doc, suggested)
    report.spans += len(placed) + len(suggested)
    return doc


def user_data(record: DocRecord) -> dict:
    data = {"name": record.name, "title": record.title, "meta": record.meta}
    if record.annotator is not None:
        data["annotator"] = record.annotator
    return data


def packable(value, key: str, found: list[str]):
    """`value` with every integer msgpack cannot hold (beyond 64 bits; JSON has no bound, the importer
    keeps what it reads) as its decimal text, the key of each appended to `found`: the data carried
    and reported rather than a traceback or a refused export."""
    if isinstance(value, int) and not MIN_INT <= value <= MAX_INT:
        found.append(key)
        return str(value)
    if isinstance(value, dict):
        return {k: packable(v, f"{key}.{k}" if key else str(k), found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [packable(v, f"{key}[{i}]", found) for i, v in enumerate(value)]
    return value


class _Ids(dict):
    """String -> StringStore id (spaCy's symbol id for labels such as PERSON, a hash otherwise), as a
    Vocab gives them; a string not seen yet is added on lookup, so a batch maps in one C-level pass."""

    def __init__(self):
        super().__init__()
        self.store = StringStore()

    def __missing__(self, string: str) -> int:
        found = self[string] = self.store.add(string)
        return found


class _Batches:
    """The arrays `DocBin.add(to_doc(record))` would store, built straight from the records.

    Building a Doc per record and letting DocBin read it back token by token costs three times
    the DocBin's own serialisation, so the writer fills the DocBin's columns directly: ORTH,
    ENT_IOB, ENT_TYPE, ENT_KB_ID and SENT_START; every other column of a Doc made from words is 0.
    Records are gathered in batches and converted with numpy over the whole batch at once (offsets
    made global by concatenating the batch's texts), the rules of words_and_spaces, place_spans and
    sentence_starts vectorised; each converted batch goes to the DocBinStream. tests/test_formats_db.py
    and tests/test_formats_spacy.py check the result against a DocBin written from `to_doc` Docs.
    """

    BATCH = 1024
    B, I, O = 3, 1, 2  # ENT_IOB codes
    YES, NO = 1, 2**64 - 1  # SENT_START 1 and -1 as uint64

    def __init__(self, stream: DocBinStream, report: FormatReport):
        self.stream, self.report = stream, report
        self.columns = {attr: stream.attrs.index(attr) for attr in (ORTH, ENT_IOB, ENT_TYPE, ENT_KB_ID, SENT_START)}
        self.ids = _Ids()  # every string stored so far, with its id
        self.no_groups = Doc(Vocab()).spans.to_bytes()  # what an empty doc.spans packs to
        self.any_token = False
        self.records: list[DocRecord] = []
        self.pack = srsly.msgpack.Packer(use_bin_type=True).pack

    def add(self, record: DocRecord) -> None:
        self.records.append(record)
        if len(self.records) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        recs, self.records = self.records, []
        if not recs:
            return
        starts, ends, space, pdoc, lengths, words, codes = docbin_arrays.pieces(
            recs, [_flat_tokens(r) for r in recs])
        n = len(words)
        self.any_token = self.any_token or n > 0
        orth = numpy.fromiter(map(self.ids.__getitem__, words), numpy.uint64, n)
        sent = docbin_arrays.sentence_starts(words, starts, ends, codes, pdoc, lengths, self.YES, self.NO)
        placed, labels, kb_ids, suggested = docbin_arrays.place(recs, starts, ends, pdoc, self.report)
        tokens = numpy.zeros((n, len(self.stream.attrs)), dtype=numpy.uint64)
        tokens[:, self.columns[ORTH]] = orth
        inside = numpy.zeros(n, dtype=bool)
        if labels:
            pi, pj, ids = placed[:, 0], placed[:, 1], self.ids
            label = numpy.fromiter(map(ids.__getitem__, labels), numpy.uint64, len(labels))
            kb = numpy.fromiter((ids[k] if k else 0 for k in kb_ids), numpy.uint64, len(kb_ids))
            inside = numpy.cumsum(numpy.bincount(pi, minlength=n + 1)[:n] - numpy.bincount(pj, minlength=n + 1)[:n]) > 0
            which = numpy.cumsum(numpy.bincount(pi, minlength=n)[:n]) - 1  # the placed span a token is in
            iob = numpy.where(inside, self.I, self.O).astype(numpy.uint64)
            iob[pi] = self.B
            sent[inside & (iob != self.B)] = self.NO  # never a sentence start inside an entity
            tokens[inside, self.columns[ENT_TYPE]] = label[which[inside]]
            tokens[inside, self.columns[ENT_KB_ID]] = kb[which[inside]]
        else:
            iob = numpy.full(n, self.O, dtype=numpy.uint64)
        iob[docbin_arrays.touched(recs, starts, ends) & ~inside] = 0  # unchecked or left out: missing, not O
        tokens[:, self.columns[ENT_IOB]] = iob
        tokens[:, self.columns[SENT_START]] = sent
        groups = [self.no_groups] * len(recs)
        first = numpy.concatenate(([0], numpy.cumsum(lengths)[:-1])).tolist()
        for d, spans in suggested.items():
            groups[d] = self._span_groups(first[d], spans)
        rows = memoryview(tokens.reshape(-1)).cast("B") if n else b""  # rows: no copy
        self.stream.add(rows, space.tobytes(), lengths.astype(numpy.int32).tobytes(), groups,
                        [self._user_data(r) for r in recs])

    def _user_data(self, record: DocRecord) -> bytes:
        """The record's packed user_data; meta integers beyond 64 bits as text, listed in the report."""
        data = user_data(record)
        try:
            return self.pack(data)
        except OverflowError:  # rare: the walk only then (the packer starts afresh after an error)
            found: list[str] = []
            data["meta"] = packable(record.meta, "", found)
            self.report.as_text.extend((record.name, key) for key in found)
            return self.pack(data)

    def _span_groups(self, first: int, spans: list[tuple]) -> bytes:
        """What `doc.spans.to_bytes()` gives for a doc whose only group is the suggestions (`add_suggestions`),
        packed here: a Doc per document costs more than the rest of its conversion. A span is
        (id, kb_id, label, start, end, start_char, end_char) big-endian, as SpanGroup.to_bytes packs it."""
        ids, pack = self.ids, self.pack
        rows = [_SPAN_ROW.pack(0, ids[kb_id] if kb_id else 0, ids[label], i - first, j - first, start, end)
                for i, j, (_, start, end, label, kb_id, *_) in spans]
        return pack({pack({"name": SUGGESTED, "attrs": {}, "spans": rows}): [SUGGESTED]})

    def finish(self) -> None:
        self.flush()
        self.stream.strings.update(self.ids)
        if self.any_token:  # the empty tag, lemma, norm, morph, dep, ... of every token
            self.stream.strings.add("")


def _flat_tokens(record: DocRecord):
    """The record's token offsets, flat: the stored bytes as they are when it comes from a project."""
    packed = getattr(record, "packed", None)  # a StoredRecord whose tokens were not unpacked
    if packed is not None:
        return numpy.frombuffer(packed, dtype=numpy.intc)
    tokens = record.tokens if record.tokens is not None else blank_tokens(record.text)
    return numpy.fromiter(chain.from_iterable(tokens), numpy.int64, 2 * len(tokens))


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    """The records as a DocBin file, streamed: memory bounded by a batch, whatever the corpus."""
    report = FormatReport()
    stream = DocBinStream(out, DocBin().attrs)
    try:
        batches = _Batches(stream, report)
        for record in docs:
            batches.add(record)
            report.documents += 1
        batches.finish()
    except BaseException:
        stream.discard()
        raise
    stream.close()
    return report


def read(path: Path) -> list[DocRecord]:
    """Every document of the file (all in memory: small files and tests); imports use `stream`."""
    return list(stream(path))
