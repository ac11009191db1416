"""Whole imports are total: any bytes under any suffix (`--format auto` guesses from it), and the real
tools' files with any JSON value replaced, give a clean import or one coded error that leaves the
project as it was, never another exception. The readers' own fuzzing (test_readers_fuzz.py) starts
from files our writers made; this starts from the tools' files (tests/data/*/README.md) and goes
through the guessing and the storing too."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from factories import new_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_readers_fuzz import _paths, _replaced

from annotator.core.db.models import Document, Span
from annotator.errors import AnnotatorError
from annotator.io.importing import import_paths

DATA = Path(__file__).parent / "data"
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
SUFFIXES = [".txt", ".jsonl", ".json", ".ann", ".xmi", ".spacy", ".conll", ""]
# (format, file): the JSON files of the tools, one task or line each mutated
JSON_FILES = [("jsonl", DATA / "prodigy" / "reddit-product-ner-teach.jsonl"),
              ("jsonl", DATA / "prodigy" / "news-headlines-ner-manual.jsonl"),
              ("doccano", DATA / "doccano" / "intent_detection_export.jsonl"),
              ("doccano", DATA / "doccano" / "relation_extraction.jsonl"),
              ("labelstudio", DATA / "labelstudio" / "choices-sentiment.json"),
              ("labelstudio", DATA / "labelstudio" / "completions-348.json")]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return new_store(tmp_path_factory.mktemp("fuzz") / "p.db")


def counts(store) -> tuple[int, int]:
    with store.Session() as s:
        return s.scalar(select(func.count()).select_from(Document)), s.scalar(select(func.count()).select_from(Span))


def imported(store, path: Path, fmt: str) -> None:
    """Import `path`: a coded error leaves the project as it was, a clean import adds what it reports."""
    before = counts(store)
    try:
        report = import_paths(store, [path], fmt=fmt, use_model=False, as_layer="fuzz")
    except AnnotatorError as e:
        assert e.code is not None, f"uncoded error: {e}"
        assert counts(store) == before, "a refused import changed the project"
        return
    docs, spans = counts(store)
    assert docs == before[0] + len(report.added)
    assert spans >= before[1]


@FUZZ
@given(data=st.binary(max_size=300) | st.sampled_from([b"", b"\x00", b"{}", b"[]", b'{"text": "a"}\n',
                                                      b"T1\tX 0 1\ta\n", b"a B-X\n", b"<xmi:XMI/>",
                                                      b"\xef\xbb\xbf[{}]", b'{"text": "a", "label": [[0, 1, "X"]]}\n']),
       suffix=st.sampled_from(SUFFIXES))
def test_fuzz_import_auto_any_bytes_any_suffix(project, tmp_path_factory, data, suffix):
    folder = tmp_path_factory.mktemp("in")
    path = folder / f"f{suffix}"
    path.write_bytes(data)
    if suffix == ".ann":
        (folder / "f.txt").write_bytes(data[:50])
    imported(project, path, "auto")


_value = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from(["", "reject", "ignore", "labels", "choices", "relation", "text", "O"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)


@FUZZ
@given(which=st.integers(0, len(JSON_FILES) - 1), seed=st.integers(0, 2**32), new=_value)
def test_fuzz_real_tool_files_with_a_value_replaced(project, tmp_path_factory, which, seed, new):
    fmt, source = JSON_FILES[which]
    rng = random.Random(seed)
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".json":
        value = json.loads(text)
        mutated = json.dumps(_replaced(value, rng.choice(list(_paths(value))), new))
    else:
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        k = rng.randrange(len(lines))
        lines[k] = _replaced(lines[k], rng.choice(list(_paths(lines[k]))), new)
        mutated = "".join(json.dumps(line) + "\n" for line in lines)
    path = tmp_path_factory.mktemp("in") / f"f{source.suffix}"
    path.write_text(mutated, encoding="utf-8")
    imported(project, path, fmt)


@pytest.mark.parametrize("name", ["stringmatch-relation-test.xmi", "token-attached-annotations-with-values.xmi",
                                  "zero-length-spans-with-feature-values.xmi"])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(cut=st.integers(0, 5000), junk=st.binary(max_size=8))
def test_fuzz_inception_xmi_cut_and_spliced(project, tmp_path_factory, name, cut, junk):
    """The XMI scan and the features added for a file without its type system, on broken files."""
    data = (DATA / "inception" / name).read_bytes()
    cut %= len(data)
    path = tmp_path_factory.mktemp("in") / name
    path.write_bytes(data[:cut] + junk + data[cut + len(junk):])
    imported(project, path, "xmi")
