"""The core export path the CLI and the window share: registry facts, progress, cancel, blind layers,
and nothing left behind when an export fails or is cancelled."""

from __future__ import annotations

import gc
import json
import threading

import pytest

from annotator.core.db.annotators import set_role
from annotator.core.project import Project
from annotator.core.records import DocRecord, FormatReport, SpanRecord, StoredRecord
from annotator.errors import AnnotatorError, Cancelled
from annotator.formats import registry
from annotator.io import exporting
from annotator.io.exporting import document_ids, export, summary

USER = "tester"  # conftest's `project`: the three seeds, the tester's layer holds the first one


def opened_all(project: Project) -> list[int]:
    ids = [d.id for d in project.documents()]
    for doc in ids:
        project.open_document(doc)
    return ids


def leftovers(folder) -> list[str]:
    """Temporary files or folders an export could leave beside its output."""
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name or p.name.startswith("."))


def test_exporting_registry_describes_every_format_without_importing_it():
    for name in registry.names():
        info = registry.info(name)
        assert info.suffix == registry.get(name).SUFFIX and info.folder == (info.suffix == "")
        assert info.title
    assert registry.export_names() == ["brat", "conll", "doccano", "jsonl", "labelstudio", "spacy", "xmi"]
    assert [n for n in registry.names() if registry.info(n).tokens] == ["conll", "spacy"]
    with pytest.raises(AnnotatorError) as e:
        registry.info("nope")
    assert e.value.code == "E040"


def test_exporting_spacy_kb_is_not_a_document_format(project, tmp_path):
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "spacy-kb", tmp_path / "kb", layer=USER, status="all")
    assert e.value.code == "E042"
    assert not (tmp_path / "kb").exists() and not leftovers(tmp_path)


def test_exporting_progress_counts_every_document(project, tmp_path):
    ids = opened_all(project)
    calls = []
    report = export(project.store, "jsonl", tmp_path / "out.jsonl", layer=USER, status="all",
                    progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, len(ids)) for n in range(len(ids) + 1)]
    assert report.documents == len(ids) == 3
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["meta"]["name"] for line in lines] == [d.name for d in project.documents()]
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("fmt", ["jsonl", "conll", "brat", "spacy"])
def test_exporting_cancel_writes_nothing_and_keeps_an_older_export(project, tmp_path, fmt):
    opened_all(project)
    out = tmp_path / f"out{registry.info(fmt).suffix}"
    export(project.store, fmt, out, layer=USER, status="all")
    before = sorted((p.name, p.read_bytes()) for p in ([out] if out.is_file() else out.iterdir()))
    project.add_span(project.documents()[1].id, 0, 3, "ORG")  # the next export would differ
    seen = []
    with pytest.raises(Cancelled):
        export(project.store, fmt, out, layer=USER, status="all", progress=lambda done, total: seen.append(done),
               cancelled=lambda: len(seen) > 1, force=True)
    assert sorted((p.name, p.read_bytes()) for p in ([out] if out.is_file() else out.iterdir())) == before
    assert not leftovers(tmp_path)


def test_exporting_failure_midway_leaves_no_partial_file(project, tmp_path):
    """Whatever stops the export after some documents were written, the output is not touched."""
    opened_all(project)
    out = tmp_path / "out.jsonl"
    out.write_text("an older export\n", encoding="utf-8")

    def progress(done, total):
        if done == 2:
            raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        export(project.store, "jsonl", out, layer=USER, status="all", progress=progress, force=True)
    assert out.read_text(encoding="utf-8") == "an older export\n"
    assert not leftovers(tmp_path)


def test_exporting_missing_folder_is_a_coded_error_and_creates_nothing(project, tmp_path):
    out = tmp_path / "missing" / "out.jsonl"
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "jsonl", out, layer=USER, status="all")
    assert e.value.code == "E043"
    assert str(e.value) == (f"[E043] Cannot write '{out}': No such file or directory. Choose a folder that "
                            "exists and that you can write to; nothing was written.")
    assert not (tmp_path / "missing").exists()


def test_exporting_into_a_path_below_a_file_is_a_coded_error(project, tmp_path):
    """A folder that cannot be written to (here: a file stands where the folder should be)."""
    (tmp_path / "taken").write_text("keep")
    out = tmp_path / "taken" / "out.jsonl"
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "jsonl", out, layer=USER, status="all")
    assert e.value.code == "E043" and "Not a directory" in str(e.value)
    assert (tmp_path / "taken").read_text() == "keep" and not leftovers(tmp_path)


def test_exporting_folder_formats_create_parents_and_remove_them_when_cancelled(project, tmp_path):
    opened_all(project)
    out = tmp_path / "a" / "b" / "brat"
    with pytest.raises(Cancelled):
        export(project.store, "brat", out, layer=USER, status="all", cancelled=lambda: True)
    assert not (tmp_path / "a").exists()
    report = export(project.store, "brat", out, layer=USER, status="all")
    assert report.documents == 3
    expected = [f"{d.name}.{ext}" for d in project.documents() for ext in ("ann", "txt")]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected + ["annotation.conf", "tools.conf"])


def test_exporting_into_an_existing_folder_replaces_it_whole_with_force(project, tmp_path):
    """Regression: a folder export used to move its files into the old folder one by one, so stale
    files stayed and a crash left a mix; now the old folder is swapped for the new one."""
    opened_all(project)
    out = tmp_path / "brat"
    out.mkdir()
    export(project.store, "brat", out, layer=USER, status="all")  # an empty folder is no export yet: no --force needed
    (out / "stale.ann").write_text("from an earlier export")
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "brat", out, layer=USER, status="all")
    assert e.value.code == "E046" and (out / "stale.ann").exists()
    export(project.store, "brat", out, layer=USER, status="all", force=True)
    assert not (out / "stale.ann").exists() and (out / "annotation.conf").exists()
    assert not leftovers(tmp_path)


def test_exporting_refuses_a_file_for_a_folder_and_a_folder_for_a_file(project, tmp_path):
    opened_all(project)
    (tmp_path / "taken").write_text("keep")
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "xmi", tmp_path / "taken", layer=USER, status="all")
    assert e.value.code == "E106" and (tmp_path / "taken").read_text() == "keep"
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "jsonl", tmp_path / "dir.jsonl", layer=USER, status="all")
    assert e.value.code == "E043" and "it is a folder" in str(e.value)
    assert not leftovers(tmp_path)


def test_exporting_respects_blind_annotation_for_a_viewer(project, tmp_path):
    colleague = Project(project.store, "cy")
    colleague.open_document(project.documents()[0].id)
    out = tmp_path / "out.jsonl"
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "jsonl", out, layer="cy", viewer=USER)
    assert e.value.code == "E163" and not out.exists()
    export(project.store, "jsonl", out, layer=USER, status="all", viewer=USER)
    set_role(project.store, USER, "reviewer")
    assert export(project.store, "jsonl", out, layer="cy", status="all", viewer=USER, force=True).documents == 1
    assert [i.name for i in project.visible_layers()] == ["cy", USER]
    assert [i.name for i in colleague.visible_layers()] == ["cy"]


def test_exporting_summary_is_what_the_cli_prints():
    report = FormatReport(documents=2, spans=5, misaligned=[("a1", 3, 7, "m X"), ("a2", 0, 1, "K")])
    assert summary(report, "out.conll") == [
        "Wrote 2 documents, 5 spans to out.conll.",
        "2 spans are not on token boundaries (or overlap another) and were left out, e.g.: a1 3-7 'm X'; a2 0-1 'K'"]
    assert summary(FormatReport(documents=1), "x") == ["Wrote 1 document, 0 spans to x."]


def test_exporting_done_status_selects_finished_documents(project):
    ids = opened_all(project)
    project.set_status(ids[1], "done")
    assert document_ids(project.store, USER, "done") == [ids[1]]
    assert document_ids(project.store, USER, "all") == sorted(ids)
    assert exporting.STATUSES == ("done", "all")


def test_exporting_records_keep_tokens_packed_until_read(project):
    """Records from the project carry the stored token bytes (the DocBin writer takes them whole) and
    are, to every other format, the DocRecord they always were."""
    ids = opened_all(project)
    rec = next(exporting.records(project.store, USER, ids[:1]))
    assert isinstance(rec, StoredRecord) and rec.packed
    stored = project.document(ids[0])
    plain = DocRecord(name=rec.name, text=rec.text, title=rec.title, meta=rec.meta, spans=rec.spans,
                      annotator=USER, tokens=[tuple(t) for t in stored.tokens.pairs()], carried=rec.carried,
                      unchecked=[(s.start, s.end) for s in project.spans(ids[0]) if s.status == "suggested"])
    assert rec == plain and plain == rec and len(rec.unchecked) == 3  # the suggestions' extents, not spans
    rec.tokens = [(0, 1)]  # a format that rewrites the tokens: the stored bytes no longer say them
    assert rec.packed is None and rec.tokens == [(0, 1)]


def test_exporting_records_keep_spans_as_rows_until_read(project):
    """The DocBin writer places spans from the rows read; `spans` builds the SpanRecords once and
    then the rows are dropped, so a format that changes the spans never meets stale rows."""
    ids = opened_all(project)
    rec = next(exporting.records(project.store, USER, ids[:1]))
    rows = [tuple(r) for r in rec.span_rows]
    assert rows and all(r[0] == ids[0] and r[5] == "accepted" for r in rows)
    assert rec.spans == [SpanRecord(*r[1:]) for r in rows] and rec.span_rows is None
    assert [(s.start, s.end, s.label) for s in rec.spans] == sorted(
        (s.start, s.end, s.label) for s in project.spans(ids[0]) if s.status == "accepted")
    rec.spans = []
    assert rec.spans == [] and rec.span_rows is None


def test_exporting_reads_chunks_ahead_in_order_and_stops_the_reader(project, tmp_path, monkeypatch):
    """Chunks are read in a thread one ahead of the writer: the file is the same whatever the chunk
    size, and a consumer that stops early leaves no reader thread behind."""
    ids = opened_all(project)
    export(project.store, "spacy", tmp_path / "whole.spacy", layer=USER, status="all")
    monkeypatch.setattr(exporting, "CHUNK", 1)
    export(project.store, "spacy", tmp_path / "ones.spacy", layer=USER, status="all")
    assert (tmp_path / "ones.spacy").read_bytes() == (tmp_path / "whole.spacy").read_bytes()
    recs = exporting.records(project.store, USER, ids)
    assert next(recs).name == project.documents()[0].name
    recs.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("export-read")]


def test_exporting_pauses_automatic_gc_only_while_writing(project, tmp_path):
    opened_all(project)
    during = []
    export(project.store, "spacy", tmp_path / "o.spacy", layer=USER, status="all",
           progress=lambda done, total: during.append(gc.isenabled()))
    assert during and not any(during[1:])  # (0, total) is reported before the writer starts
    assert gc.isenabled()
