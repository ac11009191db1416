"""The streaming DocBin reader (formats/docbin_read.py) against the whole-file reader it replaced
(spaCy's DocBin.from_bytes + get_docs, then the same `from_doc`): the same records on our exports,
on DocBins spaCy writes itself from real files (tests/data), on generated ones; its temporary file
gone after success, error and cancel; an import from it stays atomic."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import srsly
from click.testing import CliRunner
from factories import new_db, new_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from spacy.tokens import Doc, DocBin, Span
from spacy.training.converters import conll_ner_to_docs
from spacy.vocab import Vocab
from sqlalchemy import func, select

from annotator.cli import main
from annotator.core.db.models import Document
from annotator.core.db.models import Span as SpanRow
from annotator.core.db.store import Store
from annotator.core.nlp import load_model
from annotator.core.records import DocRecord, FormatReport, SpanRecord
from annotator.errors import AnnotatorError, Cancelled
from annotator.formats import brat, docbin_read, jsonl, spacy_docbin
from annotator.formats.files import check_record
from annotator.io.importing import import_paths, import_records
from annotator.io.sources import estimate, iter_records, sources

DATA = Path(__file__).parent / "data"


def whole_file_records(path: Path) -> list[DocRecord]:
    """The reader before streaming, as it was: the whole DocBin and every Doc in memory."""
    doc_bin = DocBin(store_user_data=True).from_bytes(Path(path).read_bytes())
    raw, doc_bin.user_data = doc_bin.user_data, [None] * len(doc_bin)
    docs = list(doc_bin.get_docs(Vocab()))
    datas = [srsly.msgpack.unpackb(b, raw=False, use_list=True, object_pairs_hook=dict) if b else {} for b in raw]
    return [check_record(old_from_doc(doc, data, path, i), path, f"document {i}")
            for i, (doc, data) in enumerate(zip(docs, datas), 1)]


def old_from_doc(doc: Doc, data, path: Path, number: int) -> DocRecord:
    """spacy_docbin.from_doc before streaming (user data assumed valid here)."""
    name, title = data.get("name") or f"{path.stem}-{number}", data.get("title") or ""
    spans = [SpanRecord(e.start_char, e.end_char, e.label_, e.kb_id_ or None) for e in doc.ents]
    if "suggested" in doc.spans:
        spans += [SpanRecord(e.start_char, e.end_char, e.label_, e.kb_id_ or None, "suggested")
                  for e in doc.spans["suggested"]]
    tokens = [(t.idx, t.idx + len(t)) for t in doc]
    return DocRecord(name=str(name), text=doc.text, title=title, meta=dict(data.get("meta") or {}),
                     spans=spans, annotator=data.get("annotator"), tokens=tokens, annotated=True,
                     left_out=docbin_read.left_out(doc, data))  # (counted on spaCy's own Doc here)


def assert_same(path: Path) -> list[DocRecord]:
    streamed = list(spacy_docbin.stream(path))
    assert repr(streamed) == repr(whole_file_records(path))  # repr: an offset 3.0 equals 3, but is no int
    assert spacy_docbin.count(path) == len(streamed)
    return streamed


def sample(n: int) -> list[DocRecord]:
    text = "Kim Kwan-jin visits {city}.\r\nSeoul  agreed 😀\ton GSOMIA day {i}."
    recs = []
    for i in range(n):
        t = text.format(city=["Tokyo", "Busan"][i % 2], i=i)
        g = t.index("GSOMIA")
        recs.append(DocRecord(f"a{i}", t, title=f"T{i}", meta={"i": i, "tags": ["x"]},
                              annotator="ana" if i % 2 else None,
                              spans=[SpanRecord(0, 12, "PERSON", "Q495727"), SpanRecord(20, 25, "GPE"),
                                     SpanRecord(g, g + 6, "ORG", None, "suggested" if i % 3 else "accepted")]))
    return recs


def test_our_export_reads_the_same_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(docbin_read, "BATCH", 3)  # documents cross read batches
    spacy_docbin.write(sample(10) + [DocRecord("one", "Kim")], tmp_path / "o.spacy")
    recs = assert_same(tmp_path / "o.spacy")
    assert len(recs) == 11 and recs[1].spans[-1].status == "suggested" and recs[1].annotator == "ana"


def test_spacys_own_docbin_of_our_docs_reads_the_same(tmp_path):
    vocab, report = Vocab(), FormatReport()
    doc_bin = DocBin(docs=[spacy_docbin.to_doc(r, vocab, report) for r in sample(5)], store_user_data=True)
    doc_bin.user_data = [srsly.msgpack_dumps(spacy_docbin.user_data(r)) for r in sample(5)]
    (tmp_path / "s.spacy").write_bytes(doc_bin.to_bytes())
    assert assert_same(tmp_path / "s.spacy")[0].title == "T0"


@pytest.mark.parametrize("name", ["eng.testb.head.conll", "allennlp-conll2003.txt"])
def test_spacys_docbin_of_real_conll_files_reads_the_same(tmp_path, name):
    """spaCy's CoNLL converter on the real samples: its own writer, POS tags, no user data."""
    text = (DATA / "conll" / name).read_text(encoding="utf-8")
    if "\t" in text:
        text = text.replace("\t", " ")
    docs = list(conll_ner_to_docs(text, n_sents=5, no_print=True))
    (tmp_path / "c.spacy").write_bytes(DocBin(docs=docs, attrs=["ORTH", "TAG", "ENT_IOB", "ENT_TYPE"]).to_bytes())
    recs = assert_same(tmp_path / "c.spacy")
    assert len(recs) == len(docs) and any(r.spans for r in recs) and recs[0].name == "c-1"


def test_real_brat_and_prodigy_files_exported_read_the_same(tmp_path):
    recs = brat.read(DATA / "brat") + jsonl.read(DATA / "prodigy" / "nel_emerson.jsonl")
    spacy_docbin.write(recs, tmp_path / "r.spacy")
    assert len(assert_same(tmp_path / "r.spacy")) == len(recs)


def test_unknown_spaces_cats_and_no_user_data_read_the_same(tmp_path):
    vocab = Vocab()
    doc = Doc(vocab, words=["Kim", "visits", "Tokyo"])  # spaces unknown: flags has_unknown_spaces
    doc.ents = [Span(doc, 2, 3, label="GPE")]
    doc.cats = {"POLITICS": 1.0}
    other = Doc(vocab, words=["Seoul", "."], spaces=[False, False])
    (tmp_path / "u.spacy").write_bytes(DocBin(docs=[doc, other], store_user_data=False).to_bytes())
    texts = [r.text for r in assert_same(tmp_path / "u.spacy")]
    assert texts == ["Kim visits Tokyo ", "Seoul."]  # spaces unknown: spaCy puts one after each word


def test_a_pipelines_docs_read_the_same(tmp_path):
    """Every column a trained pipeline fills (tags, lemmas, heads, dependencies, morphology)."""
    nlp = load_model(None)
    docs = list(nlp.pipe(r.text for r in sample(4)))
    (tmp_path / "p.spacy").write_bytes(DocBin(docs=docs, store_user_data=True).to_bytes())
    assert len(assert_same(tmp_path / "p.spacy")) == 4


words = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]), min_size=1, max_size=6)


@st.composite
def records(draw):
    recs = []
    for k in range(draw(st.integers(1, 6))):
        ws = draw(st.lists(words, min_size=1, max_size=12))
        gaps = draw(st.lists(st.sampled_from([" ", "  ", "\n", "\t ", ""]), min_size=len(ws), max_size=len(ws)))
        text, starts = "", []
        for w, g in zip(ws, gaps):
            starts.append(len(text))
            text += w + (g or " ")
        spans = []
        for i in sorted(set(draw(st.lists(st.integers(0, len(ws) - 1), max_size=4)))):
            label = draw(st.sampled_from(["PERSON", "GPE", "ORG"]))
            kb = draw(st.sampled_from([None, "Q1", "NIL"]))
            status = draw(st.sampled_from(["accepted", "suggested"]))
            spans.append(SpanRecord(starts[i], starts[i] + len(ws[i]), label, kb, status))
        values = st.integers(-2**63, 2**63 - 1) | st.text(max_size=5)  # msgpack's ints
        meta = draw(st.dictionaries(st.sampled_from(["a", "b"]), values, max_size=2))
        recs.append(DocRecord(f"d{k}", text.rstrip() or "x", meta=meta, spans=spans))
    return recs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recs=records())
def test_generated_docbins_read_the_same(tmp_path, recs):
    path = tmp_path / "g.spacy"
    spacy_docbin.write(recs, path)
    assert_same(path)


def spill_files(folder: Path) -> list[str]:
    """This process's open files in `folder` (the spill file is unlinked, so only its descriptor shows)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.fixture
def spill_dir(tmp_path, monkeypatch):
    folder = tmp_path / "spill"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_the_temporary_file_is_gone_after_success_error_and_cancel(tmp_path, spill_dir):
    spacy_docbin.write(sample(6), tmp_path / "o.spacy")
    reading = spacy_docbin.stream(tmp_path / "o.spacy")
    next(reading)
    assert len(spill_files(spill_dir)) == 1  # the check below would see it
    reading.close()  # cancelled: the consumer stops
    assert spill_files(spill_dir) == []
    assert len(list(spacy_docbin.stream(tmp_path / "o.spacy"))) == 6
    assert spill_files(spill_dir) == []
    data = (tmp_path / "o.spacy").read_bytes()
    (tmp_path / "cut.spacy").write_bytes(data[:len(data) - 40])  # truncated
    with pytest.raises(AnnotatorError, match="E101"):
        list(spacy_docbin.stream(tmp_path / "cut.spacy"))
    assert spill_files(spill_dir) == [] and os.listdir(spill_dir) == []


def bad_late(path: Path, n: int = 10, bad: int = 7) -> None:
    """n documents, document `bad` with user data that is not a dict: found only when it is reached."""
    vocab, report = Vocab(), FormatReport()
    recs = sample(n)
    doc_bin = DocBin(docs=[spacy_docbin.to_doc(r, vocab, report) for r in recs], store_user_data=True)
    doc_bin.user_data = [srsly.msgpack_dumps(spacy_docbin.user_data(r)) for r in recs]
    doc_bin.user_data[bad - 1] = srsly.msgpack_dumps([1, 2])
    path.write_bytes(doc_bin.to_bytes())


def count_rows(store):
    with store.Session() as s:
        return s.scalar(select(func.count()).select_from(Document)), s.scalar(select(func.count()).select_from(SpanRow))


def test_import_of_a_docbin_is_atomic_and_cleans_up(tmp_path, spill_dir, monkeypatch):
    monkeypatch.setattr(docbin_read, "BATCH", 2)
    store = new_store(tmp_path / "p.db")
    bad_late(tmp_path / "bad.spacy")
    with pytest.raises(AnnotatorError, match=r"E101.*document 7 has user_data"):
        import_paths(store, [tmp_path / "bad.spacy"], fmt="spacy", use_model=False)
    assert count_rows(store) == (0, 0) and spill_files(spill_dir) == []

    spacy_docbin.write(sample(9), tmp_path / "ok.spacy")
    found = sources([tmp_path / "ok.spacy"], "spacy")
    assert estimate(found) == 9
    seen = []
    with pytest.raises(Cancelled):
        import_records(store, iter_records(found), use_model=False, total=9,
                       cancelled=lambda: len(seen) > 3, progress=lambda done, total: seen.append(done))
    assert count_rows(store) == (0, 0) and spill_files(spill_dir) == []

    report = import_paths(store, [tmp_path / "ok.spacy"], fmt="spacy", use_model=False)
    assert len(report.added) == 9 and count_rows(store) == (9, 27) and spill_files(spill_dir) == []
    with store.Session() as s:
        names = set(s.scalars(select(Document.name)))
    assert names == {f"a{i}" for i in range(9)}


def test_cli_import_of_a_docbin_by_its_suffix(tmp_path):
    """`annotator import file.spacy` (format auto) read the DocBin as one text document (E014 past
    10 MB): the suffix now names the format."""
    db = new_db(tmp_path / "p.db")
    spacy_docbin.write(sample(3), tmp_path / "x.spacy")
    result = CliRunner().invoke(main, ["--db", db, "--user", "ana", "import", str(tmp_path / "x.spacy"),
                                       "--no-model"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Imported 3 documents")
    store = Store(db)
    with store.Session() as s:
        assert set(s.scalars(select(Document.name))) == {"a0", "a1", "a2"}
    store.close()


def test_ui_dropping_a_docbin_imports_its_documents(window, qtbot, tmp_path):
    """A colleague's .spacy export dropped on the window: its documents listed, stored with their spans."""
    spacy_docbin.write(sample(3), tmp_path / "colleague.spacy")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "colleague.spacy"))])
    window.dropEvent(QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: len(window.documents.model.docs) == 6, timeout=60_000)
    assert {"a0", "a1", "a2"} <= {d.name for d in window.documents.model.docs}
    assert window.statusBar().currentMessage().startswith("Imported 3 documents")
    with window.project.store.Session() as s:
        a1 = s.scalar(select(Document).where(Document.name == "a1"))
        assert {(sp.start, sp.end, sp.label) for sp in s.scalars(select(SpanRow).where(SpanRow.document_id == a1.id))} \
            >= {(0, 12, "PERSON"), (20, 25, "GPE")}


def test_a_docbin_with_an_entity_inside_without_its_start_is_one_coded_line(tmp_path):
    """ENT_IOB "I" on a document's first token: spaCy refuses it when the entities are read (in
    from_doc, after the Doc is built): one coded line, as the whole-file reader gave, no traceback."""
    doc = Doc(Vocab(), words=["Kim", "visits"], spaces=[True, False])
    doc_bin = DocBin(docs=[doc])
    iob = doc_bin.attrs.index(spacy_docbin.ENT_IOB)
    doc_bin.tokens[0][0, iob] = 1  # "I" with no "B" before it
    (tmp_path / "i.spacy").write_bytes(doc_bin.to_bytes())
    with pytest.raises(AnnotatorError, match="E101.*not a spaCy DocBin"):
        list(spacy_docbin.stream(tmp_path / "i.spacy"))
