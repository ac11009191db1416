"""Import + pre-annotate + store, against raw `nlp.pipe` (NER only) on the same texts in the same run.

    python tests/benchmarks/bench_importing.py --out report.json [--quick]

Target: our words/s ≥ 0.9 × raw nlp.pipe words/s. Five rounds, each timing raw then ours; the ratio is
the median of the rounds' ratios (a host that changes speed during the run moves it less than a ratio
of the two sides' best times, which may come from different moments).

Parallel (issue 18, target 2): an import big enough for worker processes (PARALLEL_MIN documents or
more; one per core) against single-process raw nlp.pipe on the same texts, and raw nlp.pipe with as
many processes as the import used (the ceiling). Target: ≥ 1.6 × single-process raw on 2 cores.
Three rounds, median of the rounds' ratios. A busy host hides it: the figure needs idle cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from annotator.core.db.store import Store
from annotator.core.nlp import BATCH_SIZE, PARALLEL_MIN, load_model, processes_for
from annotator.core.resources import seeds_dir
from annotator.io.importing import import_paths

TARGET = 0.9
PARALLEL_TARGET = 1.6


def corpus(folder: Path, n_docs: int) -> tuple[list[Path], int]:
    """n_docs distinct articles made from the seeds (a numbered line keeps each text unique)."""
    seeds = [p.read_text(encoding="utf-8") for p in sorted(seeds_dir().glob("*.txt"))]
    paths, words = [], 0
    for i in range(n_docs):
        text = f"Report {i}\n\n" + seeds[i % len(seeds)]
        path = folder / f"doc{i:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        words += len(text.split())
    return paths, words


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_docs = 12 if args.quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths, words = corpus(tmp, n_docs)
        texts = [p.read_text(encoding="utf-8") for p in paths]
        nlp = load_model()
        list(nlp.pipe(texts[:4]))  # warm up both sides alike
        raw, ours = [], []
        for round_ in range(5):
            t = time.perf_counter()
            for doc in nlp.pipe(texts, batch_size=BATCH_SIZE):
                [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            raw.append(time.perf_counter() - t)
            store = Store(tmp / f"p{round_}.db")
            t = time.perf_counter()
            report = import_paths(store, paths, nlp=nlp)
            ours.append(time.perf_counter() - t)
            store.close()
            assert len(report.added) == n_docs
    parallel = bench_parallel(args.quick)
    result = {"importing": {
        "documents": n_docs, "words": words,
        "raw_nlp_pipe_words_per_s": round(words / statistics.median(raw)),
        "import_words_per_s": round(words / statistics.median(ours)),
        "ratio": round(statistics.median(r / o for r, o in zip(raw, ours)), 3), "target_ratio_min": TARGET,
        "round_ratios": [round(r / o, 3) for r, o in zip(raw, ours)],
        "parallel": parallel,
    }}
    print(json.dumps(result, indent=2))
    Path(args.out).write_text(json.dumps(result))


def bench_parallel(quick: bool) -> dict:
    n_docs = PARALLEL_MIN if quick else 2 * PARALLEL_MIN
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths, words = corpus(tmp, n_docs)
        texts = [p.read_text(encoding="utf-8") for p in paths]
        nlp, workers = load_model(), processes_for(n_docs)
        list(nlp.pipe(texts[:4]))
        one, ceiling, ours = [], [], []
        for round_ in range(1 if quick else 3):
            for times, n in ((one, 1), (ceiling, workers)):
                t = time.perf_counter()
                for doc in nlp.pipe(texts, batch_size=BATCH_SIZE, n_process=n):
                    [(e.start_char, e.end_char, e.label_) for e in doc.ents]
                times.append(time.perf_counter() - t)
            store = Store(tmp / f"par{round_}.db")
            t = time.perf_counter()
            report = import_paths(store, paths, nlp=nlp)
            ours.append(time.perf_counter() - t)
            store.close()
            assert len(report.added) == n_docs
    return {"documents": n_docs, "words": words, "processes": workers, "cores": os.cpu_count(),
            "raw_one_process_words_per_s": round(words / statistics.median(one)),
            "raw_parallel_words_per_s": round(words / statistics.median(ceiling)),
            "import_words_per_s": round(words / statistics.median(ours)),
            "ratio_to_one_process": round(statistics.median(o / u for o, u in zip(one, ours)), 3),
            "target_ratio_min": PARALLEL_TARGET,
            "load_average_1min": round(os.getloadavg()[0], 2)}


if __name__ == "__main__":
    main()
