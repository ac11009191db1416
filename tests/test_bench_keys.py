"""A quick run of the keys benchmark (the first sample article, the model's suggestions, the real window
offscreen): one Enter per correct suggestion, and the database agrees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent / "benchmarks" / "bench_keys.py"


@pytest.mark.slow
def test_bench_keys_quick_run_one_key_per_suggestion(tmp_path):
    out = tmp_path / "keys.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, str(BENCH), "--out", str(out), "--quick"], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    k = json.loads(out.read_text())["keys"]
    assert len(k["documents"]) == 1 and k["accepted"] > 10
    assert k["keys"]["enter"] == k["accepted"] and k["enter_per_accepted"] == 1.0
    assert k["database"] == {"accepted": k["accepted"], "suggested": 0, "documents_done": 1}
    assert k["meets_target"] and k["before_two_key_flow_keys"] == 2 * k["accepted"]
