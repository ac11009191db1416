"""The `xmi` format: DKPro NamedEntity in UIMA CAS XMI; UTF-16 offsets in the file, code points for us."""

from __future__ import annotations

import re

import pytest
from cassis import load_cas_from_xmi, load_typesystem

from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError
from annotator.formats import xmi

# As INCEpTION writes it: "😀" is two UTF-16 units, so "Kim" starts at 3 in the file, 2 for us.
SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<xmi:XMI xmlns:xmi="http://www.omg.org/XMI" xmlns:cas="http:///uima/cas.ecore"
  xmlns:ner="http:///de/tudarmstadt/ukp/dkpro/core/api/ner/type.ecore"
  xmlns:seg="http:///de/tudarmstadt/ukp/dkpro/core/api/segmentation/type.ecore" xmi:version="2.0">
  <cas:NULL xmi:id="0"/>
  <ner:NamedEntity xmi:id="2" sofa="1" begin="3" end="15" value="PERSON" identifier="Q495727"/>
  <ner:NamedEntity xmi:id="3" sofa="1" begin="23" end="28" value="GPE"/>
  <seg:Sentence xmi:id="4" sofa="1" begin="0" end="29"/>
  <cas:Sofa xmi:id="1" sofaNum="1" sofaID="_InitialView" mimeType="text" sofaString="😀 Kim Kwan-jin visits Tokyo."/>
  <cas:View sofa="1" members="2 3 4"/>
</xmi:XMI>
"""


def write_xmi(tmp_path, content: str, name: str = "doc.xmi"):
    (tmp_path / name).write_text(content, encoding="utf-8")
    return tmp_path / name


def read_error(path) -> AnnotatorError:
    with pytest.raises(AnnotatorError) as err:
        xmi.read(path)
    return err.value


def test_xmi_reads_inception_style_file_with_utf16_offsets(tmp_path):
    [doc] = xmi.read(write_xmi(tmp_path, SAMPLE))  # no TypeSystem.xml: unknown Sentence is skipped
    assert doc.name == "doc" and doc.text == "😀 Kim Kwan-jin visits Tokyo."
    assert doc.spans == [SpanRecord(2, 14, "PERSON", "Q495727"), SpanRecord(22, 27, "GPE")]


def test_xmi_round_trip_with_typesystem(tmp_path):
    text = "Kim 😀 Tokyo\r\n東京 👨‍👩‍👧 e\u0301 שלום\tend"
    doc = DocRecord("a1", text, title="Pacts", tokens=[(0, 3), (6, 11)],
                    spans=[SpanRecord(0, 3, "PERSON", "NIL"), SpanRecord(4, 5, "EMOJI"), SpanRecord(6, 11, "GPE"),
                           SpanRecord(6, 11, "CITY", "Q1"), SpanRecord(text.index("👨"), text.index(" e"), "FAM"),
                           SpanRecord(text.index("שלום"), text.index("\tend"), "X", "local:7")])
    report = xmi.write([doc, DocRecord("b", "")], tmp_path / "out")
    assert (report.documents, report.spans) == (2, 6)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["TypeSystem.xml", "a1.xmi", "b.xmi"]
    back, empty = xmi.read(tmp_path / "out")
    assert sorted(back.spans, key=repr) == sorted(doc.spans, key=repr)
    assert (back.text, back.title, back.tokens, empty.text) == (text, "Pacts", doc.tokens, "")


def test_xmi_cassis_sees_our_entities_at_the_right_places(tmp_path):
    text = "😀😀 Kim Kwan-jin met 👨‍👩‍👧 in Tokyo."
    spans = [SpanRecord(3, 15, "PERSON", "Q495727"), SpanRecord(20, 25, "FAMILY"),
             SpanRecord(text.index("Tokyo"), text.index("Tokyo") + 5, "GPE")]
    xmi.write([DocRecord("e", text, spans=spans)], tmp_path)
    raw = (tmp_path / "e.xmi").read_text(encoding="utf-8")
    assert 'begin="5" end="17"' in raw  # two emoji = four UTF-16 units before "Kim"
    cas = load_cas_from_xmi((tmp_path / "e.xmi").open("rb"), typesystem=load_typesystem(tmp_path / "TypeSystem.xml"))
    got = [(a.begin, a.end, a.get_covered_text(), a.value, a.identifier) for a in cas.select(xmi.NAMED_ENTITY)]
    assert got == [(s.start, s.end, text[s.start:s.end], s.label, s.kb_id) for s in spans]
    assert [g[2] for g in got] == ["Kim Kwan-jin", "👨‍👩‍👧", "Tokyo"]


@pytest.mark.parametrize("edit, code, needle", [
    (lambda s: s.replace('begin="23"', 'begin="1"'), "E101", "splits a character"),  # inside the emoji
    (lambda s: s.replace('end="28"', 'end="99"'), "E101", "past the end"),
    (lambda s: s[: len(s) // 2], "E100", "not a readable XMI"),  # truncated
    (lambda s: s.replace("<cas:View", "<cas:View <"), "E100", "not a readable XMI"),
])
def test_xmi_malformed_raises_coded_errors(tmp_path, edit, code, needle):
    err = read_error(write_xmi(tmp_path, edit(SAMPLE)))
    assert err.code == code and "doc.xmi" in str(err) and needle in str(err)
    if code == "E100":
        assert re.search(r"line \d+", str(err))


def test_xmi_bad_typesystem_and_missing_path(tmp_path):
    write_xmi(tmp_path, SAMPLE)
    (tmp_path / "TypeSystem.xml").write_text("<typeSystemDescription", encoding="utf-8")
    assert read_error(tmp_path).code == "E101"
    assert read_error(tmp_path / "missing.xmi").code == "E010"
    assert read_error(tmp_path / "TypeSystem.xml").code in ("E100", "E101")


def test_xmi_refuses_text_that_xml_cannot_hold(tmp_path):
    with pytest.raises(AnnotatorError) as err:
        xmi.write([DocRecord("c", "bell \x07 here")], tmp_path / "out")
    assert err.value.code == "E104" and "U+0007" in str(err.value)
    assert not (tmp_path / "out").exists()
