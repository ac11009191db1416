"""`import --format auto` recognises what other tools write instead of reading it as plain text, which
kept the texts and dropped every annotation without a word: brat's folders of .txt + .ann (brat's
own example data, tests/data/brat), a text with its .ann, and XMI folders (INCEpTION and
dkpro-cassis files, tests/data/xmi)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from annotator.cli import main
from annotator.core.db.models import Document, Span
from annotator.core.db.store import Store
from annotator.io.importing import import_paths

DATA = Path(__file__).parent / "data"


def counts(store: Store) -> tuple[int, int]:
    with store.Session() as s:
        return s.scalar(select(func.count()).select_from(Document)), s.scalar(select(func.count()).select_from(Span))


def as_named(tmp_path: Path, fmt: str, path: Path) -> tuple[int, int]:
    store = Store(tmp_path / f"{fmt}.db")
    import_paths(store, [path], fmt=fmt, use_model=False)
    return counts(store)


def test_import_auto_reads_a_brat_folder_as_brat(tmp_path):
    store = Store(tmp_path / "p.db")
    import_paths(store, [DATA / "brat"], use_model=False)
    docs, spans = counts(store)
    assert (docs, spans) == as_named(tmp_path, "brat", DATA / "brat") and docs == 3 and spans == 19


def test_import_auto_reads_a_text_with_its_ann_file_as_brat(tmp_path):
    store = Store(tmp_path / "p.db")
    for name in ("PMID-16379001.txt", "PMID-18054500.ann"):
        import_paths(store, [DATA / "brat" / name], use_model=False)
    with store.Session() as s:
        spans = dict(s.execute(select(Document.name, func.count(Span.id)).join(Span).group_by(Document.name)).all())
    assert set(spans) == {"PMID-16379001", "PMID-18054500"} and min(spans.values()) >= 6


def test_import_auto_reads_an_xmi_folder_as_xmi(tmp_path):
    store = Store(tmp_path / "p.db")
    import_paths(store, [DATA / "xmi"], use_model=False)
    assert counts(store) == as_named(tmp_path, "xmi", DATA / "xmi")


def test_import_auto_a_corpus_folder_with_plain_texts_brat_and_xmi_subfolders(tmp_path):
    """Each folder holding brat or XMI files is read in its format, the other texts as text; through the
    command line, as a user runs it."""
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "brat", corpus / "brat")
    shutil.copytree(DATA / "xmi", corpus / "inception")
    (corpus / "brat" / "notes.txt").write_text("A text with no annotation file beside it.")
    (corpus / "plain.txt").write_text("Seoul and Tokyo resumed talks.")
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "p.db"), "--user", "ana", "import", "--no-model",
                                       str(corpus)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    store = Store(tmp_path / "p.db")
    brat, xmi = as_named(tmp_path, "brat", DATA / "brat"), as_named(tmp_path, "xmi", DATA / "xmi")
    assert counts(store) == (brat[0] + xmi[0] + 2, brat[1] + xmi[1])
    with store.Session() as s:
        assert {"plain", "notes"} <= set(s.scalars(select(Document.name)))
