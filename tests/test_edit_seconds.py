"""The stored time per person and day (core/db/edit_seconds.py) against the window over the whole
history it replaced (`reference`): after edits, undo and redo by two people through the real
commands, pauses over the cap, a clock that goes back, midnight, and a merge of older history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.db import edit_seconds
from annotator.core.db.edit_seconds import reference, stored
from annotator.core.db.store import Store
from annotator.core.progress import progress
from annotator.core.project import Project
from annotator.core.records import DocRecord
from annotator.io.importing import import_records
from annotator.io.merging import merge
from factories import new_store

BACKENDS = ("sqlite", "postgresql")
TEXT = "Ann Lee met Acme Corp in Paris on Monday."
START = datetime(2026, 3, 2, 23, 50, tzinfo=timezone.utc)  # ten minutes before midnight


class Clock:
    """The time the command stack stamps on its events, moved by hand."""

    def __init__(self, monkeypatch, now: datetime = START):
        self.now = now
        monkeypatch.setattr("annotator.core.editing.stack.utcnow", lambda: self.now)

    def after(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def people(store) -> tuple[Project, Project, list[int]]:
    import_records(store, [DocRecord(n, f"{TEXT} ({n})") for n in ("a", "b")], use_model=False)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    docs = list(ana.document_ids(["a", "b"]).values())
    for p in (ana, bob):
        for d in docs:
            p.open_document(d)
    return ana, bob, docs


def check(store) -> dict[tuple[int, str], int]:
    with store.Session() as s:
        mine = stored(s)
        assert mine == reference(s)
        return mine


def test_edit_seconds_equal_the_window_after_edits_undo_and_redo_of_two_people(store, monkeypatch):
    clock = Clock(monkeypatch)
    ana, bob, (a, b) = people(store)
    span = ana.add_span(a, 0, 7, "PERSON")
    clock.after(40)
    bob.add_span(a, 12, 21, "ORG")  # bob's first: no gap of his, none for ana
    clock.after(20)
    ana.relabel(span, "ORG")  # 60 s after ana's last edit of a
    clock.after(1000)  # past midnight: a new day
    ana.add_span(b, 25, 30, "LOC")  # another document, another day: its first
    ana.stack.undo()  # 0 s later, same document
    clock.after(400)
    ana.stack.redo()  # 400 s: counts 300
    clock.after(-30)  # the clock went back: a negative gap counts 0
    ana.set_status(b, "done")
    clock.after(600)
    bob.add_span(a, 0, 3, "PERSON")  # bob's first of the new day counts nothing
    clock.after(10)
    bob.stack.undo()
    days = check(store)
    names = {p.annotator_id: p.user for p in (ana, bob)}
    by_name = {(names[k[0]], k[1]): v for k, v in days.items()}
    assert by_name == {("ana", "2026-03-02"): 60_000_000, ("ana", "2026-03-03"): 300_000_000,
                       ("bob", "2026-03-02"): 0, ("bob", "2026-03-03"): 10_000_000}
    with store.Session() as s:
        # (spans and states are dated by the real clock: only the edits' days are of interest here)
        report = {t.annotator: (t.seconds, [(d.day, d.seconds) for d in t.days if d.day < "2026-04"])
                  for t in progress(s)}
    assert report["ana"] == (360.0, [("2026-03-02", 60.0), ("2026-03-03", 300.0)])
    assert report["bob"] == (10.0, [("2026-03-02", 0.0), ("2026-03-03", 10.0)])


def test_edit_seconds_rebuild_gives_what_the_edits_kept(store, monkeypatch):
    clock = Clock(monkeypatch)
    ana, bob, (a, b) = people(store)
    for k in range(6):
        (ana if k % 2 else bob).add_span(a if k < 3 else b, 5 * k, 5 * k + 3, "ORG")
        clock.after(45 * k)
    kept = check(store)
    with store.atomic() as s:
        edit_seconds.rebuild(s)
    assert check(store) == kept and sum(kept.values()) > 0


@pytest.mark.single_backend
def test_edit_seconds_a_merge_adds_the_older_history_of_the_other_file(tmp_path, monkeypatch):
    """Merged events come with their own times, possibly before this project's: their gaps follow the
    same rule (id order, negative gaps 0), so the kept sums still equal the window."""
    clock = Clock(monkeypatch)
    theirs_store = new_store(tmp_path / "theirs.db")
    ana, _, (a, _) = people(theirs_store)
    for k in range(4):
        ana.add_span(a, 5 * k, 5 * k + 3, "ORG")
        clock.after(70)
    theirs_store.close()
    clock.now = START - timedelta(seconds=100)  # here, ana worked earlier on the same document
    ours = new_store(tmp_path / "ours.db")
    ana2, _, (a2, _) = people(ours)
    ana2.add_span(a2, 30, 35, "LOC")
    clock.after(1000)
    ana2.add_span(a2, 36, 40, "LOC")
    before = check(ours)
    report = merge(ours, tmp_path / "theirs.db")
    assert report.events >= 4
    after = check(ours)
    assert after != before


@pytest.mark.single_backend
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["ana", "bob"]), st.integers(0, 1),
                          st.sampled_from(["add", "undo", "redo"]), st.integers(-60, 700)),
                min_size=1, max_size=12))
def test_edit_seconds_equal_the_window_for_any_sequence(tmp_path_factory, monkeypatch, steps):
    clock = Clock(monkeypatch)
    store = Store(tmp_path_factory.mktemp("h") / "p.db")
    try:
        ana, bob, docs = people(store)
        who = {"ana": ana, "bob": bob}
        for k, (name, doc, action, pause) in enumerate(steps):
            p = who[name]
            clock.after(pause)
            if action == "undo" and p.stack.can_undo:
                p.stack.undo()
            elif action == "redo" and p.stack.can_redo:
                p.stack.redo()
            else:
                p.add_span(docs[doc], k, k + 1, "ORG")
        check(store)
    finally:
        store.close()
