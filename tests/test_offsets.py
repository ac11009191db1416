"""Offsets hold through import → edit → export for the characters that break peer tools."""

import json
import tempfile
from pathlib import Path

from factories import write_jsonl
from hypothesis import HealthCheck, given, settings, strategies as st

from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.io.exporting import export
from annotator.io.importing import import_paths

PIECES = ["Seoul", "東京", "😀", "👩\u200d💻", "e\u0301", "שלום", "مرحبا", " ", " ", "\t", "\r\n", "\n", "Kim", "."]
texts = st.lists(st.sampled_from(PIECES), min_size=3, max_size=40).map("".join).filter(lambda t: t.strip())


def edit_and_export(tmp: Path, path: Path, picks) -> tuple[str, list[dict], list[tuple[int, int]]]:
    store = Store(tmp / "p.db")
    import_paths(store, [path], use_model=False)
    project = Project(store, user="ana")
    doc = project.document(1)
    project.open_document(1)
    made = []
    for a, b in picks:
        lo, hi = sorted((a % (len(doc.text) + 1), b % (len(doc.text) + 1)))
        if hi == lo:
            continue
        start, end = doc.tokens.snap(lo, hi)
        if (start, end) in made or not doc.text[start:end].strip():
            continue
        project.add_span(1, start, end, "GPE")
        made.append((start, end))
    export(store, "jsonl", tmp / "out.jsonl", layer="ana", status="all")
    [task] = [json.loads(line) for line in (tmp / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    store.close()
    return doc.text, task["spans"], made


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, picks=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), max_size=5))
def test_offsets_plain_text_import_edit_export(text, picks):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "a.txt"
        path.write_bytes(("\ufeff" + text).encode("utf-8"))
        stored, spans, made = edit_and_export(tmp, path, picks)
        assert stored == text.replace("\r\n", "\n")  # normalised before any offset existed
        assert sorted((s["start"], s["end"]) for s in spans) == sorted(made)
        for s in spans:
            assert s["text"] == stored[s["start"]:s["end"]]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, picks=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), max_size=5))
def test_offsets_jsonl_text_kept_byte_for_byte(text, picks):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = write_jsonl(tmp / "a.jsonl", [{"text": text}])
        stored, spans, made = edit_and_export(tmp, path, picks)
        assert stored == text  # CRLF kept: its offsets belong to the source
        for s in spans:
            assert s["text"] == text[s["start"]:s["end"]]
