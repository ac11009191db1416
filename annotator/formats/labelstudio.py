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
Reading: cancelled annotations are skipped, and predictions other than ours (an ML backend's); ours
come back as suggestions beside each annotation. A task with several annotations gives one
document per annotation, its annotator taken from `completed_by`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from annotator.core.db.annotators import MODEL_LAYER
from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Errors
from annotator.formats.files import check_record, loads, read_text, span_problem

SUFFIX = ".json"
LABELS, KB = "label", "kb_id"
MODEL_VERSION = "annotator-suggestions"  # the `model_version` of the predictions we write


def results(doc: DocRecord, spans) -> list[dict]:
    """The regions of `spans` (labels, and the KB id as a per-region textarea)."""
    result = []
    for n, sp in enumerate(sorted(spans, key=lambda s: (s.start, s.end, s.label)), start=1):
        value = {"start": sp.start, "end": sp.end, "text": doc.text[sp.start:sp.end]}
        result.append({"id": f"s{n}", "from_name": LABELS, "to_name": "text", "type": "labels",
                       "origin": "manual", "value": {**value, "labels": [sp.label]}})
        if sp.kb_id is not None:
            result.append({"id": f"s{n}", "from_name": KB, "to_name": "text", "type": "textarea",
                           "origin": "manual", "value": {**value, "text": [sp.kb_id]}})
    return result


def to_task(doc: DocRecord) -> dict:
    data = {"text": doc.text, "name": doc.name, "title": doc.title, "meta": doc.meta}
    if doc.annotator is not None:
        data["annotator"] = doc.annotator
    decided = [sp for sp in doc.spans if sp.status != "suggested"]
    suggested = [sp for sp in doc.spans if sp.status == "suggested"]
    annotations = [] if doc.annotator == MODEL_LAYER else [{"result": results(doc, decided), "was_cancelled": False}]
    task = {"data": data, "annotations": annotations}
    if suggested:
        prediction = results(doc, suggested)
        for r in prediction:
            r["id"], r["origin"] = "p" + r["id"][1:], "prediction"
        task["predictions"] = [{"model_version": MODEL_VERSION, "result": prediction}]
    return task


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    report = FormatReport()
    tasks = []
    for doc in docs:
        tasks.append(to_task(doc))
        report.documents += 1
        report.spans += len(doc.spans)
    Path(out).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


def read(path: Path) -> list[DocRecord]:
    path = Path(path)
    tasks = loads(read_text(path, "utf-8-sig"), path, "the file")
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise AnnotatorError(Errors.E101.format(path=path, reason="expected a list of tasks"))
    docs = []
    for number, task in enumerate(tasks, start=1):
        docs.extend(check_record(doc, path, f"task {number}") for doc in from_task(task, path, number))
    return docs


def from_task(task, path: Path, number: int) -> list[DocRecord]:
    def bad(reason: str) -> AnnotatorError:
        return AnnotatorError(Errors.E101.format(path=path, reason=f"task {number}: {reason}"))

    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise bad('a task needs "data" with a string "text"')
    text = data["text"]
    annotations = task.get("annotations") or task.get("completions") or []
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise bad('"annotations" must be a list of objects')
    kept = [a for a in annotations if not a.get("was_cancelled")]
    annotated = bool(kept)  # an annotation with an empty result: someone checked it and found nothing
    kept = kept or [{"result": []}]
    name = data.get("name") or f"{path.stem}-{task.get('id', number)}"
    meta, title = data.get("meta") or {}, data.get("title") or ""
    if not isinstance(meta, dict):
        raise bad(f'"data.meta" must be a JSON object, not {type(meta).__name__}')
    if not isinstance(name, (str, int)) or isinstance(name, bool) or not isinstance(title, str):
        raise bad('"data.name" and "data.title" must be strings')
    name = str(name)
    suggested = []
    for prediction in task.get("predictions") or []:
        if isinstance(prediction, dict) and prediction.get("model_version") == MODEL_VERSION:
            suggested += [SpanRecord(sp.start, sp.end, sp.label, sp.kb_id, "suggested")
                          for sp in spans_of(prediction.get("result") or [], text, bad)]
    docs = []
    for annotation in kept:
        who = annotation.get("completed_by")
        if isinstance(who, dict):
            who = who.get("email") or who.get("id")
        annotator = str(who) if who is not None else data.get("annotator")
        docs.append(DocRecord(name=name, text=text, title=title, meta=dict(meta),
                              spans=spans_of(annotation.get("result") or [], text, bad) + suggested,
                              annotator=annotator, annotated=annotated))
    return docs


def spans_of(result, text: str, bad) -> list[SpanRecord]:
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
        kb_id = kb_ids.get(r.get("id")) if isinstance(r.get("id"), (str, int)) else None
        for label in labels:
            problem = span_problem(text, start, end, label, kb_id)
            if problem:
                raise bad(f"region {r.get('id')!r}: {problem}")
            spans.append(SpanRecord(start, end, label, kb_id))
    return spans


def utf16_table(text: str) -> dict[int, int]:
    """UTF-16 offset → code-point offset, for every code-point boundary."""
    table, units = {}, 0
    for i, ch in enumerate(text):
        table[units] = i
        units += 2 if ord(ch) > 0xFFFF else 1
    table[units] = len(text)
    return table
