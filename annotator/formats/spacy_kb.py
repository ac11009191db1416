"""spaCy knowledge base: `InMemoryLookupKB.to_disk`, for training spaCy's EntityLinker.

    out/            (a directory)
      contents      entities, their vectors, aliases and priors (spaCy's binary layout)
      strings.json  the strings those hash to

Load it with `InMemoryLookupKB(nlp.vocab, ENTITY_VECTOR_LENGTH).from_disk(out)`;
`kb.get_alias_candidates("Seoul")` then gives every entity with that exact alias text.

Priors P(entity | alias) come from the analysts' counts, Laplace-smoothed over the entities sharing
the alias text: (count + 1) / (total + n). They sum to 1 for each alias, and with no counts yet
every reading is equally likely.

Entity vectors are deterministic hashes of the entity's id, name, type and description words into
ENTITY_VECTOR_LENGTH dimensions (signed feature hashing, unit length). The EntityLinker trains its
own context encoder to score a mention against these fixed vectors, so they only need to be stable
and well spread; sharing words makes related entities start closer. No model is needed to build
them, and the same KB always gives the same file.

This is a knowledge-base format: documents are exported with `spacy` (DocBin), the KB with
`annotator kb export --format spacy-kb`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from annotator.core.records import DocRecord, FormatReport
from annotator.errors import AnnotatorError, Errors
from annotator.formats.kb_files import KbEntry

SUFFIX = ""  # a directory
ENTITY_VECTOR_LENGTH = 64
_WORD = re.compile(r"\w+")


def entity_vector(entry: KbEntry, length: int = ENTITY_VECTOR_LENGTH) -> list[float]:
    """A unit vector from hashed features: the id (weight 2, so no two entities coincide) and the
    words of name, type and description."""
    vec = [0.0] * length
    features = [("id:" + (entry.kb_id or entry.name), 2.0), ("type:" + entry.type, 1.0)]
    features += [("w:" + w, 1.0) for w in _WORD.findall(f"{entry.name} {entry.description}".casefold())]
    for feature, weight in features:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vec[value % length] += weight if (value >> 32) & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def priors(entries: Iterable[KbEntry]) -> dict[str, list[tuple[str, float]]]:
    """alias text → [(kb_id, P(entity | alias))], most likely first."""
    by_alias: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for e in entries:
        for text, count in zip(e.aliases, e.counts or [0] * len(e.aliases)):
            by_alias[text].append((e.kb_id, count))
    out = {}
    for text, pairs in by_alias.items():
        total, n = sum(c for _, c in pairs), len(pairs)
        probs = [(kb_id, (c + 1) / (total + n)) for kb_id, c in pairs]
        out[text] = sorted(probs, key=lambda p: -p[1])
    return out


def write_kb(entries: Iterable[KbEntry], out: Path) -> int:
    """Write the KB directory; returns the number of entities."""
    from spacy.kb import InMemoryLookupKB
    from spacy.vocab import Vocab

    entries = list(entries)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AnnotatorError(Errors.E209.format(path=out, reason="a file is in the way; spacy-kb writes a directory"))
    kb = InMemoryLookupKB(vocab=Vocab(), entity_vector_length=ENTITY_VECTOR_LENGTH)
    if entries:
        kb.set_entities(entity_list=[e.kb_id for e in entries],
                        freq_list=[float(sum(e.counts)) for e in entries],
                        vector_list=[entity_vector(e) for e in entries])
    for text, pairs in priors(entries).items():
        kb.add_alias(alias=text, entities=[k for k, _ in pairs], probabilities=[p for _, p in pairs])
    kb.to_disk(out)
    return len(entries)


def read(path: Path) -> list[DocRecord]:
    raise AnnotatorError(Errors.E042.format(
        fmt="spacy-kb", action="read as documents (it is a knowledge base; import KB files with "
                               "`annotator kb import` from .jsonl or .csv)"))


def write(docs: Iterable[DocRecord], out: Path) -> FormatReport:
    raise AnnotatorError(Errors.E042.format(
        fmt="spacy-kb", action="written from documents (it is a knowledge base: use "
                               "`annotator kb export --format spacy-kb`, and `--format spacy` for the documents)"))
