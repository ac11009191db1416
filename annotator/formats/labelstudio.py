"""Label Studio JSON: one file holding a list of tasks.

    [{"data": {"text": "Kim Kwan-jin visits Tokyo.", "name": "a1", "title": "...", "meta": {}},
      "annotations": [{"result": [
        {"id": "s1", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 0, "end": 12, "text": "Kim Kwan-jin", "labels": ["PERSON"]}},
        {"id": "s1", "from_name": "kb_id", "to_name": "text", "type": "textarea",
         "value": {"start": 0, "end": 12, "text": ["Q495727"]}}]}]}]

A KB id is a per-region TextArea answer: a `textarea` result with the region's `id`, which is how
Label Studio stores a `<TextArea name="kb_id" toName="text" perRegion="true"/>` beside
`<Labels name="label" toName="text">` and `<Text name="text" value="$text"/>`, so the ids stay
visible and editable there. A person's decisions are the task's `annotations` (a checked document
with no entity: one annotation whose result is []; the model layer: none). Unchecked suggestions,
written only when asked for, are `predictions` with `model_version` "annotator-suggestions", which
Label Studio shows as pre-annotations to accept or correct, never as someone's work.

Offsets are code points (Label Studio's since 2022); an older export
that counted UTF-16 units is recognised where the region's `text` then matches, and converted.
Reading: cancelled annotations are skipped. A task with several annotations gives one document per
annotation, its annotator taken from `completed_by`. Predictions, ours and any model's (an ML
backend's, whatever its `model_version`), come back as unchecked suggestions beside each annotation
(in the layer the task's spans go to): Label Studio shows them to the annotator as pre-annotations
to accept or correct, and so does the annotator; a prediction the annotation already holds is not
doubled.

Carried through, in `carried["labelstudio"]` (stored with the document, left out of `data.meta`): the
task's `id`, its data keys other than text/name/title/meta/annotator, the labels' `from_name` and
`to_name` (and a region's own `from_name` where a project has several Labels tags), each region's id
(by start:end:label), the predictions' `model_version`, the data key the text came under (a Text tag
reading `$article`: found as the key on which the labelled regions lie), and an annotation's results
that are no labelled region (`choices`, `relation`, `textarea`, `rating` ...), as they were: written
back into the annotation while what they refer to is (a relation's two regions, a per-region answer's
region), counted in the import summary. A cancelled annotation holds no decision: it is left out, and
counted in the summary, as are drafts, reviews and predictions' results that are no labelled region.
Writing puts them back; a document from elsewhere gets a fresh integer `id` (every exported task has
one, as Label Studio's importer and label-studio-converter expect) and `from_name`/`to_name` from
`write`'s arguments, else "label"/"text".
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Iterable

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_record, loads, read_text, span_problem

SUFFIX = ".json"
LABELS, KB = "label", "kb_id"
MODEL_VERSION = "annotator-suggestions"  # the `model_version` of the predictions we write


KEPT = "labelstudio"  # this format's key of DocRecord.carried: what the task had that the project does not model
OURS = ("text", "name", "title", "meta", "annotator")  # data keys this module reads or writes itself


def region_key(start: int, end: int, label: str) -> str:
    return f"{start}:{end}:{label}"


def results(doc: DocRecord, spans, names: tuple[str, str], used: set, prefix: str = "s") -> list[dict]:
    """The regions of `spans` (labels, and the KB id as a per-region textarea), with the region ids
    the document came with where it has them; `used` holds the task's ids so far."""
    from_name, to_name = names
    kept = doc.carried.get(KEPT) or {}
    ids = kept.get("regions") or {}
    own = (kept.get("names") or {}) if from_name == (kept.get("from_name") or LABELS) else {}  # else as asked
    result = []
    for n, sp in enumerate(sorted(spans, key=lambda s: (s.start, s.end, s.label)), start=1):
        key = region_key(sp.start, sp.end, sp.label)
        rid = ids.get(key)
        if not isinstance(rid, (str, int)) or isinstance(rid, bool) or rid in used:
            rid, k = f"{prefix}{n}", n
            while rid in used:
                k += 1
                rid = f"{prefix}{k}"
        used.add(rid)
        value = {"start": sp.start, "end": sp.end, "text": doc.text[sp.start:sp.end]}
        origin = "prediction" if prefix == "p" else "manual"
        tag = own.get(key) if isinstance(own.get(key), str) else from_name
        result.append({"id": rid, "from_name": tag, "to_name": to_name, "type": "labels",
                       "origin": origin, "value": {**value, "labels": [sp.label]}})
        if sp.kb_id is not None:
            result.append({"id": rid, "from_name": KB, "to_name": to_name, "type": "textarea",
                           "origin": origin, "value": {**value, "text": [sp.kb_id]}})
    return result


def to_task(doc: DocRecord, from_name: str | None = None, to_name: str | None = None) -> dict:
    kept = doc.carried.get(KEPT) or {}
    names = (from_name or kept.get("from_name") or LABELS, to_name or kept.get("to_name") or "text")
    meta = doc.meta
    extra = kept.get("data") if isinstance(kept.get("data"), dict) else {}
    data = {**extra, "text": doc.text, "name": doc.name, "title": doc.title, "meta": meta}
    if isinstance(kept.get("text_key"), str) and kept["text_key"] not in data:
        data = {kept["text_key"]: doc.text, **data}  # where the project's Text tag reads it ($key)
    if doc.annotator is not None:
        data["annotator"] = doc.annotator
    decided = [sp for sp in doc.spans if sp.status != "suggested"]
    suggested = [sp for sp in doc.spans if sp.status == "suggested"]
    used: set = set()
    annotations = ([] if doc.annotator == MODEL_LAYER
                   else [{"result": results(doc, decided, names, used) + _still_there(kept, used),
                          "was_cancelled": False}])
    task = {"id": kept.get("id"), "data": data, "annotations": annotations}
    if suggested:
        version = kept.get("model_version") if isinstance(kept.get("model_version"), str) else MODEL_VERSION
        task["predictions"] = [{"model_version": version, "result": results(doc, suggested, names, used, "p")}]
    return task


def _still_there(kept: dict, written: set) -> list[dict]:
    """The carried results (choices, relations, per-region answers ...) whose regions are still written:
    a relation needs both its regions, a per-region answer its region; a result of the whole text stays."""
    regions = set((kept.get("regions") or {}).values())
    out = []
    for r in kept.get("results") or []:
        if not isinstance(r, dict):
            continue
        relation = r.get("type") == "relation"
        refs = [r.get("from_id"), r.get("to_id")] if relation else [r.get("id")]
        if all(ref in written if relation or ref in regions else True for ref in refs):
            out.append(r)
    return out


def number_tasks(tasks: list[dict]) -> None:
    """Every task gets an integer `id`: the one it came with unless another task has it, else the
    next free one."""
    seen: set[int] = set()
    for task in tasks:
        tid = task["id"]
        if type(tid) is not int or tid in seen:
            task["id"] = None
        else:
            seen.add(tid)
    free = 1
    for task in tasks:
        if task["id"] is None:
            while free in seen:
                free += 1
            task["id"] = free
            seen.add(free)


def write(docs: Iterable[DocRecord], out: Path, *, from_name: str | None = None,
          to_name: str | None = None) -> FormatReport:
    """`from_name`/`to_name`: the project's Labels and Text names, where a document did not come
    with its own (defaults "label" and "text")."""
    report = FormatReport()
    tasks = []
    for doc in docs:
        tasks.append(to_task(doc, from_name, to_name))
        report.documents += 1
        report.spans += len(doc.spans)
    number_tasks(tasks)
    Path(out).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


def read(path: Path) -> list[DocRecord]:
    path = Path(path)
    tasks = loads(read_text(path, "utf-8-sig"), path, "the file")
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise AnnotatorError(Errors.E101.format(path=path, reason="expected a list of tasks"))
    hint = next((key for key in map(_regions_key, tasks) if key), None)
    docs = []
    for number, task in enumerate(tasks, start=1):
        docs.extend(check_record(doc, path, f"task {number}") for doc in from_task(task, path, number, hint))
    return docs


def from_task(task, path: Path, number: int, hint: str | None = None) -> list[DocRecord]:
    """The task's documents, one per annotation; `hint`: the data key holding the text in the file's
    other tasks, when it is not "text"."""
    def bad(reason: str) -> AnnotatorError:
        return AnnotatorError(Errors.E101.format(path=path, reason=f"task {number}: {reason}"))

    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict):
        raise bad('a task needs "data" with a string "text"')
    annotations = task.get("annotations") or task.get("completions") or []
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise bad('"annotations" must be a list of objects')
    text_key = "text" if isinstance(data.get("text"), str) else hint if isinstance(data.get(hint), str) else None
    if text_key is None:
        text_key = _regions_key(task)
    if text_key is None:
        keys = ", ".join(f'"{k}"' for k, v in data.items() if isinstance(v, str)) or "none"
        raise bad(f'a task needs "data" with a string "text" (string keys of its data: {keys}, and no labelled '
                  f'region tells which one the Text tag reads: rename it to "text")')
    text = data[text_key]
    kept_annotations = [a for a in annotations if not a.get("was_cancelled")]
    cancelled = len(annotations) - len(kept_annotations)
    annotated = bool(kept_annotations)  # an annotation with an empty result: checked, nothing found
    kept_annotations = kept_annotations or [{"result": []}]
    name = data.get("name") or f"{path.stem}-{task.get('id', number)}"
    meta_in, title = data.get("meta") or {}, data.get("title") or ""
    if not isinstance(meta_in, dict):
        raise bad(f'"data.meta" must be a JSON object, not {type(meta_in).__name__}')
    if not isinstance(name, (str, int)) or isinstance(name, bool) or not isinstance(title, str):
        raise bad('"data.name" and "data.title" must be strings')
    name = str(name)
    kept: dict = {}
    if isinstance(task.get("id"), (str, int)) and not isinstance(task.get("id"), bool):
        kept["id"] = task["id"]
    extra = {k: v for k, v in data.items() if k not in OURS and k != text_key}
    if extra:
        kept["data"] = extra
    if text_key != "text":
        kept["text_key"] = text_key
    predicted, regions, unread = [], {}, []
    for prediction in task.get("predictions") or []:
        if not isinstance(prediction, dict):
            raise bad('"predictions" must be a list of objects')
        result = prediction.get("result") or []
        predicted += [SpanRecord(sp.start, sp.end, sp.label, sp.kb_id, "suggested")
                      for sp in spans_of(result, text, bad, regions, kept, unread)]
        version = prediction.get("model_version")
        if isinstance(version, str) and version and version != MODEL_VERSION:
            kept.setdefault("model_version", version)
    left = Counter(f"labelstudio prediction {r.get('type') or 'untyped'} results" for r in unread)
    left.update({f"labelstudio {key}": len(task[key]) for key in ("drafts", "reviews")
                 if isinstance(task.get(key), list) and task[key]})
    left["labelstudio annotation reviews"] += sum(len(a["reviews"]) for a in annotations
                                                  if isinstance(a.get("reviews"), list))
    left["labelstudio cancelled annotations"] += cancelled
    left += Counter()  # (drops the zero counts)
    docs = []
    for annotation in kept_annotations:
        who = annotation.get("completed_by")
        if isinstance(who, dict):
            who = who.get("email") or who.get("id")
        annotator = str(who) if who is not None else data.get("annotator")
        own = dict(kept, regions=dict(regions))
        others: list = []
        spans = spans_of(annotation.get("result") or [], text, bad, own["regions"], own, others)
        if others:
            own["results"] = others
            own["counts"] = dict(Counter(f"{r.get('type') or 'untyped'} results" for r in others))
        decided = {(sp.start, sp.end, sp.label) for sp in spans}
        spans += [sp for sp in predicted if (sp.start, sp.end, sp.label) not in decided]
        if not own["regions"]:
            del own["regions"]
        docs.append(DocRecord(name=name, text=text, title=title, meta=dict(meta_in), spans=spans,
                              annotator=annotator, annotated=annotated, carried={KEPT: own} if own else {},
                              left_out=dict(left) if not docs else {}))  # once for the task
    return docs


def _regions_key(task) -> str | None:
    """For a task without data.text (a Text tag reading `$article`): the one data key on whose string
    every labelled region of its annotations and predictions lies, as its `value.text` says."""
    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict) or isinstance(data.get("text"), str):
        return None
    items = [a for key in ("annotations", "completions", "predictions") if isinstance(task.get(key), list)
             for a in task[key] if isinstance(a, dict) and isinstance(a.get("result"), list)]
    regions = [r.get("value") for a in items for r in a["result"]
               if isinstance(r, dict) and r.get("type") == "labels" and isinstance(r.get("value"), dict)]
    keys = [k for k, v in data.items() if isinstance(v, str) and k not in OURS
            and regions and all(_on(v, value) for value in regions)]
    return keys[0] if len(keys) == 1 else None


def _on(text: str, value: dict) -> bool:
    start, end, surface = value.get("start"), value.get("end"), value.get("text")
    return type(start) is int and type(end) is int and isinstance(surface, str) and text[start:end] == surface


def spans_of(result, text: str, bad, regions: dict | None = None, kept: dict | None = None,
             others: list | None = None) -> list[SpanRecord]:
    """The result's labelled regions as spans; their ids go into `regions` (by start:end:label) and
    the first region's from_name/to_name into `kept`; the results that are neither a labelled region
    nor its KB id go into `others`, as they are."""
    regions = {} if regions is None else regions
    kept = {} if kept is None else kept
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise bad('"result" must be a list of objects')
    kb_ids = {}
    for r in result:
        value = r.get("value")
        if r.get("type") == "textarea" and r.get("from_name") == KB and isinstance(value, dict):
            answers = value.get("text")
            if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
                raise bad(f"textarea result {r.get('id')!r} needs a list of strings in value.text")
            if answers and isinstance(r.get("id"), (str, int)):
                kb_ids[r.get("id")] = answers[0]
    spans, utf16 = [], None
    for r in result:
        if r.get("type") != "labels":
            if others is not None and not (r.get("type") == "textarea" and r.get("from_name") == KB):
                others.append(r)
            continue
        value = r.get("value") if isinstance(r.get("value"), dict) else {}
        start, end, labels = value.get("start"), value.get("end"), value.get("labels")
        if type(start) is not int or type(end) is not int:
            raise bad(f"region {r.get('id')!r} needs integer value.start and value.end (Text regions only)")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            raise bad(f"region {r.get('id')!r} needs a non-empty list of labels")
        surface = value.get("text")
        if surface is not None and not isinstance(surface, str):
            raise bad(f"region {r.get('id')!r} has a value.text that is not a string")
        if surface is not None and text[start:end] != surface:
            utf16 = utf16 if utf16 is not None else utf16_table(text)
            start, end = utf16.get(start, -1), utf16.get(end, -1)
            if start < 0 or end < 0 or text[start:end] != surface:
                raise bad(f"region {r.get('id')!r} at {value['start']}-{value['end']} says "
                          f"{surface!r} but the text there is {text[value['start']:value['end']]!r}")
        if not 0 <= start < end <= len(text):
            raise bad(f"region {r.get('id')!r} at {start}-{end} lies outside the text "
                      f"({len(text)} characters)")
        rid = r.get("id") if isinstance(r.get("id"), (str, int)) and not isinstance(r.get("id"), bool) else None
        kb_id = kb_ids.get(rid) if rid is not None else None
        for key in ("from_name", "to_name"):
            if isinstance(r.get(key), str) and r[key]:
                kept.setdefault(key, r[key])
        for label in labels:
            problem = span_problem(text, start, end, label, kb_id)
            if problem:
                raise bad(f"region {r.get('id')!r}: {problem}")
            spans.append(SpanRecord(start, end, label, kb_id))
            if rid is not None:
                regions[region_key(start, end, label)] = rid
            if isinstance(r.get("from_name"), str) and r["from_name"] != kept.get("from_name"):
                kept.setdefault("names", {})[region_key(start, end, label)] = r["from_name"]  # another Labels tag
    return spans


def utf16_table(text: str) -> dict[int, int]:
    """UTF-16 offset → code-point offset, for every code-point boundary."""
    table, units = {}, 0
    for i, ch in enumerate(text):
        table[units] = i
        units += 2 if ord(ch) > 0xFFFF else 1
    table[units] = len(text)
    return table
