"""Reading what a format imports, and checking it, so that any bytes give records or one coded line
that names the file and the line — never a traceback, never unbounded memory.

- only regular files are read (a FIFO, a device or a link to /dev/zero never ends: E108), and at most
  MAX_FILE_BYTES of one file, MAX_LINE_BYTES of one JSON line (E109);
- JSON: NaN and Infinity are refused, nesting is limited to MAX_DEPTH (E111), a lone UTF-16
  surrogate such as "\\ud800" is refused rather than replaced, which would move offsets (E112);
- records: offsets are ints (not bool, not float) inside the text, labels and KB ids non-empty
  strings without control characters, meta a JSON object, text not empty (E113) and without NUL (E114).

Writing needs no help here: core/exporting hands every writer a temporary folder and moves the result
into place, so a failed export leaves the old file as it was.
"""

from __future__ import annotations

import json
import os
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Iterator

from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError, Errors

MAX_FILE_BYTES = 1 << 30  # read from one file
MAX_LINE_BYTES = 64 << 20  # one JSON line: a 10 MB document, escaped, with its spans
MAX_DEPTH = 64  # nesting of JSON values: annotation files nest a few levels
MAX_LABEL = 64  # characters, as the labels table keeps them
MAX_KB_ID = 255
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# --- files

def check_regular(path: Path) -> int:
    """The file's size; E010 when missing, E108 unless it is a regular file (links are followed)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise AnnotatorError(Errors.E010.format(path=path)) from None
    except OSError as e:
        raise AnnotatorError(Errors.E010.format(path=f"{path} ({e.strerror})")) from None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a pipe (FIFO)" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a file")
        raise AnnotatorError(Errors.E108.format(path=path, kind=kind))
    return st.st_size


def open_file(path: Path) -> BinaryIO:
    """The file opened for reading in binary, once it is known to be a regular file."""
    check_regular(path)
    try:
        return open(path, "rb")
    except OSError as e:
        raise AnnotatorError(Errors.E010.format(path=f"{path} ({e.strerror})")) from None


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The whole file, refused past `limit` bytes (MAX_FILE_BYTES) even if it grows while read."""
    limit = MAX_FILE_BYTES if limit is None else limit
    path = Path(path)
    if check_regular(path) > limit:
        raise AnnotatorError(Errors.E109.format(path=path, limit=limit, what="file"))
    with open_file(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise AnnotatorError(Errors.E109.format(path=path, limit=limit, what="file"))
    return data


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The whole file as text (encoding "utf-8-sig" also takes a byte-order mark)."""
    path = Path(path)
    data = read_bytes(path)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise AnnotatorError(Errors.E011.format(path=f"{path}, line {line}", offset=e.start)) from None


def lines(path: Path, bad_utf8=None) -> Iterator[tuple[int, str]]:
    """(line number, line) of a text file, each line and the whole file within their limits; a
    byte-order mark may open the file. `bad_utf8(lineno, offset)` makes the error for bad bytes."""
    path = Path(path)
    total = 0
    with open_file(path) as fh:
        lineno = 0
        while True:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            lineno += 1
            total += len(raw)
            if len(raw) > MAX_LINE_BYTES:
                raise AnnotatorError(Errors.E109.format(path=f"{path}, line {lineno}", limit=MAX_LINE_BYTES,
                                                        what="line"))
            if total > MAX_FILE_BYTES:
                raise AnnotatorError(Errors.E109.format(path=path, limit=MAX_FILE_BYTES, what="file"))
            try:
                yield lineno, raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                if bad_utf8 is not None:
                    raise bad_utf8(lineno, e.start) from None
                raise AnnotatorError(Errors.E011.format(path=f"{path}, line {lineno}", offset=e.start)) from None


def json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, value) for each line that is not blank."""
    path = Path(path)
    for lineno, line in lines(path):
        if line.strip():
            yield lineno, loads(line, path, f"line {lineno}")


# --- JSON

def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str, path: Path, where: str, invalid=None):
    """A JSON value, checked for depth and lone surrogates. `invalid(lineno, reason)` makes the
    error for bad JSON (default E015 on the line `where` names, or the parser's line)."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        line = int(where[5:]) if where.startswith("line ") else e.lineno
        raise (invalid or _invalid(path))(line, e.msg) from None
    except RecursionError:
        raise AnnotatorError(Errors.E111.format(path=path, where=where, limit=MAX_DEPTH)) from None
    except ValueError as e:  # NaN, Infinity; an integer of thousands of digits
        line = int(where[5:]) if where.startswith("line ") else 1
        raise (invalid or _invalid(path))(line, str(e)) from None
    surrogates = bool(_SURROGATE_ESCAPE.search(text))
    if surrogates or text.count("{") + text.count("[") > MAX_DEPTH:  # else no value can nest deeper
        check_value(value, path, where, surrogates=surrogates)
    return value


def _invalid(path: Path):
    return lambda line, reason: AnnotatorError(Errors.E015.format(path=path, line=line, reason=reason))


def check_value(value, path: Path, where: str, surrogates: bool = True) -> None:
    """E111 for nesting deeper than MAX_DEPTH, E112 for a string that is not valid Unicode."""
    if not surrogates:
        _check_depth(value, path, where)
        return
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise AnnotatorError(Errors.E111.format(path=path, where=where, limit=MAX_DEPTH))
            if isinstance(item, dict):
                if surrogates:
                    stack.extend((k, depth) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif surrogates and isinstance(item, str):
            check_unicode(item, path, where)


def _check_depth(value, path: Path, where: str) -> None:
    """E111 for nesting deeper than MAX_DEPTH; only containers are visited (a task's many spans'
    numbers and strings are not pushed one by one: import speed)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise AnnotatorError(Errors.E111.format(path=path, where=where, limit=MAX_DEPTH))
        for v in (item.values() if isinstance(item, dict) else item):
            if isinstance(v, (dict, list)):
                stack.append((v, depth + 1))


def check_unicode(s: str, path: Path, where: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as e:
        value = f"\\u{ord(s[e.start]):04x} at character {e.start}"
        raise AnnotatorError(Errors.E112.format(path=path, where=where, value=value)) from None


# --- values of records

def is_offset(x) -> bool:
    return type(x) is int  # not bool, not float


def label_problem(label) -> str | None:
    """Why `label` cannot be a label, or None."""
    if not isinstance(label, str):
        return f"the label {label!r} is not a string"
    if not label.strip():
        return "a label is empty"
    if len(label) > MAX_LABEL:
        return f"the label {label[:MAX_LABEL]!r}... is longer than {MAX_LABEL} characters"
    bad = _CONTROL.search(label)
    if bad:
        return f"the label {label!r} holds the control character U+{ord(bad.group()):04X}"
    return None


def kb_id_problem(kb_id) -> str | None:
    if kb_id is None:
        return None
    if not isinstance(kb_id, str):
        return f"the KB id {kb_id!r} is not a string"
    if not kb_id.strip() or len(kb_id) > MAX_KB_ID or _CONTROL.search(kb_id):
        return f"the KB id {kb_id[:MAX_KB_ID]!r} is empty, too long or holds a control character"
    return None


def span_problem(text: str, start, end, label, kb_id=None) -> str | None:
    """Why a span cannot be read, or None: offsets must be ints with 0 <= start < end <= len(text)."""
    if not is_offset(start) or not is_offset(end):
        return f"span offsets must be integers, found {start!r} and {end!r}"
    if not 0 <= start < end <= len(text):
        return f"span {start}-{end} lies outside the text ({len(text)} characters) or is empty"
    if kb_id is None and type(label) is str and _good_label(label):
        return None  # the usual span: a label seen before (import speed, millions of spans)
    return label_problem(label) or kb_id_problem(kb_id)


@lru_cache(maxsize=4096)
def _good_label(label: str) -> bool:
    return label_problem(label) is None


def check_record(rec: DocRecord, path: Path, where: str, allow_empty: bool = True, spans: bool = True) -> DocRecord:
    """Refuse a record the project cannot keep: NUL or a lone surrogate in its text, spans off the
    text, bad labels, KB ids or meta; no text, unless `allow_empty` (a reader gives an empty document
    back as written, importing refuses it). `where` is "line 3", "task 2", "document 'a1'". `spans`
    false: the reader made each span with `span_problem` already (import speed)."""
    def bad(reason: str) -> AnnotatorError:
        return AnnotatorError(Errors.E101.format(path=path, reason=f"{where}: {reason}"))

    if not isinstance(rec.text, str):
        raise bad("the text is not a string")
    if not rec.text.strip() and not allow_empty:
        raise AnnotatorError(Errors.E113.format(path=path, where=where, name=rec.name))
    check_unicode(rec.text, path, where)
    if "\x00" in rec.text:
        raise AnnotatorError(Errors.E114.format(path=path, where=where, offset=rec.text.index("\x00")))
    for what, value in (("name", rec.name), ("title", rec.title), ("annotator", rec.annotator)):
        if value is None and what == "annotator":
            continue
        if not isinstance(value, str):
            raise bad(f"the {what} {value!r} is not a string")
        check_unicode(value, path, where)
        if "\x00" in value:
            raise bad(f"the {what} holds a NUL character")
    if rec.annotator is not None and (not rec.annotator.strip() or len(rec.annotator) > 255):
        raise bad(f"the annotator {rec.annotator[:255]!r} is empty or longer than 255 characters")
    if not isinstance(rec.meta, dict):
        raise bad(f"meta must be a JSON object, not {type(rec.meta).__name__}")
    check_value(rec.meta, path, where)
    for sp in rec.spans if spans else ():
        problem = span_problem(rec.text, sp.start, sp.end, sp.label, sp.kb_id)
        if problem:
            raise bad(problem)
    return rec


def spans_of(text: str, items, bad) -> list[SpanRecord]:
    """SpanRecords from (start, end, label, kb_id) items, each checked; `bad(reason)` makes the error."""
    out = []
    for start, end, label, kb_id in items:
        problem = span_problem(text, start, end, label, kb_id)
        if problem:
            raise bad(problem)
        out.append(SpanRecord(start, end, label, kb_id))
    return out
