"""One edit — add, relabel, delete — committed and re-rendered in the real window.

    python tests/benchmarks/bench_editing.py --out report.json [--quick]

An edit is timed from the user's action (the digit key's handler, after the text was selected) until the
commit has returned and Qt has painted what the edit scheduled (processEvents: the changed block, the span list, the status bar).
The article is the first sample with its spaCy suggestions, so a deleted span hands the focus to the
next one as it does for an analyst. Raw limits in the same run: an INSERT + COMMIT through plain sqlite3 with the same pragmas, and a full
repaint of the same view with nothing changed.
Targets: median ≤ 5 ms, p99 ≤ 16 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import isolation  # noqa: E402

isolation.isolate()  # recent projects and the last user go to a temporary folder, not the user's settings

from annotator.core.db.store import Store  # noqa: E402
from annotator.core.project import Project  # noqa: E402
from annotator.core.resources import seeds_dir  # noqa: E402
from annotator.io.importing import import_paths  # noqa: E402
from annotator.ui.qt_app import application, make_window  # noqa: E402


def summary(samples: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples)
    return {"median_ms": round(statistics.median(ms), 3), "p99_ms": round(ms[int(len(ms) * 0.99) - 1], 3),
            "max_ms": round(ms[-1], 3), "n": len(ms)}


def raw_sqlite(tmp: Path, n: int) -> list[float]:
    conn = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("CREATE TABLE spans (id INTEGER PRIMARY KEY, doc INT, start INT, end INT, label TEXT)")
    times = []
    for i in range(n):
        t = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO spans (doc, start, end, label) VALUES (1, ?, ?, 'GPE')", (i, i + 1))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - t)
    conn.close()
    return times


def free_word(model, word: str) -> tuple[int, int]:
    """The first occurrence of `word` that no span covers: adding it never clashes."""
    i = model.text.index(word)
    while any(sp.start < i + len(word) and i < sp.end for sp in model.spans.values()):
        i = model.text.index(word, i + 1)
    return i, i + len(word)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 30 if args.quick else 300
    app = application(offscreen=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = Store(tmp / "p.db")
        # the sample articles as an analyst sees them: with the model's suggestions
        import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=True)
        window = make_window(Project(store, user="bench"))
        window.resize(1280, 800)
        window.show()
        window.open_document(1)
        app.processEvents()
        view, model = window.view, window.model
        start, end = free_word(model, "agreement")
        paint = app.processEvents

        timings: dict[str, list[float]] = {"add": [], "relabel": [], "delete": [], "repaint_only": []}
        for i in range(n):
            view.select(start, end)  # the user's drag comes before the edit: not timed
            paint()
            t = time.perf_counter()
            view.apply_label("GPE")
            paint()
            timings["add"].append(time.perf_counter() - t)
            t = time.perf_counter()
            view.apply_label("ORG")
            paint()
            timings["relabel"].append(time.perf_counter() - t)
            t = time.perf_counter()
            model.delete()
            paint()
            timings["delete"].append(time.perf_counter() - t)
            t = time.perf_counter()
            view.viewport().repaint()
            timings["repaint_only"].append(time.perf_counter() - t)
        raw = raw_sqlite(tmp, n)
        window.close()
        store.close()
    edits = timings["add"] + timings["relabel"] + timings["delete"]
    result = {"editing": {
        "edit": summary(edits), **{k: summary(v) for k, v in timings.items()},
        "raw_sqlite_commit": summary(raw),
        "target": {"median_ms_max": 5, "p99_ms_max": 16},
    }}
    print(json.dumps(result, indent=2))
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
