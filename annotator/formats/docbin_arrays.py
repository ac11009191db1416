"""The rules of spacy_docbin's `words_and_spaces`, `sentence_starts` and `place_spans`, run with numpy
over a batch of records at once: the batch's texts are joined and every offset made global, so one
searchsorted, cumsum or bincount does for all documents what the per-document functions do in Python
loops. spacy_docbin._Batches fills the DocBin's columns from the results; the tests compare the file
with one written from `to_doc` Docs.
"""

from __future__ import annotations

from itertools import chain

import numpy

from annotator.core.records import DocRecord, FormatReport
from annotator.errors import AnnotatorError, Errors

SUGGESTED = "suggested"  # a span's status, and the span group of the unchecked suggestions
SENTENCE_ENDS = frozenset({".", "!", "?", "。", "！", "？", "…"})
_END_CODES = numpy.array(sorted(map(ord, SENTENCE_ENDS)), dtype=numpy.uint32)
_SPACE_CODES = numpy.array([chr(c).isspace() for c in range(0x3001)] + [False])  # U+3000 is the last space


def pieces(recs: list[DocRecord], parts: list):
    """words_and_spaces for a batch: (starts, ends, trailing space, document, tokens per document, words,
    the text's code points), offsets into the batch's texts joined; `parts` are each record's token
    offsets, flat. E107 for a record whose tokens are not in order."""
    text = "".join(r.text for r in recs)
    n_docs = len(recs)
    counts = numpy.fromiter(map(len, parts), numpy.int64, n_docs) // 2
    sizes = numpy.fromiter((len(r.text) for r in recs), numpy.int64, n_docs)
    offs = numpy.concatenate(([0], numpy.cumsum(sizes)[:-1])).astype(numpy.int64)
    total = int(counts.sum())
    flat = numpy.concatenate(parts).astype(numpy.int64).reshape(total, 2)
    tdoc = numpy.repeat(numpy.arange(n_docs), counts)
    tfirst = numpy.concatenate(([0], numpy.cumsum(counts)[:-1]))
    has = counts > 0
    s, e = flat[:, 0], flat[:, 1]
    prev_e = numpy.roll(e, 1)
    prev_e[tfirst[has]] = 0
    bad = ~((prev_e <= s) & (s < e) & (e <= sizes[tdoc]))
    if bad.any():
        k = int(numpy.argmax(bad))
        d = int(tdoc[k])
        raise AnnotatorError(Errors.E107.format(name=recs[d].name, index=k - int(tfirst[d]), start=int(s[k]), end=int(e[k])))
    gs, ge = s + offs[tdoc], e + offs[tdoc]
    doc_end = offs + sizes
    next_s = numpy.roll(gs, -1)
    last = (tfirst + counts - 1)[has]
    next_s[last] = doc_end[tdoc[last]]
    codes = numpy.frombuffer((text + "\0").encode("utf-32-le"), dtype=numpy.uint32)
    sp = (next_s > ge) & (codes[ge] == 32)  # one space goes to the word before a gap
    gap_s = ge + sp
    gap = next_s > gap_s  # the rest of the gap is a token of its own
    lead_e = numpy.where(has, gs[numpy.minimum(tfirst, max(total - 1, 0))] if total else 0, doc_end)
    lead = lead_e > offs  # text before the first token
    starts = numpy.concatenate((gs, gap_s[gap], offs[lead]))
    order = numpy.argsort(starts, kind="stable")
    starts = starts[order]
    ends = numpy.concatenate((ge, next_s[gap], lead_e[lead]))[order]
    space = numpy.concatenate((sp, numpy.zeros(int(gap.sum()) + int(lead.sum()), dtype=bool)))[order]
    pdoc = numpy.concatenate((tdoc, tdoc[gap], numpy.arange(n_docs)[lead]))[order]
    words = [text[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
    return starts, ends, space, pdoc, numpy.bincount(pdoc, minlength=n_docs), words, codes


def sentence_starts(words: list[str], starts, ends, codes, pdoc, lengths, yes: int, no: int):
    """sentence_starts for a batch (entities not yet applied): SENT_START values as uint64. Only a
    word whose first character is whitespace can be blank, and the end marks are one character."""
    n = len(words)
    first_char = codes[starts]
    blank = numpy.zeros(n, dtype=bool)
    trigger = (ends - starts == 1) & numpy.isin(first_char, _END_CODES)
    for k in numpy.flatnonzero(_SPACE_CODES[numpy.minimum(first_char, len(_SPACE_CODES) - 1)]).tolist():
        blank[k] = words[k].isspace()
        trigger[k] = blank[k] and ("\n" in words[k] or "\r" in words[k])
    before = numpy.concatenate(([0], numpy.cumsum(trigger)))  # triggers before each token
    word_at = numpy.maximum.accumulate(numpy.where(blank, -1, numpy.arange(n))) if n else numpy.zeros(0, int)
    prev = numpy.concatenate(([-1], word_at[:-1])).astype(numpy.int64)  # the word before each token
    first = numpy.concatenate(([0], numpy.cumsum(lengths)[:-1]))
    pending = (prev < first[pdoc]) | (before[:n] > before[numpy.maximum(prev, 0)])
    sent = numpy.where(~blank & pending, yes, no).astype(numpy.uint64)
    sent[first[lengths > 0]] = yes
    return sent


def span_rows(rec: DocRecord) -> list:
    """The record's spans as rows (document id, start, end, label, kb_id, status[, note]): a StoredRecord's rows
    as read (no SpanRecord built), else made from its spans."""
    rows = getattr(rec, "span_rows", None)
    return rows if rows is not None else [(0, sp.start, sp.end, sp.label, sp.kb_id, sp.status) for sp in rec.spans]


def unchecked_extents(rec: DocRecord) -> list[tuple[int, int]]:
    """(start, end) of the record's unchecked suggestions: those left out of its spans, and those in them."""
    return list(rec.unchecked) + [(row[1], row[2]) for row in span_rows(rec) if row[5] == SUGGESTED]


def not_o_extents(rec: DocRecord) -> list[tuple[int, int]]:
    """(start, end) of what no token in it may be O for: the unchecked suggestions, and every span a
    person accepted (those placed as entities hold their tokens anyway; one left out, off token
    boundaries or overlapping another, is still a person's "entity here", never a non-entity)."""
    return unchecked_extents(rec) + [(row[1], row[2]) for row in span_rows(rec) if row[5] != SUGGESTED]


def touched(recs: list[DocRecord], starts, ends):
    """For each token of the batch, whether an extent of `not_o_extents` touches it: the tokens from
    the first ending after the extent's start to the last starting before its end."""
    n = len(starts)
    found = [(d, s, e) for d, rec in enumerate(recs) for s, e in not_o_extents(rec)]
    if not found or not n:
        return numpy.zeros(n, dtype=bool)
    offs = numpy.concatenate(([0], numpy.cumsum([len(r.text) for r in recs])[:-1])).astype(numpy.int64)
    d, s, e = (numpy.fromiter(col, numpy.int64, len(found)) for col in zip(*found))
    first = numpy.searchsorted(ends, s + offs[d], side="right")
    after = numpy.searchsorted(starts, e + offs[d], side="left")
    keep = first < after
    runs = numpy.bincount(first[keep], minlength=n + 1)[:n] - numpy.bincount(after[keep], minlength=n + 1)[:n]
    return numpy.cumsum(runs) > 0


def place(recs: list[DocRecord], starts, ends, pdoc, report: FormatReport):
    """place_spans for a batch: rows of (first token, last token + 1) of the accepted spans placed, those
    spans' labels and kb_ids, and {document: [(i, j, span row)]} of the suggestions; misaligned ones
    reported. Spans are `span_rows`."""
    per_doc = [span_rows(r) for r in recs]
    counts = numpy.fromiter(map(len, per_doc), numpy.int64, len(recs))
    m, n = int(counts.sum()), len(starts)
    if not m:
        return numpy.zeros((0, 2), dtype=numpy.int64), [], [], {}
    rows = list(chain.from_iterable(per_doc))
    _, ss, se, labels, kbs, statuses, *_ = zip(*rows)  # (a stored row has its note last)
    sdoc = numpy.repeat(numpy.arange(len(recs)), counts)
    ss, se = numpy.fromiter(ss, numpy.int64, m), numpy.fromiter(se, numpy.int64, m)
    sugg = numpy.fromiter(map(SUGGESTED.__eq__, statuses), bool, m)
    rank = {label: i for i, label in enumerate(sorted(set(labels)))}
    order = numpy.lexsort((numpy.fromiter(map(rank.__getitem__, labels), numpy.int64, m), ss - se, ss, sdoc))
    sdoc, ss, se, sugg = sdoc[order], ss[order], se[order], sugg[order]
    offs = numpy.concatenate(([0], numpy.cumsum([len(r.text) for r in recs])[:-1]))
    gs, ge = ss + offs[sdoc], se + offs[sdoc]
    i, j = numpy.searchsorted(starts, gs), numpy.searchsorted(starts, ge)
    if n:
        ic, jc = numpy.minimum(i, n - 1), numpy.maximum(j - 1, 0)
        ok = ((i < n) & (starts[ic] == gs) & (pdoc[ic] == sdoc) & (j > 0) & (pdoc[jc] == sdoc)
              & (ends[jc] == ge) & (i < j))
    else:
        ok = numpy.zeros(m, dtype=bool)
    accepted = numpy.flatnonzero(ok & ~sugg)
    keep = numpy.ones(len(accepted), dtype=bool)
    ia, ja = i[accepted], j[accepted]
    if len(accepted) > 1 and (ia[1:] < ja[:-1]).any():  # overlaps: the earlier, then longer one wins
        taken = -1
        for k, (a, b) in enumerate(zip(ia.tolist(), ja.tolist())):
            if a < taken:
                keep[k] = False
            else:
                taken = b
    wrong = ~ok
    wrong[accepted[~keep]] = True
    accepted = accepted[keep]
    for k in numpy.flatnonzero(wrong)[numpy.lexsort((numpy.flatnonzero(wrong), sugg[wrong], sdoc[wrong]))].tolist():
        rec, (_, start, end, *_rest) = recs[sdoc[k]], rows[order[k]]
        report.misaligned.append((rec.name, start, end, rec.text[start:end]))
    suggested: dict[int, list] = {}
    for k in numpy.flatnonzero(ok & sugg).tolist():
        suggested.setdefault(int(sdoc[k]), []).append((int(i[k]), int(j[k]), rows[order[k]]))
    report.spans += len(accepted) + sum(map(len, suggested.values()))
    placed = order[accepted].tolist()
    return (numpy.stack((i[accepted], j[accepted]), axis=1), [labels[k] for k in placed], [kbs[k] for k in placed],
            suggested)
