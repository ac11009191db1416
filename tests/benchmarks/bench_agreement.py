"""Benchmark: agreement over 10,000 documents x 3 annotators x ~30 spans (~300 tokens each).

    python tests/benchmarks/bench_agreement.py --out report.json [--quick] [--repeat N] [--check]

Times `annotator.core.agreement.compute` on generated layers (inputs built beforehand, not timed)
and merges {"agreement": {...}} into the JSON file at --out. `seconds` is the median of the runs;
also reported: the first run of the process (it pays for fresh memory) and the median CPU time
(less disturbed by other work on the machine). --quick runs 1,000 documents once: a smoke run,
not judged against the target (`within_target` is null). --check exits 1 when a full run's
`seconds` is over the target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from annotator.core.agreement import compute  # noqa: E402
from annotator.core.records import SpanRecord  # noqa: E402

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
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    report["agreement"] = result
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"agreement: {result['seconds']} s for {n_docs} documents (target {TARGET_SECONDS} s for "
          f"{FULL_DOCS}; first run {result['first_run_seconds']} s, CPU {result['cpu_seconds']} s)")
    return 1 if args.check and result["within_target"] is False else 0


if __name__ == "__main__":
    sys.exit(main())
