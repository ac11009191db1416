"""Train a spaCy NER pipeline on what the analysts checked, and score a run against checked data.

Only decisions are learned: documents a layer's annotator marked done, with their accepted spans
(exporting.records without suggestions, written by the "spacy" format) — never an unchecked
suggestion, whose tokens that format writes as missing: spaCy learns neither an entity nor O there,
and its scorer counts no prediction there. Each document is taken once, from the first of the chosen layers that finished it ("done":
gold first, then every person's layer by name). A fifth of the documents is held out by a hash of
the document's name, so the split is the same every time and `evaluate` can find it again.

The spaCy format module is loaded when first needed (registry.get), so the window starts without spaCy.

Training is spaCy's own (`python -m spacy train`), in a subprocess whose output lines are passed on as
progress, starting from the base model's NER (with the project's labels added) or from a blank English
pipeline. The run folder keeps config.cfg, train.spacy and dev.spacy beside model-best, and base/ (the
base model's NER with the project's labels, ~7 MB) that the config sources: `spacy train config.cfg`
runs again on it (on an export too), and train.spacy says which documents the run learned from. With enough
decided links an entity linker is trained alongside (io/linker.py), its knowledge base in `kb/`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from sqlalchemy import select

from annotator.core import nlp as nlp_mod
from annotator.core.db.annotators import GOLD, MODEL_LAYER
from annotator.core.db.models import Annotator, Document
from annotator.core.db.store import Store
from annotator.core.editing.labels import all_labels
from annotator.core.editing.permissions import check_reviewer_view, check_visible
from annotator.core.records import DocRecord, FormatReport
from annotator.core.words import plural
from annotator.errors import AnnotatorError, Cancelled, Errors
from annotator.formats import registry
from annotator.io import exporting, linker, model_runs

HELD_OUT_PERCENT = 20
DONE = "done"
BLANK = "blank"
Progress = Callable[[str], None]
Stop = Callable[[], bool]


@dataclass(frozen=True)
class Chosen:
    layer: str
    document_id: int
    name: str


@dataclass
class TrainReport:
    run: model_runs.RunInfo
    train: int
    held_out: int
    misaligned: int


def layers_of(store: Store, sources: list[str], viewer: str | None) -> list[str]:
    """The layers `sources` names, in priority order ("done": gold, then every person's layer). Reading
    colleagues' layers is for reviewers (E164); a named layer must be one `viewer` may see (E163)."""
    with store.Session() as s:
        names = [n for n in s.scalars(select(Annotator.name).where(~Annotator.is_model).order_by(Annotator.name))]
        out: list[str] = []
        for source in sources:
            if source == DONE:
                if viewer is not None:
                    check_reviewer_view(s, viewer, "training on every finished layer")
                out += ([GOLD] if GOLD in names else []) + [n for n in names if n != GOLD]
            else:
                exporting.layer_id(store, source)  # E041 for an unknown layer
                if viewer is not None:
                    check_visible(s, viewer, source)
                out.append(source)
    return [n for i, n in enumerate(out) if n not in out[:i] and n != MODEL_LAYER]


def selection(store: Store, layers: list[str]) -> list[Chosen]:
    """Each finished document once, from the first layer that finished it; by document name."""
    chosen: dict[int, str] = {}
    for layer in layers:
        for doc_id in exporting.document_ids(store, layer, "done"):
            chosen.setdefault(doc_id, layer)
    with store.Session() as s:
        names = dict(s.execute(select(Document.id, Document.name).where(Document.id.in_(list(chosen)))).all())
    return sorted((Chosen(layer, doc_id, names[doc_id]) for doc_id, layer in chosen.items()), key=lambda c: c.name)


def _bucket(name: str) -> int:
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:8], 16) % 100


def split(chosen: list[Chosen]) -> tuple[list[Chosen], list[Chosen]]:
    """(train, held out): a document is held out when the hash of its name falls in the first
    HELD_OUT_PERCENT; if that leaves either side empty, the document with the lowest hash moves."""
    held = [c for c in chosen if _bucket(c.name) < HELD_OUT_PERCENT]
    train = [c for c in chosen if _bucket(c.name) >= HELD_OUT_PERCENT]
    if not held and len(train) > 1:
        first = min(train, key=lambda c: (_bucket(c.name), c.name))
        train.remove(first)
        held.append(first)
    elif not train and len(held) > 1:
        last = max(held, key=lambda c: (_bucket(c.name), c.name))
        held.remove(last)
        train.append(last)
    return train, held


def checked_records(store: Store, chosen: list[Chosen], labels: set[str] | None = None) -> Iterator[DocRecord]:
    """The chosen documents with their layer's accepted spans only (of `labels`, when given)."""
    by_layer: dict[str, list[int]] = {}
    for c in chosen:
        by_layer.setdefault(c.layer, []).append(c.document_id)
    for layer, ids in by_layer.items():
        for rec in exporting.records(store, layer, sorted(ids), suggestions=False):
            if labels is not None:
                rec.spans = [sp for sp in rec.spans if sp.label in labels]
            yield rec


def _used_labels(store: Store, chosen: list[Chosen]) -> set[str]:
    return {sp.label for rec in checked_records(store, chosen) for sp in rec.spans}


def _prepare_base(base: str, labels: set[str], folder: Path) -> Path:
    """The base pipeline's NER (with its own embedding) and the project's labels added, saved to
    `folder` for the config to source from."""
    import spacy

    try:
        nlp = spacy.load(nlp_mod.resolve_model(base), exclude=nlp_mod.NOT_FOR_NER)
    except (OSError, ImportError, ValueError) as e:
        raise AnnotatorError(Errors.E605.format(base=base, reason=f"{type(e).__name__}: {e}")) from None
    if "ner" not in nlp.pipe_names:
        raise AnnotatorError(Errors.E605.format(base=base, reason="it has no NER component"))
    if "tok2vec" in nlp.pipe_names and not nlp.get_pipe("tok2vec").listening_components:
        nlp.remove_pipe("tok2vec")
    ner = nlp.get_pipe("ner")
    for label in sorted(labels - set(ner.labels)):
        ner.add_label(label)
    nlp.to_disk(folder)
    return folder


def _config(base_dir: Path | None, max_steps: int, seed: int = 0):
    """spaCy's own NER config (`spacy init config`), sourcing the NER from `base_dir` when given."""
    from spacy.cli.init_config import init_config

    cfg = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False, silent=True)
    if base_dir is not None:
        cfg["nlp"]["pipeline"] = ["ner"]
        cfg["components"] = {"ner": {"source": str(base_dir)}}
    cfg["system"]["seed"] = seed
    cfg["training"]["max_steps"] = max_steps
    cfg["training"]["eval_frequency"] = max(1, min(200, max_steps // 2 or 1))
    cfg["training"]["max_epochs"] = 0
    return cfg


def _stop_when(proc: subprocess.Popen, cancelled: Stop, done: threading.Event) -> None:
    """Watch `cancelled` while spaCy trains (it may print nothing for a long time); end it when true."""
    while not done.wait(0.1):
        if cancelled():
            proc.terminate()
            return


def _spacy_train(folder: Path, progress: Progress | None, cancelled: Stop | None = None) -> None:
    """`python -m spacy train` on the folder's config and data; E604 if it fails, Cancelled when
    `cancelled()` turned true (the subprocess is terminated)."""
    cmd = [sys.executable, "-m", "spacy", "train", str(folder / "config.cfg"), "--output", str(folder),
           "--paths.train", str(folder / "train.spacy"), "--paths.dev", str(folder / "dev.spacy")]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    tail: deque[str] = deque(maxlen=5)
    done = threading.Event()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        assert proc.stdout is not None
        if cancelled is not None:
            threading.Thread(target=_stop_when, args=(proc, cancelled, done), daemon=True).start()
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                tail.append(line)
                if progress:
                    progress(line)
        status = proc.wait()
        done.set()
    if cancelled is not None and cancelled():
        raise Cancelled()
    if status != 0:
        raise AnnotatorError(Errors.E604.format(status=status, tail=" | ".join(tail) or "(none)"))


def train(store: Store, *, sources: list[str] | None = None, labels: list[str] | None = None,
          base: str | None = None, out: str | Path | None = None, max_steps: int = 1000,
          viewer: str | None = None, progress: Progress | None = None,
          cancelled: Stop | None = None) -> TrainReport:
    """Train on the checked documents of `sources`, record the run and return it (see the module).
    With `viewer`, only a reviewer may (E614), from their own layer too: the run is the project's.
    Cancelling (up to the moment the run is recorded, scoring included) stops spaCy and removes the
    run's folder, as any failure does: nothing is recorded, and no folder is left without its run."""
    if max_steps < 1:
        raise AnnotatorError(Errors.E608.format(steps=max_steps))
    if viewer is not None:  # a run is the project's (listed, made the suggester): reviewers, as in the window
        with store.Session() as s:
            if s.scalar(select(Annotator.role).where(Annotator.name == viewer)) != "reviewer":
                raise AnnotatorError(Errors.E614.format(user=viewer))
    sources = sources or [DONE]
    source_text = ", ".join(sources)
    chosen = selection(store, layers_of(store, sources, viewer))
    if not chosen:
        raise AnnotatorError(Errors.E600.format(source=source_text))
    if len(chosen) < 2:
        raise AnnotatorError(Errors.E601.format(n=len(chosen), source=source_text))
    used = _used_labels(store, chosen)
    if not used:
        raise AnnotatorError(Errors.E600.format(source=source_text))
    keep = set(labels) & used if labels else None
    if labels and not keep:
        raise AnnotatorError(Errors.E610.format(given=", ".join(labels), used=", ".join(sorted(used))))
    if keep is None:  # the project's own labels, and any other the analysts used
        with store.Session() as s:
            keep = {info.name for info in all_labels(s)} | used
    folder = Path(out) if out is not None else model_runs.models_folder(store) / datetime.now().strftime(
        "run-%Y%m%d-%H%M%S")
    name = folder.name
    if model_runs.taken(store, name):
        raise AnnotatorError(Errors.E611.format(name=name))
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise AnnotatorError(Errors.E606.format(path=folder))
    train_set, held = split(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        misaligned = 0
        writer = registry.get("spacy")
        links = linker.Tally()
        misaligned += len(writer.write(links.watch(checked_records(store, train_set, keep)),
                                       folder / "train.spacy").misaligned)
        misaligned += len(writer.write(checked_records(store, held, keep), folder / "dev.spacy").misaligned)
        if progress:
            progress(f"Training on {plural(len(train_set), 'document')}, {len(held)} held out; labels: "
                     f"{', '.join(sorted(keep))}")
            progress(links.line())
        base_name = base or nlp_mod.resolve_model(None)
        base_dir = None if base_name == BLANK else _prepare_base(base_name, keep, folder / "base")
        cfg = _config(base_dir, max_steps)
        if links.enough:  # the knowledge base goes into the run folder, the linker into the config
            linker.write_kb(store, folder / "kb")
            linker.add_to_config(cfg, folder / "kb")
        cfg.to_disk(folder / "config.cfg")
        _spacy_train(folder, progress, cancelled)
        shutil.rmtree(folder / "model-last", ignore_errors=True)  # base/ stays: config.cfg sources its NER
        best = folder / "model-best"
        import spacy

        scores = score(spacy.load(best), checked_records(store, held, keep), keep)
        if base_name != BLANK:  # the stock model on the same held-out documents: the improvement is measurable
            scores["stock"] = score(nlp_mod.load_model(base_name), checked_records(store, held, keep), keep)
        scores["linker"] = links.record()
        layers: dict[str, int] = {}
        for c in train_set:
            layers[c.layer] = layers.get(c.layer, 0) + 1
        scores["trained_on"] = {"sources": sources, "layers": layers}  # whose work; the names: train.spacy
        if cancelled is not None and cancelled():  # asked while the run was scored: still nothing recorded
            raise Cancelled()
        run = model_runs.record_run(store, name=name, path=best, base=base_name, documents=len(train_set),
                                    labels=sorted(keep), scores=scores)
    except BaseException:  # a failure or a cancel at any step: no folder without its run
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return TrainReport(run, len(train_set), len(held), misaligned)


def score(nlp, docs: Iterable[DocRecord], labels: Iterable[str] | None = None) -> dict:
    """P/R/F1 of the pipeline's entities against the records' spans, by spaCy's scorer (as
    Language.evaluate runs it): {"overall": {p, r, f}, "per_label": {LABEL: {p, r, f}}, "documents": n},
    and "links": {p, r, f} (spaCy's nel_micro scores) when the pipeline has an entity linker.
    With `labels`, both sides keep only those: the model never learned the others, and a base model's
    DATE or NORP would count as a false positive against reference data that leaves them out."""
    from spacy.scorer import Scorer
    from spacy.training import Example

    keep = set(labels) if labels is not None else None
    examples, report = [], FormatReport()
    for rec in docs:
        if keep is not None:
            rec.spans = [sp for sp in rec.spans if sp.label in keep]
        reference = registry.get("spacy").to_doc(rec, nlp.vocab, report)
        examples.append(Example(nlp.make_doc(rec.text), reference))
    for eg, doc in zip(examples, nlp.pipe([eg.predicted for eg in examples])):
        if keep is not None:
            doc.ents = [e for e in doc.ents if e.label_ in keep]
        eg.predicted = doc
    scores = Scorer(nlp).score(examples) if examples else {}

    def prf(d: dict | None, prefix: str = "") -> dict:
        d = d or {}
        return {k: round(float(d.get(prefix + k) or 0.0), 4) for k in ("p", "r", "f")}

    out = {"overall": prf(scores, "ents_"),
           "per_label": {label: prf(v) for label, v in sorted((scores.get("ents_per_type") or {}).items())},
           "documents": len(examples)}
    if linker.has_linker(nlp):  # the links, scored by spaCy the same way: {p, r, f}
        out["links"] = linker.link_scores(nlp, examples)
    return out


def evaluate(store: Store, run_name: str, against: str | None = None, viewer: str | None = None) -> dict:
    """Score a run against checked data: `against` a layer's finished documents, or by default the
    documents held out of the finished layers (the split `train` made); either way never one the run
    was trained on (`trained_on`: the split's fallback, or a layer's documents it learned from, would
    otherwise be scored). `run_name` is a run's name or folder, or any spaCy pipeline's folder (a model
    trained elsewhere, scored on its NER labels: what it learned from is not known here)."""
    import spacy

    trained: set[str] = set()
    try:
        run = model_runs.find_run(store, run_name)
        name, path, labels = run.name, run.path, set(run.labels) or None
        trained = trained_on(run)
    except AnnotatorError as e:
        if not (Path(run_name) / "meta.json").is_file() or "[E628]" in str(e):
            raise
        name, path, labels = run_name, Path(run_name), None
    try:
        nlp = spacy.load(path)
    except (OSError, ImportError, ValueError) as e:  # another spaCy version, a missing factory
        raise AnnotatorError(Errors.E625.format(path=path, reason=f"{type(e).__name__}: {e}")) from None
    if labels is None and "ner" in nlp.pipe_names:  # a pipeline from elsewhere: scored on its NER's labels
        labels = set(nlp.get_pipe("ner").labels) or None
    if against is None:
        _, chosen = split(selection(store, layers_of(store, [DONE], viewer)))
        source = "the held-out documents of the finished layers"
    else:
        chosen = selection(store, layers_of(store, [against], viewer))
        source = f"layer '{against}'"
    if not chosen:
        raise AnnotatorError(Errors.E609.format(source=source))
    unseen = [c for c in chosen if c.name not in trained]  # never a document the run learned from
    if not unseen:
        raise AnnotatorError(Errors.E627.format(source=source, n=len(chosen), name=name))
    return {"run": name, "against": against or "held-out", "trained_on_left_out": len(chosen) - len(unseen),
            **score(nlp, checked_records(store, unseen, labels), labels)}


def trained_on(run: model_runs.RunInfo) -> set[str]:
    """The names of the documents `run` learned from, read from its folder's train.spacy (the
    record of what it was trained on), a document at a time: DocBin.from_disk would hold the whole
    corpus's token rows (gigabytes for 100,000 articles). E628 when it is gone."""
    path = run.path.parent / "train.spacy"
    if not path.is_file():
        raise AnnotatorError(Errors.E628.format(name=run.name, path=path))
    return {rec.name for rec in registry.get("spacy").stream(path)}
