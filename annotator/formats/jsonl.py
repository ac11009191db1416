"""Prodigy-style JSONL: one task per line, offsets in code points.

    {"text": "Kim Kwan-jin visits Tokyo.", "meta": {"name": "a1", "title": "..."},
     "spans": [{"start": 0, "end": 12, "label": "PERSON", "text": "Kim Kwan-jin",
                "token_start": 0, "token_end": 2, "kb_id": "Q495727", "status": "accepted"}],
     "_input_hash": 123, "_annotator_id": "ana", "answer": "accept"}

Every span says its `status`: "accepted" (a person's decision) or "suggested" (an unchecked
suggestion, written only when asked for). Reading takes a span without one as accepted, and accepts
plain `{"text", "meta"?, "name"?}` lines too (a corpus to import).
"""

from __future__ import annotations

import json
import zlib
from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Iterable, Iterator

from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_record, json_lines, span_problem

SUFFIX = ".jsonl"
STATUSES = ("accepted", "suggested")


def input_hash(text: str) -> int:
    """A stable 32-bit hash of the text (Prodigy's `_input_hash` is an opaque int)."""
    return zlib.crc32(text.encode("utf-8")) - 2**31


def _token_span(tokens: list[tuple[int, int]], starts: list[int], ends: list[int], start: int, end: int):
    first = bisect_right(starts, start) - 1
    last = bisect_left(ends, end)
    if first < 0 or last >= len(tokens):
        return None, None
    return first, last


def to_task(doc: DocRecord) -> dict:
    tokens = doc.tokens or []
    starts = [s for s, _ in tokens]
    ends = [e for _, e in tokens]
    spans = []
    for sp in sorted(doc.spans, key=lambda s: (s.start, s.end, s.label)):
        item = {"start": sp.start, "end": sp.end, "label": sp.label, "text": doc.text[sp.start:sp.end]}
        if tokens:
            item["token_start"], item["token_end"] = _token_span(tokens, starts, ends, sp.start, sp.end)
        if sp.kb_id is not None:
            item["kb_id"] = sp.kb_id
        item["status"] = sp.status
        spans.append(item)
    meta = {"name": doc.name, "title": doc.title, **doc.meta}
    task = {"text": doc.text, "meta": meta, "spans": spans, "_input_hash": input_hash(doc.text)}
    if doc.annotator is not None:
        task["_annotator_id"] = doc.annotator
    task["answer"] = "accept"
    return task


# One encoder for the whole export: json.dumps builds a new one per call when given options.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    report = FormatReport()
    with open(out, "w", encoding="utf-8", newline="\n") as fh:
        for doc in docs:
            fh.write(_encode(to_task(doc)) + "\n")
            report.documents += 1
            report.spans += len(doc.spans)
    return report


def read(path: Path) -> list[DocRecord]:
    """Every task of the file (what the other formats' `read` gives)."""
    return list(stream(path))


def stream(path: Path) -> Iterator[DocRecord]:
    """Tasks one line at a time (an import of any size streams); a bad line raises a coded error naming
    the file and line when it is reached."""
    for lineno, task in json_lines(path):
        yield check_record(_from_task(task, path, lineno), path, f"line {lineno}")


def _from_task(task, path: Path, lineno: int) -> DocRecord:
    def bad(reason: str):
        return AnnotatorError(Errors.E016.format(path=path, line=lineno, reason=reason))

    if not isinstance(task, dict):
        raise bad("the line is not a JSON object")
    text = task.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad('"text" is missing or empty')
    meta = task.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise bad(f'"meta" must be a JSON object, not {type(meta).__name__}')
    meta = dict(meta or {})
    name = task.get("name") or meta.pop("name", None) or f"{Path(path).stem}-{lineno}"
    title = meta.pop("title", None)
    if not isinstance(name, (str, int)) or isinstance(name, bool) or not isinstance(title, (str, type(None))):
        raise bad('"name" and "title" must be strings')
    annotator = task.get("_annotator_id")
    if annotator is not None and not isinstance(annotator, (str, int)) or isinstance(annotator, bool):
        raise bad('"_annotator_id" must be a string')
    raw_spans = task.get("spans")
    if raw_spans is not None and not isinstance(raw_spans, list):
        raise bad(f'"spans" must be a list, not {type(raw_spans).__name__}')
    spans = []
    for sp in raw_spans or []:
        if not isinstance(sp, dict):
            raise bad("each span must be a JSON object")
        start, end, label, kb_id = sp.get("start"), sp.get("end"), sp.get("label"), sp.get("kb_id")
        problem = span_problem(text, start, end, label, kb_id)
        if problem:
            raise bad(problem)
        if "text" in sp and sp["text"] != text[start:end]:
            raise bad(f"span {start}-{end} says {sp['text']!r} but the text there is {text[start:end]!r}")
        status = sp.get("status", "accepted")
        if status not in STATUSES:
            raise bad(f"span {start}-{end} has status {status!r}; expected \"accepted\" or \"suggested\"")
        spans.append(SpanRecord(start, end, label, kb_id, status))
    return DocRecord(name=str(name), text=text, title=title or "", meta=meta, spans=spans,
                     annotator=None if annotator is None else str(annotator),
                     answer=task["answer"] if isinstance(task.get("answer"), str) else None,
                     annotated="spans" in task or "answer" in task)
