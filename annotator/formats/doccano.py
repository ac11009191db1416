"""doccano sequence-labelling JSONL: one document per line.

    {"text": "Kim Kwan-jin visits Tokyo.", "label": [[0, 12, "PERSON"], [20, 25, "GPE"]],
     "name": "a1", "title": "...", "meta": {...}, "kb_ids": [[0, 12, "PERSON", "Q495727"]]}

Reading also takes doccano's other spellings: `"labels": [[s, e, label]]` and
`"entities": [{"start_offset": s, "end_offset": e, "label": label}]` (the `[s, e, label]` list form
too). doccano has no KB ids; ours ride in `kb_ids`, an extra key that doccano keeps as metadata,
matched to spans by (start, end, label) so edits in doccano leave the other links intact. Keys other
than the known ones go into `meta`, as doccano's exports flatten metadata into the line; their names
are carried (`carried["doccano"]["top"]`) and they are written back at the top of the line, where
doccano reads an intent's `cats` or a line's `Comments`, not inside `meta`.

Offsets are code points. doccano itself has counted in code points (2019 fix) and, since its
rewrite, in UTF-16 code units unless "Count grapheme clusters as one character" is set; with
emoji in the text check which one an export used. Spans carry no text to check against.

The relation-extraction variant, `"entities": [{"id", ...}]` with `"relations": [{"from_id", "to_id",
"type"}]`, keeps its relations in `DocRecord.carried["doccano"]["relations"]`, each naming its two spans
by [start, end, label] so that edits here cannot point it elsewhere; a document that has them is written
back in that variant (entities numbered from 0), without the relations whose span was deleted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_record, lines, loads, span_problem
from annotator.formats.jsonl import note_skipped, reason_of

SUFFIX = ".jsonl"
FORMAT = "doccano"  # this format's key of DocRecord.carried
_KNOWN = {"text", "label", "labels", "entities", "relations", "name", "title", "meta", "kb_ids",
          "id", "annotator"}


def to_line(doc: DocRecord) -> dict:
    spans = sorted(doc.spans, key=lambda s: (s.start, s.end, s.label, s.kb_id is None, s.kb_id or ""))
    kept = doc.carried.get(FORMAT) or {}
    relations = kept.get("relations")
    if relations is None:
        line = {"text": doc.text, "label": [[s.start, s.end, s.label] for s in spans], "name": doc.name}
    else:
        line = {"text": doc.text, "entities": [{"id": i, "start_offset": s.start, "end_offset": s.end,
                                                "label": s.label} for i, s in enumerate(spans)],
                "relations": _relations_out(relations, spans), "name": doc.name}
    if doc.title:
        line["title"] = doc.title
    meta = dict(doc.meta)
    for key in kept.get("top") or []:
        if isinstance(key, str) and key in meta and key not in line:
            line[key] = meta.pop(key)  # back where the source had it
    if meta:
        line["meta"] = meta
    if doc.annotator is not None:
        line["annotator"] = doc.annotator
    links = [[s.start, s.end, s.label, s.kb_id] for s in spans if s.kb_id is not None]
    if links:
        line["kb_ids"] = links
    return line


def _relations_out(relations: list, spans: list[SpanRecord]) -> list[dict]:
    """The kept relations between spans still there, with doccano's entity ids for this line."""
    ids: dict[tuple, int] = {}
    for i, s in enumerate(spans):
        ids.setdefault((s.start, s.end, s.label), i)
    out = []
    for rel in relations:
        head, tail = ids.get(tuple(rel["from"])), ids.get(tuple(rel["to"]))
        if head is not None and tail is not None:
            out.append({"id": len(out), "from_id": head, "to_id": tail, "type": rel["type"],
                        **rel.get("keys", {})})
    return out


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    report = FormatReport()
    with open(out, "w", encoding="utf-8", newline="\n") as fh:
        for doc in docs:
            fh.write(json.dumps(to_line(doc), ensure_ascii=False) + "\n")
            report.documents += 1
            report.spans += len(doc.spans)
    return report


def read(path: Path) -> list[DocRecord]:
    return list(stream(path))


def stream(path: Path, skip_invalid: bool = False, skipped: list[str] | None = None) -> Iterator[DocRecord]:
    """Documents a line at a time; with `skip_invalid` a line that cannot be read is left out and
    listed in `skipped` ("file, line N: reason") instead of refusing the file."""
    path = Path(path)
    for lineno, line in lines(path):
        if not line.strip():
            continue
        try:
            rec = check_record(from_line(loads(line, path, f"line {lineno}"), path, lineno), path, f"line {lineno}")
        except AnnotatorError as e:
            if not skip_invalid:
                raise
            note_skipped(skipped, path, lineno, reason_of(e))
            continue
        yield rec


def _triples(obj: dict, bad) -> list[tuple[int, int, str]]:
    out = []
    for key in ("label", "labels", "entities"):
        items = obj.get(key) or []
        if not isinstance(items, list):
            raise bad(f'"{key}" must be a list, not {type(items).__name__}')
        for item in items:
            if isinstance(item, dict):
                item = [item.get("start_offset"), item.get("end_offset"), item.get("label")]
            if not isinstance(item, (list, tuple)) or len(item) != 3:
                raise bad(f'each item of "{key}" must be [start, end, label] or an entity object')
            start, end, label = item
            if type(start) is not int or type(end) is not int or not isinstance(label, str):
                raise bad(f'"{key}" item {item!r} needs integer offsets and a string label')
            out.append((start, end, label))
    return out


def from_line(obj, path: Path, lineno: int) -> DocRecord:
    def bad(reason: str) -> AnnotatorError:
        return AnnotatorError(Errors.E100.format(path=path, line=lineno, reason=reason))

    if not isinstance(obj, dict):
        raise bad("the line is not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        keys = ", ".join(f'"{k}"' for k in list(obj)[:8]) or "none"
        raise bad(f'"text" is missing or not a string (the line\'s keys: {keys}; doccano exports the text as '
                  f'"text" and the spans as "label" or "entities": rename the columns so)')
    links: dict[tuple, list[str]] = {}  # several spans may share (start, end, label)
    kb_items = obj.get("kb_ids") or []
    if not isinstance(kb_items, list):
        raise bad('"kb_ids" must be a list of [start, end, label, kb_id]')
    for item in kb_items:
        if not isinstance(item, list) or len(item) != 4 or not isinstance(item[3], str):
            raise bad('each item of "kb_ids" must be [start, end, label, kb_id]')
        if not all(isinstance(x, (int, str)) for x in item[:3]):
            raise bad('each item of "kb_ids" must be [start, end, label, kb_id]')
        links.setdefault(tuple(item[:3]), []).append(item[3])
    spans = []
    for start, end, label in _triples(obj, bad):
        same = links.get((start, end, label))
        kb_id = same.pop(0) if same else None
        problem = span_problem(text, start, end, label, kb_id)
        if problem:
            raise bad(problem)
        spans.append(SpanRecord(start, end, label, kb_id))
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise bad(f'"meta" must be a JSON object, not {type(meta).__name__}')
    meta = dict(meta or {})
    top = [k for k in obj if k not in _KNOWN and k not in meta]
    meta.update({k: obj[k] for k in top})
    name = obj.get("name") or f"{path.stem}-{lineno}"
    title, annotator = obj.get("title") or "", obj.get("annotator")
    if not isinstance(name, (str, int)) or isinstance(name, bool) or not isinstance(title, str):
        raise bad('"name" and "title" must be strings')
    if annotator is not None and not isinstance(annotator, str):
        raise bad('"annotator" must be a string')
    relations = _relations_in(obj, bad)
    kept = {"relations": relations, "counts": {"relations": len(relations)}} if relations else {}
    if top:
        kept["top"] = top
    return DocRecord(name=str(name), text=text, title=title, meta=meta, spans=spans, annotator=annotator,
                     annotated=any(key in obj for key in ("label", "labels", "entities")),
                     carried={FORMAT: kept} if kept else {})


def _relations_in(obj: dict, bad) -> list[dict]:
    """The line's relations, each naming its spans by [start, end, label] rather than by entity id."""
    items = obj.get("relations") or []
    if not isinstance(items, list):
        raise bad(f'"relations" must be a list, not {type(items).__name__}')
    if not items:
        return []
    entities = {}
    for item in obj.get("entities") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), (int, str)):
            entities[item["id"]] = [item.get("start_offset"), item.get("end_offset"), item.get("label")]
    out = []
    for rel in items:
        if not isinstance(rel, dict) or not isinstance(rel.get("type"), str):
            raise bad('each relation must be an object with "from_id", "to_id" and a string "type"')
        ends = [entities.get(rel.get(key)) if isinstance(rel.get(key), (int, str)) else None
                for key in ("from_id", "to_id")]
        if None in ends:
            raise bad(f"relation {rel.get('id', '')!r} names an entity id the line's \"entities\" lack")
        keys = {k: v for k, v in rel.items() if k not in ("id", "from_id", "to_id", "type")}
        out.append({"from": ends[0], "to": ends[1], "type": rel["type"], **({"keys": keys} if keys else {})})
    return out
