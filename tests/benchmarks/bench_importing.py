"""Import + pre-annotate + store, against raw `nlp.pipe` (NER only) on the same texts in the same run.

    python tests/benchmarks/bench_importing.py --out report.json [--quick]

Target: our words/s ≥ 0.9 × raw nlp.pipe words/s. Five rounds, each timing raw then ours; the ratio is
the median of the rounds' ratios (a host that changes speed during the run moves it less than a ratio
of the two sides' best times, which may come from different moments).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from annotator.core.db.store import Store
from annotator.core.nlp import BATCH_SIZE, load_model
from annotator.core.resources import seeds_dir
from annotator.io.importing import import_paths

TARGET = 0.9


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
    result = {"importing": {
        "documents": n_docs, "words": words,
        "raw_nlp_pipe_words_per_s": round(words / statistics.median(raw)),
        "import_words_per_s": round(words / statistics.median(ours)),
        "ratio": round(statistics.median(r / o for r, o in zip(raw, ours)), 3), "target_ratio_min": TARGET,
        "round_ratios": [round(r / o, 3) for r, o in zip(raw, ours)],
    }}
    print(json.dumps(result, indent=2))
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
