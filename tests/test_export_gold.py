"""Gold holds only what a person decided: spans two annotators left as unchecked suggestions (both
copies of the model's) are no agreement, so adjudication neither puts them into gold nor lets them
leave in a gold export as accepted."""

from __future__ import annotations

import json

from sqlalchemy import select

from annotator.core.db.annotators import GOLD, set_role
from annotator.core.db.models import Annotator, Span
from annotator.core.project import Project
from annotator.core.records import SpanRecord
from annotator.core.resources import seeds_dir
from annotator.core.review.adjudication import start_adjudication
from annotator.io.exporting import export
from annotator.io.importing import import_records
from annotator.io.sources import read_paths

SUGGESTED = [("Kim Kwan-jin", "PERSON"), ("Naoki Tanaka", "PERSON"), ("Japan", "GPE")]


def layers_with_suggestions(store) -> int:
    """ana's and bob's layers of the first article: the same three unchecked suggestions each, as
    opening a pre-annotated document leaves them."""
    for layer in ("ana", "bob"):
        [record] = read_paths(sorted(seeds_dir().glob("*.txt"))[:1])
        record.spans = [SpanRecord(record.text.index(t), record.text.index(t) + len(t), lab, status="suggested")
                        for t, lab in SUGGESTED]
        import_records(store, [record], use_model=False, as_layer=layer)
    set_role(store, "rev", "reviewer")
    return Project(store, "rev").documents()[0].id


def accept(project: Project, document_id: int, surface: str) -> None:
    text = project.document(document_id).text
    [span] = [s for s in project.spans(document_id) if text[s.start:s.end] == surface]
    project.accept(span.id)


def gold(store, document_id) -> list[tuple[int, int, str, str, str]]:
    with store.Session() as s:
        return sorted(s.execute(select(Span.start, Span.end, Span.label, Span.status, Span.origin)
                                .join(Annotator, Annotator.id == Span.annotator_id)
                                .where(Annotator.name == GOLD, Span.document_id == document_id)).all())


def test_unchecked_suggestions_both_layers_share_are_no_agreement_and_stay_out_of_gold(store, tmp_path):
    """Regression: two layers holding the same untouched model suggestions "agreed", so starting
    adjudication put them into gold as a person's accepted spans and the gold export wrote them as
    entities nobody had checked. Now a region where an annotator decided nothing is "missing", for
    the reviewer to decide."""
    d = layers_with_suggestions(store)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    for p in (ana, bob):
        accept(p, d, "Naoki Tanaka")  # both checked it: a real agreement
    accept(ana, d, "Japan")  # only ana checked it: bob has no decision there
    text = ana.document(d).text
    adjudication = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    naoki = text.index("Naoki Tanaka")
    assert gold(store, d) == [(naoki, naoki + 12, "PERSON", "accepted", "human")]
    assert adjudication.agreed == 1
    japan, kim = list(adjudication)  # in text order
    assert [(d.kind, text[d.start:d.end]) for d in (japan, kim)] == [("missing", "Japan"), ("missing", "Kim Kwan-jin")]
    assert {n: [s.status for s in spans] for n, spans in kim.spans.items()} == {"ana": ["suggested"], "bob": ["suggested"]}
    assert {n: [s.status for s in spans] for n, spans in japan.spans.items()} == {"ana": ["accepted"], "bob": ["suggested"]}
    adjudication.take(japan, "ana")
    adjudication.reject(kim)
    adjudication.finish()
    out = tmp_path / "gold.jsonl"
    report = export(store, "jsonl", out, layer=GOLD)
    [task] = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(text[s["start"]:s["end"]], s["status"]) for s in task["spans"]] == [
        ("Japan", "accepted"), ("Naoki Tanaka", "accepted")]
    assert report.spans == 2


def test_a_suggestion_left_unchecked_in_every_layer_is_listed_for_the_reviewer(store):
    """Neither agreed nor silently left out: gold finished without a decision there would teach O."""
    d = layers_with_suggestions(store)
    adjudication = start_adjudication(store, d, Project(store, "rev").stack, ["ana", "bob"])
    assert gold(store, d) == [] and adjudication.agreed == 0
    assert [d.kind for d in adjudication] == ["missing"] * 3
