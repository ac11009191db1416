"""The model learns: F1 of a label the stock model does not know, after training on N checked documents.

    python tests/benchmarks/bench_learning.py --out report.json [--quick]

A generated corpus (deterministic, no network): news-like sentences about invented treaties ("the
Varnholm Accord", "the Treaty of Ostelbury", "the 2012 Kelford-Sovia Pact") labelled AGREEMENT, and
places labelled GPE; half the documents mention no treaty, some an invented institute, bank or river
instead. en_core_web_sm has no AGREEMENT (it calls such names LAW, ORG or nothing). The test documents use treaty names never seen in training, so the curve measures learning
the pattern, not memorising names.

1. Curve: for N in 10, 25, 50, 100, a project whose first N documents are checked (layer "ana", done),
   `training.train` (the product's path: spaCy train in a subprocess, a fifth held out), the
   AGREEMENT F1 on the test documents, the time to train, and the time to re-suggest the unchecked
   documents with the run (`resuggesting.resuggest`).
2. Simulation, uncertain first vs import order: from 4 checked documents, rounds of 4 more —
   the next ones in import order, or the most uncertain (`uncertainty.uncertain_order`: disagreement
   of the run and the stock model per token) — until the AGREEMENT F1 reaches the target; the checked
   documents needed by each. Repeated on `--seeds` corpora (each its own draw of treaties, sentences
   and order), since one draw can favour either strategy by luck.

Writes {"learning": {...}}.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import spacy  # noqa: E402

from annotator.core.db.store import Store  # noqa: E402
from annotator.core.records import DocRecord, SpanRecord  # noqa: E402
from annotator.io import training  # noqa: E402
from annotator.io.importing import import_records  # noqa: E402
from annotator.io.resuggesting import resuggest  # noqa: E402
from annotator.io.uncertainty import uncertain_order  # noqa: E402

LABEL = "AGREEMENT"
PLACES = ["France", "Germany", "Japan", "Brazil", "Kenya", "Canada", "India", "Norway", "Chile", "Egypt",
          "Poland", "Vietnam", "Peru", "Ghana", "Spain", "Turkey", "Mexico", "Sweden", "Nigeria", "Italy"]
ONSETS = ["Varn", "Ostel", "Kel", "Brav", "Tamar", "Quen", "Dorv", "Lis", "Merr", "Abren", "Sov", "Halv",
          "Pirel", "Zand", "Corm", "Yuv", "Eskar", "Nolt", "Fren", "Gad"]
CODAS = ["holm", "bury", "ia", "ford", "mont", "ar", "vale", "stad", "ora", "wick"]
KINDS = ["Accord", "Treaty", "Pact", "Protocol", "Compact", "Convention", "Agreement"]
WITH_TREATY = [
    "{g1} and {g2} signed {a} on Tuesday.",
    "Officials in {g1} said {a} would be reviewed next year.",
    "Critics of {a} gathered outside parliament in {g1}.",
    "{A}, agreed by {g1} and {g2} in {year}, expires this month.",
    "Negotiators from {g1} walked out of talks on {a}.",
    "The minister of {g1} called {a} a turning point for the region.",
    "Under {a}, {g2} must cut tariffs on grain by {n} percent.",
]
PLAIN = [
    "Prices in {g1} rose by {n} percent in {year}.",
    "The minister met farmers in {g1} on Monday.",
    "Heavy rain closed roads across {g2} this week.",
    "Exports from {g1} to {g2} fell sharply.",
    "Researchers at the {o} in {g1} published the figures.",  # invented names that are no treaty
    "Floods along the {r} forced thousands from their homes in {g2}.",
    "Shares in {o} fell after the report from {g1}.",
]
OTHERS = ["Institute", "Bank", "Group", "Foundation", "University"]


def treaty_names(rng: random.Random, onsets: list[str], count: int) -> list[str]:
    """Invented treaties in four shapes: Root Kind, Kind of Root, Root-Root Kind, Year Root Kind."""
    names: set[str] = set()
    while len(names) < count:
        root, other = (rng.choice(onsets) + rng.choice(CODAS) for _ in range(2))
        kind = rng.choice(KINDS)
        names.add(rng.choice([f"{root} {kind}", f"{kind} of {root}", f"{root}-{other} {kind}",
                              f"{rng.randint(1990, 2024)} {root} {kind}"]))
    return sorted(names)


def document(rng: random.Random, i: int, names: list[str], prefix: str) -> DocRecord:
    """Three to five sentences; half the documents mention no treaty (some name an invented institute,
    bank or river instead)."""
    text, spans = "", []
    treaty = rng.random() > 0.5
    for k in range(rng.randint(3, 5)):
        template = rng.choice(WITH_TREATY if treaty and (k == 0 or rng.random() < 0.5) else PLAIN)
        g1, g2 = rng.sample(PLACES, 2)
        name = rng.choice(names)
        root = rng.choice(ONSETS) + rng.choice(CODAS)
        values = {"g1": g1, "g2": g2, "a": f"the {name}", "A": f"The {name}", "year": rng.randint(1990, 2024),
                  "n": rng.randint(2, 40), "o": f"{root} {rng.choice(OTHERS)}", "r": f"{root} River"}
        sentence = template.format(**values)
        base = len(text) + (1 if text else 0)
        text = f"{text} {sentence}" if text else sentence
        for key, label in (("g1", "GPE"), ("g2", "GPE")):
            if "{" + key + "}" in template:
                at = base + sentence.index(values[key])
                spans.append(SpanRecord(at, at + len(values[key]), label))
        if "{a}" in template or "{A}" in template:
            at = base + sentence.index(name)
            spans.append(SpanRecord(at, at + len(name), LABEL))
    return DocRecord(text=text, name=f"{prefix}-{i:03d}", spans=spans, annotated=True)


def corpus(pool: int, test: int, seed: int = 7) -> tuple[list[DocRecord], list[DocRecord]]:
    """(pool, test): the test documents' treaties have roots the pool never uses."""
    rng = random.Random(seed)
    train_names = treaty_names(rng, ONSETS[:14], 60)
    test_names = treaty_names(rng, ONSETS[14:], 20)
    return ([document(rng, i, train_names, "pool") for i in range(pool)],
            [document(rng, i, test_names, "test") for i in range(test)])


def unchecked(records: list[DocRecord]) -> list[DocRecord]:
    return [DocRecord(text=r.text, name=r.name) for r in records]


def f1(run, test: list[DocRecord]) -> float:
    scores = training.score(spacy.load(run.path), (DocRecord(text=r.text, name=r.name, spans=list(r.spans))
                                                   for r in test), {LABEL, "GPE"})
    return scores["per_label"].get(LABEL, {}).get("f", 0.0)


def project(folder: Path, pool: list[DocRecord], checked: list[DocRecord]) -> Store:
    store = Store(str(folder / "p.db"))
    import_records(store, unchecked(pool), use_model=False)
    import_records(store, checked, use_model=False, as_layer="ana", by="bench")
    return store


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def curve(folder: Path, pool, test, sizes, steps) -> list[dict]:
    points = []
    for n in sizes:
        where = folder / f"curve-{n}"
        where.mkdir()
        store = project(where, pool, pool[:n])
        try:
            train_s, report = timed(lambda: training.train(store, max_steps=steps, out=where / "run"))
            suggest_s, suggested = timed(lambda: resuggest(store, report.run.name, "unchecked"))
            points.append({"checked": n, "f1": f1(report.run, test), "held_out_f": report.run.scores["overall"]["f"],
                           "stock_held_out_f": report.run.scores.get("stock", {}).get("overall", {}).get("f"),
                           "train_s": round(train_s, 1), "resuggest_s": round(suggest_s, 2),
                           "resuggested_documents": suggested.documents})
        finally:
            store.close()
        print(json.dumps(points[-1]), flush=True)
    return points


def simulate(folder: Path, pool, test, strategy: str, start: int, batch: int, limit: int, target: float,
             steps: int) -> dict:
    """Check `start` documents, then `batch` more a round (import order or uncertain first) until the
    AGREEMENT F1 on the test documents reaches `target` or `limit` documents are checked."""
    where = folder / f"sim-{strategy}"
    where.mkdir(parents=True)
    by_name = {r.name: r for r in pool}
    checked = pool[:start]
    store = project(where, pool, checked)
    trail = []
    try:
        for round_ in range(100):
            run = training.train(store, max_steps=steps, out=where / f"r{round_}").run
            score = f1(run, test)
            trail.append({"checked": len(checked), "f1": score})
            print(strategy, json.dumps(trail[-1]), flush=True)
            if score >= target or len(checked) >= limit:
                break
            if strategy == "uncertain":
                names = [u.name for u in uncertain_order(store, run.name, limit=batch)]
            else:
                seen = {r.name for r in checked}
                names = [r.name for r in pool if r.name not in seen][:batch]
            more = [by_name[n] for n in names]
            import_records(store, more, use_model=False, as_layer="ana", by="bench")
            checked = checked + more
    finally:
        store.close()
    reached = next((t["checked"] for t in trail if t["f1"] >= target), None)
    return {"checked_to_target": reached, "trail": trail}


def summary(runs: dict[int, dict], limit: int) -> dict:
    """Per strategy, the checked documents each seed needed (the limit where the target was not reached),
    and on how many seeds uncertain first needed fewer, as many, or more than import order."""
    needed = {s: [r[s]["checked_to_target"] or limit for r in runs.values()]
              for s in ("import_order", "uncertain")}
    pairs = list(zip(needed["uncertain"], needed["import_order"]))
    return {**{s: {"checked_to_target": v, "mean": round(sum(v) / len(v), 1)} for s, v in needed.items()},
            "uncertain_fewer": sum(u < o for u, o in pairs), "same": sum(u == o for u, o in pairs),
            "uncertain_more": sum(u > o for u, o in pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="N = 4, 8, few steps, one round: a smoke run")
    parser.add_argument("--target", type=float, default=0.95, help="AGREEMENT F1 the simulation aims for")
    parser.add_argument("--seeds", type=int, default=3, help="corpora the simulation is repeated on")
    args = parser.parse_args()
    sizes, steps, start, batch, limit = [10, 25, 50, 100], 300, 4, 4, 40  # F1 passes 0.9 near 10 (the curve)
    pool_size, test_size, seeds = 200, 40, [7 + k for k in range(args.seeds)]
    if args.quick:
        sizes, steps, start, batch, limit = [4, 8], 6, 4, 4, 8
        pool_size, test_size, seeds = 16, 6, [7]
    pool, test = corpus(pool_size, test_size, seeds[0])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        points = curve(folder, pool, test, sizes, steps)
        runs = {}
        for seed in seeds:
            pool, test = corpus(pool_size, test_size, seed)
            runs[seed] = {s: simulate(folder / f"seed-{seed}", pool, test, s, start, batch, limit, args.target,
                                      steps) for s in ("import_order", "uncertain")}
    result = {"learning": {"label": LABEL, "pool": pool_size, "test_documents": test_size, "max_steps": steps,
                           "curve": points, "target_f1": args.target, "simulation": runs[seeds[0]],
                           "seeds": {str(k): v for k, v in runs.items()}, "over_seeds": summary(runs, limit),
                           "batch": batch, "spacy": spacy.__version__, "python": platform.python_version()}}
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
