"""A hundred thousand articles: import, stats and export of a generated corpus, against the raw limits
measured in the same run, with peak memory of the real commands.

    python tests/benchmarks/bench_scale.py --out report.json [--quick] [--docs 100000] [--project big.db]

- import: `annotator import big.jsonl --no-model` in a subprocess (time, peak RSS) vs the raw limit in
  a subprocess: json.loads of each line, spaCy's blank tokenizer, and executemany of the same rows
  into the same schema. Targets: time ≤ 1.5 × raw, peak RSS ≤ 1 GB.
- stats: `stats()` on a project of N documents × ~15 spans in the model layer and an analyst's layer
  (built with raw SQL by generate.py, its provenance counted once as an upgrade does). Target ≤ 1 s at
  3M spans; the floor in the same run: the raw GROUP BYs of spans per layer, label, status and link
  state, and of document states, on a plain sqlite3 connection. Also: reading the stored provenance,
  the full recount it replaced (core/review/provenance.py `recount`), and one edit's recount of its
  document (`refresh`).
- import memory: peak RSS of `annotator import --no-model` of 10,000 documents into a new project
  (target ≤ 150 MB; also with an empty user cache, and into an existing project), and the floor: a
  process that loads SQLAlchemy's ORM, click and spaCy's tokenizer and tokenises a text. Medians of
  --memory-repeat runs.
- export: `export(jsonl)` of the analyst's layer vs a plain SELECT of the same rows plus json.dumps
  of the same task dicts (built untimed). Target ratio ≥ 0.5; peak RSS of `annotator export`. The
  DocBin export (`export(spacy)`) against the same raw limit: target ≤ 2× its time. Both commands'
  peak RSS ≤ 1 GB (the DocBin is streamed: its peak is a batch's, the same at 10 k and 100 k).
Peak RSS is resource.getrusage(RUSAGE_CHILDREN) of a process that runs only that command.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

import generate  # noqa: E402
import isolation  # noqa: E402

from annotator.core.db.provenance_counts import provenance, refresh  # noqa: E402
from annotator.core.db.store import Store  # noqa: E402
from annotator.core.review.provenance import recount  # noqa: E402
from annotator.core.stats import stats  # noqa: E402
from annotator.formats import jsonl  # noqa: E402
from annotator.io import exporting  # noqa: E402

PEAK = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); " \
       "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
CLI = "import sys; from annotator.cli import main; sys.argv[0] = 'annotator'; main()"
RAW_IMPORT = '''
import hashlib, itertools, json, sqlite3, sys
from datetime import datetime, timezone
from annotator.core.nlp import blank_tokenizer, packed_tokens
con = sqlite3.connect(sys.argv[2])
tok = blank_tokenizer()
now = datetime.now(timezone.utc).isoformat(sep=" ")
con.execute("INSERT INTO annotators (name, role, is_model) VALUES ('import', 'annotator', 0)")
doc_id = 0
def lines():
    with open(sys.argv[1], encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)
def flush(batch):
    global doc_id
    docs, spans, states = [], [], []
    for task, doc in batch:
        doc_id += 1
        docs.append((doc_id, task["meta"]["name"], task["text"][:80], task["text"],
                     hashlib.sha256(task["text"].encode()).hexdigest(), packed_tokens(doc), now))
        spans.extend((doc_id, s["start"], s["end"], s["label"], now, now) for s in task["spans"])
        states.append((doc_id, now))
    con.executemany("INSERT INTO documents (id, name, title, text, text_sha256, tokens, meta, imported_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, '{}', ?)", docs)
    con.executemany('INSERT INTO spans (document_id, annotator_id, start, "end", label, nil, referent_note, origin, '
                    "status, created_at, updated_at, version) VALUES (?, 1, ?, ?, ?, 0, '', 'import', 'accepted', "
                    "?, ?, 1)", spans)
    con.executemany("INSERT INTO document_states (document_id, annotator_id, status, seconds_spent, updated_at) "
                    "VALUES (?, 1, 'in_progress', 0, ?)", states)
batch = []
ts, texts = itertools.tee(lines())
for task, doc in zip(ts, tok.pipe((t["text"] for t in texts), batch_size=64)):
    batch.append((task, doc))
    if len(batch) >= 1000:
        flush(batch); batch = []
flush(batch)
con.commit()
'''


def peak(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of running `cmd` alone in a fresh process tree (the largest of its
    processes: ru_maxrss of the children)."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK, *cmd], check=True, capture_output=True, text=True,
                         env={**isolation.as_installed(dict(os.environ)), "PYTHONPATH": str(ROOT), **(env or {})}).stdout
    return time.perf_counter() - t, round(int(out.strip().splitlines()[-1]) / 1024)


def bench_import(tmp: Path, n: int) -> dict:
    data = tmp / "big.jsonl"
    n_docs, n_spans = generate.write_jsonl(data, n)
    Store(tmp / "raw.db").close()
    raw_s, raw_mb = peak([sys.executable, "-c", RAW_IMPORT, str(data), str(tmp / "raw.db")])
    ours_s, ours_mb = peak([sys.executable, "-c", CLI, "--db", str(tmp / "ours.db"), "--user", "bench", "import",
                            str(data), "--no-model"])
    with sqlite3.connect(tmp / "ours.db") as con:
        stored = con.execute("SELECT count(*) FROM spans").fetchone()[0]
    assert stored == n_spans, (stored, n_spans)
    return {"documents": n_docs, "spans": n_spans, "jsonl_mb": round(data.stat().st_size / 2**20),
            "seconds": round(ours_s, 2), "peak_rss_mb": ours_mb, "raw_seconds": round(raw_s, 2),
            "raw_peak_rss_mb": raw_mb, "time_vs_raw": round(ours_s / raw_s, 2), "target_time_vs_raw_max": 1.5,
            "target_peak_rss_mb_max": 1024}


def bench_import_memory(tmp: Path, n: int, repeat: int) -> dict:
    """Peak RSS of `annotator import --no-model` of n documents (10,000: the peers' comparison) into
    a new project, the target's case: its schema a copy of the empty project in the user cache, and
    with an empty cache (the copy is made first, by Alembic in a child process); into an existing
    project; and the floor: a process that only loads what the import must (SQLAlchemy's ORM, click,
    spaCy's English tokenizer) and tokenises one text. Medians of `repeat` runs, taken in turn."""
    data = tmp / f"mem{n}.jsonl"
    generate.write_jsonl(data, n)
    runs: dict[str, list] = {"new": [], "new_empty_cache": [], "existing": [], "floor": [], "new_seconds": []}

    def ours(db: Path, cache: Path) -> tuple[float, int]:
        try:
            return peak([sys.executable, "-c", CLI, "--db", str(db), "--user", "bench", "import", str(data),
                         "--no-model"], env={"XDG_CACHE_HOME": str(cache)})
        finally:
            for p in db.parent.glob(db.name + "*"):
                p.unlink()

    for i in range(repeat):
        cache = tmp / f"cache{i}"
        runs["new_empty_cache"].append(ours(tmp / f"cold{i}.db", cache)[1])
        seconds, mb = ours(tmp / f"new{i}.db", cache)
        runs["new"].append(mb)
        runs["new_seconds"].append(round(seconds, 2))
        Store(tmp / f"old{i}.db").close()
        runs["existing"].append(ours(tmp / f"old{i}.db", cache)[1])
        runs["floor"].append(peak([sys.executable, "-c",
                                   "import click, sqlalchemy.orm, spacy; spacy.blank('en')('A text.')"])[1])
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {"documents": n, "seconds": med["new_seconds"], "peak_rss_mb": med["new"],
            "new_empty_cache_peak_rss_mb": med["new_empty_cache"], "existing_peak_rss_mb": med["existing"],
            "floor_peak_rss_mb": med["floor"], "target_peak_rss_mb_max": 150, "repeat": repeat,
            "load_average": [round(x, 2) for x in os.getloadavg()], "runs": runs}


def bench_stats_export(tmp: Path, n: int, export_too: bool = True, project: Path | None = None) -> tuple[dict, dict]:
    """`project`: a file built by an earlier run with the same --docs, reused (built there when missing)."""
    db = project or tmp / "project.db"
    t = time.perf_counter()
    if project is not None and project.exists():
        with sqlite3.connect(db) as con:
            n_docs, n_spans = (con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("documents", "spans"))
        assert n_docs == n, f"{project} has {n_docs} documents, not --docs {n}"
    else:
        n_docs, n_spans = generate.write_project(db, n, layers=1, model_layer=True, spans_per_doc=15)
    build = time.perf_counter() - t
    con = sqlite3.connect(db)
    raw = min(sum(timed(lambda q=q: con.execute(q).fetchall()) for q in RAW_STATS) for _ in range(3))
    con.close()
    store = Store(db)
    times = [timed(lambda: stats(store)) for _ in range(3)]
    with store.Session() as s:
        stored = min(timed(lambda: provenance(s)) for _ in range(3))
        full = timed(lambda: recount(s))
        same = provenance(s) == recount(s)
    with store.atomic() as s:
        one = min(timed(lambda: refresh(s, [n // 2 + k])) for k in range(20))
    stat = {"documents": n_docs, "spans": n_spans, "seconds": round(min(times), 3), "target_seconds_max": 1.0,
            "raw_group_by_seconds": round(raw, 3), "ratio_to_raw": round(min(times) / raw, 2),
            "provenance_stored_seconds": round(stored, 3), "provenance_recount_seconds": round(full, 3),
            "provenance_identical": same, "refresh_one_document_ms": round(one * 1000, 2),
            "build_with_provenance_seconds": round(build, 1)}
    print(json.dumps({"stats": stat}, indent=2), flush=True)
    if not export_too:
        store.close()
        return stat, {}

    ids = exporting.document_ids(store, "layer1", "all")  # the generated layers are in progress
    t = time.perf_counter()
    exporting.export(store, "jsonl", tmp / "ours.jsonl", layer="layer1", status="all")
    ours = time.perf_counter() - t
    tasks = [jsonl.to_task(rec) for rec in exporting.records(store, "layer1", ids)]  # untimed
    t, cpu = time.perf_counter(), time.process_time()
    con = sqlite3.connect(db)
    for i in range(0, len(ids), exporting.CHUNK):
        chunk = ids[i:i + exporting.CHUNK]
        marks = ",".join("?" * len(chunk))
        con.execute(f"SELECT id, name, title, text, meta, tokens FROM documents WHERE id IN ({marks}) ORDER BY id",
                    chunk).fetchall()
        con.execute('SELECT s.document_id, s.start, s."end", s.label, s.status, s.nil, e.kb_id FROM spans s '
                    f"LEFT JOIN entities e ON e.id = s.entity_id WHERE s.annotator_id = 1 AND s.document_id IN "
                    f'({marks}) ORDER BY s.document_id, s.start, s."end", s.label', chunk).fetchall()
    with open(tmp / "raw.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for task in tasks:
            fh.write(json.dumps(task, ensure_ascii=False) + "\n")
    raw, raw_cpu = time.perf_counter() - t, time.process_time() - cpu
    del tasks
    store.close()
    same = (tmp / "ours.jsonl").read_bytes() == (tmp / "raw.jsonl").read_bytes()
    cli_s, cli_mb = peak([sys.executable, "-c", CLI, "--db", str(db), "--user", "layer1", "export", "--format", "jsonl",
                          "--out", str(tmp / "cli.jsonl"), "--layer", "layer1", "--status", "all"])
    import spacy.tokens  # noqa: F401  # loaded untimed: the raw limit does not load it either

    store = Store(db)
    t, cpu = time.perf_counter(), time.process_time()
    exporting.export(store, "spacy", tmp / "ours.spacy", layer="layer1", status="all")
    docbin, docbin_cpu = time.perf_counter() - t, time.process_time() - cpu
    store.close()
    docbin_s, docbin_mb = peak([sys.executable, "-c", CLI, "--db", str(db), "--user", "layer1", "export", "--format",
                                "spacy", "--out", str(tmp / "cli.spacy"), "--layer", "layer1", "--status", "all"])
    export = {"documents": len(ids), "seconds": round(ours, 2), "raw_seconds": round(raw, 2),
              "ratio": round(raw / ours, 3), "target_ratio_min": 0.5, "identical_output": same,
              "cli_seconds": round(cli_s, 2), "cli_peak_rss_mb": cli_mb,
              # DocBin against the same raw limit (plain SELECT + json.dumps): within 2x of it
              "docbin_seconds": round(docbin, 2), "docbin_vs_raw": round(docbin / raw, 2),
              "target_docbin_vs_raw_max": 2.0, "docbin_cli_seconds": round(docbin_s, 2),
              "docbin_cli_peak_rss_mb": docbin_mb, "target_peak_rss_mb_max": 1024,
              # CPU seconds of all threads: on a shared, loaded host the wall ratio moves with the load
              "raw_cpu_seconds": round(raw_cpu, 2), "docbin_cpu_seconds": round(docbin_cpu, 2),
              "docbin_cpu_vs_raw": round(docbin_cpu / raw_cpu, 2), "load_average": os.getloadavg()}
    return stat, export


# grouped by a prefix of ix_spans_layer_counts (count(entity_id) tells linked from unlinked): no sort
RAW_STATS = ("SELECT annotator_id, label, status, nil, count(*), count(entity_id) FROM spans GROUP BY 1, 2, 3, 4",
             "SELECT annotator_id, status, count(*) FROM document_states GROUP BY 1, 2")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="200 documents: a smoke run, figures meaningless")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--memory-docs", type=int, default=10_000, help="documents of the peak-RSS import")
    parser.add_argument("--memory-repeat", type=int, default=3, help="runs of each peak-RSS import (1 with --quick)")
    parser.add_argument("--project", type=Path, help="keep the stats/export project here and reuse it on the next "
                        "run with the same --docs (building 100,000 documents takes minutes)")
    parser.add_argument("--only", nargs="*", choices=["import", "memory", "stats", "export"],
                        help="parts to run (default: all; export builds the stats project too)")
    args = parser.parse_args()
    n = 200 if args.quick else args.docs
    result: dict = {"documents": n}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.only or "import" in args.only:
            result["import"] = bench_import(Path(tmp), n)
        if not args.only or "memory" in args.only:
            result["import_memory"] = bench_import_memory(Path(tmp), min(n, args.memory_docs),
                                                          1 if args.quick else args.memory_repeat)
        if not args.only or {"stats", "export"} & set(args.only):
            export_too = not args.only or "export" in args.only
            result["stats"], export = bench_stats_export(Path(tmp), n, export_too, args.project)
            if export:
                result["export"] = export
    text = json.dumps({"scale": result}, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
