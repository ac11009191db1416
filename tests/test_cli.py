import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotator.cli import main
from annotator.core.resources import seeds_dir

from factories import new_db

README = Path(__file__).parent.parent / "README.md"
BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_DB", new_db(tmp_path / "p.db"))
    monkeypatch.setenv("ANNOTATOR_USER", "ana")

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def test_cli_import_stats_export(run, tmp_path):
    result = run("import", seeds_dir(), "--no-model")
    assert result.exit_code == 0
    assert result.output == "Imported 3 documents with 0 spans.\n"
    again = run("import", seeds_dir(), "--no-model")
    assert "Skipped 3 already in the project" in again.output
    data = json.loads(run("stats", "--json").output)
    assert data["documents"] == 3


def test_cli_export_with_model_layer(run, tmp_path):
    run("import", seeds_dir() / "000_8c62d622aab8081a.txt")
    out = tmp_path / "model.jsonl"
    refused = run("export", "--format", "jsonl", "--out", out, "--layer", "model")  # only suggestions
    assert refused.exit_code == 1 and "[E048]" in refused.output and "--include-suggestions" in refused.output
    result = run("export", "--format", "jsonl", "--out", out, "--layer", "model", "--include-suggestions")
    assert result.exit_code == 0 and result.output.startswith("Wrote 1 document, ")
    [task] = [json.loads(line) for line in out.read_text().splitlines()]
    assert task["meta"]["name"] == "000_8c62d622aab8081a"
    assert task["spans"] and all(s["text"] == task["text"][s["start"]:s["end"]] for s in task["spans"])
    assert {s["status"] for s in task["spans"]} == {"suggested"}
    assert task["spans"] == sorted(task["spans"], key=lambda s: (s["start"], s["end"]))


@pytest.mark.parametrize("args, message", [
    (("export", "--format", "nope", "--out", "x"),  # spacy-kb is not listed: `kb export` writes it
     "Error: [E040] Unknown format 'nope'. Known formats: brat, conll, doccano, jsonl, labelstudio, spacy, xmi.\n"),
    (("import", "--format", "nope", "x.txt"),
     "Error: [E040] Unknown format 'nope'. Known formats: auto, txt, brat, conll, doccano, jsonl, labelstudio, "
     "spacy, xmi.\n"),
    (("export", "--format", "spacy-kb", "--out", "x"),  # said before "no finished document" (E048)
     "Error: [E042] Format 'spacy-kb' cannot be written from documents (it is a knowledge base: use "
     "`annotator kb export --format spacy-kb`, and `--format spacy` for the documents).\n"),
    (("export", "--format", "jsonl", "--out", "x", "--layer", "zed"),
     "Error: [E041] Unknown layer 'zed'. Known layers: {known}.\n"),
    (("import", "/no/such/file.txt"), "Error: [E010] '/no/such/file.txt' does not exist. Check the path.\n"),
])
def test_cli_errors_are_one_coded_line_and_exit_1(run, backend, args, message):
    run("db", "init")  # creates the project (read-only commands do not: E054); its creator (ana) owns it
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1
    assert result.stderr.startswith(message.format(known="ana" if backend == "sqlite" else "(none yet)"))
    assert result.stderr.count("\n") == 1


@pytest.mark.single_backend
def test_cli_refuses_a_foreign_database(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("not a database")
    result = CliRunner().invoke(main, ["--db", str(other), "stats"])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: [E003] '{other}' is not an SQLite database. Check the path; "
                             "nothing was written to it.\n")


@pytest.mark.single_backend
@pytest.mark.parametrize("args", [("stats",), ("role",), ("db", "init"), ("import", "--no-model", "seeds"),
                                  ("merge", "other.db"), ("export", "--format", "jsonl", "--out", "o.jsonl")])
def test_cli_a_folder_as_db_is_one_coded_line_and_creates_nothing(tmp_path, monkeypatch, args):
    """`--db /tmp stats`, `--db dproj import x.txt` ended in a traceback (IsADirectoryError)."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "dproj"
    folder.mkdir()
    args = [str(seeds_dir()) if a == "seeds" else a for a in args]
    result = CliRunner().invoke(main, ["--db", str(folder), *args])
    assert (result.exit_code, result.stderr) == (1, f"Error: [E622] '{folder}' is a folder, not a project file: a "
                                                    "project is one .db file. Give the path of the project's file "
                                                    f"instead, e.g. '{folder / 'project.db'}'. Nothing was created or "
                                                    "changed.\n")
    assert list(folder.iterdir()) == [] and not Path("o.jsonl").exists()


@pytest.mark.single_backend
def test_cli_output_into_a_closed_pipe_exits_quietly_as_sigpipe_would(tmp_path):
    """`annotator stats | head -1` exited 1 without a word (click's BrokenPipe handling): quietly now,
    with 141 as a command SIGPIPE ended (not 0: output cut short is not a finished command)."""
    db = tmp_path / "p.db"
    assert CliRunner().invoke(main, ["--db", str(db), "import", "--no-model", str(seeds_dir())]).exit_code == 0
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(db), "stats"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written, as `| head -0`
    error = proc.stderr.read()
    assert (proc.wait(), error) == (141, b"")


@pytest.mark.single_backend
def test_cli_runs_as_a_module_with_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "annotator", "--db", str(tmp_path / "p.db"), "export",
                           "--format", "jsonl", "--out", str(tmp_path / "o.jsonl"), "--layer", "model"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: [E054]")  # export only reads: no project is created
    assert not (tmp_path / "p.db").exists()


def commands(group=main, prefix=""):
    for name, command in group.commands.items():
        yield prefix + name, command
        if hasattr(command, "commands"):
            yield from commands(command, prefix + name + " ")


@pytest.mark.single_backend
@pytest.mark.parametrize("name, command", list(commands()))
def test_cli_every_command_has_help_and_is_in_the_readme(name, command):
    assert command.help and len(command.help) > 20
    assert re.search(rf"annotator {re.escape(name)}\b", README.read_text()), f"README lacks `annotator {name}`"
