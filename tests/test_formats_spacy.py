"""The `spacy` format: DocBin with ents, KB ids, sentence starts and user_data; real spaCy reads it."""

from __future__ import annotations

import subprocess
import sys
import zlib

import pytest
import spacy
import srsly
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError
from annotator.formats import docbin_stream, spacy_docbin

TEXT = "Kim Kwan-jin visits Tokyo.\r\nSeoul  agreed 😀\ton GSOMIA."


def sample() -> DocRecord:
    seoul, gsomia = TEXT.index("Seoul"), TEXT.index("GSOMIA")
    return DocRecord("a1", TEXT, title="Pacts", meta={"source": "seed", "tags": ["x", 1]}, annotator="ana",
                     spans=[SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(20, 25, "GPE"),
                            SpanRecord(seoul, seoul + 5, "GPE", "NIL"), SpanRecord(gsomia, gsomia + 6, "ORG")])


def test_spacy_reads_a_docbin_built_by_hand(tmp_path):
    doc = Doc(Vocab(), words=["Kim", "visits", "Tokyo", "."], spaces=[True, True, False, False])
    doc.ents = [Span(doc, 0, 1, label="PERSON", kb_id="Q1"), Span(doc, 2, 3, label="GPE")]
    DocBin(docs=[doc]).to_disk(tmp_path / "x.spacy")  # no user_data: names come from the file
    [rec] = spacy_docbin.read(tmp_path / "x.spacy")
    assert (rec.name, rec.text) == ("x-1", "Kim visits Tokyo.")
    assert rec.spans == [SpanRecord(0, 3, "PERSON", "Q1"), SpanRecord(11, 16, "GPE")]
    assert rec.tokens == [(0, 3), (4, 10), (11, 16), (16, 17)]


def test_spacy_round_trip_keeps_text_spans_kb_ids_and_user_data(tmp_path):
    report = spacy_docbin.write([sample(), DocRecord("empty", "")], tmp_path / "o.spacy")
    assert (report.documents, report.spans, report.misaligned) == (2, 4, [])
    rec, empty = spacy_docbin.read(tmp_path / "o.spacy")
    assert rec.text == TEXT and empty.text == ""
    assert sorted(rec.spans, key=repr) == sorted(sample().spans, key=repr)
    assert (rec.name, rec.title, rec.meta, rec.annotator) == ("a1", "Pacts", sample().meta, "ana")


def test_spacy_given_tokens_are_kept_and_whitespace_becomes_tokens(tmp_path):
    rec = DocRecord("t", "a  b\tc", tokens=[(0, 1), (3, 4), (5, 6)], spans=[SpanRecord(3, 6, "X")])
    spacy_docbin.write([rec], tmp_path / "o.spacy")
    doc = next(DocBin().from_disk(tmp_path / "o.spacy").get_docs(Vocab()))
    assert [t.text for t in doc] == ["a", " ", "b", "\t", "c"]
    assert doc.text == "a  b\tc"
    assert spacy_docbin.read(tmp_path / "o.spacy")[0].tokens == [(0, 1), (2, 3), (3, 4), (4, 5), (5, 6)]  # as the Doc has them


def test_spacy_misaligned_and_overlapping_spans_are_reported_not_moved(tmp_path):
    rec = DocRecord("m", "Kim Kwan-jin visits Tokyo.", spans=[
        SpanRecord(0, 12, "PERSON"), SpanRecord(1, 3, "X"), SpanRecord(0, 3, "Y"), SpanRecord(20, 24, "GPE")])
    report = spacy_docbin.write([rec], tmp_path / "o.spacy")
    assert report.spans == 1
    assert sorted(report.misaligned) == [("m", 0, 3, "Kim"), ("m", 1, 3, "im"), ("m", 20, 24, "Toky")]
    assert spacy_docbin.read(tmp_path / "o.spacy")[0].spans == [SpanRecord(0, 12, "PERSON")]


def test_spacy_sentences_start_after_newlines_and_full_stops_but_not_inside_entities(tmp_path):
    text = "Mr. Kim left.\nU.S. Forces Korea. Then"
    rec = DocRecord("s", text, spans=[SpanRecord(text.index("U.S."), text.index(" Then"), "ORG")])
    rec.tokens = [(0, 2), (2, 3), (4, 7), (8, 12), (12, 13), (14, 17), (17, 18), (19, 25), (26, 31),
                  (31, 32), (33, 37)]
    spacy_docbin.write([rec], tmp_path / "o.spacy")
    doc = next(DocBin().from_disk(tmp_path / "o.spacy").get_docs(Vocab()))
    assert doc.has_annotation("SENT_START")
    assert [s.text for s in doc.sents] == ["Mr.", "Kim left.\n", "U.S. Forces Korea.", "Then"]
    assert all(ent.sent.start <= ent.start and ent.end <= ent.sent.end for ent in doc.ents)


def test_spacy_bad_tokens_raise_a_coded_error(tmp_path):
    rec = DocRecord("t", "abc", tokens=[(0, 2), (1, 3)])
    with pytest.raises(AnnotatorError) as err:
        spacy_docbin.write([rec], tmp_path / "o.spacy")
    assert err.value.code == "E107"


@pytest.mark.parametrize("payload", [
    b"not a docbin",
    zlib.compress(b"\x93\x01\x02"),  # msgpack, but not a DocBin's map
    zlib.compress(srsly.msgpack_dumps({"attrs": [65], "strings": []})),  # truncated: keys missing
])
def test_spacy_malformed_file_raises_a_coded_error(tmp_path, payload):
    (tmp_path / "bad.spacy").write_bytes(payload)
    with pytest.raises(AnnotatorError) as err:
        spacy_docbin.read(tmp_path / "bad.spacy")
    assert err.value.code == "E101" and "bad.spacy" in str(err.value)


def test_spacy_user_data_that_is_not_a_dict_is_refused(tmp_path):
    doc = Doc(Vocab(), words=["a"])
    doc.user_data["meta"] = "not a dict"
    DocBin(docs=[doc], store_user_data=True).to_disk(tmp_path / "u.spacy")
    with pytest.raises(AnnotatorError) as err:
        spacy_docbin.read(tmp_path / "u.spacy")
    assert err.value.code == "E101"


def test_spacy_missing_file_raises_e010(tmp_path):
    with pytest.raises(AnnotatorError) as err:
        spacy_docbin.read(tmp_path / "nope.spacy")
    assert err.value.code == "E010"


def corpus(n: int) -> list[DocRecord]:
    docs = []
    cities = ["Tokyo", "Seoul", "Busan", "Osaka"]
    for i in range(n):
        city = cities[i % 4]
        text = f"Kim Kwan-jin visits {city} on day {i}.\nThe pact 😀 is called GSOMIA."
        spans = [SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(20, 20 + len(city), "GPE")]
        if i % 3:
            spans.append(SpanRecord(text.index("GSOMIA"), text.index("GSOMIA") + 6, "ORG", "NIL"))
        docs.append(DocRecord(f"d{i}", text, spans=spans))
    return docs


@pytest.fixture(scope="module")
def ner_config(tmp_path_factory):
    from spacy.cli.init_config import init_config

    path = tmp_path_factory.mktemp("cfg") / "config.cfg"
    init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False).to_disk(path)
    return path


def test_spacy_train_runs_on_our_export(tmp_path, ner_config):
    spacy_docbin.write(corpus(10), tmp_path / "train.spacy")
    run = subprocess.run(
        [sys.executable, "-m", "spacy", "train", str(ner_config), "--paths.train", str(tmp_path / "train.spacy"),
         "--paths.dev", str(tmp_path / "train.spacy"), "--training.max_epochs", "1",
         "--training.max_steps", "5", "--training.eval_frequency", "5"],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_spacy_debug_data_accepts_our_export(tmp_path, ner_config):
    # debug data fails any corpus under 100 documents ("Low number of examples"), so give it 120
    spacy_docbin.write(corpus(120), tmp_path / "train.spacy")
    run = subprocess.run(
        [sys.executable, "-m", "spacy", "debug", "data", str(ner_config), "--paths.train",
         str(tmp_path / "train.spacy"), "--paths.dev", str(tmp_path / "train.spacy")],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No entities crossing sentence boundaries" in run.stdout
    assert "No entities consisting of or starting/ending with whitespace" in run.stdout


def test_spacy_export_loads_into_a_real_pipeline_vocab(tmp_path):
    spacy_docbin.write(corpus(3), tmp_path / "o.spacy")
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(tmp_path / "o.spacy").get_docs(nlp.vocab))
    assert [(e.text, e.label_, e.kb_id_) for e in docs[1].ents] == [
        ("Kim Kwan-jin", "PERSON", "Q495727"), ("Seoul", "GPE", ""), ("GSOMIA", "ORG", "NIL")]


def test_spacy_sentence_boundary_survives_extra_whitespace(tmp_path):
    rec = DocRecord("w", "Tokyo.  Seoul \u00a0agreed", tokens=[(0, 5), (5, 6), (8, 13), (15, 21)])
    spacy_docbin.write([rec], tmp_path / "o.spacy")
    doc = next(DocBin().from_disk(tmp_path / "o.spacy").get_docs(Vocab()))
    assert [s.text for s in doc.sents] == ["Tokyo.  ", "Seoul \u00a0agreed"]


def awkward_records() -> list[DocRecord]:
    """Records that take every path of the batch conversion: gaps of several spaces, leading and
    trailing whitespace, line breaks, no tokens given, no text, overlapping, misaligned and
    suggested spans, KB ids, the same span twice with two labels."""
    text = "  Kim met Lee.\n\nThen   Seoul agreed! "
    kim, lee, seoul = text.index("Kim"), text.index("Lee"), text.index("Seoul")
    spans = [SpanRecord(kim, kim + 7, "PERSON"), SpanRecord(kim, kim + 3, "PERSON", "Q1"),  # overlap: longer wins
             SpanRecord(lee, lee + 3, "PERSON"), SpanRecord(lee, lee + 3, "GPE"),  # same span twice: GPE first
             SpanRecord(seoul + 1, seoul + 5, "GPE"),  # off token boundaries
             SpanRecord(seoul, seoul + 5, "GPE", "NIL", "suggested"),
             SpanRecord(seoul, seoul + 12, "ORG", None, "suggested"),  # suggestions may overlap
             SpanRecord(0, 2, "ORG", None, "suggested")]  # the leading whitespace token
    # unchecked extents left out of the spans: one word, one held by an entity but for its comma, one
    # off token boundaries, one in the middle of a gap of spaces
    unchecked = [(7, 12), (0, 6), (16, 18), (14, 15)]
    return [sample(), DocRecord("empty", ""), DocRecord("awk", text, title="t", spans=spans),
            DocRecord("blank-tokens", "Osaka, Japan.  Busan.", spans=[SpanRecord(0, 5, "GPE")], unchecked=unchecked),
            DocRecord("tokens-given", "a  b\n", tokens=[(0, 1), (3, 4)], spans=[SpanRecord(3, 4, "X", "Q2")]),
            DocRecord("cjk", "東京。ソウル！\u3000x…", tokens=[(0, 2), (2, 3), (3, 6), (6, 7), (8, 9), (9, 10)])
            ] + corpus(7)


def test_streamed_docbin_is_the_msgpack_of_docbin_to_bytes(tmp_path, monkeypatch):
    """The writer streams the DocBin in batches (several here) through zlib: once decompressed it must
    be byte for byte the msgpack DocBin.to_bytes packs from spaCy's own Docs, and report the same."""
    monkeypatch.setattr(spacy_docbin._Batches, "BATCH", 3)
    recs = awkward_records()
    report = spacy_docbin.write(recs, tmp_path / "o.spacy")
    vocab, expected_report = Vocab(), FormatReport()
    expected = DocBin(docs=[spacy_docbin.to_doc(r, vocab, expected_report) for r in recs], store_user_data=True)
    pack = srsly.msgpack.Packer(use_bin_type=True).pack
    expected.user_data = [pack(spacy_docbin.user_data(r)) for r in recs]
    streamed = zlib.decompress((tmp_path / "o.spacy").read_bytes())
    assert streamed == zlib.decompress(expected.to_bytes())
    assert srsly.msgpack_loads(streamed)["strings"] == sorted(expected.strings)
    assert (report.documents, report.spans, report.misaligned) == (
        len(recs), expected_report.spans, expected_report.misaligned)
    assert report.misaligned == [("awk", 2, 5, "Kim"), ("awk", 10, 13, "Lee"), ("awk", 24, 28, "eoul")]
    doc = list(DocBin().from_disk(tmp_path / "o.spacy").get_docs(Vocab()))[2]
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [("Kim met", "PERSON", ""), ("Lee", "GPE", "")]
    assert [(s.text, s.label_) for s in doc.spans["suggested"]] == [("  ", "ORG"), ("Seoul agreed", "ORG"),
                                                                    ("Seoul", "GPE")]


def iob(doc: Doc) -> list[tuple[str, str]]:
    return [(t.text, t.ent_iob_ + ("-" + t.ent_type_ if t.ent_type_ else "")) for t in doc if not t.is_space]


def test_spacy_unchecked_suggestions_are_missing_not_o(tmp_path):
    """Regression: a done document's unchecked suggestions came out as O, so spacy train learned each
    as a non-entity. Their tokens are missing (ent_iob_ ""), left out or written as suggestions; a
    person's entity over part of one keeps its tokens; what nobody suggested stays O."""
    text = "Defense Minister Kim Kwan-jin met Naoki Tanaka in Tokyo."
    at = text.index
    tanaka = SpanRecord(at("Naoki"), at("Naoki") + 12, "PERSON")
    kim = SpanRecord(at("Kim"), at("Kim") + 12, "PERSON", status="suggested")
    left_out = DocRecord("left", text, spans=[tanaka], unchecked=[(kim.start, kim.end), (at("Naoki"), at(" in ") + 3)])
    asked = DocRecord("asked", text, spans=[tanaka, kim])
    spacy_docbin.write([left_out, asked], tmp_path / "o.spacy")
    first, second = DocBin().from_disk(tmp_path / "o.spacy").get_docs(Vocab())
    assert iob(first) == [("Defense", "O"), ("Minister", "O"), ("Kim", ""), ("Kwan", ""), ("-", ""), ("jin", ""),
                          ("met", "O"), ("Naoki", "B-PERSON"), ("Tanaka", "I-PERSON"), ("in", ""), ("Tokyo", "O"),
                          (".", "O")]
    assert iob(second)[2:6] == [("Kim", ""), ("Kwan", ""), ("-", ""), ("jin", "")]
    assert [e.text for e in second.ents] == ["Naoki Tanaka"] and [s.text for s in second.spans["suggested"]] == [
        "Kim Kwan-jin"]
    # what spacy train makes of it: no tag (None) to learn on the unchecked tokens, O where checked
    nlp = spacy.blank("en")
    [example, _] = list(spacy.training.Corpus(str(tmp_path / "o.spacy"))(nlp))
    tags = dict(zip([t.text for t in example.predicted], example.get_aligned_ner()))
    assert [tags[w] for w in ("Kim", "jin", "in", "Tokyo", "Naoki")] == [None, None, None, "O", "B-PERSON"]


def test_adler32_of_joined_parts_is_combined_from_the_parts():
    first, second = b"DocBin " * 1000, bytes(range(256)) * 300
    assert docbin_stream.adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second)) == zlib.adler32(
        first + second)


def test_bad_tokens_in_a_later_batch_write_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(spacy_docbin._Batches, "BATCH", 2)
    recs = corpus(5) + [DocRecord("bad", "ab cd", tokens=[(3, 5), (0, 2)])]
    with pytest.raises(AnnotatorError, match=r"E107.*'bad'.*token 1: 0-2"):
        spacy_docbin.write(recs, tmp_path / "o.spacy")
    assert list(tmp_path.iterdir()) == []


def test_a_docbin_too_big_for_msgpack_is_refused(tmp_path, monkeypatch):
    """A msgpack bin holds at most 4 GiB: past it (about 200,000 articles of tokens) a coded line, no file."""
    monkeypatch.setattr(docbin_stream, "MAX_BIN", 1000)
    with pytest.raises(AnnotatorError, match=r"E540.*'o.spacy'.*12 documents"):
        spacy_docbin.write(corpus(12), tmp_path / "o.spacy")
    assert list(tmp_path.iterdir()) == []


def test_a_batch_of_empty_documents_is_written(tmp_path):
    """A batch with no token at all (here the only one) still packs: an empty document reads back."""
    spacy_docbin.write([DocRecord("e", "")], tmp_path / "o.spacy")
    [doc] = DocBin().from_disk(tmp_path / "o.spacy").get_docs(Vocab())
    assert (doc.text, doc.user_data["name"]) == ("", "e")


def test_spacy_meta_integers_beyond_64_bits_are_written_as_text_and_reported(tmp_path):
    """Only the values msgpack cannot hold become text; the records after one are packed as they are."""
    records = [DocRecord("big", "a b", meta={"n": 2**64, "m": -2**63, "l": [2**100]}), sample()]
    report = spacy_docbin.write(records, tmp_path / "o.spacy")
    assert report.as_text == [("big", "n"), ("big", "l[0]")]
    back = spacy_docbin.read(tmp_path / "o.spacy")
    assert [r.meta for r in back] == [{"n": str(2**64), "m": -2**63, "l": [str(2**100)]}, sample().meta]
