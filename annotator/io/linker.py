"""The entity linker trained beside the NER: when, how it is configured, and what it chose.

When. The linker learns which entity an alias means from the context around it, so it is trained
only when the training documents hold enough decided links: at least MIN_LINKS accepted mentions
linked to at least MIN_ENTITIES entities (NIL does not count). Fewer, and the run is NER only; the
progress line and the run's record (`scores["linker"]`) say which and why.

How. spaCy's own `entity_linker` in the `spacy train` config: the knowledge base is written into
the run folder (`kb/`, the spacy-kb export: hashed entity vectors of ENTITY_VECTOR_LENGTH, priors
from the analysts' counts) and loaded with spacy.KBFromFile.v1; the linker has its own small
embedding (the NER sourced from a base model has no shared tok2vec to listen to). A sentencizer
before it gives sentence boundaries, at inference and (as an annotating component) while training.
The linker reads the context only (incl_prior off): the analysts' counts are already the prior of
the candidate ranking, and spaCy's p + s - p*s lets a skewed prior overrule a context that points
the other way (held-out ambiguous aliases: 0.55 right with the prior, 0.83 without; bench_links).

What it chose. For each entity the pipeline finds, the linker's kb_id, or nothing where it has no
candidate (NIL): re-suggesting maps the kb_id back to the project's Entity row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import select

from annotator.core.db.models import Entity
from annotator.core.db.store import Store
from annotator.core.records import NIL, DocRecord
from annotator.core.words import plural
from annotator.formats import spacy_kb
from annotator.io import kb_transfer

MIN_LINKS = 20
MIN_ENTITIES = 2
LINKER = "entity_linker"
_OWN_EMBEDDING = {"@architectures": "spacy.HashEmbedCNN.v2", "width": 96, "depth": 2, "embed_size": 2000,
                  "window_size": 1, "maxout_pieces": 3, "subword_features": True, "pretrained_vectors": None}


@dataclass
class Tally:
    """Linked mentions counted while the training documents stream past to the DocBin writer."""

    mentions: int = 0
    entities: set[str] = field(default_factory=set)

    def watch(self, records: Iterable[DocRecord]) -> Iterator[DocRecord]:
        for rec in records:
            for sp in rec.spans:
                if sp.kb_id and sp.kb_id != NIL:
                    self.mentions += 1
                    self.entities.add(sp.kb_id)
            yield rec

    @property
    def enough(self) -> bool:
        return self.mentions >= MIN_LINKS and len(self.entities) >= MIN_ENTITIES

    def record(self) -> dict:
        """What the run's record keeps: trained or not, on how many links, against which threshold."""
        return {"trained": self.enough, "mentions": self.mentions, "entities": len(self.entities),
                "min_mentions": MIN_LINKS, "min_entities": MIN_ENTITIES}

    def line(self) -> str:
        need = f"at least {MIN_LINKS} linked mentions of {MIN_ENTITIES} entities"
        n = len(self.entities)
        have = f"{plural(self.mentions, 'linked mention')} of {plural(n, 'entity')}"
        return (f"Entity linker: {have} ({need}): trained with the NER" if self.enough
                else f"Entity linker: not trained, {have} (it needs {need})")


def write_kb(store: Store, folder: Path) -> int:
    """The project's knowledge base as spaCy's InMemoryLookupKB (the spacy-kb export) in `folder`."""
    with store.Session() as s:
        return spacy_kb.write_kb(list(kb_transfer.entries(s)), folder)


def add_to_config(cfg, kb_dir: Path):
    """A sentencizer and an entity_linker after the NER, the linker's KB read from `kb_dir`."""
    cfg["nlp"]["pipeline"] = [*cfg["nlp"]["pipeline"], "sentencizer", LINKER]
    cfg["components"]["sentencizer"] = {"factory": "sentencizer"}
    cfg["components"][LINKER] = {
        "factory": LINKER, "entity_vector_length": spacy_kb.ENTITY_VECTOR_LENGTH, "incl_prior": False,
        "incl_context": True, "get_candidates": {"@misc": "spacy.CandidateGenerator.v1"},
        "model": {"@architectures": "spacy.EntityLinker.v2", "nO": None, "tok2vec": dict(_OWN_EMBEDDING)}}
    cfg["initialize"].setdefault("components", {})[LINKER] = {
        "kb_loader": {"@misc": "spacy.KBFromFile.v1", "kb_path": str(kb_dir)}}
    cfg["training"]["annotating_components"] = ["sentencizer"]
    weights = dict(cfg["training"].get("score_weights") or {})
    weights.update({"ents_f": 0.5, "nel_micro_f": 0.5})  # model-best: the NER and the links alike
    cfg["training"]["score_weights"] = weights
    return cfg


def has_linker(nlp) -> bool:
    return LINKER in nlp.pipe_names


def link_scores(nlp, examples: list) -> dict:
    """spaCy's entity-linking scores (Scorer.score_links: micro P/R/F over the mentions found on both
    sides) as {p, r, f}, on the mentions a person decided: linked, or NIL. A mention nobody linked yet
    is left out of the reference; spaCy would count the linker's NIL there as a miss."""
    from spacy.scorer import Scorer
    from spacy.training import Example

    scored = []
    for eg, doc in zip(examples, nlp.pipe([eg.reference.text for eg in examples])):
        reference = eg.reference.copy()
        reference.set_ents([e for e in reference.ents if e.kb_id_], default="missing")
        scored.append(Example(doc, reference))
    scores = Scorer.score_links(scored, negative_labels=[NIL])
    return {k: round(float(scores.get(f"nel_micro_{k}") or 0.0), 4) for k in ("p", "r", "f")}


def entity_ids(session, kb_ids: Iterable[str]) -> dict[str, int]:
    """kb_id → Entity.id for the ones still in the knowledge base."""
    wanted = sorted(set(kb_ids))
    out: dict[str, int] = {}
    for i in range(0, len(wanted), 500):
        out.update(session.execute(select(Entity.kb_id, Entity.id).where(Entity.kb_id.in_(wanted[i:i + 500]))).all())
    return out
