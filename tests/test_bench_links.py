"""A quick run of the links benchmark: the corpus is ambiguous the way the README's figures need, and
the report has the linker's and the prior's accuracy (no figure asserted: a smoke run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))

from bench_links import READINGS, corpus  # noqa: E402

BENCH = Path(__file__).parent / "benchmarks" / "bench_links.py"


def test_the_corpus_is_deterministic_ambiguous_and_held_out_sentences_are_unseen():
    pool, test = corpus(60, 20)
    again, _ = corpus(60, 20)
    assert [r.text for r, _ in pool] == [r.text for r, _ in again]
    for rec, ambiguous in pool + test:
        assert all(rec.text[s.start:s.end].strip() == rec.text[s.start:s.end] for s in rec.spans)
        assert [rec.text[a:b] for a, b, _ in ambiguous] and all(rec.text[a:b] in READINGS for a, b, _ in ambiguous)
    readings = {gold for _, ambiguous in test for _, _, gold in ambiguous}
    assert len(readings) == 6  # both readings of each alias are held out
    seen = {s for r, _ in pool for s in r.text.split(". ")}
    assert not any(s in seen for r, amb in test for s in r.text.split(". ") if any(r.text[a:b] in s for a, b, _ in amb))


@pytest.mark.slow
def test_bench_links_quick_run_reports_linker_and_prior_accuracy(tmp_path):
    out = tmp_path / "links.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--out", str(out), "--quick"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())["links"]
    assert report["linker"]["trained"] and report["ambiguous_mentions"] > 0
    assert all(0 <= report[k] <= 1 for k in ("linker_accuracy", "prior_accuracy", "resuggest_accuracy"))
    assert set(report["links_held_out"]) == {"p", "r", "f"} and report["train_s"] > 0
