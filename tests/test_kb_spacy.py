"""The spacy-kb export, read back by spaCy itself."""

from __future__ import annotations

import json

import pytest

from annotator.core.kb import entities as kb
from annotator.io import kb_transfer
from annotator.errors import AnnotatorError
from annotator.formats import registry, spacy_kb

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


@pytest.fixture
def exported(store, tmp_path):
    rows = [
        {"id": "Q8684", "name": "Seoul", "type": "GPE", "description": "capital of South Korea",
         "aliases": ["Seoul"], "alias_counts": [1]},
        {"id": "local:government-of-south-korea", "name": "Government of South Korea", "type": "ORG",
         "aliases": ["Seoul"], "alias_counts": [3]},
        {"id": "local:gsomia", "name": "General Security of Military Information Agreement", "type": "LAW",
         "aliases": ["GSOMIA"]},
        {"id": "local:korea", "name": "Korea", "type": "GPE"},
        {"id": "Q884", "name": "South Korea", "type": "GPE", "aliases": ["Korea"]},
    ]
    path = tmp_path / "kb.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    kb_transfer.import_kb(store, path)
    out = tmp_path / "spacy_kb"
    assert kb_transfer.export_kb(store, "spacy-kb", out) == 5
    return out


def load(path):
    from spacy.kb import InMemoryLookupKB
    from spacy.vocab import Vocab

    loaded = InMemoryLookupKB(Vocab(), entity_vector_length=spacy_kb.ENTITY_VECTOR_LENGTH)
    loaded.from_disk(path)
    return loaded


def candidates(loaded, alias):
    return {c.entity_: round(c.prior_prob, 5) for c in loaded.get_alias_candidates(alias)}


def test_kb_spacy_export_loads_with_our_candidates_and_priors(exported):
    loaded = load(exported)
    assert set(loaded.get_entity_strings()) == {"Q8684", "local:government-of-south-korea", "local:gsomia",
                                                "local:korea", "Q884"}
    # counts 1 and 3, smoothed: (1+1)/(4+2) and (3+1)/(4+2)
    assert candidates(loaded, "Seoul") == {"Q8684": round(2 / 6, 5), "local:government-of-south-korea": round(4 / 6, 5)}
    # no counts at all: a uniform prior
    assert candidates(loaded, "Korea") == {"local:korea": 0.5, "Q884": 0.5}
    assert candidates(loaded, "GSOMIA") == {"local:gsomia": 1.0}
    assert candidates(loaded, "General Security of Military Information Agreement") == {"local:gsomia": 1.0}
    assert candidates(loaded, "Tokyo") == {}
    for alias in loaded.get_alias_strings():
        assert sum(c.prior_prob for c in loaded.get_alias_candidates(alias)) <= 1.0 + 1e-6


def test_kb_spacy_vectors_are_deterministic_unit_vectors(exported, store, tmp_path):
    loaded = load(exported)
    vector = loaded.get_vector("Q8684")
    assert len(vector) == spacy_kb.ENTITY_VECTOR_LENGTH
    assert abs(sum(v * v for v in vector) - 1.0) < 1e-5
    again = tmp_path / "again"
    kb_transfer.export_kb(store, "spacy-kb", again)
    assert (again / "contents").read_bytes() == (exported / "contents").read_bytes()
    assert load(again).get_vector("local:korea") != vector


def test_kb_spacy_is_not_a_document_format(tmp_path):
    module = registry.get("spacy-kb")
    assert module is spacy_kb
    for call in (lambda: module.read(tmp_path), lambda: module.write([], tmp_path)):
        with pytest.raises(AnnotatorError) as e:
            call()
        assert e.value.code == "E042"


def test_kb_spacy_export_refuses_a_file_in_the_way(store, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(AnnotatorError) as e:
        kb_transfer.export_kb(store, "spacy-kb", tmp_path / "file")
    assert e.value.code == "E209"


def test_kb_spacy_entity_linker_trains_on_the_export(exported):
    """spaCy's EntityLinker takes the exported KB as it is and learns from it (loss goes down)."""
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    linker = nlp.add_pipe("entity_linker", config={"incl_prior": True, "incl_context": True})
    linker.set_kb(lambda vocab: load_into(vocab, exported))
    examples = []
    for text, kb_id in [("Seoul is a big city with many people.", "Q8684"),
                        ("Seoul said it will sign the pact.", "local:government-of-south-korea")]:
        doc = nlp.make_doc(text)
        examples.append(Example.from_dict(doc, {"entities": [(0, 5, "GPE")], "links": {(0, 5): {kb_id: 1.0}},
                                                "sent_starts": [1] + [0] * (len(doc) - 1)}))
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(8):
        step: dict = {}
        nlp.update(examples, sgd=optimizer, losses=step)
        losses.append(step["entity_linker"])
    assert losses[-1] < losses[0]


def load_into(vocab, path):
    from spacy.kb import InMemoryLookupKB

    loaded = InMemoryLookupKB(vocab, entity_vector_length=spacy_kb.ENTITY_VECTOR_LENGTH)
    loaded.from_disk(path)
    return loaded
