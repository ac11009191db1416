"""A small run of the team-at-scale benchmark (300 documents on SQLite and on a real PostgreSQL server):
it loads, times every path on both, finds the same hits and writes the same export, and reports the
ratios the README's table renders (figures meaningless at this size: not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent / "benchmarks" / "bench_team_scale.py"


@pytest.mark.slow
def test_bench_team_scale_small_run_compares_both_backends(tmp_path, pg_cluster):  # pg_cluster: fail/skip as usual
    out = tmp_path / "scale.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--out", str(out), "--docs", "300", "--import-docs", "40",
                           "--rounds", "1", "--repeat", "1", "--steady", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(out.read_text())["team_scale"]
    # documents, spans, the layer's states, its annotator, and the stored provenance counts of each document
    assert r["documents"] == 300 and r["load_postgresql"]["rows"] > r["spans"] + 300 + 300 + 1
    assert set(r["ratios"]) == {"open", "next", "search", "export"} and all(v > 0 for v in r["ratios"].values())
    assert all(c["hits"][0] == c["hits"][1] > 0 and c["steady_ratio"] > 0 for c in r["search"]["cases"].values())
    assert r["export"]["identical_output"] and r["import"]["documents"] == 40
