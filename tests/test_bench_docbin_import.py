"""Smoke run of the DocBin import benchmark: it runs and reports its figures with the target (tiny
sizes; a smoke test, not a timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent / "benchmarks"


def test_docbin_import_benchmark_reports_peak_memory_against_spacys_reading(tmp_path):
    subprocess.run([sys.executable, str(BENCH / "bench_docbin_import.py"), "--quick", "--out",
                    str(tmp_path / "d.json")], check=True, capture_output=True)
    report = json.loads((tmp_path / "d.json").read_text())["docbin_import"]
    assert report["documents"] == 300 and report["spans"] > 0 and report["target_peak_rss_mb_max"] == 1024
    assert report["import_peak_rss_mb"] > 0 and report["read_seconds"] > 0
    assert report["raw_from_bytes_get_docs"][0]["documents"] == 100 and report["jsonl_import_seconds"] > 0
