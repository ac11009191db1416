"""--format auto and brat's empty .ann files (io/sources.py)."""

from __future__ import annotations

from click.testing import CliRunner

from annotator.cli import main


def test_an_unannotated_brat_document_named_by_its_ann_file_is_imported(tmp_path):
    """brat writes an empty .ann for a text nobody annotated yet. `import corpus/*` names it, and the
    whole import was refused as E012 ('is empty'), while the same folder imports fine."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Seoul is big.\n", encoding="utf-8")
    (corpus / "a.ann").write_text("T1\tGPE 0 5\tSeoul\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Nothing here yet.\n", encoding="utf-8")
    (corpus / "b.ann").write_text("", encoding="utf-8")
    files = [str(p) for p in sorted(corpus.iterdir())]  # what the shell makes of corpus/*
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "p.db"), "--user", "lee", "import", "--no-model",
                                       *files])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Imported 2 documents with 1 span.")
