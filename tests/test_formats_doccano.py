"""The `doccano` format: JSONL with [start, end, label] lists; `labels` and `entities` read too."""

from __future__ import annotations

import json

import pytest

from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError
from annotator.formats import doccano

SAMPLE = "\n".join([
    '{"text": "Kim Kwan-jin visits Tokyo.", "label": [[0, 12, "PERSON"], [20, 25, "GPE"]], '
    '"name": "a1", "kb_ids": [[0, 12, "PERSON", "Q495727"]]}',
    '{"id": 7, "text": "😀 Seoul agreed", "labels": [[2, 7, "GPE"]], "source": "wire"}',
    '',
    '{"text": "GSOMIA", "entities": [{"id": 3, "start_offset": 0, "end_offset": 6, "label": "ORG"}], '
    '"relations": []}',
])


def read_text(tmp_path, content: str | bytes):
    path = tmp_path / "d.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return doccano.read(path)


def test_doccano_reads_label_labels_and_entities(tmp_path):
    a, b, c = read_text(tmp_path, SAMPLE)
    assert a.name == "a1"
    assert a.spans == [SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(20, 25, "GPE")]
    assert (b.name, b.meta, b.spans) == ("d-2", {"source": "wire"}, [SpanRecord(2, 7, "GPE")])
    assert b.text[2:7] == "Seoul"  # code points: the emoji counts one
    assert (c.name, c.spans) == ("d-4", [SpanRecord(0, 6, "ORG")])


def test_doccano_write_and_read_back(tmp_path):
    doc = DocRecord("a1", "Kim 😀 Tokyo\r\n東京", title="T", meta={"k": [1]}, annotator="ana",
                    spans=[SpanRecord(0, 3, "PERSON", "NIL"), SpanRecord(6, 11, "GPE"), SpanRecord(6, 11, "CITY", "Q1")])
    report = doccano.write([doc], tmp_path / "o.jsonl")
    assert (report.documents, report.spans) == (1, 3)
    line = json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8"))
    assert line["label"] == [[0, 3, "PERSON"], [6, 11, "CITY"], [6, 11, "GPE"]]
    assert line["kb_ids"] == [[0, 3, "PERSON", "NIL"], [6, 11, "CITY", "Q1"]]
    [back] = doccano.read(tmp_path / "o.jsonl")
    assert sorted(back.spans, key=repr) == sorted(doc.spans, key=repr)
    assert (back.name, back.text, back.title, back.meta, back.annotator) == ("a1", doc.text, "T", {"k": [1]}, "ana")


@pytest.mark.parametrize("line, code, needle", [
    ('{"text": "abc", "label": [[0, 9, "X"]]}', "E100", "outside the text"),
    ('{"text": "abc", "label": [[2, 1, "X"]]}', "E100", "outside the text"),
    ('{"text": "abc", "label": [[0, 1]]}', "E100", "[start, end, label]"),
    ('{"text": "abc", "label": [["0", 1, "X"]]}', "E100", "integer offsets"),
    ('{"label": []}', "E100", '"text" is missing'),
    ('[1, 2]', "E100", "not a JSON object"),
    ('{"text": "abc", "label": [[0, 1, "X"]', "E015", "invalid JSON"),  # truncated
    ('{"text": "abc", "kb_ids": [[0, 1, "X"]]}', "E100", "kb_ids"),
])
def test_doccano_malformed_names_file_and_line(tmp_path, line, code, needle):
    with pytest.raises(AnnotatorError) as err:
        read_text(tmp_path, '{"text": "fine"}\n' + line + "\n")
    assert err.value.code == code and "d.jsonl" in str(err.value) and "line 2" in str(err.value)
    assert needle in str(err.value)


def test_doccano_not_utf8(tmp_path):
    with pytest.raises(AnnotatorError) as err:
        read_text(tmp_path, b'{"text": "ok"}\n{"text": "\xff"}\n')
    assert err.value.code == "E011" and "line 2" in str(err.value)
