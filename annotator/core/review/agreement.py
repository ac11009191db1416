"""Inter-annotator agreement (DESIGN.md, "Review and agreement"; issue 4).

Decisions, so that the numbers can be read and compared:

- Documents: only documents held by two or more layers count; a pair uses the documents both hold.
  A document held with an empty span list counts (the annotator found nothing there). Every pair of
  annotators is listed, a pair sharing no document with n_docs 0 and nulls. `n_docs` is the number
  of documents a value was computed over (1 in `by_document`; all counted ones in `by_label`); a
  pair also lists them by name (`documents`), so a reader sees what entered.
- Pooling: `overall`, `by_label` and `by_document` pool counts over all annotator pairs and never
  average pair values: F1 from summed matches and span counts, κ from the summed pairwise confusion
  matrices (pair (a, b) with a < b by name; a gives the rows), link agreement from summed matched
  spans. α takes all annotators at once; its coincidence matrix is itself a sum over pairs of coders.
  Pooling weighs a pair by how much it annotated together, and a pair with nothing to compare does
  not blank the total.
- Span F1 (Hripcsak & Rothschild 2005): 2·matches / (|A| + |B|), the F1 of either layer against the
  other. Exact: same offsets and label. Overlap: the exact matches, then the remaining spans paired
  one-to-one, greedily by largest overlap (not a maximum matching), with spans of the same label
  that share a code point.
  A span repeated in one layer (same offsets and label) counts once.
- Tokens: per document, non-empty, sorted, non-overlapping (start, end) pairs (the order of starts
  is checked, E151). A token takes the tag of the first span it overlaps, even partly (spans ordered
  by start, longest first, then label): B- on the span's first token, I- after, O elsewhere. Per
  label, the other labels' tags count as O.
- Link agreement: among exact matches where at least one side is linked (kb_id not None), the share
  with equal kb_id; "NIL" is a value like any other. Matches linked on neither side are left out.
- Undefined values are None (JSON null): F1 when neither side has a span; κ and α with no tokens or
  only one tag in use (chance agreement is 1: scikit-learn gives NaN, `krippendorff` refuses);
  link agreement when no matched span is linked. Identical layers using two or more tags give 1.0.
"""

from __future__ import annotations

from collections.abc import ItemsView, Mapping, ValuesView
from dataclasses import dataclass
from itertools import combinations
from typing import Iterator

import numpy as np

from annotator.core import collector
from annotator.core.records import SpanRecord
from annotator.core.review.arrays import Corpus, build, exact_matches, overlap_matches
from annotator.core.review.report_json import json_pieces

KINDS = ("agreed", "missing", "boundary", "label", "link")


@dataclass(frozen=True)
class Measures:
    span_f1_exact: float | None
    span_f1_overlap: float | None
    token_kappa: float | None
    token_alpha: float | None
    link_agreement: float | None
    n_docs: int

    def to_json(self) -> dict:
        return dict(vars(self))  # fields in declaration order; faster than asdict for 10^4 rows


MEASURES = ("span_f1_exact", "span_f1_overlap", "token_kappa", "token_alpha", "link_agreement")  # Measures' order


class MeasureTable(Mapping):
    """name -> Measures, kept as columns: the names and one float array per measure (NaN where
    undefined). 10^5 documents are 10^5 objects only for a reader that asks for all of them; the
    JSON writer (`annotator agreement --json`, review/report_json.py) reads the columns."""

    FIELDS = MEASURES

    def __init__(self, names: list[str], columns: tuple[np.ndarray, ...], n_docs: int):
        self.names = names
        self.columns = columns  # in MEASURES order
        self.n_docs = n_docs
        self._index: dict[str, int] | None = None
        self._rows: list[Measures] | None = None  # once every row was asked for

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __getitem__(self, name: str) -> Measures:
        if self._index is None:
            self._index = {n: k for k, n in enumerate(self.names)}
        k = self._index[name]
        if self._rows is not None:
            return self._rows[k]
        return Measures(*(None if v != v else v for v in (float(c[k]) for c in self.columns)), self.n_docs)

    def measures(self) -> list[Measures]:
        """Every row's Measures in order, made once and then kept (the kept list: read it, do not
        change it). NaN to None a column at a time (10^5 rows: a third of the time)."""
        if self._rows is None:
            cols = [[None if x != x else x for x in c.tolist()] for c in self.columns]
            self._rows = [Measures(*row, self.n_docs) for row in zip(*cols)]
        return self._rows

    def values(self) -> ValuesView:
        return _Values(self)

    def items(self) -> ItemsView:
        return _Items(self)

    def to_json(self) -> dict:
        return {name: m.to_json() for name, m in self.items()}


class _Values(ValuesView):
    """A MeasureTable's rows straight from its kept list, not looked up name by name."""

    def __iter__(self):
        return iter(self._mapping.measures())


class _Items(ItemsView):
    """(name, Measures) pairs zipped from the table's lists: no tuple kept per row, so reading 10^5
    rows sets off no garbage collection."""

    def __iter__(self):
        return zip(self._mapping.names, self._mapping.measures())


@dataclass(frozen=True)
class PairMeasures:
    a: str
    b: str
    measures: Measures
    documents: tuple[str, ...] = ()  # the documents compared (both layers hold them), by name

    def to_json(self) -> dict:
        return {"a": self.a, "b": self.b, **self.measures.to_json(), "documents": list(self.documents)}


@dataclass
class AgreementReport:
    pairs: list[PairMeasures]
    overall: Measures
    by_label: MeasureTable  # a Mapping: label -> Measures
    by_document: MeasureTable  # document name -> Measures

    def to_json(self) -> dict:
        """A JSON-serialisable dict (like spaCy's `to_json`); undefined values are None."""
        with collector.paused():  # the report is ~10^6 objects, made without cycles
            return {
                "pairs": [p.to_json() for p in self.pairs],
                "overall": self.overall.to_json(),
                "by_label": self.by_label.to_json(),
                "by_document": self.by_document.to_json(),
            }

    def json_pieces(self) -> Iterator[str]:
        """`to_json()` as JSON text, in pieces to write one after the other (review/report_json.py)."""
        return json_pieces(self)


def compute(layers: dict[str, dict[str, list[SpanRecord]]], tokens: dict[str, list[tuple[int, int]]],
            labels: list[str] | None = None) -> AgreementReport:
    """Agreement of `layers` (annotator -> document -> spans) over `tokens` (document -> (start, end)).

    `labels` restricts the measures to those labels, listed in that order in `by_label` even when
    unused; by default every label in use, sorted.
    """
    with collector.paused():  # the report is ~10^6 objects, made without cycles
        return _compute(build(layers, tokens, labels))


def _compute(c: Corpus) -> AgreementReport:
    n_docs, n_labels = len(c.docs), len(c.labels)
    n_tags = 2 * n_labels + 1
    pairs = list(combinations(range(len(c.annotators)), 2))
    spans = np.zeros((len(pairs), 6, n_docs))  # n_a, n_b, exact, overlap, linked, same link
    spans_by_label = np.zeros((len(pairs), 6, n_labels))
    conf = np.zeros((len(pairs), n_tags, n_tags))
    coinc = np.zeros((n_tags, n_tags))
    doc_n, doc_dis = np.zeros(n_docs), np.zeros(n_docs)
    doc_row, doc_col = np.zeros((n_docs, n_tags)), np.zeros((n_docs, n_tags))
    weight = 1.0 / np.maximum(c.coders - 1, 1)  # α counts each coder pair of a token 1/(m-1) times
    for p, (i, j) in enumerate(pairs):
        a, b = c.layers[i], c.layers[j]
        shared = a.present & b.present
        spans[p], spans_by_label[p] = _span_counts(c, a, b, shared)
        conf[p], weighted, n, dis = _token_counts(c, a, b, shared, weight, n_tags)
        coinc += weighted + weighted.T
        doc_n += n
        doc_dis += dis
        doc_row += a.tag_counts * shared[:, None]
        doc_col += b.tag_counts * shared[:, None]

    out_pairs = []
    for p, (i, j) in enumerate(pairs):
        t = spans[p].sum(axis=1)
        values = _span_values(t) + (_kappa_of(conf[p]), _alpha_of(conf[p] + conf[p].T))
        shared = np.flatnonzero(c.layers[i].present & c.layers[j].present)
        out_pairs.append(PairMeasures(c.annotators[i], c.annotators[j], _measures(values, len(shared)),
                                      tuple(c.docs[k] for k in shared.tolist())))

    t = spans.sum(axis=(0, 2))
    overall = _measures(_span_values(t) + (_kappa_of(conf.sum(axis=0)), _alpha_of(coinc)), n_docs)
    t = spans_by_label.sum(axis=0)
    by_label = _table(c.labels, _span_values(t) + (_kappa_of(_project(conf.sum(axis=0), n_labels)),
                                                    _alpha_of(_project(coinc, n_labels))), n_docs)
    t = spans.sum(axis=0)
    kappa = _kappa(doc_n, doc_n - doc_dis, doc_row, doc_col)
    alpha = _alpha(weight[:, None] * (doc_row + doc_col), weight * 2 * doc_dis)
    by_document = _table(c.docs, _span_values(t) + (kappa, alpha), 1)
    return AgreementReport(out_pairs, overall, by_label, by_document)


def _span_counts(c: Corpus, a, b, shared):
    """Span tallies of one pair, by document and by label: rows as in `_compute`'s `spans`."""
    in_a, in_b = shared[a.doc], shared[b.doc]
    ia, ib = exact_matches(a, b)
    extra = overlap_matches(a, b, shared, ia, ib, max(len(c.labels), 1), c.stride)
    kb_a, kb_b = a.kb[ia], b.kb[ib]
    linked = (kb_a >= 0) | (kb_b >= 0)
    rows = [(a.doc[in_a], a.label[in_a], None), (b.doc[in_b], b.label[in_b], None),
            (a.doc[ia], a.label[ia], None),
            (np.concatenate([a.doc[ia], a.doc[extra]]),
             np.concatenate([a.label[ia], a.label[extra]]), None),
            (a.doc[ia], a.label[ia], linked), (a.doc[ia], a.label[ia], linked & (kb_a == kb_b))]
    by_doc = [np.bincount(d, w, minlength=len(c.docs)) for d, _, w in rows]
    by_label = [np.bincount(lab, w, minlength=len(c.labels)) for _, lab, w in rows]
    return np.array(by_doc).reshape(6, -1), np.array(by_label).reshape(6, -1)


def _token_counts(c: Corpus, a, b, shared, weight, n_tags):
    """Tag confusion matrix over the shared documents, plain and α-weighted; tokens and
    disagreements per document."""
    nz = np.flatnonzero((a.tags != 0) | (b.tags != 0))  # O against O is counted, not enumerated
    nz = nz[shared[c.tok_doc[nz]]]
    ta, tb, doc = a.tags[nz], b.tags[nz], c.tok_doc[nz]
    code = ta.astype(np.int64) * n_tags + tb
    n = c.n_tokens * shared
    w = weight[doc]
    conf = np.bincount(code, minlength=n_tags * n_tags).reshape(n_tags, n_tags).astype(float)
    conf[0, 0] += n.sum() - len(nz)
    weighted = np.bincount(code, w, minlength=n_tags * n_tags).reshape(n_tags, n_tags).astype(float)
    weighted[0, 0] += (n * weight).sum() - w.sum()
    return conf, weighted, n, np.bincount(doc, ta != tb, minlength=len(c.docs))


def _ratio(num, den):
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _span_values(t):
    """(F1 exact, F1 overlap, link agreement) from tallies `t` (rows as in `_compute`'s `spans`)."""
    return _ratio(2 * t[2], t[0] + t[1]), _ratio(2 * t[3], t[0] + t[1]), _ratio(t[5], t[4])


def _kappa(n, agree, row, col):
    """Cohen's κ = (n·agree − Σ row·col) / (n² − Σ row·col); NaN when chance agreement is 1."""
    chance = (row * col).sum(axis=-1)
    return _ratio(n * agree - chance, n * n - chance)


def _alpha(nk, disagree):
    """Nominal α = 1 − (n − 1)·disagree / (n² − Σ nk²) from a coincidence matrix's marginals."""
    n = nk.sum(axis=-1)
    return 1 - _ratio((n - 1) * disagree, n * n - (nk * nk).sum(axis=-1))


def _kappa_of(m):
    return _kappa(m.sum(axis=(-2, -1)), np.trace(m, axis1=-2, axis2=-1), m.sum(axis=-1), m.sum(axis=-2))


def _alpha_of(o):
    nk = o.sum(axis=-1)
    return _alpha(nk, nk.sum(axis=-1) - np.trace(o, axis1=-2, axis2=-1))


def _project(m, n_labels):
    """(K, K) tag matrix -> (L, 3, 3) matrices over O, B-l, I-l: other labels' tags become O."""
    proj = np.zeros((n_labels, m.shape[0], 3))
    proj[:, :, 0] = 1
    lab = np.arange(n_labels)
    for k in (1, 2):
        proj[lab, 2 * lab + k, 0] = 0
        proj[lab, 2 * lab + k, k] = 1
    return np.einsum("lka,kc,lcb->lab", proj, m, proj)


def _measures(values, n_docs) -> Measures:
    f1_exact, f1_overlap, link, kappa, alpha = (None if v != v else float(v) for v in values)
    return Measures(f1_exact, f1_overlap, kappa, alpha, link, n_docs)


def _table(names, values, n_docs) -> MeasureTable:
    """The rows' measures from `values` (F1 exact, F1 overlap, link agreement, κ, α: one array each)."""
    f1_exact, f1_overlap, link, kappa, alpha = (np.asarray(v, float).reshape(-1) for v in values)
    return MeasureTable(list(names), (f1_exact, f1_overlap, kappa, alpha, link), n_docs)


@dataclass
class Disagreement:
    """One region of a document and each annotator's spans in it (`()` where they have none)."""

    kind: str  # one of KINDS
    start: int
    end: int
    spans: dict[str, tuple[SpanRecord, ...]]


def disagreements(layers: dict[str, list[SpanRecord]]) -> list[Disagreement]:
    """How the layers (annotator -> spans) of one document differ, plus the spans all agree on.

    A span every layer accepted identically (offsets, label, kb_id) is "agreed" and can go to gold.
    The rest are grouped into regions of overlapping spans (any layer, any label). A region is
    "missing" when an annotator has no span in it or only unchecked suggestions (the model's, no
    decision of theirs: the reviewer decides, never an agreement of untouched copies), else
    "boundary" when offsets differ (whatever the labels), else "label" when labels differ, else
    "link" (kb_ids differ). Sorted by position. Fewer than two layers: nothing to compare, [].
    """
    names = sorted(layers)
    if len(names) < 2:
        return []
    by_key = [{(s.start, s.end, s.label, s.kb_id): s for s in layers[n]} for n in names]
    common = {k for k in set(by_key[0]).intersection(*by_key[1:])
              if all(spans[k].status != "suggested" for spans in by_key)}
    found = [Disagreement("agreed", k[0], k[1], {n: (spans[k],) for n, spans in zip(names, by_key)})
             for k in sorted(common, key=lambda k: (k[0], k[1], k[2], k[3] or ""))]
    rest = sorted(((s, n) for n, spans in zip(names, by_key) for k, s in spans.items()
                   if k not in common), key=lambda item: (item[0].start, item[0].end, item[1], item[0].label))
    regions: list[list] = []
    for span, name in rest:
        if regions and span.start < regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], span.end)
            regions[-1][2].append((name, span))
        else:
            regions.append([span.start, span.end, [(name, span)]])
    for start, end, members in regions:
        spans = {n: tuple(s for m, s in members if m == n) for n in names}
        found.append(Disagreement(_kind(list(spans.values())), start, end, spans))
    return sorted(found, key=lambda d: (d.start, d.end, KINDS.index(d.kind)))


def _kind(groups: list[tuple[SpanRecord, ...]]) -> str:
    if not all(any(s.status != "suggested" for s in g) for g in groups):
        return "missing"
    if len({tuple((s.start, s.end) for s in g) for g in groups}) > 1:
        return "boundary"
    if len({tuple(s.label for s in g) for g in groups}) > 1:
        return "label"
    return "link"
