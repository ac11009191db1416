"""Every format through the real project database and the real command line.

Project A (an SQLite file, and once more a PostgreSQL database) imports a JSONL corpus into layer
"ana" (links with KB ids and NIL; emoji, CJK, combining marks, RTL, a ZWJ sequence, tabs and a CRLF
document). For each format:

    annotator export --format FMT --layer ana        (from A)
    annotator import OUT --format FMT --as-layer ana (into a fresh project B)
    annotator export --format jsonl --layer ana      (from A and from B) → compared

Text, offsets, labels and KB ids must come back exactly, and each format's name/title/meta where it
carries them. CoNLL keeps no whitespace: its reader rebuilds the text (tokens joined by one space,
sentences by a line break), so offsets cannot survive; there documents are compared as spans over
token indices (the project's tokens, whitespace tokens left out) with labels and KB ids, in order.

Importing does not yet record that a layer covers the documents it brought (no DocumentState), so
`export --layer ana` would find no documents; until core does, `open_layer` stands in for the analyst
opening each document (see test_imported_layer_exports_without_being_opened).
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
import srsly
from click.testing import CliRunner
from spacy.tokens import DocBin
from spacy.vocab import Vocab
from sqlalchemy import select

from annotator.cli import main
from annotator.core.db.annotators import get_annotator
from annotator.core.db.models import Document
from annotator.core.db.store import Store
from annotator.core.editing.layers import open_layer
from annotator.core.nlp import tokenize
from annotator.core.records import FormatReport
from annotator.formats import registry, spacy_docbin
from annotator.io.exporting import document_ids, records

LAYER = "ana"
FORMATS = ["jsonl", "spacy", "brat", "conll", "doccano", "labelstudio", "xmi"]
# What each format keeps of a document besides its text and spans (brat and XMI drop meta, brat the
# title; the importer then titles a document by its first line).
CARRIES = {"jsonl": ("name", "title", "meta"), "spacy": ("name", "title", "meta"),
           "brat": ("name",), "doccano": ("name", "title", "meta"), "labelstudio": ("name", "title", "meta"),
           "xmi": ("name", "title"), "conll": ()}


def _doc(name: str, title: str, text: str, spans: list[tuple[str, str, str | None]], **meta) -> dict:
    found, pos = [], 0
    for surface, label, kb_id in spans:
        start = text.index(surface, pos)
        span = {"start": start, "end": start + len(surface), "label": label, "text": surface}
        if kb_id is not None:
            span["kb_id"] = kb_id
        found.append(span)
        pos = start + len(surface)
    return {"text": text, "meta": {"name": name, "title": title, **meta}, "spans": found}


CORPUS = [
    _doc("a1", "Pacts", "Kim Kwan-jin 😀 visits Tokyo.\nSeoul and 東京 agreed on GSOMIA.",
         [("Kim Kwan-jin", "PERSON", "Q495727"), ("Tokyo", "GPE", None), ("Seoul", "GPE", "NIL"),
          ("東京", "GPE", "Q1490"), ("GSOMIA", "LAW", None)], source="wire", n=1),
    _doc("a2", "Names", "José Martí met שלום עליכם in عربي;\t👨\u200d👩\u200d👧 travelled\tto Zürich "
         "(e\u0301cole).",
         [("José Martí", "PERSON", "Q41"), ("שלום עליכם", "PERSON", "NIL"), ("عربي", "LANGUAGE", None),
          ("👨\u200d👩\u200d👧", "MISC", "local:family"), ("Zürich", "GPE", "Q72"), ("e\u0301cole", "ORG", None)],
         source="wire", tags=["x", 2]),
    _doc("記事-3", "Busan", "Busan talks.\r\nMoon Jae-in met Abe Shinzō.\r\n\r\nGSOMIA lapsed 😀.",
         [("Busan", "GPE", "Q16520"), ("Moon Jae-in", "PERSON", "Q21001"), ("Abe Shinzō", "PERSON", "Q132345"),
          ("GSOMIA", "LAW", "NIL")]),
    _doc("a4", "Quiet", "Nothing happened here.", []),
]
N_SPANS = sum(len(d["spans"]) for d in CORPUS)
N_LINKS = sum(1 for d in CORPUS for s in d["spans"] if s.get("kb_id", "NIL") != "NIL")  # each teaches the KB an alias


def cli(db: Path | str, *args):
    return CliRunner().invoke(main, ["--db", str(db), "--user", LAYER, *map(str, args)],
                              catch_exceptions=False)


def ok(db: Path | str, *args) -> str:
    result = cli(db, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def open_all(db: Path | str, layer: str = LAYER) -> None:
    """What the analyst does by opening each document: the layer then covers it."""
    store = Store(db)
    try:
        with store.atomic() as s:
            annotator = get_annotator(s, layer).id
            for doc_id in s.scalars(select(Document.id)):
                open_layer(s, doc_id, annotator)
    finally:
        store.close()


def export_path(fmt: str, where: Path) -> Path:
    suffix = registry.get(fmt).SUFFIX
    return where / (f"{fmt}-out{suffix}" if suffix else f"{fmt}-out")


def jsonl_tasks(db: Path | str, where: Path) -> list[dict]:
    out = where / "check.jsonl"
    ok(db, "export", "--format", "jsonl", "--out", out, "--layer", LAYER, "--status", "all")
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def spans_of(task: dict) -> list[tuple]:
    return [(s["start"], s["end"], s["label"], s.get("kb_id"), s["token_start"], s["token_end"])
            for s in task["spans"]]


def word_tokens(text: str) -> list[tuple[int, int]]:
    """The project's tokens of `text` (as import makes them), whitespace tokens left out."""
    return [(s, e) for s, e in tokenize(text) if not text[s:e].isspace()]


def words(task: dict) -> list[str]:
    return [task["text"][s:e] for s, e in word_tokens(task["text"])]


def token_spans(task: dict) -> list[tuple]:
    """Spans as (first, last + 1) indices of the non-whitespace tokens, with label and KB id."""
    tokens = word_tokens(task["text"])
    first = {s: i for i, (s, _) in enumerate(tokens)}
    after = {e: i + 1 for i, (_, e) in enumerate(tokens)}
    return [(first[s["start"]], after[s["end"]], s["label"], s.get("kb_id")) for s in task["spans"]]


@pytest.fixture(scope="module")
def project_a(tmp_path_factory):
    where = tmp_path_factory.mktemp("a")
    source = where / "corpus.jsonl"
    # newline="\n": the CRLF inside the third text is JSON-escaped, the file itself is plain LF
    source.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in CORPUS), encoding="utf-8",
                      newline="\n")
    db = where / "a.db"
    printed = ok(db, "import", source, "--no-model", "--as-layer", LAYER).splitlines()
    assert printed[0] == f"Imported {len(CORPUS)} documents with {N_SPANS} spans."
    kb_ids = list(dict.fromkeys(s["kb_id"] for d in CORPUS for s in d["spans"] if s.get("kb_id", "NIL") != "NIL"))
    assert printed[1:] == [f"Added {len(kb_ids)} new knowledge-base entities for links to ids it lacked: "
                           + ", ".join(kb_ids), f"Counted {N_LINKS} imported links toward the aliases of their entities."]
    open_all(db)
    tasks = jsonl_tasks(db, where)
    assert [t["text"] for t in tasks] == [d["text"] for d in CORPUS]  # CRLF kept, byte for byte
    assert [[{k: s[k] for k in ("start", "end", "label", "text", "kb_id") if k in s} for s in t["spans"]]
            for t in tasks] == [d["spans"] for d in CORPUS]
    return db, tasks


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_through_two_projects(fmt, project_a, tmp_path):
    db_a, tasks_a = project_a
    out = export_path(fmt, tmp_path)
    wrote = ok(db_a, "export", "--format", fmt, "--out", out, "--layer", LAYER, "--status", "all")
    assert wrote == f"Wrote {len(CORPUS)} documents, {N_SPANS} spans to {out}.\n"  # nothing misaligned
    assert_comes_back(fmt, out, tasks_a, tmp_path)


def test_round_trip_through_a_postgresql_project(project_a, pg_cluster, tmp_path):
    """The corpus in a team project on PostgreSQL: the same text, offsets and links come back in every
    format as from the SQLite project."""
    _, tasks_a = project_a
    name = pg_cluster.create_database()
    url = pg_cluster.url(name)
    try:
        source = tmp_path / "corpus.jsonl"
        source.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in CORPUS), encoding="utf-8",
                          newline="\n")
        ok(url, "import", source, "--no-model", "--as-layer", LAYER)
        open_all(url)
        assert jsonl_tasks(url, tmp_path) == tasks_a
        for fmt in FORMATS:
            where = tmp_path / fmt
            where.mkdir()
            out = export_path(fmt, where)
            wrote = ok(url, "export", "--format", fmt, "--out", out, "--layer", LAYER, "--status", "all")
            assert wrote == f"Wrote {len(CORPUS)} documents, {N_SPANS} spans to {out}.\n"
            assert_comes_back(fmt, out, tasks_a, where)
    finally:
        pg_cluster.drop_database(name)


def assert_comes_back(fmt: str, out: Path, tasks_a: list[dict], where: Path) -> None:
    """Import `out` into a fresh project B: its layer must equal project A's (see the module docstring)."""
    db_b = where / "b.db"
    imported = ok(db_b, "import", out, "--format", fmt, "--no-model", "--as-layer", LAYER)
    assert imported.splitlines()[0] == f"Imported {len(CORPUS)} documents with {N_SPANS} spans."
    open_all(db_b)
    tasks_b = jsonl_tasks(db_b, where)
    assert len(tasks_b) == len(tasks_a)

    if fmt == "conll":  # the text is rebuilt from tokens: compare over token indices, in order
        assert [words(t) for t in tasks_b] == [words(t) for t in tasks_a]
        assert [token_spans(t) for t in tasks_b] == [token_spans(t) for t in tasks_a]
        return
    by_text = {t["text"]: t for t in tasks_b}
    assert set(by_text) == {t["text"] for t in tasks_a}  # every text back exactly, CRLF included
    for a in tasks_a:
        b = by_text[a["text"]]
        assert spans_of(b) == spans_of(a)
        for field in CARRIES[fmt]:
            if field == "meta":
                assert {k: v for k, v in b["meta"].items() if k not in ("name", "title")} == \
                       {k: v for k, v in a["meta"].items() if k not in ("name", "title")}
            else:
                assert b["meta"][field] == a["meta"][field]


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "conll"])  # CoNLL rebuilds the text: new documents
def test_a_colleagues_file_comes_back_into_the_same_project_as_a_layer(fmt, tmp_path):
    """Export for a colleague, who labels in another tool; their file comes back as their layer of the
    same documents (not as copies of them), spans and links exactly as they left."""
    source = tmp_path / "corpus.jsonl"
    source.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in CORPUS), encoding="utf-8",
                      newline="\n")
    db = tmp_path / "p.db"
    ok(db, "import", source, "--no-model", "--as-layer", LAYER)
    open_all(db)
    out = export_path(fmt, tmp_path)
    ok(db, "export", "--format", fmt, "--out", out, "--layer", LAYER, "--status", "all")
    printed = ok(db, "import", out, "--format", fmt, "--no-model", "--as-layer", "ben")
    names = [d["meta"]["name"] for d in CORPUS]
    lines = printed.splitlines()  # a4 has no entity: checked and empty is data, ben's like the others
    head = f"Added layer ben to {len(names)} documents already in the project, {N_SPANS} spans: "
    assert lines[0].startswith(head)  # nothing new: no "Imported 0 documents"
    assert sorted(lines[0][len(head):].split(", ")) == sorted(names)  # in file order
    assert lines[1] == f"Counted {N_LINKS} imported links toward the aliases of their entities."
    assert all(line.startswith("Not kept, the documents were already in the project") for line in lines[2:])
    ben_out = tmp_path / "ben.jsonl"
    ok(db, "role", LAYER, "reviewer")  # to see ben's layer
    ok(db, "export", "--format", "jsonl", "--out", ben_out, "--layer", "ben", "--status", "all")
    ben = [json.loads(line) for line in ben_out.read_text(encoding="utf-8").splitlines()]
    assert [spans_of(t) for t in ben] == [spans_of(t) for t in jsonl_tasks(db, tmp_path)]  # a4, empty, too
    assert json.loads(ok(db, "stats", "--json"))["documents"] == len(CORPUS)


def test_spacy_export_equals_a_docbin_of_spacy_docs(project_a, tmp_path):
    """The writer fills the DocBin's arrays itself; the file must be the one spaCy's own Docs give."""
    db, _ = project_a
    out = tmp_path / "o.spacy"
    ok(db, "export", "--format", "spacy", "--out", out, "--layer", LAYER, "--status", "all")
    store = Store(db)
    try:
        recs = list(records(store, LAYER, document_ids(store, LAYER, "all")))
    finally:
        store.close()
    vocab, report = Vocab(), FormatReport()
    expected = DocBin(docs=[spacy_docbin.to_doc(r, vocab, report) for r in recs], store_user_data=True)
    pack = srsly.msgpack.Packer(use_bin_type=True).pack
    expected.user_data = [pack(spacy_docbin.user_data(r)) for r in recs]
    assert report.spans == N_SPANS
    # the same msgpack: the file is zlib streamed in parts (docbin_stream.py), so its compressed bytes differ
    assert zlib.decompress(out.read_bytes()) == zlib.decompress(expected.to_bytes())
    docs = list(DocBin().from_disk(out).get_docs(Vocab()))
    assert [(e.text, e.label_, e.kb_id_) for e in docs[0].ents][:3] == [
        ("Kim Kwan-jin", "PERSON", "Q495727"), ("Tokyo", "GPE", ""), ("Seoul", "GPE", "NIL")]


def test_imported_layer_exports_without_being_opened(tmp_path):
    source = tmp_path / "c.jsonl"
    source.write_text(json.dumps(CORPUS[0], ensure_ascii=False) + "\n", encoding="utf-8")
    db = tmp_path / "p.db"
    ok(db, "import", source, "--no-model", "--as-layer", LAYER)
    out = tmp_path / "o.jsonl"
    wrote = ok(db, "export", "--format", "jsonl", "--out", out, "--layer", LAYER, "--status", "all")
    assert wrote.startswith("Wrote 1 document,")


# ---- malformed input: one coded line naming the file, exit status 1, nothing imported ----

GOOD_LINE = json.dumps({"text": "Kim visits Tokyo.", "name": "g", "label": [[0, 3, "PERSON"]]})


def _malformed(kind: str, where: Path) -> tuple[Path, Path]:
    """(path to import, the file the error must name): good content first, then the bad part."""
    if kind == "conll":
        path = where / "bad.conll"
        path.write_text("-DOCSTART- -X- -X- O\n\nKim B-PERSON\nvisits O\n\n-DOCSTART- -X- -X- O\n\n"
                        "Seoul B-GPE\nagreed WRONG\n", encoding="utf-8")
        return path, path
    if kind == "brat":
        folder = where / "brat"
        folder.mkdir()
        (folder / "a.txt").write_text("Kim visits Tokyo.", encoding="utf-8")
        (folder / "a.ann").write_text("T1\tPERSON 0 3\tKim\n", encoding="utf-8")
        (folder / "b.txt").write_text("Seoul agreed.", encoding="utf-8")
        (folder / "b.ann").write_text("T1\tGPE 0 5\tSeoul\nT2\tGPE 0 99\tSeoul agreed.\n", encoding="utf-8")
        return folder, folder / "b.ann"
    if kind == "spacy":
        path = where / "bad.spacy"
        path.write_bytes(b"this is not a DocBin")
        return path, path
    if kind == "doccano":
        path = where / "bad.jsonl"
        path.write_text(GOOD_LINE + '\n{"text": "Seoul agreed.", "label": [[0, "five", "GPE"]]}\n',
                        encoding="utf-8")
        return path, path
    if kind == "labelstudio":
        path = where / "bad.json"
        path.write_text(json.dumps([{"data": {"text": "Kim visits Tokyo."}, "annotations": []},
                                    {"data": {"body": "no text key"}}]), encoding="utf-8")
        return path, path
    if kind == "xmi":
        folder = where / "xmi"
        good = where / "good-xmi"
        registry.get("xmi").write(registry.get("doccano").read(_write(where / "g.jsonl", GOOD_LINE)), good)
        folder.mkdir()
        (folder / "a.xmi").write_bytes((good / "g.xmi").read_bytes())
        (folder / "b.xmi").write_text('<?xml version="1.0"?><xmi:XMI xmlns:xmi="http://www.omg.org/XMI"><oops',
                                      encoding="utf-8")
        return folder, folder / "b.xmi"
    raise AssertionError(kind)


def _write(path: Path, line: str) -> Path:
    path.write_text(line + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["conll", "brat", "spacy", "doccano", "labelstudio", "xmi"])
def test_malformed_file_is_one_coded_line_and_imports_nothing(fmt, tmp_path):
    path, culprit = _malformed(fmt, tmp_path)
    db = tmp_path / "p.db"
    result = cli(db, "import", path, "--format", fmt, "--no-model", "--as-layer", LAYER)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: [E1") and result.stderr.count("\n") == 1, result.stderr
    assert str(culprit) in result.stderr
    stats = json.loads(ok(db, "stats", "--json"))
    assert (stats["documents"], stats["layers"]) == (0, {})


# ---- token formats: spans off token boundaries are reported and left out, never moved ----

@pytest.mark.parametrize("fmt", ["spacy", "conll"])
def test_spans_off_token_boundaries_are_reported_and_left_out(fmt, tmp_path):
    """spaCy marks the word of the span left out ("Tokyo" of "Tokyoites") missing; CoNLL, which could
    only write it O, leaves the document out (E056: here, the only one)."""
    text = "Tokyoites and Seoulites met in Busan."
    task = _doc("m1", "Cities", text, [("Tokyo", "GPE", "Q1490"), ("Seoulites", "NORP", None),
                                      ("Busan", "GPE", "NIL")])
    source = _write(tmp_path / "m.jsonl", json.dumps(task))
    db = tmp_path / "p.db"
    ok(db, "import", source, "--no-model", "--as-layer", LAYER)
    open_all(db)
    out = export_path(fmt, tmp_path)
    if fmt == "conll":
        result = cli(db, "export", "--format", fmt, "--out", out, "--layer", LAYER, "--status", "all")
        assert result.exit_code == 1 and "[E056]" in result.output and "m1 0-5 'Tokyo'" in result.output
        assert not out.exists()
        return
    printed = ok(db, "export", "--format", fmt, "--out", out, "--layer", LAYER, "--status", "all")
    assert printed == (f"Wrote 1 document, 2 spans to {out}.\n"
                       "1 span is not on token boundaries (or overlaps another) and was left out, e.g.: m1 0-5 'Tokyo'\n")
    [back] = registry.get(fmt).read(out)
    assert [(back.text[s.start:s.end], s.label, s.kb_id) for s in back.spans] == [
        ("Seoulites", "NORP", None), ("Busan", "GPE", "NIL")]


def test_spacy_export_writes_integers_beyond_64_bits_as_text_and_says_so(tmp_path):
    """JSON integers have no bound and the importer keeps them; msgpack's stop at 64 bits. The export
    carries such a meta value as its decimal text, counted in its summary, instead of a traceback."""
    big, low = 2**70, -2**65
    task = _doc("huge", "Ids", "Kim visits Tokyo.", [("Kim", "PERSON", None)],
                n=big, ok=2**64 - 1, deep={"ids": [1, low]})
    db = tmp_path / "p.db"
    ok(db, "import", _write(tmp_path / "h.jsonl", json.dumps(task)), "--no-model", "--as-layer", LAYER)
    out = tmp_path / "o.spacy"
    printed = ok(db, "export", "--format", "spacy", "--out", out, "--layer", LAYER, "--status", "all")
    assert printed == (f"Wrote 1 document, 1 span to {out}.\n"
                       "2 meta values are integers beyond 64 bits, which a .spacy file cannot hold, and were "
                       "written as their decimal text, e.g.: huge n, huge deep.ids[1]\n")
    [doc] = DocBin(store_user_data=True).from_disk(out).get_docs(Vocab())
    assert doc.user_data["meta"] == {"n": str(big), "ok": 2**64 - 1, "deep": {"ids": (1, str(low))}}
    assert [(e.text, e.label_) for e in doc.ents] == [("Kim", "PERSON")]
    store = Store(db)
    try:
        with store.Session() as s:  # the project keeps the integer itself
            assert s.scalars(select(Document.meta)).one()["n"] == big
    finally:
        store.close()
