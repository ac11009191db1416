"""A spaCy DocBin read in bounded memory, a document at a time, whatever its size.

A DocBin file is zlib(msgpack({"version", "attrs", "tokens", "spaces", "lengths", "strings", "cats",
"flags", "span_groups", "user_data"})) (spaCy's `DocBin.to_bytes`; docbin_stream writes the same).
`DocBin.from_bytes` holds the whole unpacked map and then every Doc: about 100 bytes a token, gigabytes
for a large export. Here the file is inflated incrementally and the map parsed as it comes
(`_Inflate` feeding a streaming msgpack Unpacker): the big fields (token rows, spaces, each
document's span groups and user data) are copied to one temporary file as they arrive, the small ones
(lengths, strings, flags) kept; cats are skipped. Then each batch of documents is read back with
`os.pread` (a memory map of the whole file would count every page it touched as resident) and each
document becomes a Doc exactly as `DocBin.get_docs` builds it, and a DocRecord by `from_doc`, so the
records are those the whole-file reader gave (tests/test_formats_docbin_read.py compares them).

Bounds: what is kept in memory (strings, lengths, flags, any one value) is refused past MAX_HELD,
and the fields not spilled past twice that (E542); what is spilled past the room in the temporary
folder less KEEP_FREE, or MAX_SPILL (E541), checked against each field's declared size before
anything is copied. The temporary file is
unlinked at creation (tempfile.TemporaryFile) and closed when the reading ends, fails or is
abandoned (a cancelled import closes the generator), so it never outlives the read.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy
import srsly
from spacy.attrs import DEP, ENT_ID, HEAD, IDX, LEMMA, LENGTH, MORPH, ORTH, POS, TAG
from spacy.tokens import Doc
from spacy.tokens._dict_proxies import SpanGroups
from spacy.vocab import Vocab
from srsly.msgpack._unpacker import Unpacker

from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.docbin_arrays import SUGGESTED
from annotator.formats.files import check_record, open_file

MAX_HELD = 512 << 20  # bytes of strings, lengths and flags kept in memory while reading
MAX_SPILL = 1 << 40  # bytes spilled to the temporary folder at most, whatever its room
KEEP_FREE = 256 << 20  # bytes left free in the temporary folder
CHUNK = 1 << 20  # compressed bytes read at a time, and bytes copied at a time
BATCH = 256  # documents read back from the temporary file at once
_BIN = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}  # bin 8/16/32, str 8/16/32
_SPILLED = ("tokens", "spaces")  # one bin each
_PER_DOC = ("span_groups", "user_data")  # an array of one bin per document


class _Bad(Exception):
    """The file is not a DocBin: becomes E101 with this reason."""


class _Inflate:
    """The decompressed bytes of a zlib file as a file-like `read(n)`; `check(total)` after each read."""

    def __init__(self, fh: BinaryIO, check):
        self.fh, self.d, self.total, self.check = fh, zlib.decompressobj(), 0, check

    def read(self, n: int) -> bytes:
        parts, got = [], 0
        while got < n and not self.d.eof:
            data = self.d.unconsumed_tail or self.fh.read(CHUNK)
            if not data:
                raise _Bad("the file ends early (truncated)")
            part = self.d.decompress(data, n - got)
            parts.append(part)
            got += len(part)
        self.total += got
        self.check(self.total)
        return b"".join(parts)


class _Spill:
    """The parsed DocBin: small fields kept, big ones in a temporary file at recorded offsets."""

    def __init__(self, path: Path, keep: bool = True):
        """`keep`: spill the big fields (False: only inflate past them, to count documents)."""
        self.path = path
        self.folder = tempfile.gettempdir()
        self.room = min(MAX_SPILL, shutil.disk_usage(self.folder).free - KEEP_FREE) if keep else MAX_SPILL
        self.file = tempfile.TemporaryFile(dir=self.folder) if keep else None
        self.size = 0  # bytes spilled
        self.held = 0  # bytes kept in memory
        self.attrs: list[int] = []
        self.strings: list[str] = []
        self.lengths = numpy.zeros(0, dtype=numpy.int32)
        self.unknown_spaces: set[int] = set()
        self.fields: dict[str, tuple[int, int]] = {}  # tokens/spaces: (offset, size)
        self.per_doc: dict[str, numpy.ndarray] = {}  # span_groups/user_data: (offset, size) rows, -1 for nil

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def hold(self, n: int, what: str) -> None:
        self.held += n
        if self.held > MAX_HELD:
            raise AnnotatorError(Errors.E542.format(path=self.path, what=what, limit=MAX_HELD >> 20))

    def check_total(self, total: int) -> None:
        """Besides the spilled fields, at most MAX_HELD kept and as much skipped (cats, unknown keys): a
        bomb of skipped values would cost no memory, but time without end."""
        if total - self.size > 2 * MAX_HELD:
            raise AnnotatorError(Errors.E542.format(path=self.path, what="fields besides the token rows",
                                                    limit=2 * MAX_HELD >> 20))

    def keys(self, fh: BinaryIO) -> Iterator[str]:
        """The map's keys in file order; the caller reads each value."""
        self.source = _Inflate(fh, self.check_total)
        u = self.unpacker = Unpacker(self.source, raw=False, read_size=CHUNK, max_buffer_size=64 << 20)
        try:
            n = u.read_map_header()
        except ValueError:
            raise _Bad("it is not a msgpack map") from None
        for _ in range(n):
            yield u.unpack()

    def parse(self, fh: BinaryIO) -> None:
        """Read the whole map, spilling as it goes."""
        for key in self.keys(fh):
            u = self.unpacker
            if key in _SPILLED:
                self.fields[key] = self.copy_bin(self.bin_size(u.read_bytes(1)[:1], key), key)
            elif key in _PER_DOC:
                self.per_doc[key] = self.copy_array(key)
            elif key == "attrs":
                self.attrs = u.unpack()
            elif key == "lengths":
                size = self.bin_size(u.read_bytes(1)[:1], key)
                self.hold(size, "document lengths")
                self.lengths = numpy.frombuffer(self.exact(size), dtype=numpy.int32)
            elif key == "strings":
                for _ in range(u.read_array_header()):
                    string = u.unpack()
                    if not isinstance(string, str):
                        raise _Bad("its strings are not all strings")
                    self.hold(len(string) + 64, "strings")
                    self.strings.append(string)
            elif key == "flags":
                for i in range(u.read_array_header()):
                    flags = u.unpack()
                    self.hold(64, "flags")
                    if isinstance(flags, dict) and flags.get("has_unknown_spaces"):
                        self.unknown_spaces.add(i)
            else:  # version, cats and anything newer: not needed for the records
                u.skip()
        if self.unpacker.read_bytes(1):
            raise _Bad("it goes on after its map")
        self.check()
        self.file.flush()  # read back by file descriptor

    def bin_size(self, kind: bytes, key: str) -> int:
        if kind and 0xA0 <= kind[0] <= 0xBF:  # fixstr: an old writer's short bytes
            return kind[0] & 0x1F
        fmt = _BIN.get(kind[0]) if kind else None
        if fmt is None:
            raise _Bad(f"its {key} are not bytes")
        width = struct.calcsize(fmt)
        return struct.unpack(fmt, self.exact(width))[0]

    def exact(self, n: int) -> bytes:
        data = self.unpacker.read_bytes(n)
        while len(data) < n:
            more = self.source.read(n - len(data))
            if not more:
                raise _Bad("the file ends early (truncated)")
            data += more
        return data

    def copy_bin(self, size: int, what: str) -> tuple[int, int]:
        """Copy the next `size` bytes to the temporary file: (offset, size). Refused beforehand when
        they would not fit (E541)."""
        if self.size + size > self.room:
            raise AnnotatorError(Errors.E541.format(
                path=self.path, size=(self.size + size) >> 20, folder=self.folder, room=max(self.room, 0) >> 20))
        offset, left = self.size, size
        self.size += size  # counted before it is read: check_total
        while left:
            data = self.exact(min(left, CHUNK))
            if self.file is not None:
                self.file.write(data)
            left -= len(data)
        return offset, size

    def copy_array(self, key: str) -> numpy.ndarray:
        u = self.unpacker
        n = u.read_array_header()
        self.hold(16 * n, key)
        rows = numpy.full((n, 2), -1, dtype=numpy.int64)
        for i in range(n):
            kind = u.read_bytes(1)[:1]
            if kind != b"\xc0":  # nil: no user data
                rows[i] = self.copy_bin(self.bin_size(kind, key), key)
        return rows

    def check(self) -> None:
        """The fields fit together (what DocBin.from_bytes would otherwise fail on later)."""
        if not self.attrs or ORTH not in self.attrs:
            raise _Bad("it has no token attributes")
        if "tokens" not in self.fields or "spaces" not in self.fields:
            raise _Bad("it has no tokens")
        n_tokens = int(self.lengths.sum(dtype=numpy.int64))
        if (self.lengths < 0).any() or self.fields["tokens"][1] != n_tokens * len(self.attrs) * 8 \
                or self.fields["spaces"][1] != n_tokens:
            raise _Bad("its token rows do not match the document lengths")
        for key in _PER_DOC:
            if key in self.per_doc and len(self.per_doc[key]) < len(self.lengths):
                raise _Bad(f"its {key} are fewer than its documents")

    def read(self, offset: int, size: int) -> bytes:
        data = os.pread(self.file.fileno(), size, offset)
        if len(data) != size:
            raise _Bad("the temporary copy is short")
        return data

    def docs(self, vocab: Vocab) -> Iterator[tuple[Doc, object]]:
        """(Doc, user data) of each document, as DocBin.get_docs builds them, a batch at a time."""
        for string in self.strings:
            vocab.strings.add(string)
        self.strings = []
        width, orth = len(self.attrs), self.attrs.index(ORTH)
        ends = numpy.cumsum(self.lengths, dtype=numpy.int64)
        starts = ends - self.lengths
        tok_at, space_at = self.fields["tokens"][0], self.fields["spaces"][0]
        groups, datas = self.per_doc.get("span_groups"), self.per_doc.get("user_data")
        for first in range(0, len(self.lengths), BATCH):
            last = min(first + BATCH, len(self.lengths))
            lo, hi = int(starts[first]), int(ends[last - 1])
            rows = numpy.frombuffer(self.read(tok_at + lo * width * 8, (hi - lo) * width * 8),
                                    dtype=numpy.uint64).reshape(hi - lo, width)
            spaces = numpy.frombuffer(self.read(space_at + lo, hi - lo), dtype=bool)
            for i in range(first, last):
                a, b = int(starts[i]) - lo, int(ends[i]) - lo
                tokens = rows[a:b]
                doc = Doc(vocab, words=tokens[:, orth],
                          spaces=None if i in self.unknown_spaces else spaces[a:b].reshape(-1, 1))
                doc = doc.from_array(self.attrs, tokens)
                group = self.item(groups, i)
                if group and group != SpanGroups._EMPTY_BYTES:
                    doc.spans.from_bytes(group)
                raw = self.item(datas, i)
                data = srsly.msgpack.unpackb(raw, raw=False, use_list=True, object_pairs_hook=dict) if raw else {}
                yield doc, data

    def item(self, rows: numpy.ndarray | None, i: int) -> bytes | None:
        if rows is None or rows[i, 0] < 0:
            return None
        return self.read(int(rows[i, 0]), int(rows[i, 1]))


def stream(path: Path, skip_invalid: bool = False, skipped: list[str] | None = None) -> Iterator[DocRecord]:
    """Each document's record, checked, in file order. A bad file raises a coded line when the bad part
    is reached (an import stores nothing then); `skip_invalid` does not apply: a DocBin is one value."""
    path = Path(path)
    spill = _Spill(path)
    try:
        with open_file(path) as fh:
            try:
                spill.parse(fh)
            except AnnotatorError:
                raise
            except Exception as e:  # zlib, msgpack and _Bad all raise their own types here
                raise _not_docbin(path, e) from None
        docs = spill.docs(Vocab())
        number = 0
        while True:
            try:
                doc, data = next(docs)
                number += 1
                record = from_doc(doc, data, path, number)
            except StopIteration:
                return
            except AnnotatorError:
                raise
            except Exception as e:  # numpy and spaCy on bad ids, offsets, span groups, entity tags
                raise _not_docbin(path, e) from None
            yield check_record(record, path, f"document {number}")
    finally:
        spill.close()


def _not_docbin(path: Path, e: Exception) -> AnnotatorError:
    reason = f"zlib: {e}" if isinstance(e, zlib.error) else str(e) if isinstance(e, _Bad) \
        else f"{type(e).__name__}: {e}"
    return AnnotatorError(Errors.E101.format(path=path, reason=f"not a spaCy DocBin ({reason})"))


def count(path: Path) -> int:
    """How many documents the file holds, for progress: its lengths, read without spilling (the token
    rows are inflated and dropped). 0 when the file cannot be read: the import itself says why."""
    spill = _Spill(Path(path), keep=False)
    try:
        with open_file(path) as fh:
            for key in spill.keys(fh):
                u = spill.unpacker
                if key == "lengths":
                    return spill.bin_size(u.read_bytes(1)[:1], key) // 4
                if key in _SPILLED:
                    spill.copy_bin(spill.bin_size(u.read_bytes(1)[:1], key), key)
                else:
                    u.skip()
    except Exception:  # noqa: BLE001 - an estimate only
        return 0
    finally:
        spill.close()
    return 0


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
    # the file's own tokens, whitespace ones too; from arrays: a Token object each cost a third of the reading
    starts = doc.to_array(IDX).astype(numpy.int64)
    tokens = list(zip(starts.tolist(), (starts + doc.to_array(LENGTH).astype(numpy.int64)).tolist()))
    return DocRecord(name=str(name), text=doc.text, title=title, meta=dict(data.get("meta") or {}),
                     spans=spans, annotator=annotator, tokens=tokens, annotated=True,
                     left_out=left_out(doc, data))


_TOKEN_ATTRS = {"POS": POS, "TAG": TAG, "LEMMA": LEMMA, "MORPH": MORPH, "DEP": DEP, "HEAD": HEAD, "ENT_ID": ENT_ID}


def left_out(doc: Doc, data: dict) -> dict[str, int]:
    """What the Doc holds that no record keeps, counted for the import summary: tagger, parser and
    lemmatizer values and entity ids (tokens that have one), other span groups than the suggestions
    (their spans), and user_data keys other than ours."""
    out: dict[str, int] = {}
    if len(doc):
        values = numpy.count_nonzero(doc.to_array(list(_TOKEN_ATTRS.values())), axis=0)
        out = {f"spacy token {name} values": int(n) for name, n in zip(_TOKEN_ATTRS, values) if n}
    for key, group in doc.spans.items():
        if key != SUGGESTED and len(group):
            out[f"spacy span group {key!r} spans"] = len(group)
    extra = len(set(data) - {"name", "title", "meta", "annotator"})
    if extra:
        out["spacy user_data keys"] = extra
    return out
