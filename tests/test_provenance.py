"""How analysts changed the model's suggestions: a constructed case through the real core."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from sqlalchemy import insert
from test_review import doc_id, make_store

from annotator.core.db.annotators import get_annotator
from annotator.core.db.models import DocumentState, Span
from annotator.core.project import Project
from annotator.core.db.provenance_counts import rebuild
from annotator.core.review.provenance import compare, provenance, recount
from annotator.core.stats import stats

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)

# The model's suggestions in article 0: (surface, label)
MODEL = [("S.Korea", "GPE"), ("Japan", "GPE"), ("Kim Kwan-jin", "PERSON"), ("Naoki Tanaka", "ORG"),
         ("Japanese", "NORP"), ("Defense Minister", "PERSON")]


def offsets(text, surface):
    start = text.index(surface)
    return start, start + len(surface)


def test_provenance_counts_each_kind_of_change(tmp_path):
    store = make_store(tmp_path / "p.db", docs=(0, 1), kb=False)
    d0, d1 = doc_id(store, 0), doc_id(store, 1)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    text = ana.document(d0).text
    with store.atomic() as s:
        model = get_annotator(s, "model", is_model=True).id
        s.execute(insert(Span), [dict(document_id=d0, annotator_id=model, start=a, end=b, label=lab, origin="model",
                                      status="suggested")
                                 for a, b, lab in (offsets(text, t) + (lab,) for t, lab in MODEL)])
    spans = {text[v.start:v.end]: v.id for v in ana.open_document(d0)}
    ana.accept(spans["S.Korea"])  # accepted
    ana.relabel(spans["Naoki Tanaka"], "PERSON")  # relabelled
    start, end = offsets(text, "Japanese counterpart")
    ana.move(spans["Japanese"], start, end)  # boundary changed
    ana.delete_span(spans["Defense Minister"])  # deleted
    ana.add_span(d0, *offsets(text, "Korea in"), "GPE")  # added ("Korea in" is never a model span)
    # Japan and Kim Kwan-jin: still suggested
    for v in bob.open_document(d0):
        bob.accept(v.id)
    ana.open_document(d1)  # no model spans there: nothing but what ana adds
    ana.add_span(d1, 0, 4, "ORG")

    with store.Session() as s:
        report = provenance(s)
    assert list(report) == ["ana", "bob"]
    assert report["ana"]["documents"] == 2
    assert report["ana"]["totals"] == {"accepted": 1, "relabelled": 1, "boundary": 1, "deleted": 1, "added": 2,
                                       "suggested": 2}
    assert report["ana"]["by_label"]["ORG"] == {"accepted": 0, "relabelled": 1, "boundary": 0, "deleted": 0,
                                                "added": 1, "suggested": 0}
    assert report["ana"]["by_label"]["GPE"]["accepted"] == 1 and report["ana"]["by_label"]["GPE"]["suggested"] == 1
    assert report["ana"]["by_label"]["GPE"]["added"] == 1
    assert report["ana"]["by_label"]["PERSON"] == {"accepted": 0, "relabelled": 0, "boundary": 0, "deleted": 1,
                                                   "added": 0, "suggested": 1}
    assert report["ana"]["by_label"]["NORP"]["boundary"] == 1
    assert report["bob"]["totals"] == {"accepted": 6, "relabelled": 0, "boundary": 0, "deleted": 0, "added": 0,
                                       "suggested": 0}
    assert stats(store)["provenance"] == report
    with store.Session() as s:
        assert recount(s) == report
    store.close()


@pytest.mark.single_backend
def test_provenance_compare_matches_one_to_one_in_order():
    model = [(0, 5, "PER"), (0, 5, "PER"), (10, 20, "ORG"), (30, 40, "LOC")]
    analyst = [(0, 5, "PER", "accepted"), (0, 5, "ORG", "accepted"), (12, 18, "ORG", "accepted"),
               (14, 22, "ORG", "accepted"), (50, 55, "LOC", "suggested")]
    assert sorted(compare(model, analyst)) == sorted([
        ("accepted", "PER"), ("relabelled", "PER"), ("boundary", "ORG"), ("deleted", "LOC"),
        ("added", "ORG"), ("added", "LOC")])
    assert compare([], []) == []


def test_provenance_over_the_project_equals_compare_per_document(tmp_path):
    """Random layers (repeats, nesting, documents with one side only) against `compare`: the full
    recount, and the stored counts once rebuilt (the rows were written behind the app's back)."""

    store = make_store(tmp_path / "r.db", docs=(0, 1, 2), kb=False)
    rng = random.Random(7)
    docs = [doc_id(store, i) for i in range(3)]
    labels = ["PERSON", "GPE", "ORG"]
    with store.atomic() as s:
        model = get_annotator(s, "model", is_model=True).id
        people = [get_annotator(s, n).id for n in ("ana", "bob")]
        rows, expected_input = [], {}
        for d in docs:
            spans = [(a, a + rng.randint(1, 6), rng.choice(labels)) for a in rng.sample(range(0, 60, 3), 8)]
            spans += spans[:2]  # the model repeats itself
            if d != docs[2]:
                rows += [dict(document_id=d, annotator_id=model, start=a, end=b, label=lab, origin="model",
                              status="suggested") for a, b, lab in spans]
            for p in people:
                mine = []
                for a, b, lab in spans if d != docs[2] else []:
                    r = rng.random()
                    if r < 0.15:
                        continue
                    if r < 0.3:
                        b += 2
                    elif r < 0.45:
                        lab = rng.choice(labels)
                    mine.append((a, b, lab, rng.choice(["accepted", "suggested"])))
                mine += [(70 + k, 72 + k, rng.choice(labels), "accepted") for k in range(rng.randint(0, 3))]
                rows += [dict(document_id=d, annotator_id=p, start=a, end=b, label=lab, origin="human", status=st)
                         for a, b, lab, st in mine]
                expected_input[(p, d)] = ([] if d == docs[2] else spans, mine)
        s.execute(insert(Span), rows)
        s.add_all([DocumentState(document_id=d, annotator_id=p, status="done") for d in docs for p in people])
    with store.Session() as s:
        report = recount(s)
    with store.atomic() as s:
        rebuild(s)
    with store.Session() as s:
        assert provenance(s) == report
    for name, p in (("ana", people[0]), ("bob", people[1])):
        totals = dict.fromkeys(report[name]["totals"], 0)
        by_label = defaultdict(lambda: dict.fromkeys(totals, 0))
        for d in docs:
            for outcome, lab in compare(*expected_input[(p, d)]):
                totals[outcome] += 1
                by_label[lab][outcome] += 1
        assert report[name]["totals"] == totals
        assert report[name]["by_label"] == dict(sorted(by_label.items()))
    store.close()
