"""Every reader is total: any bytes give records or one coded AnnotatorError, never another exception
and never unbounded memory. Hypothesis mutates small valid files (bytes, then JSON values and types);
the classes of bad input found by hand get a regression example each."""

from __future__ import annotations

import json
import os
import random
import struct
import zlib
from pathlib import Path

import pytest
import srsly
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.tokens import DocBin

from annotator.core.records import DocRecord, SpanRecord
from annotator.errors import AnnotatorError
from annotator.formats import brat, conll, docbin_read, doccano, jsonl, kb_files, labelstudio, spacy_docbin, xmi
from annotator.io.sources import read_paths

TEXT = "Kim Kwan-jin visits Tokyo.\nSeoul 😀 agreed."
SAMPLE = [DocRecord(name="a1", text=TEXT, title="Visit", meta={"source": "wire"},
                    spans=[SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(20, 25, "GPE"),
                           SpanRecord(27, 32, "GPE", "NIL")], annotator="ana"),
          DocRecord(name="a2", text="Tokyo agreed.", spans=[SpanRecord(0, 5, "GPE")])]
KB_ROWS = [{"id": "Q884", "name": "South Korea", "type": "GPE", "description": "country",
            "aliases": ["South Korea", "Korea"], "alias_counts": [3, 1]},
           {"id": "Q8684", "name": "Seoul", "aliases": ["Seoul"]}]
FAST = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def total(read, path):
    """What the reader gives: records, or a coded error; anything else fails the test."""
    try:
        return read(path)
    except AnnotatorError as e:
        assert e.code is not None, f"uncoded error: {e}"
        return e


def written(fmt: str, folder: Path) -> Path:
    """A small valid file (or folder) of the format, written by the format itself."""
    if fmt == "kb-jsonl":
        out = folder / "kb.jsonl"
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in KB_ROWS), encoding="utf-8")
        return out
    if fmt == "kb-csv":
        out = folder / "kb.csv"
        out.write_text("id,name,type,description,aliases,alias_counts\nQ884,South Korea,GPE,country,"
                       "South Korea|Korea,3|1\nQ8684,Seoul,,,Seoul,\n", encoding="utf-8")
        return out
    module = {"jsonl": jsonl, "doccano": doccano, "labelstudio": labelstudio, "brat": brat, "conll": conll,
              "xmi": xmi, "spacy": spacy_docbin}[fmt]
    out = folder / ("out" + module.SUFFIX)
    module.write(SAMPLE, out)
    return out


READERS = {"jsonl": jsonl.read, "doccano": doccano.read, "labelstudio": labelstudio.read, "brat": brat.read,
           "conll": conll.read, "xmi": xmi.read, "spacy": spacy_docbin.read, "kb-jsonl": kb_files.read,
           "kb-csv": kb_files.read}


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """Per format: the file's bytes (a folder format: its main file's), the folder, the path read."""
    out = {}
    for fmt in READERS:
        folder = tmp_path_factory.mktemp(fmt)
        path = written(fmt, folder)
        main = {"brat": folder / "out" / "a1.ann", "xmi": folder / "out" / "a1.xmi"}.get(fmt, path)
        out[fmt] = (main, path)
    return out


def _mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for kind, pos, value in ops:
        if not buf:
            buf.extend(value)
            continue
        i = pos % len(buf)
        if kind == 0:
            buf[i] = value[0] if value else 0
        elif kind == 1:
            buf[i:i] = value
        elif kind == 2:
            del buf[i:i + 1 + len(value)]
        else:  # copy a stretch of the file elsewhere
            buf[i:i] = buf[(i * 7) % len(buf):(i * 7) % len(buf) + len(value) * 4]
    return bytes(buf)


_ops = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 20),
                          st.binary(min_size=0, max_size=6) | st.sampled_from(
                              [b"\x00", b"\xff", b'"', b"[", b"]", b"{", b"}", b",", b"\n", b"-", b"9" * 30,
                               b"\\ud800", b"NaN", b"1e999", b"true", b"0.5", b";", b"\t", b"\r"])),
                min_size=1, max_size=8)


def _byte_fuzz(samples, fmt, ops):
    main, path = samples[fmt]
    original = main.read_bytes()
    try:
        main.write_bytes(_mutate(original, ops))
        result = total(READERS[fmt], path)
        if not isinstance(result, AnnotatorError):
            assert isinstance(result, list)
    finally:
        main.write_bytes(original)


@FAST
@given(ops=_ops)
def test_fuzz_jsonl_bytes(samples, ops):
    _byte_fuzz(samples, "jsonl", ops)


@FAST
@given(ops=_ops)
def test_fuzz_doccano_bytes(samples, ops):
    _byte_fuzz(samples, "doccano", ops)


@FAST
@given(ops=_ops)
def test_fuzz_labelstudio_bytes(samples, ops):
    _byte_fuzz(samples, "labelstudio", ops)


@FAST
@given(ops=_ops)
def test_fuzz_brat_bytes(samples, ops):
    _byte_fuzz(samples, "brat", ops)


@FAST
@given(ops=_ops)
def test_fuzz_conll_bytes(samples, ops):
    _byte_fuzz(samples, "conll", ops)


@SLOW
@given(ops=_ops)
def test_fuzz_xmi_bytes(samples, ops):
    _byte_fuzz(samples, "xmi", ops)


@SLOW
@given(ops=_ops)
def test_fuzz_spacy_bytes(samples, ops):
    _byte_fuzz(samples, "spacy", ops)


@FAST
@given(ops=_ops)
def test_fuzz_kb_jsonl_bytes(samples, ops):
    _byte_fuzz(samples, "kb-jsonl", ops)


@FAST
@given(ops=_ops)
def test_fuzz_kb_csv_bytes(samples, ops):
    _byte_fuzz(samples, "kb-csv", ops)


# --- values and types: a JSON value somewhere in the file replaced by anything
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6) | st.sampled_from(["", " ", "\x00", "\ud800", "PERSON", "\x1f", "Q1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _replaced(value, where, new):
    if not where:
        return new
    value[where[0]] = _replaced(value[where[0]], where[1:], new)
    return value


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=True, allow_nan=True)  # "\ud800" as an escape, NaN as NaN


def _value_fuzz(samples, fmt, seed, new, whole_file=False):
    main, path = samples[fmt]
    original = main.read_text(encoding="utf-8")
    rng = random.Random(seed)
    if whole_file:
        value = json.loads(original)
        where = rng.choice(list(_paths(value)))
        mutated = _dumps(_replaced(value, where, new))
    else:
        lines = original.splitlines()
        k = rng.randrange(len(lines))
        value = json.loads(lines[k])
        lines[k] = _dumps(_replaced(value, rng.choice(list(_paths(value))), new))
        mutated = "\n".join(lines) + "\n"
    try:
        main.write_text(mutated, encoding="utf-8")
        total(READERS[fmt], path)
    finally:
        main.write_text(original, encoding="utf-8")


@FAST
@given(seed=st.integers(0, 2**32), new=_json_value)
def test_fuzz_jsonl_values(samples, seed, new):
    _value_fuzz(samples, "jsonl", seed, new)


@FAST
@given(seed=st.integers(0, 2**32), new=_json_value)
def test_fuzz_doccano_values(samples, seed, new):
    _value_fuzz(samples, "doccano", seed, new)


@FAST
@given(seed=st.integers(0, 2**32), new=_json_value)
def test_fuzz_labelstudio_values(samples, seed, new):
    _value_fuzz(samples, "labelstudio", seed, new, whole_file=True)


@FAST
@given(seed=st.integers(0, 2**32), new=_json_value)
def test_fuzz_kb_jsonl_values(samples, seed, new):
    _value_fuzz(samples, "kb-jsonl", seed, new)


# --- regression examples, one per class found by hand
def _jsonl_with(tmp_path, line: str, name="t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(line + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("span, code", [
    ('{"start": NaN, "end": 3, "label": "X"}', "E015"),
    ('{"start": 0, "end": Infinity, "label": "X"}', "E015"),
    ('{"start": 0.0, "end": 3.9, "label": "X"}', "E016"),  # was truncated to 0-3
    ('{"start": false, "end": true, "label": "X"}', "E016"),  # was taken as 0-1
    ('{"start": 0, "end": 1e999, "label": "X"}', "E016"),
    ('{"start": 0, "end": 99999999999999999999999, "label": "X"}', "E016"),
    ('{"start": 0, "end": 3, "label": ""}', "E016"),
    ('{"start": 0, "end": 3, "label": "X\\u0000"}', "E016"),
    ('{"start": 0, "end": 3, "label": ["X"]}', "E016"),
    ('{"start": 0, "end": 3, "label": "X", "kb_id": {"id": 1}}', "E016"),
    ('{"start": 0, "end": 3, "label": "\\ud800"}', "E112"),
])
def test_jsonl_bad_offsets_and_labels_are_coded(tmp_path, span, code):
    path = _jsonl_with(tmp_path, '{"text": "abc def", "spans": [%s]}' % span)
    with pytest.raises(AnnotatorError) as e:
        jsonl.read(path)
    assert e.value.code == code and f"{path}" in str(e.value) and "line 1" in str(e.value)


@pytest.mark.parametrize("line, code", [
    ('{"text": "abc", "meta": [1]}', "E016"),
    ('{"text": "abc", "spans": {"start": 0}}', "E016"),
    ('{"text": "abc", "_annotator_id": {"x": 1}}', "E016"),
    ('{"text": "a\\ud800b"}', "E112"),
    ('{"text": "abc", "meta": {"x": "\\udfff"}}', "E112"),
    ('{"text": "abc", "n": 1' + "0" * 5000 + "}", "E015"),  # past Python's digit limit
])
def test_jsonl_wrong_types_and_surrogates_are_coded(tmp_path, line, code):
    with pytest.raises(AnnotatorError) as e:
        jsonl.read(_jsonl_with(tmp_path, line))
    assert e.value.code == code


def test_json_nested_200000_deep_is_coded_in_every_json_reader(tmp_path):
    deep = "[" * 200_000 + "]" * 200_000
    cases = [(jsonl.read, _jsonl_with(tmp_path, '{"text": "abc", "meta": {"x": %s}}' % deep)),
             (doccano.read, _jsonl_with(tmp_path, '{"text": "abc", "label": %s}' % deep, "d.jsonl")),
             (labelstudio.read, _jsonl_with(tmp_path, deep, "ls.json")),
             (kb_files.read, _jsonl_with(tmp_path, '{"name": "x", "aliases": %s}' % deep, "kb.jsonl"))]
    for read, path in cases:
        with pytest.raises(AnnotatorError) as e:
            read(path)
        assert e.value.code == "E111", (read, e.value)
    # 65 levels: below Python's recursion limit, still past ours
    with pytest.raises(AnnotatorError, match="E111"):
        jsonl.read(_jsonl_with(tmp_path, '{"text": "abc", "meta": {"x": %s}}' % ("[" * 65 + "]" * 65)))


def test_doccano_and_labelstudio_wrong_types_are_coded(tmp_path):
    for line in ('{"text": "abc", "label": [[0, 1, ""]]}', '{"text": "abc", "label": 5}',
                 '{"text": "abc", "label": [[0, 1.5, "X"]]}', '{"text": "abc", "meta": "x"}',
                 '{"text": "abc", "kb_ids": {"a": 1}}', '{"text": "abc", "label": [[0, 9, "X"]]}'):
        with pytest.raises(AnnotatorError, match="E100"):
            doccano.read(_jsonl_with(tmp_path, line))
    task = {"data": {"text": "abc", "meta": [1]}, "annotations": []}
    with pytest.raises(AnnotatorError, match="E101"):
        labelstudio.read(_jsonl_with(tmp_path, json.dumps([task]), "ls.json"))
    region = {"id": "r", "type": "labels", "value": {"start": 0, "end": 2, "labels": [""]}}
    task = {"data": {"text": "abc"}, "annotations": [{"result": [region]}]}
    with pytest.raises(AnnotatorError, match="E101"):
        labelstudio.read(_jsonl_with(tmp_path, json.dumps([task]), "ls.json"))


def test_brat_nul_in_text_and_kb_csv_nul_in_name_are_coded(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"Kim\x00 visits")
    (tmp_path / "a.ann").write_text("T1\tPERSON 0 3\tKim\n", encoding="utf-8")
    with pytest.raises(AnnotatorError, match="E114"):
        brat.read(tmp_path / "a.ann")
    (tmp_path / "kb.csv").write_bytes(b"id,name\nQ1,Seo\x00ul\n")
    with pytest.raises(AnnotatorError, match="E219") as e:
        kb_files.read(tmp_path / "kb.csv")
    assert "line 2" in str(e.value)


def test_brat_huge_offsets_are_coded(tmp_path):
    (tmp_path / "a.txt").write_text("Kim visits", encoding="utf-8")
    (tmp_path / "a.ann").write_text("T1\tPERSON 0 " + "9" * 5000 + "\tKim\n", encoding="utf-8")
    with pytest.raises(AnnotatorError, match="E100"):
        brat.read(tmp_path / "a.ann")


@pytest.mark.parametrize("name, content", [
    ("d.jsonl", '{"text": "   "}'),  # doccano
    ("ls.json", '[{"data": {"text": ""}}]'),
    ("c.conll", "-DOCSTART- -X- -X- O\n\n-DOCSTART- -X- -X- O\n\nKim B-PER\n"),
])
def test_importing_an_empty_document_is_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    fmt = {"d.jsonl": "doccano", "ls.json": "labelstudio", "c.conll": "conll"}[name]
    with pytest.raises(AnnotatorError) as e:
        read_paths([path], fmt)
    assert e.value.code == "E113" and str(path) in str(e.value)


def test_importing_an_empty_brat_text_is_refused(tmp_path):
    (tmp_path / "a.txt").write_text("", encoding="utf-8")
    (tmp_path / "a.ann").write_text("", encoding="utf-8")
    with pytest.raises(AnnotatorError, match="E113"):
        read_paths([tmp_path], "brat")


def test_fifo_and_link_to_dev_zero_are_refused_before_reading(tmp_path):
    """Both used to be read until MemoryError (or forever)."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.txt"
    zero.symlink_to("/dev/zero")
    for path in (fifo, zero):
        with pytest.raises(AnnotatorError) as e:
            read_paths([path])
        assert e.value.code == "E108" and str(path) in str(e.value)
        for read in READERS.values():
            target = path.with_suffix({kb_files.read: ".jsonl"}.get(read, path.suffix))
            if target != path:
                target.symlink_to(path)
            with pytest.raises(AnnotatorError) as e:
                read(target)
            assert e.value.code in ("E108", "E010"), (read, e.value)
            if target != path:
                target.unlink()
    with pytest.raises(AnnotatorError, match="E108"):
        read_paths([tmp_path], "txt")  # a folder holding them


def test_brat_and_xmi_fifo_in_a_folder_are_refused(tmp_path):
    os.mkfifo(tmp_path / "a.ann")
    (tmp_path / "a.txt").write_text("Kim", encoding="utf-8")
    with pytest.raises(AnnotatorError, match="E108"):
        brat.read(tmp_path)
    os.mkfifo(tmp_path / "b.xmi")
    with pytest.raises(AnnotatorError, match="E108"):
        xmi.read(tmp_path)


def test_spacy_zlib_bomb_of_zeros_is_refused_at_once(tmp_path):
    """512 MB of zeros in a few KB: no msgpack map, refused on its first byte, nothing inflated past it."""
    c = zlib.compressobj(1)
    chunk = bytes(1 << 20)
    data = b"".join(c.compress(chunk) for _ in range(512)) + c.flush()
    assert len(data) < 8 << 20
    path = tmp_path / "bomb.spacy"
    path.write_bytes(data)
    with pytest.raises(AnnotatorError) as e:
        spacy_docbin.read(path)
    assert e.value.code == "E101"


def _docbin_head(*pairs) -> bytes:
    """The start of a DocBin map of len(pairs) + 3 keys: `pairs` (key, packed value) after attrs."""
    p = srsly.msgpack.Packer(use_bin_type=True)
    head = p.pack_map_header(len(pairs) + 3) + p.pack("attrs") + p.pack(DocBin().attrs)
    return head + b"".join(p.pack(k) + v for k, v in pairs)


def test_spacy_token_rows_past_the_temporary_folders_room_are_refused_before_copying(tmp_path, monkeypatch):
    """The token rows' declared size (4 GB here, 8 MB of it present) is checked against the room
    before a byte is spilled: E541 at once, not after writing gigabytes."""
    monkeypatch.setattr(docbin_read, "MAX_SPILL", 64 << 20)
    c = zlib.compressobj(1)
    data = c.compress(_docbin_head(("tokens", b"\xc6" + struct.pack(">I", 2**32 - 1))))
    data += b"".join(c.compress(bytes(1 << 20)) for _ in range(8)) + c.flush()
    path = tmp_path / "bomb.spacy"
    path.write_bytes(data)
    with pytest.raises(AnnotatorError) as e:
        spacy_docbin.read(path)
    assert e.value.code == "E541" and "TMPDIR" in str(e.value)


def test_spacy_skipped_fields_past_the_cap_are_refused(tmp_path, monkeypatch):
    """cats are skipped, not kept, but a bomb of them would take the CPU without end: E542 past the cap."""
    monkeypatch.setattr(docbin_read, "MAX_HELD", 1 << 20)
    p = srsly.msgpack.Packer(use_bin_type=True)
    cats = p.pack_array_header(10_000_000) + p.pack({}) * 10_000_000  # 10 MB of empty maps
    path = tmp_path / "cats.spacy"
    path.write_bytes(zlib.compress(_docbin_head(("cats", cats))))
    with pytest.raises(AnnotatorError) as e:
        spacy_docbin.read(path)
    assert e.value.code == "E542" and "besides the token rows" in str(e.value)


def test_spacy_strings_past_the_memory_cap_are_refused(tmp_path, monkeypatch):
    """What stays in memory (the strings table) is capped: E542 past MAX_HELD, however well it packs."""
    monkeypatch.setattr(docbin_read, "MAX_HELD", 4 << 20)
    p = srsly.msgpack.Packer(use_bin_type=True)
    strings = p.pack_array_header(100_000) + p.pack("x" * 100) * 100_000  # 10 MB
    path = tmp_path / "strings.spacy"
    path.write_bytes(zlib.compress(_docbin_head(("strings", strings))))
    with pytest.raises(AnnotatorError) as e:
        spacy_docbin.read(path)
    assert e.value.code == "E542" and "strings" in str(e.value)


def test_read_size_is_capped(tmp_path, monkeypatch):
    from annotator.formats import files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.conll"
    path.write_text("Kim B-PER\n" * 20, encoding="utf-8")
    with pytest.raises(AnnotatorError, match="E109"):
        conll.read(path)
    monkeypatch.setattr(files, "MAX_LINE_BYTES", 50)
    with pytest.raises(AnnotatorError, match="E109") as e:
        jsonl.read(_jsonl_with(tmp_path, '{"text": "%s"}' % ("a" * 60)))
    assert "line 1" in str(e.value)


def test_readers_give_back_what_the_writers_wrote(samples):
    """The fuzzing starts from valid files: each reads back whole."""
    for fmt, (_, path) in samples.items():
        result = READERS[fmt](path)
        assert isinstance(result, list) and len(result) == 2, fmt

