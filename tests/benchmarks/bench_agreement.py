"""Benchmark: agreement over 10,000 documents x 3 annotators x ~30 spans (~300 tokens each).

    python tests/benchmarks/bench_agreement.py --out report.json [--quick] [--repeat N] [--check]

Two measurements, written as {"agreement": {...}} to the JSON file at --out:

- compute only, in memory: `annotator.core.agreement.compute` on generated layers of SpanRecords
  and token lists (inputs built beforehand, not timed). `seconds` is the median of the runs; also
  reported: the first run of the process (it pays for fresh memory) and the median CPU time (less
  disturbed by other work on the machine).
- from a project (`project`): the same layers written to a generated SQLite project file (bulk
  insert, not timed), then `review.agreement_inputs` (load: spans as columns, tokens as numpy arrays
  straight from the packed bytes) and `compute` on what it loaded. `load_seconds` is loading only,
  `compute_seconds` compute only on the loaded columns, `total_seconds` both together (what
  `annotator agreement` spends before printing). `same_numbers` checks both paths agree.

The target (2 s) is what a user waits for: `project.within_target` judges `project.total_seconds`
(loading and computing); the top-level `within_target` judges the in-memory `seconds`. --quick runs 1,000 documents once: a smoke run, not judged
(`within_target` is null). --check exits 1 when a full run's compute is over the target.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from annotator.core.db.store import Store  # noqa: E402
from annotator.core.records import SpanRecord  # noqa: E402
from annotator.core.review.agreement import compute  # noqa: E402
from annotator.core.review.inputs import agreement_inputs  # noqa: E402
from annotator.core.text import pack_tokens  # noqa: E402

TARGET_SECONDS = 2.0
FULL_DOCS = 10_000
LABELS = ["PER", "ORG", "LOC", "MISC"]


def generate(n_docs, n_annotators=3, spans_per_doc=30, tokens_per_doc=300, seed=0):
    """Layers that mostly agree: each annotator drops, moves, relabels or relinks a few spans."""
    rng = random.Random(seed)
    names = [f"annotator{i + 1}" for i in range(n_annotators)]
    layers = {n: {} for n in names}
    tokens = {}
    step = tokens_per_doc // spans_per_doc
    for d in range(n_docs):
        doc = f"doc{d:05d}"
        toks, pos = [], 0
        for _ in range(tokens_per_doc):
            length = rng.randint(1, 8)
            toks.append((pos, pos + length))
            pos += length + 1
        tokens[doc] = toks
        gold = []  # (first token, last token, label, kb_id)
        for k in range(spans_per_doc):
            first = k * step + rng.randint(0, step - 4)
            gold.append((first, first + rng.randint(0, 2), rng.choice(LABELS),
                         rng.choice([None, "NIL", f"Q{rng.randint(1, 500)}"])))
        for name in names:
            spans = []
            for first, last, label, kb in gold:
                r = rng.random()
                if r < 0.04:
                    continue
                if r < 0.09:
                    last += 1  # one token longer
                elif r < 0.12:
                    label = rng.choice(LABELS)
                elif r < 0.15:
                    kb = rng.choice([None, "NIL", "Q0"])
                spans.append(SpanRecord(toks[first][0], toks[last][1], label, kb))
            if rng.random() < 0.3:
                t = rng.randrange(tokens_per_doc)
                spans.append(SpanRecord(toks[t][0], toks[t][1], rng.choice(LABELS)))
            layers[name][doc] = spans
    return layers, tokens


def write_project(path, layers, tokens):
    """The layers as a project file: schema through `Store`, rows by bulk insert (sqlite3)."""
    Store(path).close()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    con = sqlite3.connect(path)
    with con:
        docs = []
        for d, (name, toks) in enumerate(tokens.items(), start=1):
            text = " ".join("a" * (end - start) for start, end in toks) + "\n" + name
            docs.append((d, name, name, text, hashlib.sha256(text.encode()).hexdigest(), pack_tokens(toks), "{}", now))
        con.executemany("INSERT INTO documents (id, name, title, text, text_sha256, tokens, meta, imported_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", docs)
        doc_id = {name: d for d, name, *_ in docs}
        con.executemany("INSERT INTO labels (name, colour, description, position) VALUES (?, '#888888', '', ?)",
                        [(label, i) for i, label in enumerate(LABELS)])
        kbs = sorted({s.kb_id for layer in layers.values() for spans in layer.values() for s in spans
                      if s.kb_id not in (None, "NIL")})
        con.executemany("INSERT INTO entities (id, kb_id, name, type, description, created_at, version) "
                        "VALUES (?, ?, ?, '', '', ?, 1)", [(i, kb, kb, now) for i, kb in enumerate(kbs, start=1)])
        entity = {kb: i for i, kb in enumerate(kbs, start=1)}
        for a, (name, layer) in enumerate(sorted(layers.items()), start=1):
            con.execute("INSERT INTO annotators (id, name, role, is_model) VALUES (?, ?, 'annotator', 0)", (a, name))
            con.executemany("INSERT INTO document_states (document_id, annotator_id, status, seconds_spent, "
                            "updated_at) VALUES (?, ?, 'done', 0, ?)", [(doc_id[d], a, now) for d in layer])
            con.executemany(
                'INSERT INTO spans (document_id, annotator_id, start, "end", label, entity_id, nil, referent_note, '
                "origin, status, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, '', 'human', "
                "'accepted', ?, ?, 1)",
                [(doc_id[d], a, s.start, s.end, s.label, entity.get(s.kb_id), s.kb_id == "NIL", now, now)
                 for d, spans in layer.items() for s in spans])
    con.close()


def run_project(layers, tokens, repeat, expected):
    """Load from a generated project file and compute; see the module docstring."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        start = time.perf_counter()
        write_project(path, layers, tokens)
        generated = time.perf_counter() - start
        store = Store(path)
        loads, computes, totals = [], [], []
        try:
            for _ in range(repeat):
                start = time.perf_counter()
                with store.Session() as s:
                    loaded = agreement_inputs(s)
                loaded_at = time.perf_counter()
                report = compute(*loaded)
                end = time.perf_counter()
                loads.append(loaded_at - start)
                computes.append(end - loaded_at)
                totals.append(end - start)
        finally:
            store.close()
    total = statistics.median(totals)
    return {
        "load_seconds": round(statistics.median(loads), 3),
        "compute_seconds": round(statistics.median(computes), 3),
        "total_seconds": round(total, 3),
        "within_target": total <= TARGET_SECONDS if len(tokens) == FULL_DOCS else None,
        "runs_total_seconds": [round(t, 3) for t in totals],
        "generate_seconds": round(generated, 3),
        "same_numbers": report.to_json() == expected,
    }


def run(n_docs, repeat):
    layers, tokens = generate(n_docs)
    runs, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        report = compute(layers, tokens)
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    start = time.perf_counter()
    json.dumps(report.to_json())
    to_json = time.perf_counter() - start
    seconds = statistics.median(runs)
    return {
        "seconds": round(seconds, 3),
        "target_seconds": TARGET_SECONDS,
        "within_target": seconds <= TARGET_SECONDS if n_docs == FULL_DOCS else None,  # quick: not judged
        "first_run_seconds": round(runs[0], 3),
        "runs_seconds": [round(r, 3) for r in runs],
        "cpu_seconds": round(statistics.median(cpu), 3),  # less sensitive to other load
        "to_json_seconds": round(to_json, 3),
        "documents": n_docs,
        "annotators": len(layers),
        "spans": sum(len(s) for layer in layers.values() for s in layer.values()),
        "tokens": sum(len(t) for t in tokens.values()),
        "overall": report.overall.to_json(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "project": run_project(layers, tokens, repeat, report.to_json()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON report to write or update")
    parser.add_argument("--quick", action="store_true", help="1,000 documents, one run (smoke test)")
    parser.add_argument("--repeat", type=int, default=None, help="runs to time (default 5, quick 1)")
    parser.add_argument("--check", action="store_true", help="exit 1 when over the target")
    args = parser.parse_args(argv)
    n_docs = FULL_DOCS // 10 if args.quick else FULL_DOCS
    result = run(n_docs, args.repeat or (1 if args.quick else 5))
    args.out.write_text(json.dumps({"agreement": result}, indent=2) + "\n")
    project = result["project"]
    print(f"agreement, compute only (in-memory records): {result['seconds']} s for {n_docs} documents "
          f"(target {TARGET_SECONDS} s for {FULL_DOCS}; first run {result['first_run_seconds']} s, "
          f"CPU {result['cpu_seconds']} s)")
    print(f"agreement from an SQLite project: load {project['load_seconds']} s + compute only "
          f"{project['compute_seconds']} s = including loading {project['total_seconds']} s "
          f"(same numbers: {project['same_numbers']})")
    over = result["within_target"] is False or project["within_target"] is False
    return 1 if args.check and (over or not project["same_numbers"]) else 0


if __name__ == "__main__":
    sys.exit(main())
