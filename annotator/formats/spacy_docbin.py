"""spaCy DocBin (`.spacy`), the input of `spacy train`: entities, their KB ids and sentences.

A DocBin is binary; one document in it, shown as the Doc it holds:

    doc.text        "Kim Kwan-jin visits Tokyo.\\nSeoul agreed."
    doc.ents        Kim Kwan-jin PERSON kb_id_="Q495727", Tokyo GPE, Seoul GPE kb_id_="Q884"
    sentence starts Kim, Seoul
    doc.user_data   {"name": "a1", "title": "...", "meta": {...}, "annotator": "ana"}

Tokens come from `DocRecord.tokens`, else from spacy.blank("en"). Whitespace between tokens other
than a single space becomes a whitespace token, as spaCy's tokenizer does, so `doc.text` is the
record's text exactly. A span off token boundaries, or overlapping a span already placed (doc.ents
cannot overlap; the earlier, then longer one wins), is skipped and listed in
`FormatReport.misaligned` — never moved. Sentences start at the first token, after a newline and
after . ! ? (and their CJK forms), but never inside an entity: EntityLinker training needs every
entity inside one sentence. On read, `tokens` are the doc's non-whitespace tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import spacy
import srsly
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors

SUFFIX = ".spacy"
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
    pos = 0

    def gap(upto: int) -> None:
        nonlocal pos
        if pos < upto and text[pos] == " " and words:
            spaces[-1] = True
            pos += 1
        if pos < upto:
            words.append(text[pos:upto])
            spaces.append(False)
            starts.append(pos)

    for i, (start, end) in enumerate(tokens):
        if not pos <= start < end <= len(text):
            raise AnnotatorError(Errors.E107.format(name=doc.name, index=i, start=start, end=end))
        gap(start)
        words.append(text[start:end])
        spaces.append(False)
        starts.append(start)
        pos = end
    gap(len(text))
    return words, spaces, starts


def place_spans(doc: DocRecord, starts: list[int], n_chars: list[int], report: FormatReport):
    """(first token, last token + 1, span) for spans on token boundaries, without overlaps."""
    first = {s: i for i, s in enumerate(starts)}
    after = {s + n: i + 1 for i, (s, n) in enumerate(zip(starts, n_chars))}
    placed, taken_until = [], -1
    for sp in sorted(doc.spans, key=lambda s: (s.start, s.start - s.end, s.label)):
        i, j = first.get(sp.start), after.get(sp.end)
        if i is None or j is None or i >= j or i < taken_until:
            report.misaligned.append((doc.name, sp.start, sp.end, doc.text[sp.start:sp.end]))
            continue
        placed.append((i, j, sp))
        taken_until = j
    return placed


def sentence_starts(words: list[str], placed) -> list[bool]:
    """A sentence starts after a line break or an end mark (whitespace between is skipped)."""
    inside = bytearray(len(words))
    for i, j, _ in placed:
        inside[i + 1:j] = b"\x01" * (j - i - 1)
    starts = [False] * len(words)
    pending = True
    for k, word in enumerate(words):
        if word.isspace():
            pending = pending or "\n" in word or "\r" in word
            continue
        starts[k] = pending and not inside[k]
        pending = word in _SENTENCE_ENDS
    if words:
        starts[0] = True
    return starts


def to_doc(record: DocRecord, vocab: Vocab, report: FormatReport) -> Doc:
    words, spaces, starts = words_and_spaces(record)
    placed = place_spans(record, starts, [len(w) for w in words], report)
    doc = Doc(vocab, words=words, spaces=spaces, sent_starts=sentence_starts(words, placed))
    doc.ents = [Span(doc, i, j, label=sp.label, kb_id=sp.kb_id or "") for i, j, sp in placed]
    report.spans += len(placed)
    return doc


def user_data(record: DocRecord) -> dict:
    data = {"name": record.name, "title": record.title, "meta": record.meta}
    if record.annotator is not None:
        data["annotator"] = record.annotator
    return data


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    report = FormatReport()
    vocab = Vocab()  # a fresh string store per export, so exports do not grow a shared one
    # DocBin.add packs user_data with a new msgpack Packer per doc, which scans the installed
    # packages' entry points each time (~1 ms a doc); one Packer for the whole export avoids it.
    packer = srsly.msgpack.Packer(use_bin_type=True)
    packed = []
    doc_bin = DocBin(store_user_data=False)
    for record in docs:
        doc_bin.add(to_doc(record, vocab, report))
        packed.append(packer.pack(user_data(record)))
        report.documents += 1
    doc_bin.store_user_data = True
    doc_bin.user_data = packed
    tmp = Path(out).with_name(Path(out).name + ".part")
    doc_bin.to_disk(tmp)
    tmp.replace(out)
    return report


def read(path: Path) -> list[DocRecord]:
    path = Path(path)
    if not path.is_file():
        raise AnnotatorError(Errors.E010.format(path=path))
    doc_bin = DocBin(store_user_data=True)
    try:
        doc_bin.from_disk(path)
        raw, doc_bin.user_data = doc_bin.user_data, [None] * len(doc_bin)
        docs = list(doc_bin.get_docs(Vocab()))
        datas = [srsly.msgpack.unpackb(b, raw=False, use_list=True, object_pairs_hook=dict)
                 if b else {} for b in raw]
    except Exception as e:  # zlib, msgpack, numpy and spaCy all raise their own types here
        raise AnnotatorError(Errors.E101.format(
            path=path, reason=f"not a spaCy DocBin ({type(e).__name__}: {e})")) from None
    return [from_doc(doc, data, path, i) for i, (doc, data) in enumerate(zip(docs, datas), 1)]


def from_doc(doc: Doc, data, path: Path, number: int) -> DocRecord:
    if not isinstance(data, dict) or not isinstance(data.get("meta", {}), dict):
        raise AnnotatorError(Errors.E101.format(
            path=path, reason=f"document {number} has user_data that is not a dict of name/title/meta"))
    spans = [SpanRecord(e.start_char, e.end_char, e.label_, e.kb_id_ or None) for e in doc.ents]
    tokens = [(t.idx, t.idx + len(t)) for t in doc if not t.text.isspace()]
    return DocRecord(name=str(data.get("name") or f"{path.stem}-{number}"), text=doc.text,
                     title=str(data.get("title") or ""), meta=dict(data.get("meta") or {}),
                     spans=spans, annotator=data.get("annotator"), tokens=tokens)
