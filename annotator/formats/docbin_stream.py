"""A spaCy DocBin file written in bounded memory: the bytes `DocBin.to_bytes()` would give once
decompressed, without holding the corpus.

`DocBin.to_bytes` is `zlib.compress(msgpack({"version", "attrs", "tokens", "spaces", "lengths",
"strings", "cats", "flags", "span_groups", "user_data"}))`, built from every document at once (about
100 bytes a token: 10 GB for 100,000 articles). Here each batch of documents is packed as its part of
the big fields (token rows, spaces, lengths, span groups, user data) and compressed at once, in a
worker thread (zlib lets go of the GIL, so the next batch is converted meanwhile), into one spill file
per field; only the string set stays in memory. At the end the file is assembled: the msgpack map's
headers written here, each field's compressed parts copied in. Parts are raw deflate blocks ended by
a sync flush (byte-aligned, never final), so they join into one zlib stream, as pigz does; the
stream's Adler-32 is combined from the parts'. spaCy reads the file with `DocBin().from_disk` (and
needs it whole in memory then: that is spaCy's side). tests/test_formats_spacy.py checks that the
file decompresses to exactly the msgpack `DocBin.to_bytes` gives for the same documents.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import srsly

from annotator.errors import AnnotatorError, Errors

VERSION = "0.1"  # DocBin.version, spaCy 3
LEVEL = 3  # DocBin.to_bytes uses 6: on the token columns 3 packs as small in half the time
FIELDS = ("tokens", "spaces", "lengths", "span_groups", "user_data")  # spilled, in the map's order
ARRAYS = ("span_groups", "user_data")  # msgpack arrays of one bin per document; the others are one bin
MAX_BIN = 2**32 - 1  # the largest msgpack bin: one field of a DocBin can hold no more
_BASE = 65521  # Adler-32's modulus
AHEAD = 1  # batches compressed ahead of the writer at most: bounds the memory in flight


def adler32_combine(first: int, second: int, second_len: int) -> int:
    """Adler-32 of A + B from Adler-32 of A, of B and len(B) (zlib's adler32_combine)."""
    rem = second_len % _BASE
    sum1 = ((first & 0xFFFF) + (second & 0xFFFF) + _BASE - 1) % _BASE
    sum2 = (rem * (first & 0xFFFF) + (first >> 16) + (second >> 16) + _BASE - rem) % _BASE
    return (sum2 << 16) | sum1


def deflate(data: bytes | memoryview) -> tuple[bytes, int, int]:
    """(raw deflate blocks ended by a sync flush, Adler-32 of data, len(data)): a part that joins others."""
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH), zlib.adler32(data), len(data)


def bin_header(size: int) -> bytes:
    """The msgpack header of a bin of `size` bytes."""
    if size < 2**8:
        return struct.pack(">BB", 0xC4, size)
    if size < 2**16:
        return struct.pack(">BH", 0xC5, size)
    return struct.pack(">BI", 0xC6, size)


class DocBinStream:
    """Collects batches (`add`) into spill files beside `out`, writes the DocBin file on `close`."""

    def __init__(self, out: Path, attrs: list[int]):
        self.out, self.attrs = Path(out), list(attrs)
        self.spill = {f: tempfile.TemporaryFile(dir=self.out.parent) for f in FIELDS}
        self.raw_len = dict.fromkeys(FIELDS, 0)  # uncompressed bytes of each field
        self.adler = dict.fromkeys(FIELDS, 1)
        self.n_docs = 0
        self.strings: set[str] = set()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docbin-zlib")
        self.pending: deque[Future] = deque()
        self.pack = srsly.msgpack.Packer(use_bin_type=True).pack

    def add(self, tokens: bytes | memoryview, spaces: bytes, lengths: bytes, span_groups: list[bytes],
            user_data: list[bytes]) -> None:
        """One batch: the token rows (uint64, C order), spaces (bool), lengths (int32) and each
        document's span-group bytes and packed user data, in document order."""
        pack = self.pack
        parts = (tokens, spaces, lengths, b"".join(map(pack, span_groups)), b"".join(map(pack, user_data)))
        self.n_docs += len(span_groups)
        self.pending.append(self.pool.submit(lambda: [deflate(p) for p in parts]))
        while len(self.pending) > AHEAD:
            self._write_oldest()

    def _write_oldest(self) -> None:
        for field, (data, adler, size) in zip(FIELDS, self.pending.popleft().result()):
            self.spill[field].write(data)
            self.adler[field] = adler32_combine(self.adler[field], adler, size)
            self.raw_len[field] += size

    def close(self) -> None:
        """Write the file (the strings sorted, as DocBin.to_bytes does) and drop the spill files."""
        try:
            while self.pending:
                self._write_oldest()
            for field in ("tokens", "spaces", "lengths"):
                if self.raw_len[field] > MAX_BIN:
                    raise AnnotatorError(Errors.E540.format(
                        path=self.out.name, docs=self.n_docs, size=self.raw_len[field] >> 20, limit=MAX_BIN >> 20))
            self._assemble()
        finally:
            self.discard()

    def discard(self) -> None:
        """Drop the batches not yet written and the spill files (a failed or cancelled export)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pending.clear()
        for fh in self.spill.values():
            fh.close()

    def _assemble(self) -> None:
        pack, n = self.pack, self.n_docs
        p = srsly.msgpack.Packer(use_bin_type=True)
        small = {  # the fields written whole, after "strings" (cats and flags: the same per document)
            "cats": p.pack_array_header(n) + pack({}) * n,
            "flags": p.pack_array_header(n) + pack({"has_unknown_spaces": False}) * n,
        }
        head = p.pack_map_header(10) + pack("version") + pack(VERSION) + pack("attrs") + pack(self.attrs)
        with open(self.out, "wb") as fh:
            fh.write(zlib.compress(b"", LEVEL)[:2])  # the zlib header
            adler = 1

            def put(data: bytes) -> None:
                nonlocal adler
                part, part_adler, size = deflate(data)
                fh.write(part)
                adler = adler32_combine(adler, part_adler, size)

            def copy(field: str) -> None:
                nonlocal adler
                spill = self.spill[field]
                spill.seek(0)
                shutil.copyfileobj(spill, fh, 1 << 20)
                adler = adler32_combine(adler, self.adler[field], self.raw_len[field])

            put(head)
            for field in FIELDS:
                if field == "span_groups":
                    put(pack("strings") + pack(sorted(self.strings)) + pack("cats") + small["cats"]
                        + pack("flags") + small["flags"])
                header = p.pack_array_header(n) if field in ARRAYS else bin_header(self.raw_len[field])
                put(pack(field) + header)
                copy(field)
            fh.write(zlib.compressobj(LEVEL, zlib.DEFLATED, -15).flush())  # the final, empty block
            fh.write(struct.pack(">I", adler))
