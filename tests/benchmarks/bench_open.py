"""The window on a big project: opening it and stepping through its documents do not grow with it.

    python tests/benchmarks/bench_open.py --out report.json [--quick] [--docs 100000]

- open: from starting a Python process to the window painted with its first document, on a project of
  100,000 articles (tests/benchmarks/generate.py, raw SQL) against the same on the 3 sample articles,
  timed one after the other in each round; the ratio is the median of the rounds' ratios (as in
  bench_window.py). Target ≤ 1.2×.
- next document: Ctrl+PgDown in the window on the big project, 50 times, from a row just before the
  end of the list's first page (so the steps read the next page), each until the key is handled and
  the window painted. Target p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import isolation  # noqa: E402

isolation.isolate()

from bench_window import time_process  # noqa: E402
from generate import write_project  # noqa: E402

from annotator.core.db.store import Store  # noqa: E402
from annotator.core.project import Project  # noqa: E402
from annotator.core.resources import seeds_dir  # noqa: E402
from annotator.io.importing import import_paths  # noqa: E402

USER = "layer1"  # the generated layer: documents in progress, with spans to count
SHOW_WINDOW = isolation.PRELUDE + f"""
import sys
from PySide6.QtCore import QTimer
from annotator.ui.qt_app import application, launch
app = application(offscreen=True)
window = launch(sys.argv[1], "{USER}", import_seeds=False)
assert window.model.doc_id is not None
QTimer.singleShot(0, lambda: (window.repaint(), print("shown", flush=True), app.quit()))
app.exec()
"""


def step_times(db: Path, steps: int) -> list[float]:
    """Seconds per Ctrl+PgDown in the window on `db`, each until handled and painted."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from annotator.ui.qt_app import application, make_window

    app = application(offscreen=True)
    project = Project(Store(db), user=USER)
    window = make_window(project)
    window.resize(1280, 800)
    window.show()
    window.refresh_documents()
    start = project.documents(offset=190, limit=1)[0].id  # the steps cross into the second page
    window.open_document(start)
    app.processEvents()
    times = []
    for _ in range(steps):
        before = window.model.doc_id
        t = time.perf_counter()
        QTest.keyClick(window.view, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
        window.repaint()
        app.processEvents()
        times.append(time.perf_counter() - t)
        assert window.model.doc_id != before
    row = window.documents.model.row_of(window.model.doc_id)
    assert row == 190 + steps and window.documents.table.currentIndex().row() == row, row
    window.close()
    project.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--docs", type=int, default=100_000)
    args = parser.parse_args()
    n, rounds, steps = (5_000, 2, 50) if args.quick else (args.docs, 7, 50)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        small, big = tmp / "small.db", tmp / "big.db"
        store = Store(small)
        import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=False)
        store.close()
        t = time.perf_counter()
        write_project(big, n)
        built = time.perf_counter() - t
        for db in (small, big):  # not timed: the first launch compiles the bytecode, warms the file cache
            time_process(SHOW_WINDOW, str(db))
        small_s, big_s = [], []
        for _ in range(rounds):
            small_s.append(time_process(SHOW_WINDOW, str(small)))
            big_s.append(time_process(SHOW_WINDOW, str(big)))
        steps_s = step_times(big, steps)
    ms = sorted(s * 1000 for s in steps_s)
    result = {"open": {
        "documents": n, "build_seconds": round(built, 1),
        "open_big_s": round(statistics.median(big_s), 3), "open_small_s": round(statistics.median(small_s), 3),
        "open_ratio": round(statistics.median(b / s for b, s in zip(big_s, small_s)), 3),
        "open_ratio_target_max": 1.2,
        "next_steps": steps, "next_median_ms": round(statistics.median(ms), 2),
        "next_p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 2), "next_p95_target_ms_max": 50,
    }}
    print(json.dumps(result, indent=2))
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
