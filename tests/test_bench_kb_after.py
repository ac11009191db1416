"""A quick run of the knowledge-base-after-the-articles benchmark: the report has its figures and the
speed table a row for them (no figure asserted: a smoke run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))

from table import rows  # noqa: E402

BENCH = Path(__file__).parent / "benchmarks" / "bench_kb_after.py"


def test_bench_kb_after_quick_run_reports_links_time_and_memory(tmp_path):
    out = tmp_path / "kb_after.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--out", str(out), "--quick"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())
    b = report["kb_after"]
    assert b["documents"] == 500 and b["entities"] == 67 and 0 < b["linked"] < b["suggestions"]
    assert [r[0] for r in rows(report)] == ["Knowledge base imported after 500 documents (15,000 suggestions)"]
