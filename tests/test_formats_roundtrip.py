"""Every format: write → read keeps spans, labels and KB ids, on awkward texts too."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from annotator.core.nlp import with_gaps
from annotator.core.records import DocRecord, SpanRecord
from annotator.formats import registry

CHARACTER_FORMATS = ["jsonl", "brat", "doccano", "labelstudio", "xmi"]
TOKEN_FORMATS = ["spacy", "conll"]

# Pieces that break naive offset code: astral emoji, a ZWJ family, CJK, a combining mark, RTL,
# tabs, CRLF and lone CR, a non-breaking space.
PIECES = ["Kim", "Kwan-jin", "Tokyo", ".", ",", "😀", "👨‍👩‍👧", "東京", "e\u0301", "שלום", "عربي",
          " ", " ", " ", "\t", "\r\n", "\n", "\r", "\u00a0", "-", "x"]
LABELS = ["PERSON", "GPE", "ORG"]
KB_IDS = [None, None, "Q495727", "NIL", "local:7"]


def out_path(fmt: str, where: Path) -> Path:
    suffix = registry.get(fmt).SUFFIX
    return where / ("out" + suffix) if suffix else where / "out"


def round_trip(fmt: str, docs: list[DocRecord]):
    with tempfile.TemporaryDirectory() as where:
        module = registry.get(fmt)
        report = module.write(docs, out_path(fmt, Path(where)))
        return report, list(module.read(out_path(fmt, Path(where))))  # jsonl reads lazily


def key(spans):
    return sorted((s.start, s.end, s.label, s.kb_id or "") for s in spans)


def sample_docs() -> list[DocRecord]:
    text = "Kim Kwan-jin 😀 visits Tokyo.\r\nSeoul\tand 東京 agreed on GSOMIA."
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    find = text.index
    spans = [SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(find("Seoul"), find("Seoul") + 5, "GPE", "NIL"),
             SpanRecord(find("東京"), find("東京") + 2, "GPE", "Q1490"), SpanRecord(find("GSOMIA"), len(text), "ORG")]
    return [DocRecord("a1", text, spans=spans, tokens=tokens), DocRecord("a2", "Nothing.", tokens=[(0, 8)])]


def test_registry_knows_every_format():
    assert set(CHARACTER_FORMATS + TOKEN_FORMATS) <= set(registry.names())
    for fmt in CHARACTER_FORMATS + TOKEN_FORMATS:
        module = registry.get(fmt)
        assert module.__doc__ and callable(module.read) and callable(module.write)


@pytest.mark.parametrize("fmt", CHARACTER_FORMATS + TOKEN_FORMATS)
def test_roundtrip_sample_corpus(fmt):
    docs = sample_docs()
    report, back = round_trip(fmt, docs)
    assert (report.documents, report.misaligned) == (2, [])
    assert len(back) == 2
    for doc, got in zip(docs, back):
        if fmt == "conll":  # the text is rebuilt from tokens: compare surfaces instead of offsets
            assert [(got.text[s.start:s.end].split(), s.label, s.kb_id) for s in got.spans] == \
                   [(doc.text[s.start:s.end].split(), s.label, s.kb_id) for s in doc.spans]
        else:
            assert got.text == doc.text
            assert key(got.spans) == key(doc.spans)


@st.composite
def texts(draw):
    return "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=25)))


@st.composite
def char_docs(draw):
    """A document with any spans, overlapping ones included."""
    text = draw(texts())
    spans = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        spans.append(SpanRecord(start, end, draw(st.sampled_from(LABELS)), draw(st.sampled_from(KB_IDS))))
    return DocRecord("doc", text, spans=spans)


@st.composite
def token_docs(draw):
    """A document with whitespace tokens and non-overlapping spans on token boundaries."""
    text = draw(texts())
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    cuts = sorted(set(draw(st.lists(st.integers(0, len(tokens)), max_size=8))))
    spans = []
    for i, j in zip(cuts[::2], cuts[1::2]):
        if i < j:
            label, kb_id = draw(st.sampled_from(LABELS)), draw(st.sampled_from(KB_IDS))
            spans.append(SpanRecord(tokens[i][0], tokens[j - 1][1], label, kb_id))
    return DocRecord("doc", text, spans=spans, tokens=tokens)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", CHARACTER_FORMATS)
@SETTINGS
@given(doc=char_docs())
def test_roundtrip_character_formats_keep_any_span(fmt, doc):
    assume(fmt != "jsonl" or doc.text.strip())  # the JSONL reader refuses blank documents
    report, [got] = round_trip(fmt, [doc])
    assert report.misaligned == []
    assert got.text == doc.text
    assert key(got.spans) == key(doc.spans)


@pytest.mark.parametrize("fmt", TOKEN_FORMATS)
@SETTINGS
@given(doc=token_docs())
def test_roundtrip_token_formats_keep_token_spans(fmt, doc):
    report, [got] = round_trip(fmt, [doc])
    assert report.misaligned == []
    assert [got.text[s:e] for s, e in got.tokens if not got.text[s:e].isspace()] == [doc.text[s:e] for s, e in doc.tokens]
    if fmt == "spacy":
        assert got.text == doc.text and got.tokens == with_gaps(doc.text, doc.tokens)  # + spaCy's whitespace tokens
        assert key(got.spans) == key(doc.spans)
    else:  # CoNLL rebuilds the text: compare spans as token ranges
        def token_spans(d):
            first = {s: i for i, (s, _) in enumerate(d.tokens)}
            last = {e: i for i, (_, e) in enumerate(d.tokens)}
            return sorted((first[s.start], last[s.end], s.label, s.kb_id or "") for s in d.spans)
        assert token_spans(got) == token_spans(doc)
