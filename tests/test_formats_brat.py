"""The `brat` format: .txt + .ann standoff, code-point offsets, N lines for KB ids."""

from __future__ import annotations

import pytest

from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError
from annotator.formats import brat

TXT = "Kim Kwan-jin 😀 visits Tokyo.\r\nSeoul agreed."
ANN = (
    "T1\tPERSON 0 12\tKim Kwan-jin\n"
    "N1\tReference T1 KB:Q495727\tKim Kwan-jin\n"
    "T2\tGPE 22 27\tTokyo\n"
    "R1\tLocatedIn Arg1:T1 Arg2:T2\n"
    "#1\tAnnotatorNotes T2\tthe city\n"
    "T3\tGPE 30 35\tSeoul\n"
    "N2\tReference T3 KB:NIL\tSeoul\n"
    "T4\tEVENT 13 14\t😀\n"
    "N3\tReference T4 Wikidata:Q42\tsmile\n"
)


def write_pair(tmp_path, ann: str, txt: str = TXT, name: str = "doc"):
    (tmp_path / f"{name}.txt").write_text(txt, encoding="utf-8", newline="")
    (tmp_path / f"{name}.ann").write_text(ann, encoding="utf-8", newline="")
    return tmp_path / f"{name}.ann"


def read_error(path) -> AnnotatorError:
    with pytest.raises(AnnotatorError) as err:
        brat.read(path)
    return err.value


def test_brat_reads_textbounds_and_normalizations(tmp_path):
    [doc] = brat.read(write_pair(tmp_path, ANN))
    assert doc.name == "doc" and doc.text == TXT
    assert doc.spans == [SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(22, 27, "GPE"),
                         SpanRecord(30, 35, "GPE", "NIL"), SpanRecord(13, 14, "EVENT", "Wikidata:Q42")]


def test_brat_reads_a_directory_and_the_txt_path_too(tmp_path):
    write_pair(tmp_path, ANN, name="b")
    write_pair(tmp_path, "T1\tX 0 3\tKim\n", name="a")
    assert [d.name for d in brat.read(tmp_path)] == ["a", "b"]
    assert brat.read(tmp_path / "a.txt")[0].spans == [SpanRecord(0, 3, "X")]


def test_brat_write_keeps_text_bytes_and_round_trips(tmp_path):
    doc = DocRecord("doc", TXT, spans=[SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(22, 27, "GPE"),
                                       SpanRecord(26, 32, "ODD", "NIL"), SpanRecord(0, 3, "PERSON", "local:7")])
    report = brat.write([doc], tmp_path / "out")
    assert (report.documents, report.spans) == (1, 4)
    assert (tmp_path / "out" / "doc.txt").read_bytes() == TXT.encode("utf-8")
    ann = (tmp_path / "out" / "doc.ann").read_text(encoding="utf-8")
    assert "T2\tPERSON 0 12\tKim Kwan-jin\nN2\tReference T2 KB:Q495727\tKim Kwan-jin\n" in ann
    assert "\tODD 26 32\to.  Se\n" in ann  # the CRLF inside the span becomes two spaces: same length
    assert "KB:NIL" in ann and "KB:local:7" in ann
    assert sorted(brat.read(tmp_path / "out")[0].spans, key=repr) == sorted(doc.spans, key=repr)


def test_brat_writes_configuration_beside_the_documents(tmp_path):
    brat.write([DocRecord("a", "Kim", spans=[SpanRecord(0, 3, "PERSON")]),
                DocRecord("b", "Seoul", spans=[SpanRecord(0, 5, "GPE")])], tmp_path)
    conf = (tmp_path / "annotation.conf").read_text()
    assert conf.startswith("[entities]\nGPE\nPERSON\n") and "[relations]" in conf and "[events]" in conf
    assert "[normalization]\nKB\t" in (tmp_path / "tools.conf").read_text()


def test_brat_discontinuous_span_covers_its_fragments(tmp_path):
    [doc] = brat.read(write_pair(tmp_path, "T1\tGPE 22 24;25 27\tTo yo\n"))
    assert doc.spans == [SpanRecord(22, 27, "GPE")]


@pytest.mark.parametrize("ann, needle", [
    ("T1\tGPE 22 99\tTokyo\n", "outside the text"),
    ("T1\tGPE 22 27\tTokio\n", "the text there is"),
    ("T1\tGPE 22\n", "expected 'LABEL start end'"),  # truncated
    ("T1 GPE 22 27 Tokyo\n", "expected an id, a tab"),  # spaces for tabs
    ("T1\tGPE 0 3\tKim\nN1\tReference T9 KB:Q1\tx\n", "not defined in the file"),
    ("T1\tGPE 0 3\tKim\nN1\tReference T1 Q1\tx\n", "DB:ID"),
    ("T1\tGPE 0 3\tKim\nT1\tGPE 0 3\tKim\n", "used twice"),
])
def test_brat_malformed_ann_names_file_and_line(tmp_path, ann, needle):
    err = read_error(write_pair(tmp_path, ann))
    assert err.code == "E100" and "doc.ann" in str(err) and needle in str(err)
    assert f"line {ann.count(chr(10))}" in str(err)


def test_brat_missing_text_and_bad_utf8(tmp_path):
    (tmp_path / "lone.ann").write_text("T1\tX 0 1\ta\n")
    assert read_error(tmp_path / "lone.ann").code == "E105"
    (tmp_path / "lone.txt").write_bytes(b"ok\n\xff\xfe")
    err = read_error(tmp_path / "lone.ann")
    assert err.code == "E011" and "line 2" in str(err)
    assert read_error(tmp_path / "nothing-here").code == "E010"


def test_brat_refuses_names_and_labels_it_cannot_write(tmp_path):
    with pytest.raises(AnnotatorError) as err:
        brat.write([DocRecord("a/b", "x")], tmp_path / "o")
    assert err.value.code == "E103"
    with pytest.raises(AnnotatorError) as err:
        brat.write([DocRecord("a", "xy", spans=[SpanRecord(0, 1, "TWO WORDS")])], tmp_path / "o")
    assert err.value.code == "E104"
    assert not (tmp_path / "o").exists()  # checked before anything is written
