"""Every command driven as a user drives it, with the mistakes users make: each one gets one coded
line on stderr and exit status 1 (Ctrl+C: 130), and leaves the project and the files around it as
they were. Found by walking the command line on a copy of the sample corpus."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotator.cli import main
from annotator.core import nlp
from annotator.core.resources import seeds_dir

ROOT = Path(__file__).resolve().parents[1]
SEED = seeds_dir() / "000_8c62d622aab8081a.txt"


@pytest.fixture
def run(tmp_path, monkeypatch):
    """`annotator ARGS` in-process on the project tmp_path/p.db, as ana; stderr apart from stdout."""
    monkeypatch.setenv("ANNOTATOR_DB", str(tmp_path / "p.db"))
    monkeypatch.setenv("ANNOTATOR_USER", "ana")
    monkeypatch.chdir(tmp_path)

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def dump(db: Path) -> str:
    """The project's rows, read by SQLite itself (another connection than the command's)."""
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())


def one_line(result, code: str, status: int = 1) -> str:
    assert result.exit_code == status, result.output
    assert result.stderr.startswith(f"Error: [{code}] ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return result.stderr


def test_export_never_replaces_a_named_pipe_or_a_device(run, tmp_path):
    """`--out` on a FIFO or a device (`/dev/stdout`) with --force renamed a regular file over the node
    itself (as root, /dev/full became a file); without --force it asked for --force, which does that."""
    assert run("import", SEED).exit_code == 0  # the model's suggestions: a layer to export
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    for out in (fifo, "/dev/null"):
        force = ("--force",) if out == fifo else ()  # never --force onto /dev/null: without the fix it goes
        result = run("export", "--format", "jsonl", "--out", out, "--layer", "model", "--include-suggestions", *force)
        assert one_line(result, "E044").endswith("is a named pipe; an output never replaces it. Choose another "
                                                 "path; nothing was written.\n" if out == fifo else
                                                 "is a device; an output never replaces it. Choose another path; "
                                                 "nothing was written.\n")
    assert fifo.is_fifo() and Path("/dev/null").is_char_device()
    result = run("kb", "export", "--format", "jsonl", "--out", fifo, "--force")
    one_line(result, "E044")
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("p.db")) == ["feed"]


@pytest.mark.parametrize("args, problem", [
    (("kb", "export", "--format", "nope", "--out", "x"),
     "Invalid value for '--format': 'nope' is not one of 'jsonl', 'csv', 'spacy-kb'. `annotator kb export --help`"),
    (("nope",), "No such command 'nope'. `annotator --help`"),
    (("export", "--out", "x"), "Missing option '--format'. `annotator export --help`"),
    (("import", SEED, "--model", "en_core_web_sm", "--no-model"),
     "--model and --no-model contradict each other: give one of them. `annotator import --help`"),
    (("search", "Seoul", "--nil", "--unlinked"),
     "--nil and --unlinked contradict each other: give one of them. `annotator search --help`"),
    (("queue", "--pool", "5"), "--pool applies with --uncertain only: add that, or leave --pool out. `annotator queue"),
    (("history", "--limit", "-1"), "Invalid value for '--limit': -1 is not in the range x>=1. `annotator history"),
    (("screenshot", "--doc", "x", "--out", "x.png", "--size", "big"),  # was a traceback (int('big'))
     "Invalid value for '--size': 'big' is not WIDTHxHEIGHT in pixels, each at least 100 (e.g. 1280x800)."),
    (("screenshot", "--doc", "x", "--out", "x.png", "--size", "0x0"), "'0x0' is not WIDTHxHEIGHT in pixels"),
])
def test_a_mistake_in_the_arguments_is_one_coded_line(run, tmp_path, args, problem):
    """Click's usage block (three lines, status 2), an option silently ignored beside one that
    contradicts it, or a traceback: now one line E058, status 1, and the project as it was."""
    assert run("import", seeds_dir(), "--no-model").exit_code == 0
    before = dump(tmp_path / "p.db")
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="annotator")
    message = one_line(result, "E058")
    assert problem in message and message.endswith("says what it takes; nothing was done.\n")
    assert dump(tmp_path / "p.db") == before and not (tmp_path / "x.png").exists()


def _children(pid: int) -> list[int]:
    """The processes `pid` started (its spaCy workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.single_backend
@pytest.mark.parametrize("whom", ["process", "group"])
def test_ctrl_c_during_a_parallel_import_ends_it_and_keeps_the_project(tmp_path, whom):
    """SIGINT to the command alone (`kill -INT`) left it joining spaCy's workers, blocked on a full
    pipe, forever; a terminal's Ctrl+C (the whole group) printed each worker's traceback, spaCy's W127,
    "Aborted!", and then hung the same way. Now: one line E059, status 130, workers gone, nothing stored."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = SEED.read_text()
    for i in range(nlp.PARALLEL_MIN + 100):  # enough for worker processes
        (corpus / f"a{i}.txt").write_text(f"Copy {i}. {text}")
    db = tmp_path / "p.db"
    env = {**os.environ, "ANNOTATOR_USER": "ana", "PYTHONPATH": str(ROOT)}
    assert subprocess.run([sys.executable, "-m", "annotator", "--db", db, "import", SEED], env=env).returncode == 0
    before = dump(db)
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", db, "import", corpus], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    workers = _children(proc.pid)
    assert len(workers) >= 2, "the import ran no worker processes"
    time.sleep(1.0)  # at work
    if whom == "process":
        proc.send_signal(signal.SIGINT)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the interrupted import did not end")
    assert proc.returncode == 130 and out == b""
    assert err.decode().startswith("Error: [E059] Interrupted (Ctrl+C): `") and err.count(b"\n") == 1, err.decode()
    assert not any(Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]
                   for w in workers)
    assert dump(db) == before


def test_search_for_a_label_the_project_does_not_have_names_the_known_ones(run, tmp_path):
    """`search --label PERSNO` said "No hits.", as if none were left to check."""
    assert run("import", SEED).exit_code == 0
    message = one_line(run("search", "--label", "PERSNO"), "E031")
    assert message.startswith("Error: [E031] Unknown label 'PERSNO'. Known labels: PERSON, ORG, GPE,")
    hits = run("search", "--label", "GPE", "--layer", "model", "--limit", "1")
    assert hits.exit_code == 0 and hits.stdout.count("\n") == 2 and " GPE " in hits.stdout  # a hit, "the first 1"


def test_a_binary_file_is_not_set_as_the_guidelines(run, tmp_path):
    """A file with NUL bytes (valid UTF-8) became the guidelines; PostgreSQL would refuse the text."""
    assert run("import", SEED, "--no-model").exit_code == 0
    (tmp_path / "g.md").write_text("# PERSON\n\nPeople.\n")
    assert run("guidelines", "set", tmp_path / "g.md").exit_code == 0
    before = dump(tmp_path / "p.db")
    (tmp_path / "logo.png").write_bytes(b"PNG\x00\x01\x02 not text")
    message = one_line(run("guidelines", "set", tmp_path / "logo.png"), "E510")
    assert "(it holds NUL bytes: a binary file, not text)" in message
    assert dump(tmp_path / "p.db") == before and run("guidelines", "show").stdout == "# PERSON\n\nPeople.\n"


@pytest.mark.parametrize("args", [("search", "Seoul"), ("kb", "export", "--format", "jsonl", "--out", "kb.jsonl")])
def test_looking_with_a_mistyped_db_creates_no_project(run, tmp_path, args):
    """`search` and `kb export` made a new empty project (and its folder) at a mistyped --db, then said
    "No hits." / "Wrote 0 entities" with status 0, as the other commands that only read do not."""
    message = one_line(run("--db", tmp_path / "typo" / "p.db", *args), "E054")
    assert f"`annotator {' '.join(args[:2]) if args[0] == 'kb' else args[0]}` works on an existing project" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_searching_makes_nobody_an_annotator(run, tmp_path):
    """`search --user zed` added zed to the project's annotators (README: running a command does not)."""
    assert run("import", SEED, "--no-model").exit_code == 0
    before = dump(tmp_path / "p.db")
    message = one_line(run("search", "Seoul", "--user", "zed"), "E055")
    assert message.startswith("Error: [E055] 'zed' is not an annotator of this project, and looking does not")
    assert dump(tmp_path / "p.db") == before
    found = run("search", "Seoul")
    assert found.exit_code == 0 and found.stdout.count("[Seoul]") == 5 and dump(tmp_path / "p.db") == before


@pytest.mark.parametrize("args", [("stats",), ("search", "Seoul"), ("db", "users"), ("labels", "add", "TREATY")])
def test_a_command_that_reads_leaves_an_empty_project_file_empty(run, tmp_path, args):
    """A 0-byte file at --db (a copy cut short, a `touch`) became a new empty project (245 KB) and
    `stats` said "Documents: 0", hiding that the file held nothing; `import` still starts one there."""
    empty = tmp_path / "empty.db"
    empty.touch()
    message = one_line(run("--db", empty, *args), "E054")
    assert message.startswith(f"Error: [E054] No project at '{empty}': the file is empty (0 bytes), and `annotator ")
    assert empty.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
    assert run("--db", empty, "import", SEED, "--no-model").exit_code == 0 and empty.stat().st_size > 0


def test_an_annotator_cannot_make_themselves_a_reviewer_with_db_users_add(run, tmp_path):
    """`annotator role bob reviewer --user bob` was refused (E165) but `db users add bob --role reviewer
    --user bob` did it, and blind annotation was gone: a reviewer reads every layer."""
    assert run("import", SEED, "--no-model").exit_code == 0  # ana owns the project
    assert run("db", "users", "add", "bob").exit_code == 0
    before = dump(tmp_path / "p.db")
    for args in (("bob", "--role", "reviewer"), ("eve",)):
        message = one_line(run("db", "users", "add", *args, "--user", "bob"), "E165")
        assert message.startswith(f"Error: [E165] 'bob' cannot give '{args[0]}' the role ")
    assert dump(tmp_path / "p.db") == before
    assert run("db", "users").stdout == "ana: reviewer\nbob: annotator\n"
    assert run("db", "users", "add", "bob", "--role", "reviewer").stdout == "bob is now reviewer (was annotator).\n"


def test_the_knowledge_base_given_to_import_points_to_kb_import(run, tmp_path):
    """`annotator import seeds/kb.jsonl` said '"text" is missing or empty. Each line needs a non-empty
    string "text"', which did not say what the file was, nor which command reads it."""
    assert run("import", SEED, "--no-model").exit_code == 0
    before = dump(tmp_path / "p.db")
    message = one_line(run("import", seeds_dir() / "kb.jsonl"), "E016")
    assert message.endswith("kb.jsonl', line 1: \"text\" is missing: the line is a knowledge base entity (id, name), "
                            "which `annotator kb import FILE` reads. Fix the line (or leave out the lines that cannot "
                            "be read with --skip-invalid) and import again; nothing was imported.\n")
    assert dump(tmp_path / "p.db") == before
