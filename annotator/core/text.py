"""Offsets. Spans are Python code-point offsets into an immutable text, end exclusive.

Qt counts UTF-16 code units; `Utf16Map` converts, and only `ui/` (and formats with another
convention) may use it. Tokens are stored packed so that snapping needs no spaCy at run time.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Iterable, Sequence


def normalize_plain(text: str) -> str:
    """What plain-text import stores: no BOM, LF line ends (before any offset exists)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


TITLE_MAX = 120  # code points: a title names a document in lists, headings and exports


def title_of(text: str) -> str:
    """The first non-empty line, stripped; a longer one than TITLE_MAX is cut after a word before it,
    with "…". Texts of one line are common (JSONL from doccano, Label Studio, Prodigy): whole, the
    title was the text again, stored and exported twice (migration 0019 shortened those already kept)."""
    pos = 0
    while pos <= len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end].strip()
        if line:
            if len(line) <= TITLE_MAX:
                return line
            cut = line[:TITLE_MAX - 1]
            space = cut.rfind(" ")
            return (cut[:space] if space > TITLE_MAX // 2 else cut).rstrip() + "…"
        pos = end + 1
    return ""


class Utf16Map:
    """Code point ↔ UTF-16 code unit positions for one text.

    Only characters outside the BMP (emoji, some CJK) take two units, so the map keeps just their
    positions: an all-BMP text (the usual case) converts by identity.
    """

    def __init__(self, text: str):
        self.astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF] if not text.isascii() else []
        # the UTF-16 position of each astral character
        self.astral16 = [p + k for k, p in enumerate(self.astral)]
        self.length = len(text)

    def to_utf16(self, cp: int) -> int:
        return cp + bisect_left(self.astral, cp) if self.astral else cp

    def to_cp(self, u16: int) -> int:
        """A UTF-16 position → code point; a position inside a surrogate pair rounds down."""
        if not self.astral:
            return u16
        k = bisect_right(self.astral16, u16 - 1)  # astral characters starting before u16
        cp = u16 - k
        if k and self.astral16[k - 1] + 1 == u16:  # between the two halves of a pair
            cp = self.astral[k - 1]
        return cp


def pack_tokens(tokens: Iterable[tuple[int, int]]) -> bytes:
    flat = array("i")
    for start, end in tokens:
        flat.append(start)
        flat.append(end)
    if flat.itemsize != 4:  # pragma: no cover - every platform we ship on has 4-byte ints
        raise RuntimeError("array('i') is not 32-bit here")
    return flat.tobytes()


class Tokens:
    """A document's token boundaries, for snapping selections and moving span edges by a token."""

    def __init__(self, packed: bytes):
        # strided views of the stored bytes, not copies: opening a long document does not wait for them
        flat = memoryview(packed).cast("i")
        self.starts: Sequence[int] = flat[0::2]
        self.ends: Sequence[int] = flat[1::2]

    def __len__(self) -> int:
        return len(self.starts)

    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.ends))

    def snap(self, start: int, end: int, text: str | None = None) -> tuple[int, int]:
        """[start, end) widened to the tokens it touches, trimmed of surrounding spaces (with the
        document's `text`, of whitespace tokens too: a line break between paragraphs).

        A selection touching no token (only spaces) is returned as it is.
        """
        first = bisect_right(self.ends, start)  # first token ending after start
        last = bisect_left(self.starts, end) - 1  # last token starting before end
        if text is not None:
            while first <= last and not text[self.starts[first]:self.ends[first]].strip():
                first += 1
            while last >= first and not text[self.starts[last]:self.ends[last]].strip():
                last -= 1
        if first > last:
            return start, end
        return self.starts[first], self.ends[last]

    def next_boundary(self, pos: int, *, edge: str, direction: int, text: str | None = None) -> int:
        """The nearest token start (edge="start") or end (edge="end") strictly before/after pos. With
        the document's `text`, a boundary of a whitespace token (spaCy's "\n\n" between paragraphs) is
        passed over: a span's edge moved by a token never lands on one, which would hold line breaks."""
        seq = self.starts if edge == "start" else self.ends
        while True:
            if direction > 0:
                i = bisect_right(seq, pos)
                if i >= len(seq):
                    return pos
            else:
                i = bisect_left(seq, pos) - 1
                if i < 0:
                    return pos
            pos = seq[i]
            if text is None or text[self.starts[i]:self.ends[i]].strip():
                return pos
