"""Outputs never destroy inputs: every --out (export, kb export, screenshot) refuses the open project,
its -wal/-shm and any SQLite database, replaces an existing output only with --force, and swaps the new
output in whole, so a failed or killed export leaves the old one exactly as it was."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from annotator.cli import main
from annotator.core.resources import seeds_dir
from annotator.errors import AnnotatorError
from annotator.io import kb_transfer, outputs
from annotator.io.exporting import export

USER = "tester"  # conftest's `project`: the tester's layer holds the first seed


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def sqlite_file(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    return path


# --- the command line: exact messages, exit 1, the project intact

@pytest.fixture
def cli(tmp_path, monkeypatch):
    db = tmp_path / "p.db"
    monkeypatch.setenv("ANNOTATOR_DB", str(db))
    monkeypatch.setenv("ANNOTATOR_USER", "ana")

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    assert invoke("import", seeds_dir(), "--no-model").exit_code == 0
    tasks = tmp_path / "ana.jsonl"
    tasks.write_text('{"text": "Kim visits Tokyo.", "spans": [{"start": 11, "end": 16, "label": "GPE"}]}\n')
    assert invoke("import", tasks, "--no-model", "--as-layer", "ana").exit_code == 0  # ana's layer: 1 document
    assert invoke("kb", "import", seeds_dir() / "kb.jsonl").exit_code == 0
    invoke.db = db
    return invoke


def refused(result, message: str) -> None:
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {message}\n")


@pytest.mark.parametrize("command", [
    ("export", "--format", "jsonl", "--layer", "ana"),
    ("kb", "export", "--format", "jsonl"),
    ("screenshot", "--doc", "000_8c62d622aab8081a"),
])
def test_outputs_cli_refuses_the_open_project_even_with_force(cli, command):
    """Regression: `screenshot --out project.db` replaced the project with a PNG and `kb export --out
    project.db` emptied it, both exiting 0."""
    before = digest(cli.db)
    refused(cli(*command, "--out", cli.db, "--force"),
            f"[E044] '{cli.db}' is the open project; an output never replaces it. Choose another path; "
            "nothing was written.")
    assert digest(cli.db) == before
    assert cli("stats", "--json").exit_code == 0


@pytest.mark.parametrize("tail", ["wal", "shm"])
def test_outputs_cli_refuses_the_projects_wal_and_shm(cli, tail):
    out = Path(f"{cli.db}-{tail}")
    refused(cli("export", "--format", "jsonl", "--layer", "ana", "--out", out, "--force"),
            f"[E044] '{out}' is the open project's {tail} file; an output never replaces it. Choose another "
            "path; nothing was written.")


def test_outputs_cli_refuses_another_sqlite_database_and_its_wal(cli, tmp_path):
    other = sqlite_file(tmp_path / "colleague.jsonl")  # the name does not matter, the first 16 bytes do
    before = digest(other)
    for out in (other, Path(f"{other}-wal")):
        refused(cli("export", "--format", "jsonl", "--layer", "ana", "--out", out, "--force"),
                f"[E045] '{out}' is an SQLite database or one of its files ('{other}' may be a project); an "
                "output never replaces it. Choose another path; nothing was written.")
    assert digest(other) == before and not Path(f"{other}-wal").exists()


@pytest.mark.parametrize("command, name", [
    (("export", "--format", "jsonl", "--layer", "ana", "--status", "all"), "out.jsonl"),
    (("kb", "export", "--format", "csv"), "kb.csv"),
    (("screenshot", "--doc", "000_8c62d622aab8081a"), "shot.png"),
])
def test_outputs_cli_replaces_an_existing_output_only_with_force(cli, tmp_path, command, name):
    out = tmp_path / name
    out.write_text("an earlier output\n")
    refused(cli(*command, "--out", out),
            f"[E046] '{out}' already exists. Add --force to replace it (in the window: confirm), or choose "
            "another path; nothing was written.")
    assert out.read_text() == "an earlier output\n"
    result = cli(*command, "--out", out, "--force")
    assert result.exit_code == 0 and result.stdout.startswith("Wrote ")
    assert out.read_bytes() != b"an earlier output\n" and not leftovers(tmp_path)


def test_outputs_cli_export_of_no_document_is_an_error_and_writes_nothing(cli, tmp_path):
    """Regression: an export that selected nothing wrote a 0-byte file and said so only in the status bar."""
    out = tmp_path / "done.jsonl"
    refused(cli("export", "--format", "jsonl", "--layer", "ana", "--status", "done", "--out", out),
            "[E048] Layer 'ana' has no finished (--status done) document, so there is nothing to export. Mark "
            "documents done, choose --status all or another layer; nothing was written.")
    assert not out.exists() and not leftovers(tmp_path)


# --- the core: folders, KB files, leftovers

def test_outputs_folder_export_refuses_a_folder_holding_the_project_or_other_things(project, tmp_path):
    project.open_document(project.documents()[1].id)
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "brat", tmp_path, layer=USER, force=True)  # the project's own folder
    assert e.value.code == "E044" and "the folder that holds the open project" in str(e.value)
    mine = tmp_path / "mine"
    (mine / "photos").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "xmi", mine, layer=USER, force=True)
    assert e.value.code == "E047" and "'photos'" in str(e.value)
    assert (mine / "notes.txt").read_text() == "keep"
    assert (mine / "photos").is_dir() and not leftovers(tmp_path)


def test_outputs_a_failing_write_leaves_the_old_folder_exactly(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.txt").write_text("old a")
    (target / "b.txt").write_text("old b")

    def write(path: Path) -> None:
        path.mkdir()
        (path / "a.txt").write_text("new a")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        outputs.replace(target, write, folder=True)
    assert tree(target) == {"a.txt": b"old a", "b.txt": b"old b"} and not leftovers(tmp_path)


def test_outputs_leftovers_of_a_killed_swap_are_finished_or_undone(tmp_path):
    """Killed between "old aside" and "new in" (where renameat2 cannot exchange): the next write puts the
    complete new folder in place, else the old one back; staging folders go; other dot-files stay."""
    target = tmp_path / "out"
    for stage, content in ((".old", "old"), (".new", "new"), (".part", "partial")):
        (tmp_path / f".out.abcd1234{stage}").mkdir()
        (tmp_path / f".out.abcd1234{stage}" / "a.txt").write_text(content)
    (tmp_path / ".out.notes.part").write_text("not ours")
    outputs.clean_leftovers(target)
    assert tree(target) == {"a.txt": b"new"} and leftovers(tmp_path) == [".out.notes.part"]
    (tmp_path / ".out.wxyz0987.old").mkdir()
    os.rename(target, tmp_path / ".out.wxyz0987.old" / "x")  # the target is gone, the old one aside
    outputs.clean_leftovers(target)
    assert (target / "x" / "a.txt").read_text() == "new"


def test_outputs_kb_export_replaces_the_file_whole_never_truncating_it(project, tmp_path):
    """Regression: `kb export` opened its target for writing, truncating it first; a reader of the old
    file (or a crash) saw it empty. Now the new file is renamed over it: an open old file keeps its bytes."""
    kb_transfer.import_kb(project.store, seeds_dir() / "kb.jsonl")
    out = tmp_path / "kb.jsonl"
    out.write_text('{"id": "Q1", "name": "an earlier export"}\n')
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.export_kb(project.store, "jsonl", out)
    assert e.value.code == "E046"
    with open(out, "rb") as reader:
        n = kb_transfer.export_kb(project.store, "jsonl", out, force=True)
        assert reader.read() == b'{"id": "Q1", "name": "an earlier export"}\n'
    assert n > 0 and len(out.read_text().splitlines()) == n and not leftovers(tmp_path)


def test_outputs_kb_export_spacy_kb_folder_is_swapped_in_whole(project, tmp_path):
    kb_transfer.import_kb(project.store, seeds_dir() / "kb.jsonl")
    out = tmp_path / "kb"
    kb_transfer.export_kb(project.store, "spacy-kb", out)
    first = tree(out)
    (out / "stale").write_bytes(b"from an earlier export")
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.export_kb(project.store, "spacy-kb", out)
    assert e.value.code == "E046" and (out / "stale").exists()
    kb_transfer.export_kb(project.store, "spacy-kb", out, force=True)
    assert tree(out) == first and not leftovers(tmp_path)
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.export_kb(project.store, "csv", project.store.path, force=True)
    assert e.value.code == "E044"


# --- the window: replacing is confirmed first

def test_outputs_window_asks_before_replacing_an_export(window, qtbot, tmp_path):
    out = tmp_path / "mine.jsonl"
    out.write_text("an earlier export\n")
    qtbot.keyClick(window.view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = window._export
    dialog.status.setCurrentIndex(dialog.status.findData("all"))  # the opened document is not done
    dialog.path.setText(str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    box = dialog.confirm
    assert box is not None and box.isVisible() and str(out) in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert not box.isVisible() and out.read_text() == "an earlier export\n" and not dialog.exporter.running()

    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    replace = next(b for b in dialog.confirm.buttons() if b.text() == "&Replace")
    with qtbot.waitSignal(dialog.exported, timeout=30_000):
        qtbot.mouseClick(replace, Qt.MouseButton.LeftButton)
    assert out.read_text() != "an earlier export\n" and not dialog.isVisible()
    assert [line.startswith("{") for line in out.read_text().splitlines()] == [True]  # the one opened document

    dialog = window._export
    dialog.reopen()
    dialog.path.setText(str(window.project.store.path))  # the project itself: refused, no question
    before = digest(window.project.store.path)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.confirm is None and dialog.message.text().startswith("[E044]")
    assert digest(window.project.store.path) == before
