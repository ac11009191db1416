"""A quick run of the learning benchmark: the curve and both simulations are in the report, with the
shape the README's figures come from (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))

from bench_learning import LABEL, corpus  # noqa: E402

BENCH = Path(__file__).parent / "benchmarks" / "bench_learning.py"


def test_the_generated_corpus_is_deterministic_and_tests_unseen_treaties():
    pool, test = corpus(20, 5)
    again, _ = corpus(20, 5)
    assert [(r.text, [(s.start, s.end, s.label) for s in r.spans]) for r in pool] == \
        [(r.text, [(s.start, s.end, s.label) for s in r.spans]) for r in again]
    for r in pool + test:
        assert all(r.text[s.start:s.end].strip() == r.text[s.start:s.end] for s in r.spans)
    seen = {r.text[s.start:s.end] for r in pool for s in r.spans if s.label == LABEL}
    unseen = {r.text[s.start:s.end] for r in test for s in r.spans if s.label == LABEL}
    assert seen and unseen and not seen & unseen


@pytest.mark.slow
def test_bench_learning_quick_run_reports_the_curve_and_the_simulation(tmp_path):
    out = tmp_path / "learning.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--out", str(out), "--quick"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())["learning"]
    assert [p["checked"] for p in report["curve"]] == [4, 8]
    assert all(0 <= p["f1"] <= 1 and p["train_s"] > 0 and p["resuggested_documents"] > 0 for p in report["curve"])
    for strategy in ("import_order", "uncertain"):
        trail = report["simulation"][strategy]["trail"]
        assert trail[0]["checked"] == 4 and trail[-1]["checked"] <= 8
    assert report["seeds"]["7"] == report["simulation"]
    over = report["over_seeds"]
    assert over["uncertain_fewer"] + over["same"] + over["uncertain_more"] == 1
    assert all(4 <= n <= 8 for s in ("import_order", "uncertain") for n in over[s]["checked_to_target"])
