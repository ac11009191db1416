"""A quick run of the review benchmark (300 generated documents x 3 people, the real CLI and window as a
reviewer offscreen): every figure is in the report, the library and raw numpy count the same exact
matches, and the table judges its rows. A smoke test, not a timing."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent / "benchmarks" / "bench_review_scale.py"
spec = importlib.util.spec_from_file_location("bench_table", BENCH.parent / "table.py")
table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(table)


@pytest.mark.slow
def test_bench_review_scale_quick_run_reports_every_figure(tmp_path):
    out = tmp_path / "review.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, str(BENCH), "--out", str(out), "--quick"], capture_output=True,
                          text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    v = json.loads(out.read_text())["review_scale"]
    assert v["documents"] == 300 and v["library"]["n_docs"] == 300 and v["within_target"] is None
    assert v["same_exact_f1_as_raw"] and 0.7 < v["library"]["span_f1_exact"] < 0.95
    assert v["cli"]["peak_rss_mb"] > 0 and v["raw"]["agreed_by_all"] > 0
    cli, floor = v["cli"], v["raw_floor"]
    assert cli["target_seconds"] == 2.0 and cli["within_target"] is None and cli["output_mb"] > 0
    assert all(c > 0 for c in cli["cpu_seconds"]) and len(cli["load_average"]) == 2
    assert 0 < floor["seconds"] and 0 < cli["startup_seconds"]
    win = v["window"][0]
    assert win["label_list_rows"] > 0 and win["adjudication_rows"] > 0 and win["peak_rss_mb"] > 0
    rows = table.markdown({"review_scale": v}).splitlines()[2:]
    assert len(rows) == 3 and all(r.endswith("| **no** |") for r in rows)  # a quick run is never judged
    assert "peak RSS" in rows[0] and "first page" in rows[2]
    assert "agreement --json" in rows[1] and "CPU" in rows[1] and "plain sqlite3" in rows[1]
