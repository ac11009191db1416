"""Pre-annotating a big import runs the model in worker processes; the results are the same, in the
same order, as in one process, and small imports do not pay for starting workers."""

from __future__ import annotations

from annotator.core import nlp
from annotator.core.nlp import load_model, processes_for, suggest

TEXTS = [f"Report {i}: Defense Minister Kim Kwan-jin will visit Japan in May to meet Naoki Tanaka in Tokyo."
         for i in range(40)] + ["Seoul and Busan.", "Nothing here."]


def test_two_processes_give_what_one_gives_in_order():
    model = load_model()
    one = list(suggest(model, iter(TEXTS), batch_size=8))
    two = list(suggest(model, iter(TEXTS), batch_size=8, n_process=2))
    assert two == one and any(ents for _, ents in one)


def test_workers_only_for_imports_big_enough():
    assert processes_for(10) == 1
    assert processes_for(nlp.PARALLEL_MIN) in (1, 2)  # one on a single-core machine
    assert processes_for(100_000) <= nlp.PROCESSES
