"""Agreement figures of a real project (seeds imported with the model's suggestions, several people
editing as themselves) against an independent computation written here from the raw span rows:
scikit-learn's Cohen's κ, the `krippendorff` package's α, span F1 and link agreement counted by hand.
Read again after every few edits and undos, so stale stored counts would show."""

from __future__ import annotations

import json
import math
import random
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from click.testing import CliRunner
from factories import new_store
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select
from test_review import SEEDS
from test_review_trust import checked

from annotator.cli import main
from annotator.core.db.annotators import set_role
from annotator.core.db.models import Annotator, Document, DocumentState, Entity, Span
from annotator.core.project import Project
from annotator.core.review.inputs import project_agreement
from annotator.errors import AnnotatorError
from annotator.io.importing import import_paths
from annotator.io.kb_transfer import load_starter

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


# --- the reference: the documented rules, computed the plain way

def raw_layers(store, names, status="done"):
    """name -> document name -> sorted {(start, end, label, kb_id | "NIL" | None)}: accepted spans of
    the documents the person finished (or has in progress, `status` "all"), or holds accepted spans
    in without any state (a layer written straight in)."""
    entered = {"done"} if status == "done" else {"done", "in_progress"}
    with store.Session() as s:
        ids = dict(s.execute(select(Annotator.name, Annotator.id)).all())
        kb = dict(s.execute(select(Entity.id, Entity.kb_id)).all())
        docs = dict(s.execute(select(Document.id, Document.name)).all())
        states = {(a, d): st for a, d, st in s.execute(select(DocumentState.annotator_id, DocumentState.document_id,
                                                              DocumentState.status))}
        spans = s.execute(select(Span.annotator_id, Span.document_id, Span.start, Span.end, Span.label, Span.nil,
                                 Span.entity_id).where(Span.status == "accepted")).all()
    layers = {}
    for n in names:
        mine = [r for r in spans if r[0] == ids[n]]
        held = {d for (a, d), st in states.items() if a == ids[n] and st in entered}
        held |= {r[1] for r in mine if (ids[n], r[1]) not in states}
        layers[n] = {docs[d]: sorted({(r[2], r[3], r[4], "NIL" if r[5] else kb.get(r[6])) for r in mine
                                      if r[1] == d}) for d in held}
    return layers


def bio(spans, tokens):
    """A token's tag: that of the first span overlapping it (by start, longest first, label); B- on the
    first token the span overlaps."""
    order = sorted({(s, e, lab) for s, e, lab, _ in spans}, key=lambda x: (x[0], -x[1], x[2]))
    first: dict = {}
    out = []
    for i, (ts, te) in enumerate(tokens):
        over = [sp for sp in order if sp[0] < te and ts < sp[1]]
        for sp in over:
            first.setdefault(sp, i)
        out.append("O" if not over else ("B-" if first[over[0]] == i else "I-") + over[0][2])
    return out


def kappa(x, y):
    if not x or len(set(x) | set(y)) < 2:
        return None
    return float(cohen_kappa_score(x, y))


def reference(layers, tokens):
    names = sorted(layers)
    holders: dict = {}
    for n in names:
        for d in layers[n]:
            holders.setdefault(d, []).append(n)
    docs = sorted(d for d, h in holders.items() if len(h) >= 2)
    tags = {n: {d: bio(layers[n][d], tokens[d]) for d in docs if d in layers[n]} for n in names}
    rows, cols, pairs = [], [], {}
    total = dict(spans=0, matches=0, linked=0, same=0)
    for a, b in combinations(names, 2):
        shared = [d for d in docs if d in layers[a] and d in layers[b]]
        ta, tb = sum((tags[a][d] for d in shared), []), sum((tags[b][d] for d in shared), [])
        rows += ta
        cols += tb
        sa = {(d, *sp[:3]): sp[3] for d in shared for sp in layers[a][d]}
        sb = {(d, *sp[:3]): sp[3] for d in shared for sp in layers[b][d]}
        matched = set(sa) & set(sb)
        linked = [k for k in matched if sa[k] is not None or sb[k] is not None]
        same = sum(sa[k] == sb[k] for k in linked)
        pairs[a, b] = dict(f1=2 * len(matched) / (len(sa) + len(sb)) if sa or sb else None, kappa=kappa(ta, tb),
                           link=same / len(linked) if linked else None, documents=shared)
        for key, v in (("spans", len(sa) + len(sb)), ("matches", len(matched)), ("linked", len(linked)),
                       ("same", same)):
            total[key] += v
    units = [[tags[n][d][i] if d in tags[n] else None for n in names] for d in docs for i in range(len(tokens[d]))]
    values = sorted({v for u in units for v in u if v is not None})
    alpha = None
    if len(values) > 1:
        data = np.array([[np.nan if u[c] is None else values.index(u[c]) for u in units] for c in range(len(names))])
        alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    overall = dict(f1=2 * total["matches"] / total["spans"] if total["spans"] else None, kappa=kappa(rows, cols),
                   alpha=alpha, link=total["same"] / total["linked"] if total["linked"] else None, n_docs=len(docs))
    return dict(pairs=pairs, overall=overall)


def same(ours, ref):
    if ref is None or (isinstance(ref, float) and math.isnan(ref)):
        return ours is None
    return ours is not None and math.isclose(ours, ref, rel_tol=1e-9, abs_tol=1e-12)


def differences(store, report, names, status="done") -> list:
    """Where the report and the reference differ (empty: they agree)."""
    reader = Project(store, "tokens-reader")
    with store.Session() as s:
        tokens = {n: reader.document(i).tokens.pairs() for i, n in s.execute(select(Document.id, Document.name))}
    ref = reference(raw_layers(store, names, status), tokens)
    out = []
    m, r = report.overall, ref["overall"]
    for key, ours in (("f1", m.span_f1_exact), ("kappa", m.token_kappa), ("alpha", m.token_alpha),
                      ("link", m.link_agreement), ("n_docs", m.n_docs)):
        if not same(ours, r[key]):
            out.append(("overall", key, ours, r[key]))
    assert [(p.a, p.b) for p in report.pairs] == list(ref["pairs"])
    for p in report.pairs:
        r = ref["pairs"][p.a, p.b]
        for key, ours in (("f1", p.measures.span_f1_exact), ("kappa", p.measures.token_kappa),
                          ("link", p.measures.link_agreement), ("documents", list(p.documents))):
            if not same(ours, r[key]) if key != "documents" else ours != r[key]:
                out.append((p.a, p.b, key, ours, r[key]))
    return out


# --- projects built through the real API

@pytest.fixture
def project(tmp_path):
    """The seeds with the model's suggestions and the starter KB; ana, bob and cy work as themselves."""
    store = new_store(tmp_path / "agree.db")
    import_paths(store, SEEDS, use_model=True)
    load_starter(store)
    set_role(store, "lead", "reviewer")
    people = {n: Project(store, n) for n in ("ana", "bob", "cy")}
    docs = [d.id for d in people["ana"].documents()]
    yield store, people, docs
    store.close()


def find(p, d, surface, nth=0):
    text = p.document(d).text
    at = -1
    for _ in range(nth + 1):
        at = text.index(surface, at + 1)
    return at, at + len(surface)


def entity(store, kb_id):
    with store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


def test_review_trust_agreement_edge_cases_against_the_reference(project):
    """Unchecked suggestions (every layer holds ~60 per article), a done article with no accepted span,
    an article one person has in progress, a label only one layer uses, nested spans, a link against
    NIL and against another entity: each figure as the reference computes it, for `done` and `all`,
    through the API and `annotator agreement --json`, and again after an edit and its undo."""
    store, people, (d0, d1, d2) = project
    ana, bob, cy = people["ana"], people["bob"], people["cy"]
    for p in people.values():
        for d in (d0, d1, d2):
            p.open_document(d)
    japan, korea = find(ana, d0, "Japan"), find(ana, d0, "South Korea")
    for p in (ana, bob, cy):
        checked(p, d0, *japan, "GPE")
    ana.link(checked(ana, d0, *korea, "GPE"), entity(store, "Q884"))
    bob.mark_nil(checked(bob, d0, *korea, "GPE"))
    cy.link(checked(cy, d0, *korea, "GPE"), entity(store, "Q17"))
    minister = find(ana, d0, "Defense Minister Kim Kwan-jin")
    checked(ana, d0, *minister, "PERSON")
    checked(ana, d0, minister[0] + len("Defense Minister "), minister[1], "PERSON")  # nested inside
    checked(bob, d0, minister[0] + len("Defense Minister "), minister[1], "PERSON")
    checked(bob, d0, *find(bob, d0, "Japanese"), "EVENT")  # a label only bob uses
    bob_japan = [v.id for v in bob.spans(d0) if (v.start, v.end) == japan][0]
    checked(bob, d1, *find(bob, d1, "South Korea"), "GPE")
    ana.set_status(d1, "done")  # done, every suggestion left unchecked: no entity there
    checked(cy, d1, *find(cy, d1, "South Korea"), "GPE")
    checked(ana, d2, *find(ana, d2, "Japan"), "GPE")  # ana's d2 stays in progress
    checked(bob, d2, *find(bob, d2, "Japan"), "GPE")
    for p, docs in ((ana, (d0,)), (bob, (d0, d1, d2)), (cy, (d0, d1))):
        for d in docs:
            p.set_status(d, "done")

    names = ["ana", "bob", "cy"]
    for status in ("done", "all"):
        report = project_agreement(store, status=status)
        assert differences(store, report, names, status) == []
        result = CliRunner().invoke(main, ["--db", store.url, "--user", "lead", "agreement", "--json",
                                           "--status", status], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == json.loads(json.dumps(report.to_json()))
    report = project_agreement(store)
    assert report.by_label["EVENT"].span_f1_exact == 0.0  # present in one layer only
    assert 0 < report.overall.link_agreement < 1  # Japan's suggested link taken by all; Q884 / NIL / Q17
    assert [p.documents for p in report.pairs][:1] == [(ana.document(d0).name, ana.document(d1).name)]

    before = project_agreement(store).to_json()
    bob.relabel(bob_japan, "ORG")  # an edit: the figures move at once
    assert differences(store, project_agreement(store), names) == []
    assert project_agreement(store).to_json() != before
    bob.stack.undo()
    assert project_agreement(store).to_json() == before

    with pytest.raises(AnnotatorError) as e:
        project_agreement(store, annotators=["ana"])  # one annotator only
    assert e.value.code == "E154"


@pytest.mark.parametrize("seed", [3, 11])
def test_review_trust_agreement_follows_random_edits(project, seed):
    """Three people accept, add, delete, relabel, link, NIL, finish, reopen, undo and redo at random;
    every few edits the report (from the stored counts) equals the reference, for `done` and `all`."""
    store, people, docs = project
    rnd = random.Random(seed)
    entities = [entity(store, k) for k in ("Q17", "Q884", "Q8684")]
    labels = ["GPE", "ORG", "PERSON", "DATE"]

    def step(p):
        d = rnd.choice(docs)
        p.open_document(d)
        spans, tokens = p.spans(d), p.document(d).tokens.pairs()
        act = rnd.random()
        try:
            if act < 0.25 and spans:
                p.accept(rnd.choice(spans).id)
            elif act < 0.4:
                i = rnd.randrange(len(tokens) - 3)
                p.add_span(d, tokens[i][0], tokens[i + rnd.randint(0, 2)][1], rnd.choice(labels))
            elif act < 0.5 and spans:
                p.delete_span(rnd.choice(spans).id)
            elif act < 0.6 and spans:
                p.relabel(rnd.choice(spans).id, rnd.choice(labels))
            elif act < 0.7 and spans:
                p.link(rnd.choice(spans).id, rnd.choice(entities))
            elif act < 0.75 and spans:
                p.mark_nil(rnd.choice(spans).id)
            elif act < 0.85:
                p.set_status(d, rnd.choice(["done", "done", "in_progress"]))
            elif act < 0.93:
                p.stack.undo()
            else:
                p.stack.redo()
        except AnnotatorError:
            pass  # a clash (E036), nothing to undo: what a person would be told, nothing changed

    names = sorted(people)
    for _ in range(10):
        for _ in range(10):
            step(people[rnd.choice(names)])
        for status in ("done", "all"):
            assert differences(store, project_agreement(store, status=status), names, status) == []


def test_review_trust_agreement_follows_an_entity_merge(project):
    """ana linked "Japan" to Q17, bob to Q884; a reviewer finds they are one entity and merges Q884 into
    Q17: link agreement is 1 at once, and 0 again after the undo. The merge queued no document for
    counting, so the report kept 0 (the stored counts of a merge's mentions were stale)."""
    store, people, (d0, _, _) = project
    ana, bob = people["ana"], people["bob"]
    japan = find(ana, d0, "Japan")
    for p, kb in ((ana, "Q17"), (bob, "Q884")):
        p.open_document(d0)
        p.link(checked(p, d0, *japan, "GPE"), entity(store, kb))
        p.set_status(d0, "done")
    assert project_agreement(store).overall.link_agreement < 1
    lead = Project(store, "lead")
    lead.merge_entities(entity(store, "Q884"), entity(store, "Q17"))
    report = project_agreement(store)
    assert differences(store, report, ["ana", "bob"]) == []
    assert report.overall.link_agreement == 1.0
    lead.stack.undo()
    report = project_agreement(store)
    assert differences(store, report, ["ana", "bob"]) == [] and report.overall.link_agreement < 1
