"""The `conll` format: CoNLL-2003 lines, IOB2 (and IOB1 on read), optional KB column."""

from __future__ import annotations

import pytest
from spacy.tokens import Doc
from spacy.training import iob_to_biluo, offsets_to_biluo_tags
from spacy.vocab import Vocab

from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError
from annotator.formats import conll
from annotator.formats.spacy_docbin import words_and_spaces

IOB2 = """-DOCSTART- -X- -X- O

Kim B-PERSON Q495727
Kwan-jin I-PERSON Q495727
visits O _
Tokyo B-GPE _
. O _

Seoul B-GPE NIL
agreed O _

-DOCSTART- -X- -X- O

GSOMIA B-ORG _
"""

IOB1 = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
Anna NNP I-NP B-PER
"""


def read_text(tmp_path, content: str, name: str = "c.conll"):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return conll.read(path)


def test_conll_reads_iob2_with_kb_column(tmp_path):
    first, second = read_text(tmp_path, IOB2)
    assert first.text == "Kim Kwan-jin visits Tokyo .\nSeoul agreed"
    assert first.spans == [SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(20, 25, "GPE"),
                           SpanRecord(28, 33, "GPE", "NIL")]
    assert first.tokens[:2] == [(0, 3), (4, 12)]
    assert (first.name, second.name, second.text) == ("c-1", "c-2", "GSOMIA")


def test_conll_reads_conll2003_four_columns_and_converts_iob1(tmp_path):
    [doc] = read_text(tmp_path, IOB1)
    got = [(doc.text[s.start:s.end], s.label) for s in doc.spans]
    assert got == [("EU", "ORG"), ("German", "MISC"), ("Peter Blackburn", "PER"), ("Anna", "PER")]


def test_conll_write_splits_sentences_at_line_breaks_but_not_inside_entities(tmp_path):
    text = "Kim visits\r\nTokyo.\n\nThe U.S.\nForces  Korea agreed"
    forces = text.index("U.S.")
    doc = DocRecord("d", text, spans=[SpanRecord(0, 3, "PERSON", "Q1"),
                                      SpanRecord(forces, text.index(" agreed"), "ORG")])
    report = conll.write([doc], tmp_path / "o.conll")
    assert (report.documents, report.spans, report.misaligned) == (1, 2, [])
    out = (tmp_path / "o.conll").read_text(encoding="utf-8")
    assert out == ("-DOCSTART- -X- -X- O\n\nKim B-PERSON Q1\nvisits O _\n\nTokyo O _\n. O _\n\n"
                   "The O _\nU.S. B-ORG _\nForces I-ORG _\nKorea I-ORG _\nagreed O _\n\n")


def test_conll_without_kb_ids_writes_two_columns(tmp_path):
    conll.write([DocRecord("d", "Kim left", spans=[SpanRecord(0, 3, "PERSON")])], tmp_path / "o.conll")
    assert (tmp_path / "o.conll").read_text() == "-DOCSTART- -X- -X- O\n\nKim B-PERSON\nleft O\n\n"


def test_conll_reports_misaligned_and_overlapping_spans(tmp_path):
    doc = DocRecord("d", "Kim Kwan-jin left", tokens=[(0, 3), (4, 12), (13, 17)],
                    spans=[SpanRecord(0, 12, "PERSON"), SpanRecord(4, 8, "X"), SpanRecord(4, 12, "Y")])
    report = conll.write([doc], tmp_path / "o.conll")
    assert sorted(report.misaligned) == [("d", 4, 8, "Kwan"), ("d", 4, 12, "Kwan-jin")]
    assert [s.label for s in conll.read(tmp_path / "o.conll")[0].spans] == ["PERSON"]


@pytest.mark.parametrize("content, line, needle", [
    ("Kim B-PER\nvisits\n", 2, "expected 2 columns"),  # truncated line
    ("Kim B-PER Q1 x y z\n", 1, "2, 3, 4 or 5 columns"),
    ("Kim B-PER\nTokyo X-GPE\n", 2, "is not O, B-<label> or I-<label>"),  # (E- is IOBES's: read)
    ("Kim B-PER\nTokyo I-\n", 2, "is not O"),
])
def test_conll_malformed_names_file_and_line(tmp_path, content, line, needle):
    with pytest.raises(AnnotatorError) as err:
        read_text(tmp_path, content)
    assert err.value.code == "E100" and f"line {line}" in str(err.value) and needle in str(err.value)


def test_conll_bad_utf8_empty_and_unwritable_values(tmp_path):
    (tmp_path / "b.conll").write_bytes(b"Kim O\n\xc3(x O\n")
    with pytest.raises(AnnotatorError) as err:
        conll.read(tmp_path / "b.conll")
    assert err.value.code == "E011" and "line 2" in str(err.value)
    with pytest.raises(AnnotatorError) as err:
        read_text(tmp_path, "\n\n")
    assert err.value.code == "E012"
    with pytest.raises(AnnotatorError) as err:
        conll.write([DocRecord("d", "Kim", spans=[SpanRecord(0, 3, "P", "Q 1")])], tmp_path / "o.conll")
    assert err.value.code == "E104" and not (tmp_path / "o.conll").exists()


def file_tags(path) -> list[list[str]]:
    """IOB tags per document, straight from the file."""
    docs: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("-DOCSTART-"):
            docs.append([])
        elif line:
            docs[-1].append(line.split()[1])
    return docs


def spacy_biluo(doc: DocRecord) -> list[str]:
    """spaCy's own BILUO tags for the record's spans, on non-whitespace tokens."""
    words, spaces, _ = words_and_spaces(doc)
    sdoc = Doc(Vocab(), words=words, spaces=spaces)
    tags = offsets_to_biluo_tags(sdoc, [(s.start, s.end, s.label) for s in doc.spans])
    return [tag for tag, tok in zip(tags, sdoc) if not tok.text.isspace()]


def test_conll_tags_agree_with_spacy_training_helpers(tmp_path):
    text = "Kim Kwan-jin visits Tokyo 😀 東京.\r\nSeoul\tand the U.S. Forces Korea agreed."
    spans = [SpanRecord(0, 12, "PERSON"), SpanRecord(20, 25, "GPE"), SpanRecord(28, 30, "GPE"),
             SpanRecord(text.index("Seoul"), text.index("Seoul") + 5, "GPE"),
             SpanRecord(text.index("U.S."), text.index(" agreed"), "ORG")]
    docs = [DocRecord("a", text, spans=spans), DocRecord("b", "Nothing here.")]
    conll.write(docs, tmp_path / "o.conll")
    for doc, tags, back in zip(docs, file_tags(tmp_path / "o.conll"), conll.read(tmp_path / "o.conll")):
        assert iob_to_biluo(tags) == spacy_biluo(doc) == spacy_biluo(back)


def test_conll_iob1_conversion_agrees_with_spacy(tmp_path):
    [doc] = read_text(tmp_path, IOB1)
    assert iob_to_biluo([line.split()[3] for line in IOB1.splitlines()[2:]]) == spacy_biluo(doc)
