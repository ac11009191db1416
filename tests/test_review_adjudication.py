"""Adjudication into gold: agreed spans automatically, each kind of decision, undo, the reviewer guard,
durability across restarts, and exporting the gold layer through the ordinary exporter."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from test_review import SEEDS, doc_id, label, make_store

from annotator.core.db.annotators import GOLD, set_role
from annotator.core.db.models import Annotator, DocumentState, Entity, Event
from annotator.core.db.store import Store
from annotator.core.editing import spans as cmd
from annotator.core.editing.layers import layer_spans
from annotator.core.editing.permissions import check_command
from annotator.core.project import Project
from annotator.core.records import SpanRecord
from annotator.core.review.adjudication import start_adjudication
from annotator.core.review.decisions import decisions
from annotator.errors import AnnotatorError
from annotator.io.exporting import export

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


def gold_spans(store, document_id):
    """Gold's spans of the document as (text, label, kb_id or "NIL" or None)."""
    with store.Session() as s:
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        if gold is None:
            return []
        kb = dict(s.execute(select(Entity.id, Entity.kb_id)).all())
        text = Project(store, "reader").document(document_id).text
        return [(text[v.start:v.end], v.label, "NIL" if v.nil else kb.get(v.entity_id))
                for v in layer_spans(s, document_id, gold)]


@pytest.fixture
def case(tmp_path):
    """ana and bob disagree on article 0 in every way; rev is a reviewer."""
    store = make_store(tmp_path / "adj.db", docs=(0, 1))
    d = doc_id(store, 0)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    for p in (ana, bob):
        p.open_document(d)
        label(p, d, "S.Korea", "GPE", kb="Q884")  # agreed
        label(p, d, "Japan", "GPE", kb="Q17")  # agreed
    label(ana, d, "Kim Kwan-jin", "PERSON")  # missing in bob's
    label(ana, d, "Japan", "GPE", nth=1, kb="Q17")  # link
    label(bob, d, "Japan", "GPE", nth=1, kb="NIL")
    label(ana, d, "Naoki Tanaka", "PERSON")  # label
    label(bob, d, "Naoki Tanaka", "ORG")
    label(ana, d, "Japanese", "NORP")  # boundary
    label(bob, d, "Japanese counterpart", "NORP")
    set_role(store, "rev", "reviewer")
    yield store, d
    store.close()


def by_kind(adjudication):
    return {d.kind: d for d in adjudication}


def test_review_adjudication_puts_agreed_spans_in_gold_and_lists_the_rest(case):
    store, d = case
    adj = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    assert gold_spans(store, d) == [("S.Korea", "GPE", "Q884"), ("Japan", "GPE", "Q17")]
    assert [x.kind for x in adj] == ["missing", "link", "boundary", "label"]  # in text order
    assert len(adj) == 4 and adj.agreed == 2
    kinds = by_kind(adj)
    assert kinds["missing"].spans["bob"] == () and kinds["missing"].spans["ana"][0].label == "PERSON"
    assert adj.stack.undo_text == "add 2 agreed spans to gold"
    with store.Session() as s:  # the gold layer covers the document, so export finds it
        gold = s.scalar(select(Annotator).where(Annotator.name == GOLD))
        assert gold.role == "reviewer"
        assert s.get(DocumentState, (d, gold.id)).status == "in_progress"
    adj.undo()
    assert gold_spans(store, d) == []
    with store.Session() as s:
        assert s.get(DocumentState, (d, gold.id)) is None
    adj.redo()
    assert len(gold_spans(store, d)) == 2
    again = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])  # resuming adds nothing twice
    assert len(gold_spans(store, d)) == 2 and len(again) == 4


def test_review_adjudication_each_decision_kind_and_undo(case):
    store, d = case
    adj = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    kinds = by_kind(adj)
    adj.take(kinds["label"], "bob")
    assert ("Naoki Tanaka", "ORG", None) in gold_spans(store, d)
    adj.take(kinds["link"], "ana")
    assert gold_spans(store, d).count(("Japan", "GPE", "Q17")) == 2
    adj.reject(kinds["missing"])
    assert not any(t == "Kim Kwan-jin" for t, _, _ in gold_spans(store, d))
    b = kinds["boundary"]
    adj.edit(b, [SpanRecord(b.start, b.start + len("Japanese"), "NORP", "NIL")])
    assert ("Japanese", "NORP", "NIL") in gold_spans(store, d)
    assert len(adj) == 0

    with store.Session() as s:
        found = decisions(s, d)
    assert [(x.kind, x.disagreement, x.taken, x.reviewer) for x in found] == [
        ("take", "label", "bob", "rev"), ("take", "link", "ana", "rev"), ("reject", "missing", None, "rev"),
        ("edit", "boundary", None, "rev")]
    assert found[0].spans == [{"start": kinds["label"].start, "end": kinds["label"].end, "label": "ORG",
                               "kb_id": None}]

    adj.undo()  # the edit
    assert ("Japanese", "NORP", "NIL") not in gold_spans(store, d)
    assert [x.kind for x in adj] == ["boundary"]
    adj.undo()  # the rejection: the missing span is open again
    assert sorted(x.kind for x in adj) == ["boundary", "missing"]
    adj.redo()
    assert [x.kind for x in adj] == ["boundary"]
    adj.undo()
    adj.undo()  # the link decision
    assert gold_spans(store, d).count(("Japan", "GPE", "Q17")) == 1
    with store.Session() as s:
        assert [x.kind for x in decisions(s, d)] == ["take"]


def test_review_adjudication_decisions_are_durable_and_cannot_be_taken_twice(case, tmp_path):
    store, d = case
    adj = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    label_dis = by_kind(adj)["label"]
    adj.take(label_dis, "ana")
    url = store.url
    store.close()
    reopened = Store(url)
    try:
        rev = Project(reopened, "rev")  # the window's project: its stack is restored from the history
        resumed = start_adjudication(reopened, d, rev.stack, ["ana", "bob"])
        assert sorted(x.kind for x in resumed) == ["boundary", "link", "missing"]
        assert rev.stack.undo_text == "take ana's version"
        with pytest.raises(AnnotatorError) as e:
            resumed.take(label_dis, "bob")
        assert e.value.code == "E160" and "take by rev" in str(e.value)
        with pytest.raises(AnnotatorError) as e:
            resumed.take(by_kind(resumed)["link"], "cy")
        assert e.value.code == "E162"
        rev.stack.undo()  # undo across a restart, through the window's stack
        assert sorted(x.kind for x in resumed.refresh()) == ["boundary", "label", "link", "missing"]
        with reopened.Session() as s:
            events = s.execute(select(Event.command, Annotator.name).join(Annotator, Annotator.id == Event.annotator_id)
                               .where(Event.command.like("adjudicate%")).order_by(Event.id)).all()
        assert events == [("adjudicate_agreed", "rev"), ("adjudicate_take", "rev")]
    finally:
        reopened.close()


def test_review_adjudication_only_reviewers_edit_gold(case):
    store, d = case
    with pytest.raises(AnnotatorError) as e:
        start_adjudication(store, d, Project(store, "ana").stack, ["ana", "bob"])
    assert e.value.code == "E156"
    adj = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    set_role(store, "rev", "annotator")  # demoted meanwhile
    with pytest.raises(AnnotatorError) as e:
        adj.reject(adj[0])
    assert e.value.code == "E156"
    set_role(store, "rev", "reviewer")
    ana = Project(store, "ana")
    with store.Session() as s:
        gold = s.scalar(select(Annotator.id).where(Annotator.name == GOLD))
        gold_span = layer_spans(s, d, gold)[0].id
        with pytest.raises(AnnotatorError) as e:  # the guard the command stack calls for every command
            check_command(s, ana.annotator_id, cmd.DeleteSpan(gold_span))
        assert e.value.code == "E156"


@pytest.mark.parametrize("annotators, code", [
    (["ana", "zed"], "E050"),
    (["ana", "cy"], "E159"),  # cy exists but never opened the article
    (["ana", GOLD], "E161"),
    (["ana"], "E154"),
])
def test_review_adjudication_errors_are_coded(case, annotators, code):
    store, d = case
    Project(store, "cy")
    start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])  # gold exists
    with pytest.raises(AnnotatorError) as e:
        start_adjudication(store, d, Project(store, "rev").stack, annotators)
    assert e.value.code == code


def test_review_adjudication_gold_exports_through_the_exporter(case, tmp_path):
    store, d = case
    adj = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    for x in list(adj):
        adj.take(x, "ana")
    out = tmp_path / "gold.jsonl"
    with pytest.raises(AnnotatorError) as e:  # not finished yet: nothing to export, nothing written
        export(store, "jsonl", out, layer=GOLD, status="done")
    assert e.value.code == "E048" and not out.exists()
    adj.finish()
    report = export(store, "jsonl", out, layer=GOLD, status="done")
    [task] = [json.loads(line) for line in out.read_text().splitlines()]
    assert report.documents == 1 and task["meta"]["name"] == SEEDS[0].stem
    got = [(task["text"][sp["start"]:sp["end"]], sp["label"], sp.get("kb_id")) for sp in task["spans"]]
    assert got == [("S.Korea", "GPE", "Q884"), ("Japan", "GPE", "Q17"), ("Kim Kwan-jin", "PERSON", None),
                   ("Japan", "GPE", "Q17"), ("Japanese", "NORP", None), ("Naoki Tanaka", "PERSON", None)]


@pytest.mark.single_backend
def test_review_adjudication_undo_survives_a_restart_in_a_fresh_process(case):
    """Regression: commands registered themselves on import, so a process that had not imported the
    adjudication code restored a reviewer's stack without their decisions (can_undo False)."""
    import subprocess
    import sys

    store, d = case
    adj = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    adj.take(by_kind(adj)["label"], "ana")
    code = ("import sys\n"
            "from annotator.core.db.store import Store\n"
            "from annotator.core.project import Project\n"
            "p = Project(Store(sys.argv[1]), 'rev')\n"
            "print(p.stack.can_undo, p.stack.undo_text, 'annotator.core.review.adjudication' in sys.modules)\n"
            "p.stack.undo()\n")
    out = subprocess.run([sys.executable, "-c", code, store.url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True take ana's version False"
    with store.Session() as s:
        assert decisions(s, d) == []  # the fresh process's undo took the decision back
