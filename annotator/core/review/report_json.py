"""An agreement report as JSON text, written from its columns (`annotator agreement --json`).

Per document it is 10^5 rows at 100k documents (24 MB): they go from the report's columns through one
string template, float repr as json writes a float, with no dict, Measures object or encoder call
per row (0.26 s for 10^5 rows; `to_json()` then an encoder call per row took 0.55 s plus 0.4 s for
the Measures objects, `json.dumps(indent=2)` 2 s). The text is what `json.dumps(report.to_json())`
gives, laid out one line per pair, label and document.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Iterator

import numpy as np

if TYPE_CHECKING:  # agreement.py imports this module: type names only
    from annotator.core.review.agreement import AgreementReport, MeasureTable

CHUNK = 10_000  # rows a piece: the writer streams, the whole text is never one string


def json_pieces(report: AgreementReport) -> Iterator[str]:
    """The report's JSON text in pieces: `{pairs, overall, by_label, by_document}`."""
    line = json.JSONEncoder(separators=(", ", ": ")).encode
    pairs = "".join(",\n    " + line(p.to_json()) for p in report.pairs)
    yield '{\n  "pairs": [' + pairs[1:] + "\n  ],\n"
    yield f'  "overall": {line(report.overall.to_json())},\n'
    for key in ("by_label", "by_document"):
        yield f'  "{key}": {{'
        yield from _rows(getattr(report, key))
        yield "\n  },\n" if key == "by_label" else "\n  }\n}\n"


def _rows(table: MeasureTable) -> Iterator[str]:
    """The table's rows as lines `    "name": {...}`, each after ",\n" (the first after "\n")."""
    row = "    %s: {" + ", ".join(f'"{k}": %s' for k in table.FIELDS) + f', "n_docs": {table.n_docs}}}'
    for at in range(0, len(table), CHUNK):
        names = map(encode_basestring_ascii, table.names[at:at + CHUNK])  # as json.dumps writes a key
        cols = []
        for c in table.columns:
            part = c[at:at + CHUNK]
            text = list(map(repr, part.tolist()))  # json's float text is float.__repr__
            for k in np.flatnonzero(np.isnan(part)).tolist():
                text[k] = "null"
            cols.append(text)
        yield ("\n" if at == 0 else ",\n") + ",\n".join(map(row.__mod__, zip(names, *cols)))
