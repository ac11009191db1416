"""The agreement report's JSON text (`annotator agreement --json`, review/report_json.py), written from
the report's columns: it must say exactly what `json.dumps(report.to_json())` says, null for an
undefined value, names escaped as json escapes them, whatever the number of pieces it is written in.
And the per-document table, kept as columns, still reads as a mapping of Measures."""

from __future__ import annotations

import json

import pytest

from annotator.core.records import SpanRecord
from annotator.core.review import report_json
from annotator.core.review.agreement import Measures, compute

TOKENS = [(i * 4, i * 4 + 3) for i in range(12)]
NAMES = ["plain", 'quote " and \\ slash', "Zürich – ünïcode", "tab\there", "ctrl\x01", "0001", "last"]


def _report():
    """Three people over seven documents with awkward names: some agree, some differ, some have no
    spans (F1 undefined: null), none linked (link agreement null)."""
    a, b, c = {}, {}, {}
    for k, name in enumerate(NAMES):
        a[name] = [SpanRecord(0, 3, "PER"), SpanRecord(8, 11 + 4 * (k % 2), "ORG")] if k < 5 else []
        b[name] = [SpanRecord(0, 3, "PER" if k % 3 else "LOC")] if k < 5 else []
        c[name] = [SpanRecord(4, 7, "PER")] if k % 2 else []
    return compute({"ana": a, "bob": b, "cy": c}, {name: TOKENS for name in NAMES})


@pytest.mark.parametrize("chunk", [1, 3, 10_000])
def test_agreement_json_text_says_what_json_dumps_says(monkeypatch, chunk):
    monkeypatch.setattr(report_json, "CHUNK", chunk)  # the rows go out `chunk` at a time
    report = _report()
    text = "".join(report.json_pieces())
    expected = report.to_json()
    assert json.loads(text) == expected
    assert list(json.loads(text)["by_document"]) == sorted(NAMES)  # the report's order, kept
    # byte for byte what the encoder writes, laid out one line per pair, label and document
    lines = text.splitlines()
    rows = {line.strip().rstrip(","): None for line in lines if line.startswith("    ")}
    encode = json.JSONEncoder(separators=(", ", ": ")).encode
    for key in ("by_label", "by_document"):
        for name, m in expected[key].items():
            assert f"{encode(name)}: {encode(m)}" in rows
    assert "null" in text and "NaN" not in text and text.endswith("}\n")
    assert text.isascii()  # names escaped as json.dumps escapes them (ensure_ascii)


def test_agreement_json_text_of_a_report_with_nothing_compared():
    report = compute({"a": {"d1": []}, "b": {"d2": []}}, {"d1": TOKENS, "d2": TOKENS})
    text = "".join(report.json_pieces())
    assert json.loads(text) == report.to_json()
    assert json.loads(text)["by_document"] == {} and json.loads(text)["by_label"] == {}


def test_agreement_by_document_columns_read_as_a_mapping_of_measures():
    report = _report()
    table = report.by_document
    first = table["plain"]  # one row, made from the columns
    items = dict(table.items())  # every row, made once and kept
    assert first == items["plain"]
    assert list(table) == sorted(NAMES) and len(table) == len(NAMES) and "plain" in table
    for name in NAMES:
        assert table[name] == items[name] and isinstance(table[name], Measures)
        assert table[name].n_docs == 1
    assert items["last"].span_f1_exact is None  # nobody has a span there: undefined, not NaN
    assert table == items and list(table.values()) == list(items.values())
    assert table.to_json() == {name: m.to_json() for name, m in items.items()}
    with pytest.raises(KeyError):
        table["nope"]
