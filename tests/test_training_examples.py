"""What training learns from a finished document with suggestions nobody checked ("Leave them out"):
their words are missing in the examples (no tag to learn, neither entity nor O) and spaCy's scorer
counts no prediction on them; a suggestion a person deleted stays a negative. Read as `spacy train`
reads it: the DocBin training writes, through spaCy's own Corpus and Example."""

from __future__ import annotations

import pytest
import spacy
from spacy.training import Corpus

from annotator.formats import registry
from annotator.io import training

USER = "tester"  # conftest's `project`: the first seed holds Naoki Tanaka accepted, three suggestions


def finished(project) -> list[training.Chosen]:
    """The first document done with its suggestions left unchecked, but "Japan", which the analyst deleted."""
    first = project.documents()[0].id
    text = project.document(first).text
    project.open_document(first)
    [japan] = [sp for sp in project.spans(first) if text[sp.start:sp.end] == "Japan"]
    project.delete_span(japan.id)
    project.set_status(first, "done")
    chosen = training.selection(project.store, training.layers_of(project.store, [training.DONE], None))
    assert [c.document_id for c in chosen] == [first]
    return chosen


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_training_examples_leave_unchecked_suggestions_missing(project, tmp_path):
    """Regression: the examples tagged "Kim Kwan-jin" (left unchecked) O: learned as no entity. Also
    from a team project on PostgreSQL (the suggestions' extents are a query of their own)."""
    chosen = finished(project)
    registry.get("spacy").write(training.checked_records(project.store, chosen), tmp_path / "train.spacy")
    nlp = spacy.blank("en")
    [example] = list(Corpus(str(tmp_path / "train.spacy"))(nlp))
    words, tags = [t.text for t in example.predicted], example.get_aligned_ner()
    text = example.reference.text

    def tagged(surface: str) -> list:
        start = text.index(surface)
        span = example.predicted.char_span(start, start + len(surface))
        return tags[span.start:span.end]

    assert tagged("Kim Kwan-jin") == [None] * 4 and tagged("South Korea") == [None, None]  # nothing to learn
    assert tagged("Naoki Tanaka") == ["B-PERSON", "L-PERSON"]
    assert tagged("Japan") == ["O"]  # deleted: a person's no, learned as such
    assert sum(tag is None for tag in tags) == 6 and len(words) == len(tags)


def test_score_counts_no_prediction_on_unchecked_words(project):
    """Regression: a model finding "Kim Kwan-jin" (unchecked) was scored a false positive."""
    chosen = finished(project)
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PERSON", "pattern": "Kim Kwan-jin"},
                                               {"label": "PERSON", "pattern": "Naoki Tanaka"}])
    scores = training.score(nlp, training.checked_records(project.store, chosen))
    assert scores["overall"] == {"p": 1.0, "r": 1.0, "f": 1.0} and scores["documents"] == 1
