"""Links that learn: accuracy of the trained entity linker against the prior-only suggestion on
held-out documents whose aliases are ambiguous (one alias, two entities, the context decides).

    python tests/benchmarks/bench_links.py --out report.json [--quick]

A generated corpus (deterministic, no network): "Georgia" is the country (Tbilisi, Russia, the lari)
or the US state (Atlanta, the governor, peaches); "Cambridge" the English city or the one in
Massachusetts; "Victoria" the Australian state or the capital of British Columbia. Other places are
linked too ("[Tbilisi]" in a template), so the linker has enough links to be trained. The six
readings come from a knowledge base with a description each, so their entity vectors differ by more
than the id (same name and type, other words). In the checked documents the first reading of each
alias is the more common (COMMON of them), so the analysts' counts give it the higher prior and the
prior-only suggestion always picks it; in the held-out documents both readings are equally common,
and their sentences come from templates training never saw (the cue words recur, the sentences do
not).

1. A project whose pool documents are checked (layer "ana", done, links imported: the alias counts
   are learned as in the window), `training.train` (spaCy train in a subprocess; the linker is
   trained because the links are enough), time to train.
2. On the held-out documents' ambiguous mentions (gold offsets): the linker's kb_id (the run's
   sentencizer and entity_linker over the gold entities) vs the prior-only suggestion (the top
   candidate, `Project.candidates`, what `suggest_links` picks); accuracy of each, and of the linker
   with spaCy's default prior weighed in (p + s - p*s, prior p and context similarity s: a skewed
   prior outweighs a context that points the other way, which is why the product's linker reads the
   context only).
3. End to end: `resuggest` of the held-out documents (unchecked) with the run: the share of the
   ambiguous mentions whose suggested link is right (a mention the NER missed counts as wrong), time
   to re-suggest; and the run's links P/R/F by spaCy's scorer (`training.score`) on the held-out ones.

Writes {"links": {...}}.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import spacy  # noqa: E402
from sqlalchemy import select  # noqa: E402

from annotator.core.db.models import Entity, Span  # noqa: E402
from annotator.core.db.store import Store  # noqa: E402
from annotator.core.project import Project  # noqa: E402
from annotator.core.records import DocRecord, SpanRecord  # noqa: E402
from annotator.io import kb_transfer, training  # noqa: E402
from annotator.io.importing import import_records  # noqa: E402
from annotator.io.resuggesting import resuggest  # noqa: E402

COMMON = 0.7  # share of the first reading of each alias in the checked documents
TRAIN_TEMPLATES = 4  # per reading; the rest are for the held-out documents only
READINGS = {  # alias -> [(kb_id, templates)], the first reading the more common in training
    "Georgia": [
        ("local:georgia-country", [
            "{m} and [Russia] fought a brief war over South Ossetia.",
            "Protesters filled the streets of [Tbilisi], the capital of {m}.",
            "The lari, the currency of {m}, fell against the dollar after protests in [Tbilisi].",
            "Abkhazia broke away from {m} with the support of [Russia].",
            "Wine makers in {m} in the Caucasus sell to [Russia] and [Armenia].",
            "The prime minister of {m} flew home to [Tbilisi] after talks with [Armenia].",
        ]),
        ("local:georgia-state", [
            "The governor of {m} signed the bill in [Atlanta].",
            "Peach farmers in {m} expect a large harvest, the governor said.",
            "Voters in {m} and [Alabama] went to the polls on Tuesday.",
            "Savannah is the oldest city in {m}, south of [Atlanta].",
            "Peach growers near [Atlanta] asked the governor of {m} for help.",
            "Polls in {m} and [Alabama] closed at seven, the state election office said.",
        ]),
    ],
    "Cambridge": [
        ("local:cambridge-england", [
            "Students at {m} punted along the river Cam.",
            "{m} is an hour north of [London] by train.",
            "Trinity College in {m}, [England], opened a new library.",
            "The council in {m} asked [London] for money to repair college roads.",
            "Trains from [London] to {m} were cancelled, stranding college students.",
            "Dons at {m} in [England] voted on the river Cam footbridge.",
        ]),
        ("local:cambridge-massachusetts", [
            "{m}, [Massachusetts], is home to Harvard and MIT.",
            "Commuters crossed the Charles River from [Boston] into {m}.",
            "The mayor of {m} said the Red Line to [Boston] would reopen.",
            "Biotech firms in {m} near Kendall Square hired more staff.",
            "Harvard researchers in {m} opened a lab across the Charles from [Boston].",
            "The Red Line between {m} and [Boston] reopened, the mayor said.",
        ]),
    ],
    "Victoria": [
        ("local:victoria-australia", [
            "Bushfires spread across {m} and [New South Wales].",
            "The premier of {m} spoke to reporters in [Melbourne].",
            "[Melbourne], the capital of {m}, hosts the Australian Open.",
            "Farmers in {m} face drought, the state premier warned.",
            "Bushfire crews from {m} went north to [New South Wales], the premier said.",
            "Drought hit wheat farms across {m}, outside [Melbourne].",
        ]),
        ("local:victoria-canada", [
            "Ferries from [Vancouver] to {m} were cancelled.",
            "{m}, the capital of [British Columbia], is on Vancouver Island.",
            "The legislature in {m} met on Monday, [British Columbia] officials said.",
            "Whale watchers left the harbour in {m} for the island straits.",
            "The ferry from {m} reached [Vancouver] late, stranding island commuters.",
            "Lawmakers of [British Columbia] returned to the harbour city of {m}.",
        ]),
    ],
}
DESCRIPTIONS = {  # the knowledge base, loaded before the documents: what the entity vectors are made of
    "local:georgia-country": "country in the Caucasus, capital Tbilisi",
    "local:georgia-state": "state of the United States, capital Atlanta",
    "local:cambridge-england": "university city in England",
    "local:cambridge-massachusetts": "city in Massachusetts, home of Harvard",
    "local:victoria-australia": "state of Australia, capital Melbourne",
    "local:victoria-canada": "capital city of British Columbia, Canada",
}
FILLER = [
    "Exports from [France] to [Japan] fell sharply.",
    "The minister met farmers in [Kenya] on Monday.",
    "Heavy rain closed roads across [Brazil] this week.",
    "Officials in [India] and [Norway] signed a trade deal.",
    "Prices in [Chile] rose for a third month.",
]
_PLACE = re.compile(r"\[([^\]]+)\]")


def _fill(template: str, alias: str, kb_id: str | None) -> tuple[str, list[SpanRecord]]:
    """The sentence, and its places as linked GPE spans (offsets within the sentence)."""
    parts, spans, pos = [], [], 0
    for piece in re.split(r"(\{m\}|\[[^\]]+\])", template):
        if piece == "{m}":
            spans.append(SpanRecord(pos, pos + len(alias), "GPE", kb_id))
            piece = alias
        elif piece.startswith("[") and piece.endswith("]"):
            piece = piece[1:-1]
            spans.append(SpanRecord(pos, pos + len(piece), "GPE", "local:" + piece.lower().replace(" ", "-")))
        parts.append(piece)
        pos += len(piece)
    return "".join(parts), spans


def document(rng: random.Random, i: int, prefix: str, held_out: bool) -> tuple[DocRecord, list[tuple[int, int, str]]]:
    """Two to four sentences: one with an ambiguous alias (its reading drawn, COMMON for the first in
    training, even when held out), the others filler. Returns the record and its ambiguous mentions."""
    alias = rng.choice(sorted(READINGS))
    first = rng.random() < (0.5 if held_out else COMMON)
    kb_id, templates = READINGS[alias][0 if first else 1]
    pool = templates[TRAIN_TEMPLATES:] if held_out else templates[:TRAIN_TEMPLATES]
    sentences = [rng.choice(pool)] + rng.sample(FILLER, rng.randint(1, 3))
    rng.shuffle(sentences)
    text, spans, ambiguous = "", [], []
    for template in sentences:
        sentence, found = _fill(template, alias, kb_id)
        base = len(text) + (1 if text else 0)
        text = f"{text} {sentence}" if text else sentence
        for sp in found:
            spans.append(SpanRecord(base + sp.start, base + sp.end, sp.label, sp.kb_id))
            if template.count("{m}") and sp.kb_id == kb_id:
                ambiguous.append((base + sp.start, base + sp.end, kb_id))
    text += f" Report {i}."  # every document is its own, though short ones may share their sentences
    return DocRecord(text=text, name=f"{prefix}-{i:03d}", spans=spans, annotated=True), ambiguous


def corpus(pool: int, test: int, seed: int = 11):
    rng = random.Random(seed)
    return ([document(rng, i, "pool", False) for i in range(pool)],
            [document(rng, i, "test", True) for i in range(test)])


def knowledge_base(folder: Path) -> Path:
    """The ambiguous readings with their descriptions, as a KB file (`annotator kb import`)."""
    rows = [{"id": kb_id, "name": alias, "type": "GPE", "description": DESCRIPTIONS[kb_id], "aliases": [alias]}
            for alias, readings in sorted(READINGS.items()) for kb_id, _ in readings]
    path = folder / "kb.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def linker_choices(nlp, test) -> list[tuple[str, str]]:
    """(gold, the linker's kb_id) for each ambiguous mention: the run's sentencizer and linker over the
    gold entities."""
    out = []
    for rec, ambiguous in test:
        doc = nlp.make_doc(rec.text)
        doc.ents = [doc.char_span(s.start, s.end, label=s.label) for s in rec.spans]
        for name in ("sentencizer", "entity_linker"):
            doc = nlp.get_pipe(name)(doc)
        by_offsets = {(e.start_char, e.end_char): e.kb_id_ for e in doc.ents}
        out += [(gold, by_offsets.get((a, b), "")) for a, b, gold in ambiguous]
    return out


def prior_choices(store: Store, ids: dict[str, int], test) -> list[tuple[str, str]]:
    """(gold, the top candidate by prior and type): what the prior-based link suggestion picks."""
    project = Project(store, "bench")
    out = []
    for rec, ambiguous in test:
        for a, b, gold in ambiguous:
            top = project.candidates(ids[rec.name], rec.text[a:b], "GPE", limit=1)
            out.append((gold, top[0].kb_id if top else ""))
    return out


def resuggested_choices(store: Store, ids: dict[str, int], test) -> list[tuple[str, str]]:
    with store.Session() as s:
        kb = dict(s.execute(select(Entity.id, Entity.kb_id)).all())
        out = []
        for rec, ambiguous in test:
            rows = s.execute(select(Span.start, Span.end, Span.entity_id).where(Span.document_id == ids[rec.name],
                                                                                Span.origin == "model"))
            linked = {(a, b): kb.get(e, "") for a, b, e in rows}
            out += [(gold, linked.get((a, b), "")) for a, b, gold in ambiguous]
    return out


def accuracy(pairs) -> float:
    return round(sum(g == p for g, p in pairs) / len(pairs), 4) if pairs else 0.0


def run(folder: Path, pool, test, steps: int) -> dict:
    store = Store(str(folder / "p.db"))
    try:
        kb_transfer.import_kb(store, knowledge_base(folder))
        import_records(store, [rec for rec, _ in pool], use_model=False, as_layer="ana", by="bench")
        import_records(store, [DocRecord(text=rec.text, name=rec.name) for rec, _ in test], use_model=False)
        ids = Project(store, "bench").document_ids([rec.name for rec, _ in test])
        train_s, report = timed(lambda: training.train(store, max_steps=steps, out=folder / "run"))
        nlp = spacy.load(report.run.path)
        linked = linker_choices(nlp, test)
        nlp.get_pipe("entity_linker").incl_prior = True  # spaCy's default, the prior weighed in: for comparison
        with_prior = linker_choices(nlp, test)
        nlp.get_pipe("entity_linker").incl_prior = False
        prior = prior_choices(store, ids, test)
        suggest_s, suggested = timed(lambda: resuggest(store, report.run.name, "unchecked"))
        end_to_end = resuggested_choices(store, ids, test)
        held = training.score(nlp, (DocRecord(text=rec.text, name=rec.name, spans=list(rec.spans))
                                    for rec, _ in test), {"GPE"})
        readings = {gold for gold, _ in linked}
        return {"ambiguous_mentions": len(linked), "linker_accuracy": accuracy(linked),
                "prior_accuracy": accuracy(prior), "resuggest_accuracy": accuracy(end_to_end),
                "with_prior_accuracy": accuracy(with_prior),
                "per_reading": {r: {"linker": accuracy([p for p in linked if p[0] == r]),
                                    "prior": accuracy([p for p in prior if p[0] == r])} for r in sorted(readings)},
                "links_held_out": held.get("links"), "run_links": report.run.scores.get("links"),
                "linker": report.run.scores.get("linker"), "train_s": round(train_s, 1),
                "resuggest_s": round(suggest_s, 2), "resuggested_documents": suggested.documents,
                "linked_by_linker": suggested.linked}
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="a tiny corpus and few steps: a smoke run")
    parser.add_argument("--steps", type=int, help="training steps (default 600; --quick 10)")
    args = parser.parse_args()
    pool_n, test_n, steps = (30, 8, 10) if args.quick else (150, 60, 600)
    steps = args.steps or steps
    pool, test = corpus(pool_n, test_n)
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(Path(tmp), pool, test, steps)
    result = {"links": {"pool": pool_n, "test_documents": test_n, "max_steps": steps, "common_reading": COMMON,
                        **figures, "spacy": spacy.__version__, "python": platform.python_version()}}
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
