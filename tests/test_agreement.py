"""Agreement numbers checked against scikit-learn, krippendorff, seqeval and nervaluate.

Documents and layers are built by hand. The references get their BIO tags from `_bio` below, and the
one-to-one overlap matching (no library implements it) is checked against `_ref_overlap_f1`; both
follow the rules in the module docstring, independently of the code under test.
"""

from __future__ import annotations

import json
import math
import warnings
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from nervaluate import Evaluator
from seqeval.metrics import classification_report, f1_score
from sklearn.metrics import cohen_kappa_score

from annotator.core.records import SpanRecord
from annotator.core.review.agreement import compute, disagreements
from annotator.errors import AnnotatorError

MEASURES = ["span_f1_exact", "span_f1_overlap", "token_kappa", "token_alpha", "link_agreement", "n_docs"]


def toks(n, width=3):
    """n tokens of `width` code points separated by one space."""
    return [(i * (width + 1), i * (width + 1) + width) for i in range(n)]


def span(tokens, i, j, label, kb=None):
    """The span over tokens i..j-1."""
    return SpanRecord(tokens[i][0], tokens[j - 1][1], label, kb)


def _bio(spans, tokens, only=None):
    """Reference tags: first overlapping span (start, longest, label) wins; other labels are O."""
    ordered = sorted(set((s.start, s.end, s.label) for s in spans), key=lambda s: (s[0], -s[1], s[2]))
    tags = []
    for ts, te in tokens:
        tag = "O"
        for start, end, label in ordered:
            if ts < end and te > start:
                first = next(k for k, (a, b) in enumerate(tokens) if a < end and b > start)
                tag = ("B-" if tokens[first] == (ts, te) else "I-") + label
                break
        tags.append(tag if only is None or tag[2:] == only else "O")
    return tags


def _ref_kappa(layers, tokens, docs=None, only=None):
    """scikit-learn κ over the concatenated tag sequences of every pair (a < b), shared documents."""
    y1, y2 = [], []
    for a, b in combinations(sorted(layers), 2):
        for d in sorted(set(layers[a]) & set(layers[b])):
            if docs is None or d in docs:
                y1 += _bio(layers[a][d], tokens[d], only)
                y2 += _bio(layers[b][d], tokens[d], only)
    with warnings.catch_warnings():  # scikit-learn warns where κ is undefined; so do we (None)
        warnings.simplefilter("ignore")
        return cohen_kappa_score(y1, y2) if y1 else math.nan


def _ref_alpha(layers, tokens, docs=None, only=None):
    """krippendorff α, all annotators at once, documents held by two or more layers."""
    names = sorted(layers)
    held = [d for d in sorted(set().union(*layers.values())) if sum(d in layers[n] for n in names) >= 2]
    rows = [[] for _ in names]
    for d in held:
        if docs is None or d in docs:
            for row, n in zip(rows, names):
                row += _bio(layers[n][d], tokens[d], only) if d in layers[n] else [None] * len(tokens[d])
    values = sorted({t for row in rows for t in row if t is not None})
    data = np.array([[np.nan if t is None else values.index(t) for t in row] for row in rows], float)
    try:
        return krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    except ValueError:  # one value only: the package refuses
        return math.nan


def _ref_overlap_f1(layer_a, layer_b):
    """Overlap F1 by the documented rule, by brute force: exact matches, then greedy by overlap."""
    matches = n = 0
    for d in set(layer_a) & set(layer_b):
        a = {(s.start, s.end, s.label) for s in layer_a[d]}
        b = {(s.start, s.end, s.label) for s in layer_b[d]}
        n += len(a) + len(b)
        matches += len(a & b)
        edges = sorted((-(min(x[1], y[1]) - max(x[0], y[0])), min(x[0], y[0]), max(x[0], y[0]),
                        min(x[1], y[1]), max(x[1], y[1]), x, y)
                       for x in a - b for y in b - a if x[2] == y[2] and x[0] < y[1] and y[0] < x[1])
        used = set()
        for *_, x, y in edges:
            if ("a", x) not in used and ("b", y) not in used:
                used |= {("a", x), ("b", y)}
                matches += 1
    return 2 * matches / n if n else math.nan


def _same(ours, ref):
    if ref is None or math.isnan(ref):
        return ours is None
    return ours is not None and math.isclose(ours, ref, rel_tol=1e-9, abs_tol=1e-9)


T = toks(12)
TOKENS = {"d1": T, "d2": toks(8), "d3": toks(5)}
LAYERS = {
    "ann": {"d1": [span(T, 0, 2, "PER", "Q1"), span(T, 3, 4, "ORG", "NIL"), span(T, 6, 9, "LOC")],
            "d2": [span(TOKENS["d2"], 1, 3, "PER")], "d3": []},
    "bob": {"d1": [span(T, 0, 2, "PER", "Q1"), span(T, 3, 4, "LOC", "NIL"), span(T, 7, 9, "LOC", "Q5")],
            "d2": [span(TOKENS["d2"], 1, 3, "PER"), span(TOKENS["d2"], 5, 6, "ORG")]},
    "cy": {"d1": [span(T, 0, 3, "PER", "Q2"), span(T, 3, 4, "ORG", "NIL"), span(T, 10, 12, "MISC")],
           "d3": [span(TOKENS["d3"], 0, 1, "PER")]},
}


def test_agreement_to_json_has_the_documented_shape():
    report = compute(LAYERS, TOKENS).to_json()
    assert set(report) == {"pairs", "overall", "by_label", "by_document"}
    assert [(p["a"], p["b"]) for p in report["pairs"]] == [("ann", "bob"), ("ann", "cy"), ("bob", "cy")]
    assert all(list(p) == ["a", "b"] + MEASURES + ["documents"] for p in report["pairs"])
    assert [p["documents"] for p in report["pairs"]] == [["d1", "d2"], ["d1", "d3"], ["d1"]]
    assert list(report["overall"]) == MEASURES
    assert list(report["by_label"]) == ["LOC", "MISC", "ORG", "PER"]
    assert list(report["by_document"]) == ["d1", "d2", "d3"]
    assert report["overall"]["n_docs"] == 3 and report["pairs"][0]["n_docs"] == 2
    assert json.loads(json.dumps(report)) == report  # plain floats, ints and None


def test_agreement_pair_kappa_and_alpha_match_references():
    report = compute(LAYERS, TOKENS)
    for pair in report.pairs:
        two = {pair.a: LAYERS[pair.a], pair.b: LAYERS[pair.b]}
        assert _same(pair.measures.token_kappa, _ref_kappa(two, TOKENS))
        assert _same(pair.measures.token_alpha, _ref_alpha(two, TOKENS))


def test_agreement_overall_by_label_and_by_document_match_references():
    report = compute(LAYERS, TOKENS)
    assert _same(report.overall.token_kappa, _ref_kappa(LAYERS, TOKENS))
    assert _same(report.overall.token_alpha, _ref_alpha(LAYERS, TOKENS))
    for label, m in report.by_label.items():
        assert _same(m.token_kappa, _ref_kappa(LAYERS, TOKENS, only=label))
        assert _same(m.token_alpha, _ref_alpha(LAYERS, TOKENS, only=label))
    for doc, m in report.by_document.items():
        assert _same(m.token_kappa, _ref_kappa(LAYERS, TOKENS, docs={doc}))
        assert _same(m.token_alpha, _ref_alpha(LAYERS, TOKENS, docs={doc}))


def _nervaluate(a_docs, b_docs, labels, scheme):
    def dicts(docs):
        return [[{"label": s.label, "start": s.start, "end": s.end - 1} for s in spans] for spans in docs]
    result = Evaluator(dicts(a_docs), dicts(b_docs), tags=labels, loader="dict").evaluate()
    return result["overall"][scheme].f1


def test_agreement_span_f1_matches_seqeval_and_nervaluate():
    report = compute(LAYERS, TOKENS)
    labels = ["LOC", "MISC", "ORG", "PER"]
    for pair in report.pairs:
        docs = sorted(set(LAYERS[pair.a]) & set(LAYERS[pair.b]))
        y_a = [_bio(LAYERS[pair.a][d], TOKENS[d]) for d in docs]
        y_b = [_bio(LAYERS[pair.b][d], TOKENS[d]) for d in docs]
        assert math.isclose(pair.measures.span_f1_exact, f1_score(y_a, y_b))
        a_docs, b_docs = [LAYERS[pair.a][d] for d in docs], [LAYERS[pair.b][d] for d in docs]
        assert math.isclose(pair.measures.span_f1_exact, _nervaluate(a_docs, b_docs, labels, "strict"))
        assert math.isclose(pair.measures.span_f1_overlap, _nervaluate(a_docs, b_docs, labels, "ent_type"))
    a_docs = [LAYERS["ann"]["d1"], LAYERS["ann"]["d2"]]
    b_docs = [LAYERS["bob"]["d1"], LAYERS["bob"]["d2"]]
    per_label = classification_report([_bio(s, TOKENS[d]) for s, d in zip(a_docs, ["d1", "d2"])],
                                      [_bio(s, TOKENS[d]) for s, d in zip(b_docs, ["d1", "d2"])],
                                      output_dict=True, zero_division=0)
    two = compute({"ann": LAYERS["ann"], "bob": LAYERS["bob"]}, TOKENS)
    for label, m in two.by_label.items():
        assert math.isclose(m.span_f1_exact, per_label[label]["f1-score"])


def test_agreement_pooled_span_f1_matches_seqeval_over_all_pairs():
    """Pooling over pairs is seqeval's micro F1 with every pair's documents as sentences."""
    report = compute(LAYERS, TOKENS)

    def sentences(docs):
        y_a, y_b = [], []
        for a, b in combinations(sorted(LAYERS), 2):
            for d in sorted(set(LAYERS[a]) & set(LAYERS[b]) & docs):
                y_a.append(_bio(LAYERS[a][d], TOKENS[d]))
                y_b.append(_bio(LAYERS[b][d], TOKENS[d]))
        return y_a, y_b

    assert math.isclose(report.overall.span_f1_exact, f1_score(*sentences(set(TOKENS))))
    for doc, m in report.by_document.items():
        assert math.isclose(m.span_f1_exact, f1_score(*sentences({doc})))


def test_agreement_overlap_matching_is_one_to_one_and_symmetric():
    tokens = {"d": toks(10)}
    t = tokens["d"]
    one = {"a": {"d": [span(t, 0, 4, "PER")]}, "b": {"d": [span(t, 0, 2, "PER"), span(t, 2, 4, "PER")]}}
    report = compute(one, tokens).overall
    assert report.span_f1_exact == 0.0
    assert math.isclose(report.span_f1_overlap, 2 * 1 / 3)
    swapped = compute({"a": one["b"], "b": one["a"]}, tokens).overall
    assert swapped.span_f1_overlap == report.span_f1_overlap
    # greedy, not a maximum matching: the largest overlap (a's and b's long spans) goes first and
    # leaves the short ones without a partner, where a maximum matching would pair all four
    two = {"a": {"d": [span(t, 0, 6, "PER"), span(t, 6, 7, "PER")]},
           "b": {"d": [span(t, 1, 7, "PER"), span(t, 5, 6, "PER")]}}
    assert compute(two, tokens).overall.span_f1_overlap == 0.5
    different_label = {"a": {"d": [span(t, 0, 4, "PER")]}, "b": {"d": [span(t, 0, 3, "ORG")]}}
    assert compute(different_label, tokens).overall.span_f1_overlap == 0.0


def test_agreement_link_agreement_counts_nil_and_skips_unlinked_pairs():
    tokens = {"d": toks(12)}
    t = tokens["d"]
    kbs = [("Q1", "Q1"), ("NIL", "NIL"), (None, None), ("Q1", None), ("Q1", "Q2")]
    layers = {"a": {"d": [span(t, 2 * i, 2 * i + 1, "PER", ka) for i, (ka, _) in enumerate(kbs)]},
              "b": {"d": [span(t, 2 * i, 2 * i + 1, "PER", kb) for i, (_, kb) in enumerate(kbs)]}}
    report = compute(layers, tokens)
    assert report.overall.link_agreement == 2 / 4
    assert report.overall.span_f1_exact == 1.0  # kb_id plays no part in span matching
    unlinked = {n: {"d": [SpanRecord(s.start, s.end, s.label) for s in layer["d"]]}
                for n, layer in layers.items()}
    assert compute(unlinked, tokens).overall.link_agreement is None


def test_agreement_identical_layers_give_one():
    layer = {"d1": LAYERS["ann"]["d1"], "d2": [span(TOKENS["d2"], 1, 3, "PER", "NIL")]}
    report = compute({"a": layer, "b": layer, "c": layer}, TOKENS)
    for m in [report.overall, *report.by_document.values(), *(p.measures for p in report.pairs)]:
        values = [m.span_f1_exact, m.span_f1_overlap, m.token_kappa, m.token_alpha, m.link_agreement]
        assert values == [1.0] * 5


def test_agreement_without_two_layers_is_empty():
    for layers in ({}, {"a": {"d1": LAYERS["ann"]["d1"]}}, {"a": {"d1": []}, "b": {"d2": []}}):
        report = compute(layers, TOKENS).to_json()
        assert report["pairs"] == [] or report["pairs"][0]["n_docs"] == 0
        assert report["overall"] == dict.fromkeys(MEASURES[:-1]) | {"n_docs": 0}
        assert report["by_document"] == {} and report["by_label"] == {}


def test_agreement_no_spans_is_undefined_not_perfect():
    report = compute({"a": {"d1": []}, "b": {"d1": []}}, TOKENS, labels=["PER"])
    assert math.isnan(_ref_kappa({"a": {"d1": []}, "b": {"d1": []}}, TOKENS))
    with pytest.raises(ValueError):
        krippendorff.alpha(reliability_data=np.zeros((2, 12)), level_of_measurement="nominal")
    undefined = dict.fromkeys(MEASURES[:-1]) | {"n_docs": 1}
    assert report.overall.to_json() == undefined
    assert report.to_json()["by_label"] == {"PER": undefined}


def test_agreement_labels_restrict_and_order_by_label():
    report = compute(LAYERS, TOKENS, labels=["PER", "XYZ"])
    assert list(report.by_label) == ["PER", "XYZ"]
    assert report.by_label["XYZ"].span_f1_exact is None and report.by_label["XYZ"].token_kappa is None
    only_per = {n: {d: [s for s in spans if s.label == "PER"] for d, spans in layer.items()}
                for n, layer in LAYERS.items()}
    assert _same(report.overall.token_kappa, _ref_kappa(only_per, TOKENS))
    assert _same(report.overall.token_alpha, _ref_alpha(only_per, TOKENS))


def test_agreement_misaligned_and_nested_spans_follow_the_tagging_rule():
    tokens = {"d": toks(10)}
    layers = {"a": {"d": [SpanRecord(1, 9, "PER"), SpanRecord(4, 6, "ORG"), SpanRecord(20, 21, "LOC")]},
              "b": {"d": [SpanRecord(0, 6, "PER"), SpanRecord(0, 6, "PER"), SpanRecord(12, 30, "ORG")]}}
    report = compute(layers, tokens)
    assert _same(report.overall.token_kappa, _ref_kappa(layers, tokens))
    assert _same(report.overall.token_alpha, _ref_alpha(layers, tokens))
    assert math.isclose(report.overall.span_f1_overlap, 2 * 1 / 5)  # b's duplicate counts once


def test_agreement_huge_offsets_give_the_same_numbers():
    shift = 2**33
    moved_tokens = {d: [(s + shift, e + shift) for s, e in t] for d, t in TOKENS.items()}
    moved = {n: {d: [SpanRecord(s.start + shift, s.end + shift, s.label, s.kb_id) for s in spans]
                 for d, spans in layer.items()} for n, layer in LAYERS.items()}
    assert compute(moved, moved_tokens).to_json() == compute(LAYERS, TOKENS).to_json()


def test_agreement_errors_are_coded():
    with pytest.raises(AnnotatorError) as e:
        compute(LAYERS, {"d1": T})
    assert e.value.code == "E150" and "'d2'" in str(e.value)
    for bad in ([(4, 7), (0, 3)], [(0, 3), (0, 5)], [(0, 3), ("x", 5)], [(0, 3), ()]):
        with pytest.raises(AnnotatorError) as e:
            compute(LAYERS, {**TOKENS, "d2": bad})
        assert e.value.code == "E151" and "'d2'" in str(e.value)
    with pytest.raises(AnnotatorError) as e:
        compute({"a": {"d3": [SpanRecord(4, 4, "PER")]}, "b": {"d3": []}}, TOKENS)
    assert e.value.code == "E152" and "'a'" in str(e.value)


@st.composite
def random_layers(draw):
    n_docs = draw(st.integers(1, 3))
    tokens = {f"d{i}": toks(draw(st.integers(1, 12)), width=draw(st.integers(1, 3))) for i in range(n_docs)}
    names = ["a", "b", "c"][: draw(st.integers(2, 3))]
    layers = {}
    for name in names:
        layer = {}
        for d, t in tokens.items():
            if draw(st.booleans()) or name == "a":
                length = t[-1][1] + 2
                starts = draw(st.lists(st.integers(0, length - 1), max_size=5))
                layer[d] = [SpanRecord(s, min(length, s + draw(st.integers(1, 6))),
                                       draw(st.sampled_from(["PER", "ORG"])),
                                       draw(st.sampled_from([None, "NIL", "Q1"]))) for s in starts]
        layers[name] = layer
    return layers, tokens


@settings(max_examples=150, deadline=None)
@given(random_layers())
def test_agreement_kappa_and_alpha_match_references_on_random_layers(case):
    layers, tokens = case
    report = compute(layers, tokens)
    assert _same(report.overall.token_kappa, _ref_kappa(layers, tokens))
    assert _same(report.overall.token_alpha, _ref_alpha(layers, tokens))
    for pair in report.pairs:
        two = {pair.a: layers[pair.a], pair.b: layers[pair.b]}
        assert _same(pair.measures.token_kappa, _ref_kappa(two, tokens))
        assert _same(pair.measures.token_alpha, _ref_alpha(two, tokens))
        swapped = compute({"x": layers[pair.b], "y": layers[pair.a]}, tokens).pairs[0].measures
        assert swapped.span_f1_overlap == pair.measures.span_f1_overlap
        assert _same(pair.measures.span_f1_overlap, _ref_overlap_f1(layers[pair.a], layers[pair.b]))
    for label, m in report.by_label.items():
        assert _same(m.token_kappa, _ref_kappa(layers, tokens, only=label))
        assert _same(m.token_alpha, _ref_alpha(layers, tokens, only=label))
    for doc, m in report.by_document.items():
        assert _same(m.token_kappa, _ref_kappa(layers, tokens, docs={doc}))
        assert _same(m.token_alpha, _ref_alpha(layers, tokens, docs={doc}))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_agreement_span_f1_matches_seqeval_on_random_aligned_spans(data):
    tokens = {"d": toks(15)}
    def layer():
        cuts = sorted(data.draw(st.sets(st.integers(0, 15), max_size=8)))
        pieces = list(zip(cuts[0::2], cuts[1::2]))
        return {"d": [span(tokens["d"], i, j, data.draw(st.sampled_from(["PER", "ORG"])))
                      for i, j in pieces if i < j]}
    layers = {"a": layer(), "b": layer()}
    report = compute(layers, tokens)
    y_a, y_b = [_bio(layers["a"]["d"], tokens["d"])], [_bio(layers["b"]["d"], tokens["d"])]
    if not layers["a"]["d"] and not layers["b"]["d"]:
        assert report.overall.span_f1_exact is None
    else:
        with warnings.catch_warnings():  # seqeval warns when one side has no entity
            warnings.simplefilter("ignore")
            expected = f1_score(y_a, y_b)
        assert math.isclose(report.overall.span_f1_exact, expected, abs_tol=1e-12)


# disagreements()

def test_agreement_disagreements_classifies_each_kind():
    per = SpanRecord(0, 5, "PER", "Q1")
    layers = {
        "a": [per, SpanRecord(10, 15, "ORG"), SpanRecord(20, 25, "PER"), SpanRecord(30, 35, "LOC", "Q7"),
              SpanRecord(40, 45, "MISC")],
        "b": [per, SpanRecord(10, 17, "ORG"), SpanRecord(20, 25, "LOC"), SpanRecord(30, 35, "LOC", "NIL")],
    }
    found = disagreements(layers)
    assert [(d.kind, d.start, d.end) for d in found] == [
        ("agreed", 0, 5), ("boundary", 10, 17), ("label", 20, 25), ("link", 30, 35), ("missing", 40, 45)]
    assert found[0].spans == {"a": (per,), "b": (per,)}
    assert found[4].spans == {"a": (SpanRecord(40, 45, "MISC"),), "b": ()}


def test_agreement_disagreements_with_three_annotators_groups_a_region():
    a = SpanRecord(0, 5, "PER")
    layers = {"a": [a], "b": [a], "c": [SpanRecord(0, 8, "PER")], "d": [a, SpanRecord(3, 9, "ORG")]}
    found = disagreements(layers)
    assert [(d.kind, d.start, d.end) for d in found] == [("boundary", 0, 9)]
    assert found[0].spans["d"] == (a, SpanRecord(3, 9, "ORG"))
    layers["c"] = [a]
    assert [d.kind for d in disagreements(layers)] == ["agreed", "missing"]


def test_agreement_disagreements_boundary_wins_over_label_and_needs_two_layers():
    layers = {"a": [SpanRecord(0, 5, "PER")], "b": [SpanRecord(2, 7, "ORG")]}
    assert [d.kind for d in disagreements(layers)] == ["boundary"]
    assert disagreements({"a": [SpanRecord(0, 5, "PER")]}) == []
    assert disagreements({"a": [], "b": []}) == []
