"""What reaches gold is what a reviewer decided, and agreement figures are right: adjudication and
agreement on projects built through the real API (seeds imported with the model's suggestions,
several people editing as themselves), checked against an independent computation."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import new_store, reopen
from sqlalchemy import select
from test_review import SEEDS, doc_id, entity_id, label, make_store

from annotator.cli import main
from annotator.core.db.annotators import GOLD, set_role
from annotator.core.db.models import Annotator, Entity, Span
from annotator.core.project import Project
from annotator.core.records import SpanRecord
from annotator.core.review import triage
from annotator.core.review.adjudication import start_adjudication
from annotator.core.review.decisions import decisions
from annotator.errors import AnnotatorError
from annotator.io.importing import import_paths
from annotator.io.kb_transfer import load_starter

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


def gold_rows(store, document_id) -> set[tuple[int, int, str]]:
    with store.Session() as s:
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        return set(s.execute(select(Span.start, Span.end, Span.label)
                             .where(Span.annotator_id == gold, Span.document_id == document_id)).all())


@pytest.fixture
def suggested(tmp_path):
    """The seeds imported with the model's suggestions and the starter KB; ana and bob have each
    accepted some of the suggestions of article 0 (their layers hold the rest unchecked); rev reviews."""
    store = new_store(tmp_path / "trust.db")
    import_paths(store, SEEDS, use_model=True)
    load_starter(store)
    set_role(store, "rev", "reviewer")
    d = doc_id(store, 0)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    yield store, d, ana, bob
    store.close()


def test_review_trust_unchecked_suggestions_never_reach_gold(suggested):
    """Two people who left the same suggestion unchecked did not agree on it: nobody decided it.
    Adjudication put every such suggestion into gold as "agreed" (66 of the 67 on article 0); each is
    now a region for the reviewer ("missing": some layer holds no decision there)."""
    store, d, ana, bob = suggested
    ana.open_document(d)
    bob.open_document(d)
    first, second = sorted((v.start, v.end, v.label) for v in ana.spans(d) if v.status == "suggested")[:2]
    for p in (ana, bob):
        p.accept(next(v.id for v in p.spans(d) if (v.start, v.end, v.label) == first))
    ana.accept(next(v.id for v in ana.spans(d) if (v.start, v.end, v.label) == second))
    unchecked = {(v.start, v.end) for v in bob.spans(d) if v.status == "suggested"}
    assert len(unchecked) > 10  # bob's layer holds them unchecked

    adj = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    assert gold_rows(store, d) == {first}  # the one span both accepted
    assert {x.kind for x in adj} == {"missing"}
    assert unchecked <= {(x.start, x.end) for x in adj}  # every one left to the reviewer, none agreed
    with store.Session() as s:
        listed = triage.document_items(s, d, ["ana", "bob"])
    assert {(i.disagreement.kind, i.disagreement.start) for i in listed} == {("missing", x.start) for x in adj}
    adj.take(next(x for x in adj if x.start == second[0]), "ana")  # the reviewer decides: ana's accepted span
    assert gold_rows(store, d) == {first, second}


def settle(*projects: Project, d: int) -> None:
    """Each person deletes the suggestions they left unchecked (they are not entities): the regions
    compared are then the ones each test makes, as an unchecked suggestion is a region to decide."""
    for p in projects:
        for v in p.spans(d):
            if v.status == "suggested":
                p.delete_span(v.id)


def gold_versions(store, document_id) -> set[tuple[int, int, str, str | None]]:
    """Gold's spans as (start, end, label, kb_id or "NIL" or None)."""
    with store.Session() as s:
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        return {(r.start, r.end, r.label, "NIL" if r.nil else r.kb_id) for r in s.execute(
            select(Span.start, Span.end, Span.label, Span.nil, Entity.kb_id)
            .outerjoin(Entity, Entity.id == Span.entity_id)
            .where(Span.annotator_id == gold, Span.document_id == document_id))}


def checked(p: Project, d: int, start: int, end: int, label: str) -> int:
    """A span of `p`'s accepted as `label`: the model's suggestion there accepted (and relabelled), else added."""
    for v in p.spans(d):
        if (v.start, v.end) == (start, end):
            p.accept(v.id)
            if v.label != label:
                p.relabel(v.id, label)
            return v.id
    return p.add_span(d, start, end, label)


@pytest.fixture
def agreed_then_changed(suggested):
    """ana and bob both labelled "Japan" GPE linked to Q17 and "Seoul" GPE (its suggested link Q8684);
    adjudication put both into gold as agreed. Then bob, still working, changes his mind on "Japan"."""
    store, d, ana, bob = suggested
    text = ana.document(d).text
    japan, seoul = text.index("Japan"), text.index("Seoul")
    ids = {}
    for p in (ana, bob):
        p.open_document(d)
        ids[p.user] = checked(p, d, japan, japan + 5, "GPE")
        p.link(ids[p.user], entity_id(store, "Q17"))
        checked(p, d, seoul, seoul + 5, "GPE")
    settle(ana, bob, d=d)
    rev = Project(store, "rev")
    adj = start_adjudication(store, d, rev.stack, ["ana", "bob"])
    seoul_gold = (seoul, seoul + 5, "GPE", "Q8684")  # accepted with the link suggested for it
    assert gold_versions(store, d) == {(japan, japan + 5, "GPE", "Q17"), seoul_gold}
    return store, d, adj, bob, ids["bob"], japan, seoul_gold


@pytest.mark.parametrize("change, decide, expected", [
    ("relabel", "take bob", ("ORG", "Q17")),
    ("nil", "take bob", ("GPE", "NIL")),
    ("relabel", "take ana", ("GPE", "Q17")),
    ("nil", "edit", ("NORP", None)),
    ("relabel", "reject", None),
])
def test_review_trust_a_decision_replaces_what_gold_held_in_its_region(agreed_then_changed, change, decide,
                                                                      expected):
    """A decision on a region makes gold there exactly what the reviewer decided. Gold kept the span it
    had from an earlier agreement beside the one taken (GPE and ORG on the same words), kept Q17 when
    the reviewer took bob's NIL, and a rejection left the old span in."""
    store, d, adj, bob, bob_span, japan, seoul_gold = agreed_then_changed
    if change == "relabel":
        bob.relabel(bob_span, "ORG")
    else:
        bob.mark_nil(bob_span)
    adj.refresh()
    [open_] = adj
    assert (open_.start, open_.end) == (japan, japan + 5)
    if decide == "reject":
        adj.reject(open_)
    elif decide == "edit":
        adj.edit(open_, [SpanRecord(japan, japan + 5, "NORP", None)])
    else:
        adj.take(open_, decide.split()[1])
    assert gold_versions(store, d) == ({seoul_gold} | ({(japan, japan + 5, *expected)} if expected else set()))
    adj.undo()  # gold as it was before the decision
    assert gold_versions(store, d) == {(japan, japan + 5, "GPE", "Q17"), seoul_gold}
    assert len(adj) == 1
    adj.redo()
    assert gold_versions(store, d) == ({seoul_gold} | ({(japan, japan + 5, *expected)} if expected else set()))
    assert len(adj) == 0


@pytest.mark.parametrize("change, now", [("nil", ("GPE", "NIL")), ("relabel", ("ORG", "Q17"))])
def test_review_trust_an_agreement_both_changed_is_replaced_in_gold(agreed_then_changed, change, now):
    """ana and bob agreed on "Japan" GPE Q17 (in gold), then both changed it the same way: adjudicating
    again puts the new agreement in gold in place of the old. Gold kept Q17 beside both NILs (no
    disagreement listed), and held GPE and ORG on the same words."""
    store, d, adj, bob, bob_span, japan, seoul_gold = agreed_then_changed
    ana = Project(store, "ana")
    ana_span = next(v.id for v in ana.spans(d) if v.start == japan)
    for p, span in ((ana, ana_span), (bob, bob_span)):
        p.mark_nil(span) if change == "nil" else p.relabel(span, "ORG")
    rev = Project(store, "rev")
    again = start_adjudication(store, d, rev.stack, ["ana", "bob"])
    assert list(again) == []
    assert gold_versions(store, d) == {(japan, japan + 5, *now), seoul_gold}
    rev.stack.undo()  # gold as the first adjudication left it
    assert gold_versions(store, d) == {(japan, japan + 5, "GPE", "Q17"), seoul_gold}
    rev.stack.redo()
    assert gold_versions(store, d) == {(japan, japan + 5, *now), seoul_gold}
    again = start_adjudication(store, d, rev.stack, ["ana", "bob"])  # nothing more to do: no new step
    assert rev.stack.undo_text.startswith(("take 1 span", "add 1 agreed"))
    assert gold_versions(store, d) == {(japan, japan + 5, *now), seoul_gold}


def test_review_trust_an_agreement_some_still_hold_waits_for_a_decision(agreed_then_changed):
    """Only bob changed: gold's span from the agreement stays until the reviewer decides the region
    (an edit or import into gold is never taken out: only what an agreement put there)."""
    store, d, adj, bob, bob_span, japan, seoul_gold = agreed_then_changed
    bob.relabel(bob_span, "ORG")
    again = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    assert [(x.kind, x.start) for x in again] == [("label", japan)]
    assert gold_versions(store, d) == {(japan, japan + 5, "GPE", "Q17"), seoul_gold}


@pytest.fixture
def two_desktops(tmp_path):
    """Article 0 without the model: ana "Naoki Tanaka" PERSON, bob ORG (a label disagreement); rev1
    and rev2 are reviewers, each on a store of their own (two desktops on one project)."""
    store = make_store(tmp_path / "desks.db", docs=(0,))
    d = doc_id(store, 0)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    label(ana, d, "Naoki Tanaka", "PERSON")
    bob_span = label(bob, d, "Naoki Tanaka", "ORG")
    for name in ("rev1", "rev2"):
        set_role(store, name, "reviewer")
    other = reopen(store)
    yield store, other, d, bob, bob_span
    store.close()


def test_review_trust_a_decision_on_a_region_grown_since_another_reviewer_decided_is_refused(two_desktops):
    """rev1 took ana's PERSON; then bob widened his span, so the region grew and was open again for
    rev2, whose decision took rev1's span out of gold without a word. Now it is E160 naming rev1; rev1
    may decide the grown region, replacing their own decision."""
    store, other, d, bob, bob_span = two_desktops
    rev1, rev2 = Project(store, "rev1"), Project(other, "rev2")
    adj1 = start_adjudication(store, d, rev1.stack, ["ana", "bob"])
    adj1.take(adj1[0], "ana")
    start = bob.span(bob_span).start
    bob.move(bob_span, start - len("Japanese counterpart "), bob.span(bob_span).end)
    adj2 = start_adjudication(other, d, rev2.stack, ["ana", "bob"])
    [grown] = adj2
    with pytest.raises(AnnotatorError) as e:
        adj2.take(grown, "bob")
    assert e.value.code == "E160" and "take by rev1" in str(e.value)
    assert gold_versions(store, d) == {(start, start + len("Naoki Tanaka"), "PERSON", None)}
    adj1.refresh()
    adj1.take(adj1[0], "bob")  # rev1's own newer decision replaces theirs
    assert gold_versions(store, d) == {(grown.start, grown.end, "ORG", None)}


def test_review_trust_two_processes_deciding_one_region_at_once_one_wins(two_desktops):
    """Two reviewers' processes take a version of the same disagreement at the same moment: one
    decision goes in, the other is E160, and gold holds exactly the winner's version."""
    import subprocess
    import sys
    import time

    store, _, d, _, _ = two_desktops
    go = store.url.replace("/", "_")[-40:]  # a file name of this test's own
    code = ("import sys, time, pathlib\n"
            "from annotator.core.db.store import Store\n"
            "from annotator.core.project import Project\n"
            "from annotator.core.review.adjudication import start_adjudication\n"
            "from annotator.errors import AnnotatorError\n"
            "store = Store(sys.argv[1])\n"
            "adj = start_adjudication(store, int(sys.argv[2]), Project(store, 'rev2').stack, ['ana', 'bob'])\n"
            "print('ready', flush=True)\n"
            "go = pathlib.Path(sys.argv[3])\n"
            "while not go.exists(): time.sleep(0.001)\n"
            "try:\n    adj.take(adj[0], 'bob'); print('took')\n"
            "except AnnotatorError as e:\n    print(e.code)\n")
    flag = Path(tempfile.gettempdir()) / f"go-{go}-{time.time_ns()}"
    child = subprocess.Popen([sys.executable, "-c", code, store.url, str(d), str(flag)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    adj = start_adjudication(store, d, Project(store, "rev1").stack, ["ana", "bob"])
    assert child.stdout.readline().strip() == "ready"
    flag.touch()
    try:
        adj.take(adj[0], "ana")
        mine = "took"
    except AnnotatorError as e:
        mine = e.code
    theirs, err = child.communicate(timeout=60)
    flag.unlink()
    assert child.returncode == 0, err
    assert sorted([mine, theirs.strip()]) == ["E160", "took"]
    with store.Session() as s:
        assert len(decisions(s, d)) == 1
    won = "ORG" if theirs.strip() == "took" else "PERSON"
    assert {lab for _, _, lab, _ in gold_versions(store, d)} == {won} and len(gold_versions(store, d)) == 1


def test_review_trust_gold_export_holds_exactly_the_decisions(suggested, tmp_path):
    """`annotator export --layer gold` after adjudicating a document with the model's suggestions in
    every layer: the agreed span, the versions taken and the reviewer's edit, nothing else."""
    store, d, ana, bob = suggested
    text = ana.document(d).text
    japan, seoul, korea = text.index("Japan"), text.index("Seoul"), text.index("South Korea")
    for p in (ana, bob):
        p.open_document(d)
        checked(p, d, japan, japan + 5, "GPE")  # agreed
    checked(ana, d, seoul, seoul + 5, "GPE")  # missing in bob's
    checked(ana, d, korea, korea + 11, "GPE")  # label
    checked(bob, d, korea, korea + 11, "ORG")
    settle(ana, bob, d=d)
    rev = Project(store, "rev")
    adj = start_adjudication(store, d, rev.stack, ["ana", "bob"])
    kinds = {x.kind: x for x in adj}
    adj.take(kinds["label"], "bob")
    adj.edit(kinds["missing"], [SpanRecord(seoul, seoul + 5, "LOC", None)])
    adj.finish()
    out = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(main, ["--db", store.url, "--user", "rev", "export", "--format", "jsonl",
                                       "--layer", "gold", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [task] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted((s["start"], s["end"], s["label"], s["status"]) for s in task["spans"]) == sorted([
        (japan, japan + 5, "GPE", "accepted"), (korea, korea + 11, "ORG", "accepted"),
        (seoul, seoul + 5, "LOC", "accepted")])
    assert {(s, e, lab) for s, e, lab, _ in gold_versions(store, d)} == {
        (x["start"], x["end"], x["label"]) for x in task["spans"]}


def test_review_trust_a_later_agreement_does_not_join_a_decided_region(two_desktops):
    """rev1 took ana's PERSON for "Naoki Tanaka" (bob: ORG); later both relabelled it NORP. Adjudicating
    again added NORP beside the decided PERSON: two labels on the same words in gold. The reviewer's
    decision stands until they undo it; then the new agreement goes in."""
    store, _, d, bob, bob_span = two_desktops
    ana = Project(store, "ana")
    rev1 = Project(store, "rev1")
    adj = start_adjudication(store, d, rev1.stack, ["ana", "bob"])
    adj.take(adj[0], "ana")
    start = bob.span(bob_span).start
    decided = {(start, start + len("Naoki Tanaka"), "PERSON", None)}
    ana.relabel(ana.spans(d)[0].id, "NORP")
    bob.relabel(bob_span, "NORP")
    again = start_adjudication(store, d, rev1.stack, ["ana", "bob"])
    assert list(again) == [] and gold_versions(store, d) == decided and again.agreed == 0
    rev1.stack.undo()  # the decision (the second start added nothing to undo)
    assert gold_versions(store, d) == set()
    start_adjudication(store, d, rev1.stack, ["ana", "bob"])
    assert gold_versions(store, d) == {(start, start + len("Naoki Tanaka"), "NORP", None)}


def test_review_trust_a_decision_keeps_the_span_it_found_in_gold(two_desktops):
    """ana and cy agreed on "Naoki Tanaka" PERSON (in gold); with bob compared too (ORG) rev1 took ana's
    PERSON, which gold had already from the agreement. Then ana and cy relabelled theirs: adjudicating
    again must not take the decided span out as an agreement nobody holds any more."""
    store, _, d, bob, bob_span = two_desktops
    ana, cy, rev1 = Project(store, "ana"), Project(store, "cy"), Project(store, "rev1")
    start = bob.span(bob_span).start
    label(cy, d, "Naoki Tanaka", "PERSON")
    start_adjudication(store, d, rev1.stack, ["ana", "cy"])  # their agreement goes to gold
    person = {(start, start + len("Naoki Tanaka"), "PERSON", None)}
    assert gold_versions(store, d) == person
    adj = start_adjudication(store, d, rev1.stack, ["ana", "bob", "cy"])
    [label_dis] = adj
    adj.take(label_dis, "ana")
    assert gold_versions(store, d) == person
    ana.relabel(ana.spans(d)[0].id, "NORP")
    cy.relabel(cy.spans(d)[0].id, "LOC")
    again = start_adjudication(store, d, rev1.stack, ["ana", "bob", "cy"])
    assert list(again) == []  # the region is still the decided one
    assert gold_versions(store, d) == person
