"""Annotation layers as flat numpy arrays, so agreement over 10,000s of documents stays vectorised.

Token tags are small ints: 0 is O, 2*l+1 is B- and 2*l+2 is I- of label l (`Corpus.labels[l]`).
A position becomes one int64 key, `doc * stride + offset`, so one sorted array serves every document.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from operator import attrgetter, itemgetter

import numpy as np

from annotator.errors import AnnotatorError, Errors

_FIELDS = tuple(attrgetter(name) for name in ("start", "end", "label", "kb_id"))


@dataclass
class Layer:
    """One annotator's spans, sorted by (document, start, longest first, label), duplicates dropped."""

    present: np.ndarray  # (D,) bool: the document is in this layer
    doc: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    kb: np.ndarray  # -1: not linked; equal codes mean equal kb_id ("NIL" is a code like any other)
    key: np.ndarray  # ascending; equal keys mean same document, offsets and label
    tags: np.ndarray  # (T,) int16 tag of every token (0 in documents outside the layer)
    tag_counts: np.ndarray  # (D, K) tokens per document and tag (zero outside the layer)


@dataclass
class SpanTable:
    """One layer's spans as columns: the input that needs no Python object per span (what
    `review.agreement_inputs` reads from the database). Usable wherever a layer's
    {document: [SpanRecord]} is.

    `docs` are the documents the layer holds, with or without spans; per span, `doc` indexes `docs`,
    `label` indexes `label_names`, and `kb` indexes `kb_names` (-1: not linked; "NIL" is a name).
    """

    docs: list[str]
    doc: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    label_names: list[str]
    kb: np.ndarray
    kb_names: list[str]

    def keys(self) -> list[str]:
        return self.docs

    def __contains__(self, doc: str) -> bool:
        return doc in self._doc_set

    @cached_property
    def _doc_set(self) -> set[str]:
        return set(self.docs)


@dataclass
class Corpus:
    annotators: list[str]
    docs: list[str]  # documents in two or more layers, sorted
    labels: list[str]
    stride: int
    tok_doc: np.ndarray  # (T,) document index of every token
    n_tokens: np.ndarray  # (D,)
    coders: np.ndarray  # (D,) number of layers holding each document
    layers: list[Layer]


def build(layers, tokens, labels=None) -> Corpus:
    """Flatten `layers` (annotator -> document -> spans, or a `SpanTable`) over the documents at least
    two layers hold. A document's tokens are a list of (start, end) pairs or an (n, 2) integer array."""
    annotators = sorted(layers)
    held = Counter(chain.from_iterable(layers[a].keys() for a in annotators))
    docs = sorted(d for d, n in held.items() if n >= 2)
    starts, n_tokens, tok_doc, lists = _tokens(docs, tokens, held)
    label_codes = _Codes({label: i for i, label in enumerate(labels or ())})
    kb_codes = _Codes({None: -1})
    doc_index = {d: i for i, d in enumerate(docs)}
    raw = [_table_spans(layers[a], doc_index, label_codes, kb_codes) if isinstance(layers[a], SpanTable)
           else _spans(layers[a], docs, label_codes, kb_codes) for a in annotators]
    names = list(label_codes)
    labels = sorted(names) if labels is None else list(dict.fromkeys(labels))
    lookup = np.array([labels.index(n) if n in labels else len(labels) for n in names] + [0], np.int64)
    cols = []
    for annotator, (present, doc, start, end, label, kb) in zip(annotators, raw):
        bad = np.flatnonzero((start < 0) | (end <= start))
        if len(bad):
            i = bad[0]
            raise AnnotatorError(Errors.E152.format(start=start[i], end=end[i], label=names[label[i]],
                                                    annotator=annotator, doc=docs[doc[i]]))
        label = lookup[label]
        keep = label < len(labels)  # spans outside the requested labels do not count
        cols.append((present, doc[keep], start[keep], end[keep], label[keep], kb[keep]))
    stride = 1 + max([int(starts.max(initial=0))] + [int(c[3].max(initial=0)) for c in cols])
    if (len(docs) * max(len(labels), 1) + 1) * stride >= 2**62:
        raise AnnotatorError(Errors.E153.format(offset=stride - 1, docs=len(docs)))
    starts += np.repeat(np.arange(len(docs), dtype=np.int64) * stride, n_tokens)  # now keys
    tokens_of = _TokenIndex(starts, np.concatenate([[0], np.cumsum(n_tokens)]), lists, stride)
    parts = [np.concatenate(c) for c in zip(*(c[1:5] for c in cols))] or [np.zeros(0, np.int64)] * 4
    keys = _pack(parts, (len(docs), stride, stride, max(len(labels), 1)), stride)
    bounds = np.cumsum([0] + [len(c[1]) for c in cols])
    corpus_layers = [
        _layer(*c, keys[lo:hi], tokens_of, tok_doc, n_tokens, 2 * len(labels) + 1)
        for c, lo, hi in zip(cols, bounds[:-1], bounds[1:])
    ]
    coders = np.zeros(len(docs), np.int64)
    for layer in corpus_layers:
        coders += layer.present
    return Corpus(annotators, docs, labels, stride, tok_doc, n_tokens, coders, corpus_layers)


class _Codes(dict):
    """Numbers values in the order first seen: a lookup of a new value adds it."""

    def __missing__(self, key):
        self[key] = code = len(self)
        return code


def _tokens(docs, tokens, held):
    """Token starts, concatenated; E150/E151 on missing tokens or starts out of order.

    Token ends stay in the Python lists: a span starting where a token starts needs none, and
    reading them all would double the cost of the one step that cannot be vectorised.
    """
    for d in docs:
        if d not in tokens:
            raise AnnotatorError(Errors.E150.format(doc=d, n=held[d]))
    lists = [tokens[d] for d in docs]
    n_tokens = np.fromiter(map(len, lists), np.int64, len(lists))
    tok_doc = np.repeat(np.arange(len(docs), dtype=np.int32), n_tokens)
    if lists and all(isinstance(t, np.ndarray) for t in lists):
        for d, t in zip(docs, lists):
            if t.ndim != 2 or t.shape[1] != 2 or t.dtype.kind not in "iu":
                raise AnnotatorError(Errors.E151.format(doc=d))
        starts = np.concatenate([t[:, 0] for t in lists]).astype(np.int64)
    else:
        try:
            starts = np.fromiter(map(itemgetter(0), chain.from_iterable(lists)), np.int64, len(tok_doc))
        except (TypeError, ValueError, IndexError):
            raise AnnotatorError(Errors.E151.format(doc=_malformed(docs, lists))) from None
    bad = starts < 0
    bad[1:] |= (starts[1:] <= starts[:-1]) & (tok_doc[1:] == tok_doc[:-1])
    if bad.any():
        raise AnnotatorError(Errors.E151.format(doc=docs[tok_doc[np.argmax(bad)]]))
    return starts, n_tokens, tok_doc, lists


def _malformed(docs, lists):
    """The first document whose tokens are not (int, int) pairs, for E151."""
    for d, toks in zip(docs, lists):
        try:
            np.fromiter(map(itemgetter(0), toks), np.int64, len(toks))
        except (TypeError, ValueError, IndexError):
            return d
    return docs[0]


@dataclass
class _TokenIndex:
    keys: np.ndarray  # doc * stride + token start, ascending
    offsets: np.ndarray  # (D + 1,) first token of each document
    lists: list  # the (start, end) lists, for the few token ends needed
    stride: int

    def first(self, doc, start):
        """Index of the first token ending after `start` in `doc` (else past the document's last)."""
        query = doc * self.stride + start
        i = np.searchsorted(self.keys, query, side="right") - 1  # last token starting <= start
        first = i + 1
        in_doc = i >= self.offsets[doc]
        aligned = np.zeros(len(i), bool)
        aligned[in_doc] = self.keys[i[in_doc]] == query[in_doc]
        first[aligned] = i[aligned]
        for k in np.flatnonzero(in_doc & ~aligned).tolist():  # rare: start inside a token or a gap
            if self.lists[doc[k]][i[k] - self.offsets[doc[k]]][1] > start[k]:
                first[k] = i[k]
        return first

    def stop(self, doc, end):
        """Index of the first token starting at or after `end` in `doc`."""
        return np.searchsorted(self.keys, doc * self.stride + end, side="left")


def _spans(layer, docs, label_codes, kb_codes):
    """(present, doc, start, end, label code, kb code) of one layer over the counted documents."""
    present = np.fromiter(map(layer.__contains__, docs), bool, len(docs))
    index = np.flatnonzero(present)
    lists = [layer[docs[i]] for i in index]
    spans = list(chain.from_iterable(lists))
    doc = np.repeat(index, np.fromiter(map(len, lists), np.int64, len(lists)))
    start, end, label, kb = _FIELDS
    return (present, doc, np.fromiter(map(start, spans), np.int64, len(spans)),
            np.fromiter(map(end, spans), np.int64, len(spans)),
            np.fromiter(map(label_codes.__getitem__, map(label, spans)), np.int64, len(spans)),
            np.fromiter(map(kb_codes.__getitem__, map(kb, spans)), np.int64, len(spans)))


def _table_spans(table: SpanTable, doc_index, label_codes, kb_codes):
    """`_spans` for a `SpanTable`: the same columns, without touching the spans one by one."""
    where = np.array([doc_index.get(d, -1) for d in table.docs] + [-1], np.int64)
    present = np.zeros(len(doc_index), bool)
    present[where[where >= 0]] = True
    doc = where[np.asarray(table.doc, np.int64)]
    keep = np.flatnonzero(doc >= 0)
    label = np.asarray(table.label, np.int64)[keep]
    kb = np.asarray(table.kb, np.int64)[keep]
    # code only the labels in use, in order of first use, as `_spans` does
    used, first = np.unique(label, return_index=True)
    label_lookup = np.zeros(len(table.label_names), np.int64)
    for code in used[np.argsort(first)].tolist():
        label_lookup[code] = label_codes[table.label_names[code]]
    kb_lookup = np.array([kb_codes[name] for name in table.kb_names] + [-1], np.int64)
    return (present, doc[keep], np.asarray(table.start, np.int64)[keep], np.asarray(table.end, np.int64)[keep],
            label_lookup[label], kb_lookup[kb])


def _pack(cols, sizes, stride):
    """One int64 per row that sorts like (doc, start, -end, label); dense ranks if that overflows."""
    doc, start, end, label = cols
    cols = (doc, start, stride - 1 - end, label)
    if math.prod(sizes) < 2**62:
        key = np.zeros(len(doc), np.int64)
        for col, size in zip(cols, sizes):
            key = key * size + col
        return key
    order = np.lexsort(cols[::-1])
    rows = np.stack([c[order] for c in cols])
    new = np.ones(len(order), bool)
    new[1:] = (rows[:, 1:] != rows[:, :-1]).any(axis=0)
    key = np.empty(len(order), np.int64)
    key[order] = np.cumsum(new) - 1
    return key


def _layer(present, doc, start, end, label, kb, key, tokens_of, tok_doc, n_tokens, n_tags):
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]  # the same span twice in a layer counts once
    key, order = key[first], order[first]
    doc, start, end, label, kb = (a[order] for a in (doc, start, end, label, kb))
    tags, counts = _tag(doc, start, end, label, tokens_of, tok_doc, n_tokens * present, n_tags)
    return Layer(present, doc, start, end, label, kb, key, tags, counts)


def _tag(doc, start, end, label, tokens_of, tok_doc, n_tokens, n_tags):
    """BIO tag per token: a token takes the tag of the first span (in layer order) it overlaps."""
    first, stop = tokens_of.first(doc, start), tokens_of.stop(doc, end)
    n = np.clip(stop - first, 0, None)
    pos = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    tok = np.repeat(first, n) + pos
    tag = (np.repeat(2 * label + 1, n) + (pos > 0)).astype(np.int16)
    tags = np.zeros(len(tok_doc), np.int16)
    used = np.flatnonzero(n)
    late = np.zeros(len(n), bool)  # overlaps an earlier span's tokens
    late[used[1:]] = first[used[1:]] < np.maximum.accumulate(stop[used])[:-1]
    late_tok = ()
    if late.any():
        late = np.repeat(late, n)
        late_tok, index = np.unique(tok[late], return_index=True)  # first of the late spans wins
        tags[late_tok] = tag[late][index]
        tok, tag = tok[~late], tag[~late]
    tags[tok] = tag  # a span overlapping no earlier span wins over every later one
    if len(late_tok):
        tok = np.flatnonzero(tags)
        tag = tags[tok]
    counts = np.bincount(tok_doc[tok] * n_tags + tag, minlength=len(n_tokens) * n_tags)
    counts = counts.reshape(len(n_tokens), n_tags)
    counts[:, 0] = n_tokens - counts[:, 1:].sum(axis=1)
    return tags, counts


def exact_matches(a: Layer, b: Layer):
    """Indices (ia, ib) of spans with the same document, offsets and label in both layers."""
    if not len(b.key):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos = np.minimum(np.searchsorted(b.key, a.key), len(b.key) - 1)
    ia = np.flatnonzero(b.key[pos] == a.key)
    return ia, pos[ia]


def overlap_matches(a: Layer, b: Layer, shared, ia, ib, n_labels, stride):
    """Indices into `a` of spans matched one-to-one, beyond `ia`, to an overlapping same-label span.

    Greedy: candidate pairs by largest overlap first, ties by the pair's offsets (a key symmetric
    in a and b, so the count does not depend on which layer is `a`).
    """
    ua = np.ones(len(a.key), bool)
    ua[ia] = False
    ua = np.flatnonzero(ua & shared[a.doc])
    ub = np.ones(len(b.key), bool)
    ub[ib] = False
    ub = np.flatnonzero(ub & shared[b.doc])
    ga = (a.doc[ua] * n_labels + a.label[ua]) * stride
    gb = (b.doc[ub] * n_labels + b.label[ub]) * stride
    order = np.argsort(gb + b.start[ub], kind="stable")
    ub, gb = ub[order], gb[order]
    sa, ea, sb, eb = a.start[ua], a.end[ua], b.start[ub], b.end[ub]
    lo = np.searchsorted(np.maximum.accumulate(gb + eb), ga + sa, side="right")
    hi = np.searchsorted(gb + sb, ga + ea, side="left")
    n = np.clip(hi - lo, 0, None)
    x = np.repeat(np.arange(len(ua)), n)
    y = np.repeat(lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    keep = eb[y] > sa[x]  # nested spans of b inside [lo, hi) may end before a starts
    x, y = x[keep], y[keep]
    lo_s, hi_s = np.minimum(sa[x], sb[y]), np.maximum(sa[x], sb[y])
    lo_e, hi_e = np.minimum(ea[x], eb[y]), np.maximum(ea[x], eb[y])
    order = np.lexsort((hi_e, lo_e, hi_s, lo_s, hi_s - lo_e))  # -(overlap) == hi_s - lo_e
    x, y = x[order], y[order]
    single = (np.bincount(x, minlength=len(ua))[x] == 1) & (np.bincount(y, minlength=len(ub))[y] == 1)
    matched = x[single].tolist()
    used_x, used_y = set(), set()
    for i, j in zip(x[~single].tolist(), y[~single].tolist()):
        if i not in used_x and j not in used_y:
            used_x.add(i)
            used_y.add(j)
    return ua[np.array(matched + sorted(used_x), np.int64)]
