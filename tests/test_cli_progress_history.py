"""`annotator guidelines`, `progress` and `history`: exact output, the rules behind the figures (time
from the history with capped gaps), blind annotation, and "revert to here" as one undoable command."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from annotator.cli import main
from annotator.core.db import edit_seconds
from annotator.core.db.models import DocumentState, Event, Span
from annotator.core.progress import progress
from annotator.core.project import Project
from annotator.core.records import DocRecord
from annotator.io.importing import import_records
from plans import plan_of, statements

BACKENDS = ("sqlite", "postgresql")
TEXT = "Ann Lee met Acme Corp in Paris."
GUIDE = "# Guidelines\n\nRead first.\n\n## PERSON\n\nPeople.\n\n## ORG — organisations\n\nFirms.\n"


def run(db, *args, user="rev"):
    return CliRunner().invoke(main, ["--db", str(db), "--user", user, *map(str, args)])


@pytest.fixture
def team(store):
    """Two documents; ana edits the first on two days (times set by hand), rev is a reviewer."""
    import_records(store, [DocRecord("a", TEXT), DocRecord("b", "Nothing here.")], use_model=False)
    rev = Project(store, "rev", role="reviewer")
    ana = Project(store, "ana")
    doc = ana.document_ids(["a"])["a"]
    ana.open_document(doc)
    span = ana.add_span(doc, 0, 7, "PERSON")
    ana.relabel(span, "ORG")
    ana.add_span(doc, 12, 21, "ORG")
    ana.set_status(doc, "done")
    times = [datetime(2026, 3, 2, 9, 0, 0), datetime(2026, 3, 2, 9, 1, 0),  # 60 s
             datetime(2026, 3, 2, 9, 30, 0),  # a 29 min pause: counts 300 s
             datetime(2026, 3, 3, 10, 0, 0)]  # next day, alone: 0 s
    with store.atomic() as s:
        ids = list(s.scalars(select(Event.id).order_by(Event.id)))
        for event_id, when in zip(ids, times):
            s.execute(update(Event).where(Event.id == event_id).values(created_at=when.replace(tzinfo=timezone.utc)))
        s.execute(update(Span).values(updated_at=datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)))
        s.execute(update(DocumentState).values(updated_at=datetime(2026, 3, 3, 10, tzinfo=timezone.utc)))
        edit_seconds.rebuild(s)  # the history was rewritten behind the app's back: its time counted again
    return store, rev, ana, doc


def test_cli_guidelines_set_and_show(team, tmp_path):
    store = team[0]
    assert run(store.url, "guidelines", "show").output == (
        "No guidelines yet. A reviewer sets them with `annotator guidelines set FILE.md`.\n")
    path = tmp_path / "g.md"
    path.write_text(GUIDE, encoding="utf-8")
    result = run(store.url, "guidelines", "set", path)
    assert result.exit_code == 0, result.output
    assert result.output == f"Set the guidelines from {path}: 11 lines, 3 headings; sections for PERSON, ORG.\n"
    assert run(store.url, "guidelines", "show", user="ana").output == GUIDE


def test_cli_guidelines_refused_to_annotators_and_bad_files(team, tmp_path):
    store = team[0]
    path = tmp_path / "g.md"
    path.write_text(GUIDE, encoding="utf-8")
    refused = run(store.url, "guidelines", "set", path, user="ana")
    assert refused.exit_code == 1 and refused.output.startswith("Error: [E512] Only reviewers set")
    path.write_bytes(b"\xff\xfe# x")
    bad = run(store.url, "guidelines", "set", path)
    assert bad.exit_code == 1 and bad.output.startswith(f"Error: [E510] Cannot read the guidelines file '{path}' "
                                                        "(not UTF-8 text: invalid start byte at byte 0).")
    with store.Session() as s:
        from annotator.core.guidelines import guidelines
        assert guidelines(s) == ""


def test_cli_progress_exact_output(team):
    store = team[0]
    result = run(store.url, "progress")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ana: 1 documents done, 2 spans checked, 0:06:00 spent; suggestions 0 accepted, 0 corrected",
        "  2026-03-02  0 done  2 checked  0:06:00",
        "  2026-03-03  1 done  0 checked  0:00:00",
        "rev: 0 documents done, 0 spans checked, 0:00:00 spent; suggestions 0 accepted, 0 corrected",
        "(time: gaps between a person's consecutive edits of one document on one day, each counted up to 300 s)",
    ]
    mine = json.loads(run(store.url, "progress", "--json", user="ana").output)  # blind: only her own
    assert [a["annotator"] for a in mine["annotators"]] == ["ana"]
    assert mine["annotators"][0]["seconds"] == 360.0


def test_cli_history_exact_output_and_filters(team):
    store = team[0]
    lines = [
        "2026-03-02 09:00:00  ana  a  add PERSON",
        "2026-03-02 09:01:00  ana  a  relabel as ORG",
        "2026-03-02 09:30:00  ana  a  add ORG",
        "2026-03-03 10:00:00  ana  a  mark done",
    ]
    assert run(store.url, "history", "--doc", "a").output.splitlines() == lines
    assert run(store.url, "history", "--user", "ana").output.splitlines() == lines
    assert run(store.url, "history", "--doc", "b").output == "No edits.\n"
    assert [e["text"] for e in json.loads(run(store.url, "history", "--json", user="ana").output)] == [
        "add PERSON", "relabel as ORG", "add ORG", "mark done"]
    blind = run(store.url, "history", "--user", "rev", user="ana")
    assert blind.exit_code == 1 and blind.output.startswith("Error: [E515] ")
    missing = run(store.url, "history", "--doc", "zzz")
    assert missing.output == ("Error: [E514] No document named 'zzz' in this project. Check the name "
                              "(`annotator search` or the document list shows them).\n")


def test_history_revert_to_here_is_one_undoable_command(team):
    store, _, ana, doc = team
    first = ana.history()[0]
    command = ana.revert_to(first.event_id)
    assert command.text() == "revert 3 edits (to 2026-03-02 09:00:00)"
    assert [(s.start, s.end, s.label) for s in ana.spans(doc)] == [(0, 7, "PERSON")]
    assert ana.document_status(doc) == "in_progress"
    assert ana.stack.undo_text == "revert 3 edits (to 2026-03-02 09:00:00)"
    ana.stack.undo()  # one Ctrl+Z brings all three back
    assert [(s.start, s.end, s.label) for s in ana.spans(doc)] == [(0, 7, "ORG"), (12, 21, "ORG")]
    assert ana.document_status(doc) == "done"
    ana.stack.redo()
    assert [(s.start, s.end, s.label) for s in ana.spans(doc)] == [(0, 7, "PERSON")]
    again = Project(store, "ana")  # undo of the revert survives a restart
    assert again.stack.undo_text == "revert 3 edits (to 2026-03-02 09:00:00)"
    again.stack.undo()
    assert [(s.start, s.end, s.label) for s in again.spans(doc)] == [(0, 7, "ORG"), (12, 21, "ORG")]


def test_history_revert_refuses_others_edits_and_nothing_after(team):
    store, rev, ana, doc = team
    last = ana.history()[-1]
    with pytest.raises(Exception) as nothing:
        ana.revert_to(last.event_id)
    assert str(nothing.value).startswith("[E517] ")
    with pytest.raises(Exception) as other:
        rev.revert_to(last.event_id)
    assert str(other.value).startswith("[E516] ")


@pytest.mark.single_backend
def test_progress_reads_checked_spans_and_the_time_from_their_indexes(team):
    """SQLite plans: "spans checked" reads only the partial index ix_spans_checked (not every span of
    the project); the time is read from the small per-day table, not the history; an edit finds the
    previous edit of its document and day in ix_events_gaps, and the reference window reads the
    history in its order from there (no sort)."""
    store, _, ana, doc = team
    with statements(store) as seen, store.Session() as s:
        report = progress(s)
    assert [(t.annotator, t.spans_checked, t.seconds) for t in report] == [("ana", 2, 360.0), ("rev", 0, 0.0)]
    checked = plan_of(store, seen, "FROM spans")
    assert "COVERING INDEX ix_spans_checked" in checked
    assert not [q for q, _ in seen if "events" in q]
    with statements(store) as seen:
        ana.add_span(doc, 25, 30, "LOC")
    lookup = plan_of(store, seen, "INSERT INTO edit_seconds")
    assert "COVERING INDEX ix_events_gaps" in lookup and "ORDER BY" not in lookup
    with statements(store) as seen, store.Session() as s:
        edit_seconds.reference(s)
    window = plan_of(store, seen, "lag(")
    assert "COVERING INDEX ix_events_gaps" in window and "ORDER BY" not in window
