"""Importing a spaCy DocBin of 100,000 generated documents in bounded memory (issue 18, target 1:
peak RSS <= 1 GB for any input size), against spaCy's own whole-file reading.

    python tests/benchmarks/bench_docbin_import.py --out report.json [--quick] [--docs 100000]
        [--docbin file.spacy] [--raw-docs 10000 100000]

- the DocBin: a generated project (generate.write_project, 30 spans a document) exported by
  `annotator export --format spacy`, or --docbin, a file made so before (its documents counted).
- import: `annotator import file.spacy --no-model` into a new project: seconds of the whole command,
  peak RSS (target <= 1024 MB), documents and spans stored.
- read: the streaming reader alone (`spacy_docbin.stream`, each record dropped): seconds of the
  reading (modules loaded before), peak RSS.
- the same records written as JSONL and imported the same way: the storing is common to both paths,
  so the difference is what reading a DocBin costs over reading JSON lines.
- raw floor: spaCy's `DocBin.from_bytes` + `get_docs` (each Doc dropped) on a DocBin of the first
  K documents for each K of --raw-docs (written by spacy_docbin.write from the file's records):
  seconds of the reading, scaled per document to the whole file, and peak RSS, what reading the whole file at once
  needs (the reader before streaming held that and every Doc besides, and refused past 512 MB unpacked).
Each is a process of its own; peak RSS is resource.getrusage(RUSAGE_CHILDREN).ru_maxrss of a process
that runs only it. The host's load average is recorded: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from itertools import islice
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

import generate  # noqa: E402
import isolation  # noqa: E402
from bench_scale import CLI, PEAK  # noqa: E402

from annotator.core.db.store import Store  # noqa: E402
from annotator.formats import jsonl, spacy_docbin  # noqa: E402
from annotator.io import exporting  # noqa: E402

# the two readers print the seconds of their work alone (modules loaded before): the raw one's would be
# mostly loading spaCy on a small file
READ = ("import sys, time\nfrom annotator.formats import spacy_docbin\nt = time.perf_counter()\n"
        "for _ in spacy_docbin.stream(sys.argv[1]): pass\nprint(time.perf_counter() - t)")
RAW = ("import sys, time\nfrom pathlib import Path\nfrom spacy.tokens import DocBin\nfrom spacy.vocab import Vocab\n"
       "t = time.perf_counter()\n"
       "for _ in DocBin(store_user_data=True).from_bytes(Path(sys.argv[1]).read_bytes()).get_docs(Vocab()): pass\n"
       "print(time.perf_counter() - t)")


def peak(cmd: list[str], own_time: bool = False) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of `cmd` run alone in a fresh process tree; `own_time`: the seconds
    the command printed last, else the whole run's."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK, *cmd], check=True, capture_output=True, text=True,
                         env={**isolation.as_installed(dict(os.environ)), "PYTHONPATH": str(ROOT)}).stdout.strip().splitlines()
    seconds = float(out[-2]) if own_time else time.perf_counter() - t
    return seconds, round(int(out[-1]) / 1024)


def unpacked_mb(path: Path) -> int:
    d, size = zlib.decompressobj(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            size += len(d.decompress(chunk))
            while d.unconsumed_tail:
                size += len(d.decompress(d.unconsumed_tail))
    return size >> 20


def make_docbin(tmp: Path, n: int) -> Path:
    db, out = tmp / "export.db", tmp / "big.spacy"
    generate.write_project(db, n)
    store = Store(db)
    exporting.export(store, "spacy", out, layer="layer1", status="all")
    store.close()
    db.unlink()
    return out


def bench(tmp: Path, docbin: Path, raw_docs: list[int]) -> dict:
    n = spacy_docbin.count(docbin)
    load = os.getloadavg()
    read_s, read_mb = peak([sys.executable, "-c", READ, str(docbin)], own_time=True)
    db = tmp / "imported.db"
    import_s, import_mb = peak([sys.executable, "-c", CLI, "--db", str(db), "--user", "bench", "import", str(docbin),
                                "--no-model"])
    with sqlite3.connect(db) as con:
        docs, spans = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("documents", "spans"))
    db.unlink()
    assert docs == n, (docs, n)
    same = tmp / "same.jsonl"  # the same records as JSONL: what storing them costs by the other path
    jsonl.write(spacy_docbin.stream(docbin), same)
    jsonl_s, jsonl_mb = peak([sys.executable, "-c", CLI, "--db", str(db), "--user", "bench", "import", str(same),
                              "--no-model"])
    db.unlink()
    same.unlink()
    raws = []
    for k in sorted({min(k, n) for k in raw_docs}):
        part = docbin if k == n else tmp / f"first{k}.spacy"
        if k != n:
            spacy_docbin.write(islice(spacy_docbin.stream(docbin), k), part)
        raw_s, raw_mb = peak([sys.executable, "-c", RAW, str(part)], own_time=True)
        raws.append({"documents": k, "unpacked_mb": unpacked_mb(part), "seconds": round(raw_s, 2),
                     "seconds_scaled_to_file": round(raw_s * n / k, 2), "peak_rss_mb": raw_mb})
    floor = raws[-1]["seconds_scaled_to_file"]
    return {"documents": n, "spans": spans, "file_mb": docbin.stat().st_size >> 20, "unpacked_mb": unpacked_mb(docbin),
            "import_seconds": round(import_s, 2), "import_peak_rss_mb": import_mb, "target_peak_rss_mb_max": 1024,
            "read_seconds": round(read_s, 2), "read_peak_rss_mb": read_mb,
            "raw_from_bytes_get_docs": raws, "read_vs_raw": round(read_s / floor, 2),
            "import_vs_raw": round(import_s / floor, 2), "jsonl_import_seconds": round(jsonl_s, 2),
            "jsonl_import_peak_rss_mb": jsonl_mb, "import_vs_jsonl_import": round(import_s / jsonl_s, 2),
            "load_average_before": load,
            "load_average_after": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="300 documents: a smoke run, figures meaningless")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--docbin", type=Path, help="a DocBin exported before (else one is generated)")
    parser.add_argument("--raw-docs", type=int, nargs="*", default=[10_000],
                        help="documents of the raw floor's DocBins (the whole file needs GBs at 100,000)")
    args = parser.parse_args()
    n = 300 if args.quick else args.docs
    with tempfile.TemporaryDirectory() as tmp:
        docbin = args.docbin or make_docbin(Path(tmp), n)
        result = bench(Path(tmp), docbin, [100] if args.quick else args.raw_docs)
    text = json.dumps({"docbin_import": result}, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
