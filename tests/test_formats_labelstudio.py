"""The `labelstudio` format: JSON tasks; labels results plus per-region textarea KB ids."""

from __future__ import annotations

import json

import pytest

from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError
from annotator.formats import labelstudio

SAMPLE = """[
 {"id": 41, "data": {"text": "😀 Kim Kwan-jin visits Tokyo."},
  "annotations": [
   {"id": 1, "completed_by": {"id": 3, "email": "ana@example.org"}, "was_cancelled": false,
    "result": [
     {"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
      "value": {"start": 2, "end": 14, "text": "Kim Kwan-jin", "labels": ["PERSON"]}},
     {"id": "r1", "from_name": "kb_id", "to_name": "text", "type": "textarea",
      "value": {"start": 2, "end": 14, "text": ["Q495727"]}},
     {"id": "r2", "from_name": "label", "to_name": "text", "type": "labels",
      "value": {"start": 22, "end": 27, "text": "Tokyo", "labels": ["GPE"]}},
     {"id": "r2", "from_name": "comment", "to_name": "text", "type": "textarea",
      "value": {"start": 22, "end": 27, "text": ["not a KB id"]}},
     {"id": "c1", "from_name": "sentiment", "to_name": "text", "type": "choices",
      "value": {"choices": ["neutral"]}}]},
   {"id": 2, "completed_by": 9, "was_cancelled": true, "result": []}],
  "predictions": [{"result": []}]}
]"""


def read_text(tmp_path, content: str | bytes):
    path = tmp_path / "ls.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return labelstudio.read(path)


def test_labelstudio_reads_labels_kb_textareas_and_skips_cancelled(tmp_path):
    """Only the `kb_id` textarea carries KB ids; other per-region textareas are comments."""
    [doc] = read_text(tmp_path, SAMPLE)
    assert (doc.name, doc.annotator) == ("ls-41", "ana@example.org")
    assert doc.spans == [SpanRecord(2, 14, "PERSON", "Q495727"), SpanRecord(22, 27, "GPE")]


def test_labelstudio_converts_an_old_utf16_export_when_the_text_proves_it(tmp_path):
    task = json.loads(SAMPLE)[0]
    for r in task["annotations"][0]["result"]:
        if "start" in r["value"]:
            r["value"]["start"] += 1  # the emoji counted as two UTF-16 units
            r["value"]["end"] += 1
    [doc] = read_text(tmp_path, json.dumps([task]))
    assert [(doc.text[s.start:s.end], s.kb_id) for s in doc.spans] == [("Kim Kwan-jin", "Q495727"), ("Tokyo", None)]


def test_labelstudio_several_annotations_give_one_document_each(tmp_path):
    task = json.loads(SAMPLE)[0]
    task["annotations"][1].update(was_cancelled=False, result=task["annotations"][0]["result"][2:3])
    first, second = read_text(tmp_path, json.dumps(task))  # a single task object is accepted too
    assert (first.annotator, second.annotator) == ("ana@example.org", "9")
    assert second.spans == [SpanRecord(22, 27, "GPE")]


def test_labelstudio_write_and_read_back(tmp_path):
    doc = DocRecord("a1", "Kim 😀 Tokyo\r\n東京 e\u0301", title="T", meta={"k": 1}, annotator="ana",
                    spans=[SpanRecord(0, 3, "PERSON", "NIL"), SpanRecord(6, 11, "GPE"),
                           SpanRecord(6, 11, "CITY", "Q1"), SpanRecord(13, 15, "GPE", "Q2")])
    report = labelstudio.write([doc, DocRecord("b", "")], tmp_path / "o.json")
    assert (report.documents, report.spans) == (2, 4)
    tasks = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    kinds = [(r["id"], r["type"], r["from_name"]) for r in tasks[0]["annotations"][0]["result"]]
    assert kinds[:3] == [("s1", "labels", "label"), ("s1", "textarea", "kb_id"), ("s2", "labels", "label")]
    back, empty = labelstudio.read(tmp_path / "o.json")
    assert sorted(back.spans, key=repr) == sorted(doc.spans, key=repr)
    kept = back.carried[labelstudio.KEPT]  # what the task carried: its id, names, region ids
    assert (back.name, back.text, back.title, back.meta, back.annotator) == ("a1", doc.text, "T", {"k": 1}, "ana")
    assert (kept["id"], kept["from_name"], kept["to_name"], kept["regions"]["0:3:PERSON"]) == (1, "label", "text", "s1")
    assert (empty.name, empty.text, empty.spans) == ("b", "", [])


@pytest.mark.parametrize("content, code, needle", [
    ('[{"data": {"text": "abc"}, "annotations": [{"result": [{"id": "x", "type": "labels", '
     '"value": {"start": 0, "end": 9, "labels": ["X"]}}]}]}]', "E101", "outside the text"),
    ('[{"data": {"text": "abc"}, "annotations": [{"result": [{"id": "x", "type": "labels", '
     '"value": {"start": 0, "end": 2, "text": "ac", "labels": ["X"]}}]}]}]', "E101", "the text there is"),
    ('[{"data": {"text": "abc"}, "annotations": [{"result": [{"id": "x", "type": "labels", '
     '"value": {"start": 0, "end": 2, "labels": []}}]}]}]', "E101", "non-empty list of labels"),
    ('[{"data": {"text": "abc"}, "annotations": [{"result": [{"id": "x", "type": "labels", '
     '"value": {"start": "/p[1]", "end": 2, "labels": ["X"]}}]}]}]', "E101", "integer value.start"),
    ('[{"data": {"html": "<p>abc</p>"}}]', "E101", 'string "text"'),
    ('{"tasks": 3}', "E101", '"data"'),
    ('"just a string"', "E101", "list of tasks"),
    ('[{"data": {"text": "abc"},\n "annotations": [', "E015", "line 2"),  # truncated
])
def test_labelstudio_malformed_input_raises_coded_errors(tmp_path, content, code, needle):
    with pytest.raises(AnnotatorError) as err:
        read_text(tmp_path, content)
    assert err.value.code == code and "ls.json" in str(err.value) and needle in str(err.value)


def test_labelstudio_not_utf8(tmp_path):
    with pytest.raises(AnnotatorError) as err:
        read_text(tmp_path, b'[{"data": {"text": "\xe9"}}]')
    assert err.value.code == "E011"
