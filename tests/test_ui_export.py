"""File → Export… driven as a user: Ctrl+E, pick a format and a path, Export; the file must be what
`annotator export` writes for the same options, the progress bar must reach the total, errors and
Cancel must leave nothing behind, and the window must stay responsive meanwhile."""

from __future__ import annotations

import json
import re
import time

import pytest
from click.testing import CliRunner
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QLineEdit
from sqlalchemy import insert

from annotator.cli import main
from annotator.core.db.annotators import MODEL_LAYER, get_annotator, gold_annotator, set_role
from annotator.core.db.models import Document, DocumentState, Span, utcnow
from annotator.core.project import Project
from annotator.core.text import pack_tokens
from annotator.formats import registry
from annotator.io.exporting import document_ids
from annotator.io.importing import sha256
from annotator.ui.qt_export import CANCELLED

Key = Qt.Key
Mod = Qt.KeyboardModifier
USER = "tester"


def cli_export(window, *args) -> list[str]:
    """Run `annotator export` on the window's project as the same user; its output lines."""
    result = CliRunner().invoke(main, ["--db", str(window.project.store.path), "--user", USER, "export",
                                       *[str(a) for a in args]])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def open_dialog(window, qtbot):
    window.activateWindow()  # after a dialog closed: the window has the focus again, as for a user
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.view, Key.Key_E, Mod.ControlModifier)
    dialog = window._export
    assert dialog is not None and dialog.isVisible() and dialog.isModal()
    qtbot.waitUntil(dialog.isActiveWindow)  # keys go where the user's focus is: the dialog, not the article
    return dialog


def choose(qtbot, combo, typed: str) -> None:
    """Focus a combo box and type the start of an item, as one does with the keyboard."""
    combo.setFocus()
    qtbot.keyClicks(combo, typed)


def type_path(qtbot, dialog, path) -> None:
    qtbot.keyClick(dialog.path, Key.Key_A, Mod.ControlModifier)
    qtbot.keyClicks(dialog.path, str(path))


def press_export(qtbot, dialog, signal, timeout: int = 60_000) -> None:
    with qtbot.waitSignal(signal, timeout=timeout):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name or p.name.startswith("."))


def every_document(qtbot, dialog) -> None:
    """Documents: every one done or in progress (--status all), not only those marked done (the default)."""
    choose(qtbot, dialog.status, "E")
    assert dialog.status.currentData() == "all"


def open_all(window) -> None:
    for doc in window.documents.model.docs:
        window.open_document(doc.id)


def test_ui_export_jsonl_writes_what_the_cli_writes(window, qtbot, tmp_path):
    open_all(window)
    dialog = open_dialog(window, qtbot)
    assert [dialog.format.itemData(i) for i in range(dialog.format.count())] == registry.export_names()
    assert dialog.layer.currentData() == USER and dialog.status.currentData() == "done"
    assert not dialog.suggestions.isChecked()
    every_document(qtbot, dialog)
    choose(qtbot, dialog.format, "jsonl")
    assert dialog.format.currentData() == "jsonl"
    out = tmp_path / "mine.jsonl"
    type_path(qtbot, dialog, out)
    press_export(qtbot, dialog, dialog.exported)

    cli_lines = cli_export(window, "--format", "jsonl", "--status", "all", "--out", tmp_path / "cli.jsonl")
    assert out.read_bytes() == (tmp_path / "cli.jsonl").read_bytes()
    total = len(document_ids(window.project.store, USER, "all"))
    assert total == 3
    assert (dialog.progress.value(), dialog.progress.maximum()) == (total, total)
    assert dialog.progress.text() == "3 / 3 documents"
    assert not dialog.isVisible()
    assert cli_lines[1].startswith("3 unchecked suggestions in 1 document were left out")
    assert window.statusBar().currentMessage() == " ".join(cli_lines).replace(str(tmp_path / "cli.jsonl"), str(out))
    # and the file holds the database's accepted spans of the tester's layer, not its suggestions
    first = window.documents.model.docs[0].id
    tasks = {json.loads(line)["meta"]["name"]: json.loads(line) for line in out.read_text("utf-8").splitlines()}
    task = tasks[window.project.document(first).name]
    assert [(s["start"], s["end"], s["label"], s["status"]) for s in task["spans"]] == [
        (s.start, s.end, s.label, s.status) for s in window.project.spans(first) if s.status == "accepted"]
    assert not leftovers(tmp_path)


def test_ui_export_conll_reports_spans_off_token_boundaries_like_the_cli(window, qtbot, ui, tmp_path):
    """A span off token boundaries inside a person's entity is left out and reported; its word keeps
    the entity's tag (one whose word would be O leaves its document out: test_export_left_out_spans)."""
    view = window.view
    start = window.model.text.index("counterpart")
    ui.drag(view, start, start + 11)
    ui.key(view, Key.Key_1)
    ui.drag(view, start + 7, start + 11, Mod.AltModifier)  # "part": not a token of its own
    ui.key(view, Key.Key_1)
    layer = [(s.start, s.end, s.label) for s in window.project.spans(window.model.doc_id)]
    assert (start, start + 11, "PERSON") in layer and (start + 7, start + 11, "PERSON") in layer
    ui.key(view, Key.Key_Return, Mod.ControlModifier | Mod.ShiftModifier)  # CoNLL leaves out unchecked documents
    dialog = open_dialog(window, qtbot)
    choose(qtbot, dialog.format, "c")
    assert dialog.format.currentData() == "conll"
    assert dialog.path.text().endswith(".conll")  # the suggested name follows the format
    assert "token boundaries" in dialog.hint.text() and "unchecked suggestions is left out" in dialog.hint.text()
    every_document(qtbot, dialog)
    out = tmp_path / "mine.conll"
    type_path(qtbot, dialog, out)
    press_export(qtbot, dialog, dialog.exported)

    cli_lines = cli_export(window, "--format", "conll", "--status", "all", "--out", tmp_path / "cli.conll")
    assert out.read_bytes() == (tmp_path / "cli.conll").read_bytes()
    assert len(cli_lines) == 2 and cli_lines[1].startswith("1 span is not on token boundaries")
    message = window.statusBar().currentMessage()
    assert message == " ".join(cli_lines).replace(str(tmp_path / "cli.conll"), str(out))
    assert "'part'" in message


def test_ui_export_error_shows_the_coded_message_and_writes_nothing(window, qtbot, tmp_path):
    dialog = open_dialog(window, qtbot)
    every_document(qtbot, dialog)
    out = tmp_path / "missing" / "out.jsonl"
    type_path(qtbot, dialog, out)
    press_export(qtbot, dialog, dialog.failed)

    expected = (f"[E043] Cannot write '{out}': No such file or directory. Choose a folder that exists and "
                "that you can write to; nothing was written.")
    assert dialog.isVisible() and dialog.message.isVisible() and dialog.message.text() == expected
    assert dialog.message.textFormat() == Qt.TextFormat.PlainText
    assert window.statusBar().currentMessage() == expected and window.statusBar().property("error")
    assert window.failure_box.isVisible() and window.failure_box.text() == expected  # and a dialog says it
    window.failure_box.accept()
    assert not (tmp_path / "missing").exists() and not leftovers(tmp_path)
    assert dialog.export_button.isEnabled() and dialog.path.isEnabled() and not dialog.progress.isVisible()
    # fixing the path and pressing Export again works
    type_path(qtbot, dialog, tmp_path / "out.jsonl")
    press_export(qtbot, dialog, dialog.exported)
    assert (tmp_path / "out.jsonl").exists() and not dialog.isVisible()


def add_bulk_documents(store, layer: str, n: int) -> None:
    """n short documents `layer` marked done, one span each (bulk inserts: fast to build)."""
    texts = [f"Kim Kwan-jin visits Tokyo, number {i}." for i in range(n)]
    with store.atomic() as s:
        annotator = get_annotator(s, layer).id
        ids = list(s.scalars(insert(Document).returning(Document.id, sort_by_parameter_order=True), [
            dict(name=f"bulk{i}", title=t, text=t, text_sha256=sha256(t), meta={}, imported_at=utcnow(),
                 tokens=pack_tokens([(m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", t)]))
            for i, t in enumerate(texts)]))
        s.execute(insert(DocumentState), [dict(document_id=i, annotator_id=annotator, status="done",
                                               seconds_spent=0.0, updated_at=utcnow()) for i in ids])
        s.execute(insert(Span), [dict(document_id=i, annotator_id=annotator, start=0, end=12, label="PERSON",
                                      origin="human", status="accepted") for i in ids])


def test_ui_export_cancel_writes_nothing(window, qtbot, tmp_path):
    add_bulk_documents(window.project.store, USER, 8000)
    dialog = open_dialog(window, qtbot)
    out = tmp_path / "big.jsonl"
    type_path(qtbot, dialog, out)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.close_button.text() == "Cancel" and not dialog.export_button.isEnabled()
    with qtbot.waitSignal(dialog.cancelled, timeout=30_000):  # pressed before the export could end
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)

    assert not out.exists() and not leftovers(tmp_path)
    assert dialog.isVisible() and dialog.message.text() == CANCELLED
    assert window.statusBar().currentMessage() == CANCELLED
    assert dialog.close_button.text() == "Close" and dialog.export_button.isEnabled()


def test_ui_export_runs_in_the_background_with_progress(window, qtbot, tmp_path):
    add_bulk_documents(window.project.store, USER, 8000)
    total = len(document_ids(window.project.store, USER, "done"))
    dialog = open_dialog(window, qtbot)
    out = tmp_path / "big.jsonl"
    type_path(qtbot, dialog, out)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    seen: list[int] = []
    dialog.progress.valueChanged.connect(seen.append)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=60_000)  # closes itself when done
    timer.stop()
    assert dialog.progress.maximum() == total and seen[-1] == total  # determinate: documents / total
    assert len(out.read_text(encoding="utf-8").splitlines()) == total
    # the event loop kept turning while the export ran (an export on the UI thread would show no
    # tick until it ended); how long each turn took is for the benchmarks, not for this test
    assert len(ticks) > 3, "the window did not process events during the export"


def test_ui_export_layers_follow_roles_and_the_reviewer_exports_a_colleague(window, qtbot, tmp_path):
    store = window.project.store
    first = window.documents.model.docs[0].id
    colleague = Project(store, "cy")
    colleague.open_document(first)
    colleague.add_span(first, 0, 5, "ORG")
    with store.atomic() as s:
        get_annotator(s, MODEL_LAYER, is_model=True)
        gold_annotator(s)
    dialog = open_dialog(window, qtbot)
    assert [dialog.layer.itemText(i) for i in range(dialog.layer.count())] == [
        "tester (yours)", "model (suggestions)"]  # blind: no colleague, no gold
    qtbot.keyClick(dialog, Key.Key_Escape)
    assert not dialog.isVisible()

    set_role(store, USER, "reviewer")
    dialog = open_dialog(window, qtbot)
    assert [dialog.layer.itemText(i) for i in range(dialog.layer.count())] == [
        "tester (yours)", "cy", "gold (adjudicated)", "model (suggestions)"]
    choose(qtbot, dialog.layer, "c")
    assert dialog.layer.currentData() == "cy"
    assert dialog.path.text().endswith("-cy.jsonl")
    every_document(qtbot, dialog)  # cy has not finished the document
    out = tmp_path / "cy.jsonl"
    type_path(qtbot, dialog, out)
    press_export(qtbot, dialog, dialog.exported)
    cli_export(window, "--format", "jsonl", "--layer", "cy", "--status", "all", "--out", tmp_path / "cli.jsonl")
    assert out.read_bytes() == (tmp_path / "cli.jsonl").read_bytes()
    assert '"_annotator_id": "cy"' in out.read_text("utf-8")


@pytest.mark.parametrize("status", ["done", "all"])
def test_ui_export_brat_to_a_folder_chosen_with_browse(window, qtbot, tmp_path, status):
    open_all(window)
    qtbot.keyClick(window.view, Key.Key_Return, Mod.ControlModifier)  # the open document is done
    dialog = open_dialog(window, qtbot)
    choose(qtbot, dialog.format, "b")
    assert dialog.format.currentData() == "brat" and "folder" in dialog.hint.text()
    choose(qtbot, dialog.status, "O" if status == "done" else "E")
    assert dialog.status.currentData() == status
    target = tmp_path / "brat-out"
    target.mkdir()
    qtbot.mouseClick(dialog.browse, Qt.MouseButton.LeftButton)
    browser = dialog.browse_dialog
    assert browser.isVisible() and browser.fileMode() == QFileDialog.FileMode.Directory
    assert browser.directory().absolutePath() == str(tmp_path)  # beside the project file
    name = browser.findChild(QLineEdit, "fileNameEdit")
    name.selectAll()
    qtbot.keyClicks(name, target.name)
    qtbot.keyClick(name, Key.Key_Return)
    assert not browser.isVisible() and dialog.path.text() == str(target)
    press_export(qtbot, dialog, dialog.exported)

    cli_export(window, "--format", "brat", "--status", status, "--out", tmp_path / "cli")
    ours = {p.name: p.read_bytes() for p in target.iterdir()}
    assert ours == {p.name: p.read_bytes() for p in (tmp_path / "cli").iterdir()}
    assert len([n for n in ours if n.endswith(".ann")]) == (1 if status == "done" else 3)


def test_ui_export_browse_for_a_file_adds_the_format_suffix(window, qtbot, tmp_path):
    dialog = open_dialog(window, qtbot)
    choose(qtbot, dialog.format, "l")
    assert dialog.format.currentData() == "labelstudio"
    qtbot.mouseClick(dialog.browse, Qt.MouseButton.LeftButton)
    browser = dialog.browse_dialog
    assert browser.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    name = browser.findChild(QLineEdit, "fileNameEdit")
    assert name.text() == "project-tester.json"  # the suggestion, preselected
    name.selectAll()
    qtbot.keyClicks(name, "picked")
    qtbot.keyClick(name, Key.Key_Return)
    assert dialog.path.text() == str(tmp_path / "picked.json")
    every_document(qtbot, dialog)
    press_export(qtbot, dialog, dialog.exported)
    cli_export(window, "--format", "labelstudio", "--status", "all", "--out", tmp_path / "cli.json")
    assert (tmp_path / "picked.json").read_bytes() == (tmp_path / "cli.json").read_bytes()
