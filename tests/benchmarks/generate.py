"""A big project made up, the same every time (no network): N articles of seeded random sentences
from the seed texts' vocabulary, ~150 words each, with ~30 spans each in one or more layers.

    python tests/benchmarks/generate.py --docs 100000 --jsonl big.jsonl [--project big.db] [--layers 1] [--review]

`--jsonl` writes Prodigy-style lines for `annotator import`; `--project` builds a project file
directly with raw SQL (minutes faster than importing, for benchmarks that need a big project, not an
import). Spans are on word boundaries, in layers named "layer1", "layer2", ...; the first is also the
model layer's copy when `--model-layer` is given. With `--review` every layer is a person's finished
version of each article (state done) that differs from the others as colleagues' work does: a span
dropped, a word longer, relabelled, an extra span (see `person_version`), for agreement and adjudication.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import struct
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from annotator.core.db.store import Store  # noqa: E402
from annotator.core.db.provenance_counts import rebuild  # noqa: E402
from annotator.core.review import tallies  # noqa: E402
from annotator.core.resources import seeds_dir  # noqa: E402

LABELS = ("PERSON", "ORG", "GPE", "DATE", "NORP")
WORDS_PER_DOC = 150
SPANS_PER_DOC = 30


def vocabulary() -> list[str]:
    """The seed texts' words, each once, in a fixed order."""
    words: dict[str, None] = {}
    for path in sorted(seeds_dir().glob("*.txt")):
        for w in re.findall(r"[A-Za-z][A-Za-z'-]*", path.read_text(encoding="utf-8")):
            words.setdefault(w)
    return list(words)


def article(rng: random.Random, vocab: list[str], i: int, n_words: int = WORDS_PER_DOC,
            n_spans: int = SPANS_PER_DOC) -> tuple[str, list[tuple[int, int, str]]]:
    """A text of ~n_words words in sentences, unique by its first line, and spans on whole words."""
    words = [f"Report{i}"]
    while len(words) < n_words:
        sentence = rng.choices(vocab, k=rng.randint(8, 20))
        sentence[0] = sentence[0].capitalize()
        sentence[-1] += "."
        words += sentence
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    text = " ".join(words)
    picked = sorted(rng.sample(range(1, len(words)), min(n_spans, len(words) - 1)))
    spans = []
    for k in picked:
        end = starts[k] + len(words[k].rstrip("."))
        if end > starts[k]:
            spans.append((starts[k], end, rng.choice(LABELS)))
    return text, spans


def articles(n_docs: int, seed: int = 1, n_spans: int = SPANS_PER_DOC
             ) -> Iterator[tuple[str, str, list[tuple[int, int, str]]]]:
    """(name, text, spans) for each of n_docs articles."""
    rng, vocab = random.Random(seed), vocabulary()
    for i in range(n_docs):
        text, spans = article(rng, vocab, i, n_spans=n_spans)
        yield f"doc{i:06d}", text, spans


def write_jsonl(path: Path, n_docs: int, seed: int = 1, layer: str | None = None) -> tuple[int, int]:
    """JSONL for import; returns (documents, spans)."""
    n_spans = 0
    with open(path, "w", encoding="utf-8") as fh:
        for name, text, spans in articles(n_docs, seed):
            task = {"text": text, "meta": {"name": name},
                    "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]}
            if layer:
                task["_annotator_id"] = layer
            fh.write(json.dumps(task, ensure_ascii=False) + "\n")
            n_spans += len(spans)
    return n_docs, n_spans


def _tokens(text: str) -> bytes:
    """Whitespace tokens packed as core/text.pack_tokens does (little-endian int32 pairs)."""
    pairs = [x for m in re.finditer(r"\S+", text) for x in m.span()]
    return struct.pack(f"<{len(pairs)}i", *pairs)


def person_version(rng: random.Random, text: str, spans: list[tuple[int, int, str]]
                   ) -> list[tuple[int, int, str]]:
    """One annotator's version of an article's spans: most kept as they are; 4% left out, 5% one word
    longer, 3% another label; in 30% of the articles one extra one-word span."""
    out = []
    for s, e, lab in spans:
        r = rng.random()
        if r < 0.04:
            continue
        if r < 0.09:
            nxt = text.find(" ", e + 1)
            e = nxt if nxt > 0 else len(text)
        elif r < 0.12:
            lab = rng.choice(LABELS)
        out.append((s, e, lab))
    if rng.random() < 0.3:
        s = text.find(" ", rng.randrange(len(text))) + 1
        e = text.find(" ", s)
        if 0 < s < e and not any(a < e and s < b for a, b, _ in out):
            out.append((s, e, rng.choice(LABELS)))
            out.sort()
    return out


def write_project(path: Path, n_docs: int, seed: int = 1, layers: int = 1, model_layer: bool = False,
                  opened: bool = True, spans_per_doc: int = SPANS_PER_DOC, review: bool = False
                  ) -> tuple[int, int]:
    """A project file at the current schema filled with raw SQL; returns (documents, spans).

    Each layer gets every document's spans (the later layers with a third of the labels changed)
    and, with `opened`, an "in_progress" state per document. With `review`, each layer is instead a
    person's finished version (`person_version`, state "done") and the labels are in the scheme.
    Then the provenance and agreement tables are filled."""
    import hashlib

    Store(path).close()  # schema, pragmas and application id as the app makes them
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    now = datetime.now(timezone.utc).isoformat(sep=" ")
    names = [f"layer{k + 1}" for k in range(layers)]
    layer_ids = []
    if review:
        con.executemany("INSERT INTO labels (name, colour, description, position) VALUES (?, '#888888', '', ?)",
                        [(label, i) for i, label in enumerate(LABELS)])
    for name in names:
        layer_ids.append(con.execute("INSERT INTO annotators (name, role, is_model) VALUES (?, 'annotator', 0)",
                                     (name,)).lastrowid)
    model_id = None
    if model_layer:
        model_id = con.execute("INSERT INTO annotators (name, role, is_model) VALUES ('model', 'annotator', 1)"
                               ).lastrowid
    n_spans = 0
    rng = random.Random(seed + 1)
    doc_rows, span_rows, state_rows = [], [], []

    def flush():
        con.executemany("INSERT INTO documents (id, name, title, text, text_sha256, tokens, meta, imported_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, '{}', ?)", doc_rows)
        con.executemany('INSERT INTO spans (document_id, annotator_id, start, "end", label, nil, referent_note, '
                        "origin, status, created_at, updated_at, version) "
                        "VALUES (?, ?, ?, ?, ?, 0, '', ?, ?, ?, ?, 1)", span_rows)
        con.executemany("INSERT INTO document_states (document_id, annotator_id, status, seconds_spent, updated_at) "
                        "VALUES (?, ?, ?, 0, ?)", state_rows)
        doc_rows.clear(), span_rows.clear(), state_rows.clear()

    for doc_id, (name, text, spans) in enumerate(articles(n_docs, seed, spans_per_doc), start=1):
        doc_rows.append((doc_id, name, text.split(" ", 1)[0], text, hashlib.sha256(text.encode()).hexdigest(),
                         _tokens(text), now))
        for k, layer in enumerate(layer_ids):
            if review:
                mine = person_version(rng, text, spans)
            else:
                mine = [(s, e, rng.choice(LABELS) if k and rng.random() < 0.33 else lab) for s, e, lab in spans]
            span_rows.extend((doc_id, layer, s, e, lab, "import", "accepted", now, now) for s, e, lab in mine)
            if opened or review:
                state_rows.append((doc_id, layer, "done" if review else "in_progress", now))
            n_spans += len(mine)
        if model_id is not None:
            span_rows.extend((doc_id, model_id, s, e, lab, "model", "suggested", now, now) for s, e, lab in spans)
            n_spans += len(spans)
        if len(doc_rows) >= 2000:
            flush()
    flush()
    con.commit()
    con.close()
    store = Store(path)
    try:
        with store.atomic() as s:  # rows written behind the app's back: count their provenance, as an upgrade does
            rebuild(s)
        with store.atomic() as s:  # and their agreement
            tallies.rebuild(s)
    finally:
        store.close()
    return n_docs, n_spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jsonl", type=Path)
    parser.add_argument("--project", type=Path)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--model-layer", action="store_true")
    parser.add_argument("--review", action="store_true", help="layers as people's finished, differing versions")
    parser.add_argument("--spans", type=int, default=SPANS_PER_DOC, help="per document and layer (project)")
    args = parser.parse_args()
    if args.jsonl:
        print("jsonl: %d documents, %d spans" % write_jsonl(args.jsonl, args.docs, args.seed))
    if args.project:
        print("project: %d documents, %d spans" % write_project(args.project, args.docs, args.seed, args.layers,
                                                               args.model_layer, spans_per_doc=args.spans,
                                                               review=args.review))


if __name__ == "__main__":
    main()
