"""Agreement and the reviewer's lists at 100,000 documents x 3 annotators (issue 18, target 6: ≤ 2 s),
next to the raw limits over the same rows, with peak memory of the real processes.

    python tests/benchmarks/bench_review_scale.py --out report.json [--quick] [--docs 100000] [--repeat 2]
                                                   [--db existing.db]

The project: tests/benchmarks/generate.py --review (three people's finished layers of ~29 spans per
article that differ as colleagues' do, raw SQL; `--db` reuses one made before) and a reviewer, "rev".

- library: `review.project_agreement` (summed from the stored counts, review/pooled.py), in this
  process, medians; `full`: once, the reference it must equal, `review.agreement_inputs` (load) then
  `agreement.compute`; `count_seconds`: counting the documents waiting in the queue before the first
  run (an upgraded project's every document; none for a generated one, counted when written).
- cli: `annotator agreement --json` in a child process (seconds, peak RSS, CPU seconds: on a host that
  others share the wall time waits for a core), against its own target; `startup_seconds`: a child
  that only imports what the command imports; `output_mb`: the JSON's size; the host's load average
  (`os.getloadavg`, 1 min) before and after the runs.
- raw_floor: python start-up and the same SQL sums (stored counts, document states, names, label
  totals) on a plain sqlite3 connection, in a child process: what any CLI over these tables pays.
- window: in a child process, the real window as "rev": Review → Agreement until the report's
  tables are painted (`dashboard_seconds`); a label's disagreement list until its first page is
  painted (`label_list_seconds`); the adjudication view of the worst document (`adjudication_seconds`).
- raw: the same span columns read with one plain sqlite3 query (group_concat, parsed by numpy:
  `read_seconds`), the exact matches of every pair counted by numpy over them (`numpy_exact_seconds`),
  and the spans all three agree on counted by SQL GROUP BY alone (`group_by_seconds`).
Peak RSS and CPU are resource.getrusage(RUSAGE_CHILDREN) of a process that runs only that command.
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

isolation.isolate()  # the window's child process: settings in a temporary folder, never the user's

from bench_scale import CLI  # noqa: E402

from annotator.core.db.annotators import set_role  # noqa: E402
from annotator.core.db.store import Store  # noqa: E402
from annotator.core.review.agreement import compute  # noqa: E402
from annotator.core.review.inputs import agreement_inputs, project_agreement  # noqa: E402
from annotator.core.review.tallies import freshen  # noqa: E402

TARGET_SECONDS = 2.0
# a child's peak RSS (KB) and CPU seconds, printed after what it printed
PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "r = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_maxrss, r.ru_utime + r.ru_stime)")
STARTUP = "import annotator.cli, annotator.cli.review, annotator.core.db.store, annotator.core.review.inputs"
RAW_FLOOR = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
ids = ",".join(str(i) for i, in con.execute(sys.argv[2]))
con.execute("SELECT group_concat(document_id), group_concat(layer_a * 4294967296 + layer_b), "
            "group_concat(tokens * 4294967296 + accepted), group_concat(disagree), group_concat(dot), "
            "group_concat(((n_a + n_b) * 2097152 + exact) * 2097152 + overlap), "
            "group_concat(linked * 2097152 + same_link) "
            f"FROM agreement_pairs WHERE layer_a <= layer_b AND layer_a IN ({ids}) AND layer_b IN ({ids})").fetchall()
con.execute("SELECT group_concat(annotator_id), group_concat(document_id), group_concat(CASE WHEN status IN ('done') "
            f"THEN 1 ELSE 0 END) FROM document_states WHERE annotator_id IN ({ids})").fetchall()
con.execute("SELECT group_concat(id), group_concat(name, char(30)) FROM documents").fetchall()
con.execute(f"SELECT * FROM agreement_totals WHERE layer_a IN ({ids}) AND layer_b IN ({ids})").fetchall()
"""
LAYERS = "SELECT id FROM annotators WHERE name IN ('layer1', 'layer2', 'layer3')"  # gold left out
WINDOW = isolation.PRELUDE + """
import json, resource, sys, time
from annotator.core.review import triage
from annotator.ui.qt_app import application, launch
app = application(offscreen=True)
window = launch(sys.argv[1], "rev", import_seeds=False)

def until(done, what):
    end = time.perf_counter() + 900
    while not done():
        app.processEvents()
        time.sleep(0.002)
        if time.perf_counter() > end:
            raise SystemExit("timed out: " + what)

out = {}
t = time.perf_counter()
dash = window.review.show_agreement()
until(lambda: dash.report is not None and not dash.task.running(), "the report")
dash.repaint()
out["dashboard_seconds"] = time.perf_counter() - t
label = next(iter(dash.report.by_label))
t = time.perf_counter()
dash.list_label(label)
until(lambda: not dash.list_task.running() and dash.disagreement_model.rowCount() > 0, "the label list")
dash.repaint()
out["label_list_seconds"] = time.perf_counter() - t
out["label_list_rows"] = dash.disagreement_model.rowCount()
worst = dash.doc_ids[triage.imperfect(dash.report)[0]]
t = time.perf_counter()
view = window.review.adjudicate(worst)
view.repaint()
out["adjudication_seconds"] = time.perf_counter() - t
out["adjudication_rows"] = len(view.model.items)
print(json.dumps(out))
"""


def child(cmd: list[str]) -> tuple[float, int, str, float]:
    """(seconds, peak RSS in MB, stdout, CPU seconds) of `cmd` alone in a fresh process tree."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, *cmd], capture_output=True, text=True,
                          env={**isolation.as_installed(dict(os.environ)), "PYTHONPATH": str(ROOT),
                               "QT_QPA_PLATFORM": "offscreen"})
    seconds = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    out, last = proc.stdout.rstrip("\n").rsplit("\n", 1) if "\n" in proc.stdout.rstrip("\n") else ("", proc.stdout)
    rss, cpu = last.split()
    return seconds, round(int(rss) / 1024), out, float(cpu)


def cli_runs(db: Path, repeat: int) -> dict:
    """`annotator agreement --json` as a reviewer, with the floors it is measured against."""
    load_before = os.getloadavg()[0]
    runs = [child([sys.executable, "-c", CLI, "--db", str(db), "--user", "rev", "agreement", "--json"])
            for _ in range(repeat)]
    startup = [child([sys.executable, "-c", STARTUP]) for _ in range(repeat)]
    floor = [child([sys.executable, "-c", RAW_FLOOR, str(db), LAYERS]) for _ in range(repeat)]
    load_after = os.getloadavg()[0]
    best = min(s for s, *_ in runs)
    return {"cli": {"seconds": round(best, 2), "runs_seconds": [round(s, 2) for s, *_ in runs],
                    "cpu_seconds": [round(c, 2) for *_, c in runs], "peak_rss_mb": max(mb for _, mb, *_ in runs),
                    "output_mb": round(len(runs[0][2]) / 2**20, 1),
                    "startup_seconds": round(min(s for s, *_ in startup), 2),
                    "target_seconds": TARGET_SECONDS, "within_target": best <= TARGET_SECONDS,
                    "load_average": [round(load_before, 2), round(load_after, 2)]},
            "raw_floor": {"seconds": round(min(s for s, *_ in floor), 2),
                          "cpu_seconds": round(min(c for *_, c in floor), 2)}}


def raw_limits(db: Path) -> dict:
    """The same span columns by one plain query, exact matches by numpy, all-agree by GROUP BY."""
    import numpy as np

    con = sqlite3.connect(db)
    t = time.perf_counter()
    texts = con.execute('SELECT group_concat(annotator_id), group_concat(document_id), group_concat(start), '
                        'group_concat("end"), group_concat(label) FROM spans WHERE status = \'accepted\' '
                        f'AND +annotator_id IN ({LAYERS})').fetchone()
    ann, doc, start, end = (np.fromstring(x, dtype=np.int64, sep=",") for x in texts[:4])
    label = np.unique(np.array(texts[4].split(",")), return_inverse=True)[1]
    read = time.perf_counter() - t
    t = time.perf_counter()
    key = ((doc * 2**20 + start) * 2**12 + (end - start)) * 8 + label
    keys = {a: np.unique(key[ann == a]) for a in np.unique(ann).tolist()}
    names = sorted(keys)
    matches = sum(len(np.intersect1d(keys[a], keys[b], assume_unique=True))
                  for i, a in enumerate(names) for b in names[i + 1:])
    spans = sum((len(names) - 1) * len(k) for k in keys.values())
    exact = time.perf_counter() - t
    t = time.perf_counter()
    agreed = con.execute('SELECT count(*) FROM (SELECT 1 FROM spans WHERE status = \'accepted\' '
                         f'AND +annotator_id IN ({LAYERS}) GROUP BY document_id, start, "end", label '
                         'HAVING count(*) = 3)').fetchone()[0]
    group_by = time.perf_counter() - t
    con.close()
    return {"read_seconds": round(read, 2), "numpy_exact_seconds": round(exact, 2),
            "read_and_exact_seconds": round(read + exact, 2), "group_by_seconds": round(group_by, 2),
            "span_f1_exact": round(2 * matches / spans, 6), "agreed_by_all": agreed}


def bench(db: Path, repeat: int, judged: bool) -> dict:
    store = Store(db)
    t = time.perf_counter()
    with store.atomic() as s:
        queued = freshen(s)
    counted = time.perf_counter() - t
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        report = project_agreement(store)
        runs.append(time.perf_counter() - t)
    t = time.perf_counter()
    with store.Session() as s:
        layers, tokens = agreement_inputs(s)
    loaded = time.perf_counter()
    full = compute(layers, tokens)
    full_times = (loaded - t, time.perf_counter() - loaded)
    same = full.to_json() == report.to_json()
    del layers, tokens, full
    store.close()
    library = {"seconds": round(statistics.median(runs), 2), "runs_seconds": [round(x, 2) for x in runs],
               "count_seconds": round(counted, 1), "counted_documents": queued,
               "full": {"load_seconds": round(full_times[0], 2), "compute_seconds": round(full_times[1], 2),
                        "seconds": round(sum(full_times), 2)},
               "same_report_as_full": same,
               "span_f1_exact": round(report.overall.span_f1_exact, 6), "n_docs": report.overall.n_docs}
    cli = cli_runs(db, repeat)
    raw = raw_limits(db)  # before the window's adjudication puts agreed spans into gold
    window_runs = []
    for _ in range(repeat):
        seconds, mb, out, _ = child([sys.executable, "-c", WINDOW, str(db)])
        window_runs.append({**{k: round(v, 2) if isinstance(v, float) else v for k, v in json.loads(out).items()},
                            "process_seconds": round(seconds, 2), "peak_rss_mb": mb})
    worst = max(library["seconds"], cli["cli"]["seconds"], min(w["dashboard_seconds"] for w in window_runs))
    if not judged:
        cli["cli"]["within_target"] = None
    return {"library": library, **cli,
            "window": window_runs, "raw": raw,
            "library_vs_raw": round(library["seconds"] / raw["read_and_exact_seconds"], 2),
            "same_exact_f1_as_raw": abs(library["span_f1_exact"] - raw["span_f1_exact"]) < 1e-6,
            "target_seconds": TARGET_SECONDS, "within_target": worst <= TARGET_SECONDS if judged else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="300 documents, one run: a smoke run")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--db", type=Path, help="a project made before by generate.py --layers 3 --review")
    args = parser.parse_args()
    n = 300 if args.quick else args.docs
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        made = None
        if db is None:
            db = Path(tmp) / "review.db"
            t = time.perf_counter()
            generate.write_project(db, n, layers=3, review=True)
            made = round(time.perf_counter() - t, 1)
        store = Store(db)
        set_role(store, "rev", "reviewer")
        store.close()
        with sqlite3.connect(db) as con:
            n = con.execute("SELECT count(*) FROM documents").fetchone()[0]
            spans = con.execute(f"SELECT count(*) FROM spans WHERE annotator_id IN ({LAYERS})").fetchone()[0]
        result = {"documents": n, "annotators": 3, "spans": spans, "generate_seconds": made,
                  **bench(db, 1 if args.quick else args.repeat, judged=not args.quick and n >= 100_000)}
    text = json.dumps({"review_scale": result}, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
