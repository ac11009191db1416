"""A person's span a token format cannot place (off token boundaries, or overlapping another) is
left out and reported, but it is still a person's "this is an entity": its words must not go out
as O, a non-entity nobody decided. spaCy can say "not annotated" (missing) and does."""

from __future__ import annotations

import spacy
from spacy.tokens import DocBin

from annotator.formats import spacy_docbin
from annotator.io.exporting import export, records, summary

USER = "tester"  # conftest's `project`: the first seed holds Naoki Tanaka accepted, three suggestions


def iob(doc, surface: str) -> list[str]:
    start = doc.text.index(surface)
    return [t.ent_iob_ for t in doc.char_span(start, start + len(surface), alignment_mode="expand")]


def test_spacy_marks_the_words_of_a_person_span_off_token_boundaries_missing_not_o(project, tmp_path):
    """Regression: "Defens" (a person's ORG, cut inside the word) was left out and reported, and the
    token "Defense" went out as O: `spacy train` learned it as no entity. Now it is missing."""
    first = project.documents()[0].id
    text = project.document(first).text
    start = text.index("Defense Minister")
    project.add_span(first, start, start + len("Defens"), "ORG")
    project.set_status(first, "done")
    out = tmp_path / "o.spacy"
    report = export(project.store, "spacy", out, layer=USER)
    assert report.misaligned == [(project.documents()[0].name, start, start + 6, "Defens")]
    assert summary(report, out)[1].startswith("1 span is not on token boundaries and was left out")
    [doc] = DocBin().from_disk(out).get_docs(spacy.blank("en").vocab)
    assert iob(doc, "Defense Minister") == ["", "O"]  # the word the person marked: neither entity nor O
    assert iob(doc, "Naoki Tanaka") == ["B", "I"] and [e.text for e in doc.ents] == ["Naoki Tanaka"]
    # the Doc-by-Doc writer (spacy_docbin.to_doc) follows the same rule
    [record] = records(project.store, USER, [first])
    built = spacy_docbin.to_doc(record, spacy.blank("en").vocab, spacy_docbin.FormatReport())
    assert [t.ent_iob_ for t in built] == [t.ent_iob_ for t in doc]
