"""Smoke runs of the start-up and import-memory benchmarks: they run and report their figures with
their targets (tiny sizes; a smoke test, not a timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent / "benchmarks"


def test_startup_benchmark_reports_commands_against_their_floors(tmp_path):
    subprocess.run([sys.executable, str(BENCH / "bench_startup.py"), "--quick", "--out", str(tmp_path / "s.json")],
                   check=True, capture_output=True)
    report = json.loads((tmp_path / "s.json").read_text())["startup"]
    assert report["target_import_s_max"] == 0.5 and report["target_export_s_max"] == 0.3
    assert report["import_one_no_model_s"] > 0 and report["export_floor_s"] > 0
    assert len(report["runs"]["import"]) == report["repeat"] == 2


def test_scale_benchmark_reports_import_peak_memory(tmp_path):
    subprocess.run([sys.executable, str(BENCH / "bench_scale.py"), "--quick", "--only", "memory", "--out",
                    str(tmp_path / "m.json")], check=True, capture_output=True)
    memory = json.loads((tmp_path / "m.json").read_text())["scale"]["import_memory"]
    assert memory["documents"] == 200 and memory["target_peak_rss_mb_max"] == 150
    assert memory["peak_rss_mb"] >= memory["floor_peak_rss_mb"] > 0
