"""A quick run of the team benchmark (2 PostgreSQL clients, 2 SQLite clients, 20 edits each): every
acknowledged edit is in the database once, and the report has what the README's table renders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent / "benchmarks" / "bench_team.py"


@pytest.mark.slow
def test_bench_team_quick_run_accounts_for_every_edit(tmp_path, pg_cluster):  # pg_cluster: fail/skip as usual
    out = tmp_path / "team.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--out", str(out), "--clients", "2", "--edits", "20"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())["team"]
    assert report["postgresql"]["clients"] == 2 and report["sqlite"]["clients"] == 2
    for backend in ("postgresql", "sqlite"):
        r = report[backend]
        assert r["edits_per_client"] == 20 and r["p99_ms"] > 0
        assert (r["lost"], r["duplicated"], r["locked"]) == (0, 0, 0)
        assert r["gold"]["acknowledged_gold"] == r["gold"]["gold_versions"] == 2 * 2  # one edit in ten, twice each
