"""A knowledge base imported after the articles: `kb_transfer.import_kb` of the starter KB on a
generated project of 100,000 documents whose 3,000,000 model suggestions have no link yet.

    python tests/benchmarks/bench_kb_after.py --out report.json [--quick] [--docs N]

The project is made by generate.py (raw SQL, no layer but the model's). Reported: the import's time
(its entities, then the suggested links it gives, a batch of documents at a time), how many mentions
got a link, and the peak resident memory before and after (bounded: the texts are never read whole,
only each span's surface). The baseline, timed in the same run on a raw sqlite3 connection, is one
pass reading every unchecked suggestion's surface text: what any suggestion pass must read.
Writes {"kb_after": {...}}.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import write_project  # noqa: E402

from annotator.core.db.store import Store  # noqa: E402
from annotator.core.resources import seeds_dir  # noqa: E402
from annotator.io import kb_transfer  # noqa: E402

TARGET_PEAK_GROWTH_MB = 200  # batches of documents: memory does not grow with the corpus
SURFACES = ('SELECT substr(d.text, s.start + 1, s."end" - s.start) FROM spans s JOIN documents d '
            "ON d.id = s.document_id WHERE s.status = 'suggested' AND s.entity_id IS NULL")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: Path) -> dict:
    """The import on the project at `path`, in this process (fresh: its peak memory is the import's)."""
    store = Store(path)
    before = peak_mb()
    t = time.perf_counter()
    report = kb_transfer.import_kb(store, seeds_dir() / kb_transfer.STARTER_KB)
    seconds = time.perf_counter() - t
    after = peak_mb()
    store.close()
    return {"entities": len(report.added), "linked": report.suggested_links, "seconds": round(seconds, 2),
            "peak_rss_mb_before": round(before), "peak_rss_mb_after": round(after)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true", help="500 documents: a smoke run")
    parser.add_argument("--docs", type=int)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process's project
    args = parser.parse_args()
    if args.measure:
        Path(args.out).write_text(json.dumps(measure(args.measure)))
        return 0
    docs = args.docs or (500 if args.quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="annotator-bench-kb-") as folder:
        path = Path(folder) / "big.db"
        _, spans = write_project(path, docs, layers=0, model_layer=True, opened=False)
        con = sqlite3.connect(path)
        t = time.perf_counter()
        read = sum(1 for _ in con.execute(SURFACES))
        baseline = time.perf_counter() - t
        con.close()
        child = Path(folder) / "measured.json"  # generating the project costs memory the import must not be blamed for
        subprocess.run([sys.executable, __file__, "--measure", str(path), "--out", str(child)], check=True)
        measured = json.loads(child.read_text())
    result = {"documents": docs, "suggestions": spans, "surfaces_read": read, **measured,
              "baseline_read_seconds": round(baseline, 2),
              "ratio": round(measured["seconds"] / max(baseline, 1e-9), 1),
              "target_peak_growth_mb_max": TARGET_PEAK_GROWTH_MB}
    print(json.dumps(result))
    Path(args.out).write_text(json.dumps({"kb_after": result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
