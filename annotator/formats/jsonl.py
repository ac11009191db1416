"""Prodigy-style JSONL: one task per line, offsets in code points.

    {"text": "Kim Kwan-jin visits Tokyo.", "meta": {"name": "a1", "title": "..."},
     "spans": [{"start": 0, "end": 12, "label": "PERSON", "text": "Kim Kwan-jin",
                "token_start": 0, "token_end": 2, "kb_id": "Q495727", "status": "accepted"}],
     "_input_hash": 123, "_annotator_id": "ana", "answer": "accept"}

Every span says its `status`: "accepted" (a person's decision) or "suggested" (an unchecked
suggestion, written only when asked for). Reading takes a span without one as accepted, and accepts
plain `{"text", "meta"?, "name"?}` lines too (a corpus to import).

What Prodigy writes that the project does not model is carried through in `DocRecord.carried["prodigy"]`
and written back for the same document: the task's other keys (`_input_hash`, `_task_hash`, `tokens`,
`answer`, `options`, `accept`, `_view_id`, `_session_id`, ...), `relations` (dropped on the way out when
one of their spans was deleted), and each span's other keys (`type`, `score`, `source`, ...). Span
`token_start`/`token_end` are then counted in the task's own `tokens`.

A span the annotator rejected (its own `"answer": "reject"`, as `ner.teach` writes, or the task's in
the binary `ner` view) says "this is not that entity": it is no span here, but is carried whole and
written back in the task's spans, and counted in the import summary. One they skipped (`"ignore"`)
is nobody's decision: an unchecked suggestion. A span with `token_start` and
`token_end` but no `start`/`end` takes its offsets from the task's `tokens`.

Entity-linking tasks (`options` with ids, `accept: [id]`, one span, answer accept) give the span that
link; an id starting with "NIL" (Prodigy's NIL_otherLink, NIL_ambiguous) means NIL. A task whose text is
empty or whitespace is skipped (Prodigy writes such tasks; they are nothing to annotate); `stream` lists
it in `skipped`, and with `skip_invalid` a task it cannot read too, instead of refusing the file.
"""

from __future__ import annotations

import json
import zlib
from bisect import bisect_left, bisect_right
from dataclasses import replace
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Iterator

from annotator.core.records import NIL, SPAN_STATUSES, DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_record, kb_id_problem, lines, loads, span_problem

SUFFIX = ".jsonl"
FORMAT = "prodigy"  # this format's key of DocRecord.carried
_TASK_KEYS = {"text", "meta", "spans", "name", "_annotator_id", "relations"}  # modelled, or kept apart
_SPAN_KEYS = {"start", "end", "label", "text", "token_start", "token_end", "kb_id", "status", "note"}


def input_hash(text: str) -> int:
    """A stable 32-bit hash of the text (Prodigy's `_input_hash` is an opaque int)."""
    return zlib.crc32(text.encode("utf-8")) - 2**31


_SPAN_ORDER = attrgetter("start", "end", "label")


def _starts_ends(doc: DocRecord) -> tuple[list[int], list[int]]:
    """Token starts and ends; from the stored bytes when the record comes from a project (StoredRecord),
    without a tuple per token."""
    packed = getattr(doc, "packed", None)
    if packed is not None:
        flat = memoryview(packed).cast("i")
        return flat[0::2].tolist(), flat[1::2].tolist()
    tokens = doc.tokens or []
    return [s for s, _ in tokens], [e for _, e in tokens]


def _token_offsets(tokens) -> list[tuple[int, int]] | None:
    """(start, end) of Prodigy's own `tokens`, when each is an object with integer offsets."""
    if not isinstance(tokens, list) or not tokens:
        return None
    out = []
    for tok in tokens:
        if not isinstance(tok, dict) or type(tok.get("start")) is not int or type(tok.get("end")) is not int:
            return None
        out.append((tok["start"], tok["end"]))
    return out if out == sorted(out) else None


def to_task(doc: DocRecord) -> dict:
    kept = doc.carried.get(FORMAT) or {}
    original = kept.get("task") or {}
    tokens = _token_offsets(original.get("tokens"))
    starts, ends = ([s for s, _ in tokens], [e for _, e in tokens]) if tokens else _starts_ends(doc)
    span_keys = {(s, e, label): keys for s, e, label, keys in kept.get("spans") or []}
    spans, text, n_tokens = [], doc.text, len(starts)
    for sp in sorted(doc.spans, key=_SPAN_ORDER):  # a loop per span of a whole export: kept lean
        start, end = sp.start, sp.end
        extra = span_keys.get((start, end, sp.label)) if span_keys else None
        item = {"start": start, "end": end, "label": sp.label, "text": text[start:end]}
        if extra:
            item = {**extra, **item}
        if n_tokens:
            first, last = bisect_right(starts, start) - 1, bisect_left(ends, end)
            item["token_start"], item["token_end"] = (first, last) if first >= 0 and last < n_tokens else (None, None)
        if sp.kb_id is not None:
            item["kb_id"] = sp.kb_id
        item["status"] = sp.status
        if sp.note:
            item["note"] = sp.note
        spans.append(item)
    rejected = [sp for sp in kept.get("rejected") or [] if isinstance(sp, dict)]
    if rejected:  # as the annotator rejected them, in order with the others
        spans = sorted(spans + rejected, key=lambda sp: (sp.get("start", -1), sp.get("end", -1)))
    meta = {"name": doc.name, "title": doc.title, **doc.meta}
    task = {"text": doc.text, "meta": meta, "spans": spans, "_input_hash": input_hash(doc.text)}
    task.update(original)  # the source's hashes, tokens, answer ... as it wrote them
    if doc.annotator is not None:
        task["_annotator_id"] = doc.annotator
    task.setdefault("answer", "accept")
    if "relations" in kept:
        here = {(sp.get("start"), sp.get("end")) for sp in spans}
        task["relations"] = [r for r in kept["relations"] if _ends_here(r, here)]
    _accept_link(task, doc.spans)
    return task


def _ends_here(relation, here: set) -> bool:
    """Whether both spans a Prodigy relation names are still in the document."""
    for key in ("head_span", "child_span"):
        sp = relation.get(key) if isinstance(relation, dict) else None
        if isinstance(sp, dict) and (sp.get("start"), sp.get("end")) not in here:
            return False
    return True


def _accept_link(task: dict, spans: list[SpanRecord]) -> None:
    """An entity-linking task says its span's link (as edited here) in `accept`, when it is an option."""
    options = task.get("options")
    if not isinstance(options, list) or len(spans) != 1 or spans[0].kb_id in (None, NIL):
        return
    for option in options:
        if isinstance(option, dict) and str(option.get("id")) == spans[0].kb_id:
            task["accept"] = [option["id"]]
            return


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
    """Every task of the file (what the other formats' `read` gives); blank tasks are left out."""
    return list(stream(path))


def stream(path: Path, skip_invalid: bool = False, skipped: list[str] | None = None) -> Iterator[DocRecord]:
    """Tasks one line at a time (an import of any size streams). A bad line raises a coded error naming
    the file and line when it is reached, unless `skip_invalid`: then it is left out and, like a task
    with blank text, listed in `skipped` as "file, line N: reason"."""
    path = Path(path)
    for lineno, line in lines(path):
        if not line.strip():
            continue
        try:
            task = loads(line, path, f"line {lineno}")
            if isinstance(task, dict) and isinstance(task.get("text"), str) and not task["text"].strip():
                note_skipped(skipped, path, lineno, "the text is empty or only whitespace")
                continue
            rec = check_record(_from_task(task, path, lineno), path, f"line {lineno}", spans=False)  # checked there
        except AnnotatorError as e:
            if not skip_invalid:
                raise
            note_skipped(skipped, path, lineno, reason_of(e))
            continue
        yield rec


def note_skipped(skipped: list[str] | None, path: Path, lineno: int, reason: str) -> None:
    if skipped is not None:
        skipped.append(f"{Path(path).name}, line {lineno}: {reason}")


def reason_of(e: AnnotatorError) -> str:
    """A coded error's first sentence, without the file (the skipped list names it) or what to do."""
    msg = str(e)
    code = f"[{e.code}] " if e.code else ""
    msg = msg[len(code):] if msg.startswith(code) else msg
    if msg.startswith("'") and ": " in msg:
        msg = msg.split(": ", 1)[1]
        if msg.startswith("line ") and ": " in msg:
            msg = msg.split(": ", 1)[1]
    for end in (". Fix", ". Each line", "; nothing was", ". Nothing was"):
        if end in msg:
            msg = msg[:msg.index(end)]
    return f"{code}{msg}"


def _from_task(task, path: Path, lineno: int) -> DocRecord:
    def bad(reason: str):
        return AnnotatorError(Errors.E016.format(path=path, line=lineno, reason=reason))

    if not isinstance(task, dict):
        raise bad("the line is not a JSON object")
    text = task.get("text")
    if text is None and {"id", "name"} <= task.keys():  # seeds/kb.jsonl given to `import`
        raise bad('"text" is missing: the line is a knowledge base entity (id, name), which `annotator kb import '
                  'FILE` reads')
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
    spans, span_keys, rejected = [], [], []
    answer = task["answer"] if isinstance(task.get("answer"), str) else None
    binary = task.get("_view_id") == "ner"  # the binary view: the task's answer is its span's
    tokens = None
    for sp in raw_spans or []:
        if not isinstance(sp, dict):
            raise bad("each span must be a JSON object")
        start, end, label, kb_id = sp.get("start"), sp.get("end"), sp.get("label"), sp.get("kb_id")
        if start is None and end is None and "token_start" in sp:
            tokens = tokens if tokens is not None else _token_offsets(task.get("tokens")) or []
            start, end = _from_tokens(sp, tokens, bad)
        problem = span_problem(text, start, end, label, kb_id)
        if problem:
            raise bad(problem)
        verdict = sp.get("answer", answer if binary else None)
        if verdict == "reject":
            rejected.append(sp)
            continue
        if "text" in sp and sp["text"] != text[start:end]:
            raise bad(f"span {start}-{end} says {sp['text']!r} but the text there is {text[start:end]!r}")
        status = sp.get("status", "suggested" if verdict == "ignore" else "accepted")  # skipped: not decided
        if status not in SPAN_STATUSES:
            raise bad(f"span {start}-{end} has status {status!r}; expected \"accepted\" or \"suggested\"")
        note = sp.get("note", "")
        if not isinstance(note, str):
            raise bad(f"span {start}-{end} has note {note!r}; expected a string")
        spans.append(SpanRecord(start, end, label, kb_id, status, note))
        if set(sp) - _SPAN_KEYS:
            span_keys.append([start, end, label, {k: v for k, v in sp.items() if k not in _SPAN_KEYS}])
    spans = _linked(task, spans, answer, bad)
    extra: dict = {"task": {k: v for k, v in task.items() if k not in _TASK_KEYS}}
    if span_keys:
        extra["spans"] = span_keys
    counts = {}  # for the import summary
    if rejected:
        extra["rejected"] = rejected
        counts["rejected spans"] = len(rejected)
    if "relations" in task:
        if not isinstance(task["relations"], list):
            raise bad(f'"relations" must be a list, not {type(task["relations"]).__name__}')
        extra["relations"] = task["relations"]
        counts["relations"] = len(task["relations"])
    if counts:
        extra["counts"] = counts
    return DocRecord(name=str(name), text=text, title=title or "", meta=meta, spans=spans,
                     annotator=None if annotator is None else str(annotator), answer=answer,
                     annotated="spans" in task or "answer" in task,
                     carried={FORMAT: extra} if extra["task"] or len(extra) > 1 else {})


def _from_tokens(sp: dict, tokens: list[tuple[int, int]], bad) -> tuple[int, int]:
    """(start, end) of a span given by `token_start`/`token_end` only, from the task's tokens."""
    first, last = sp.get("token_start"), sp.get("token_end")
    if type(first) is not int or type(last) is not int or not 0 <= first <= last < len(tokens):
        raise bad(f"span tokens {first!r}-{last!r} with no start and end are not tokens of the task's "
                  f"\"tokens\" ({len(tokens)} with offsets)")
    return tokens[first][0], tokens[last][1]


def _linked(task: dict, spans: list[SpanRecord], answer: str | None, bad) -> list[SpanRecord]:
    """An accepted entity-linking task: `accept` names one of the `options` for its one span."""
    options, accept = task.get("options"), task.get("accept")
    if (not isinstance(options, list) or not isinstance(accept, list) or len(accept) != 1 or len(spans) != 1
            or spans[0].kb_id is not None or answer not in (None, "accept")):
        return spans
    choice = accept[0]
    if not isinstance(choice, (str, int)) or isinstance(choice, bool):
        return spans
    if choice not in [o.get("id") for o in options if isinstance(o, dict)]:
        return spans
    kb_id = NIL if str(choice).startswith("NIL") else str(choice)
    problem = kb_id_problem(kb_id)
    if problem:
        raise bad(problem)
    return [replace(spans[0], kb_id=kb_id)]
