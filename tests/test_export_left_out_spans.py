"""A person's span a token format cannot place (off token boundaries, or overlapping another) is
left out and reported, but it is still a person's "this is an entity": its words must not go out
as O, a non-entity nobody decided. spaCy can say "not annotated" (missing) and does."""

from __future__ import annotations

import pytest
import spacy
from spacy.tokens import DocBin

from annotator.errors import AnnotatorError
from annotator.formats import conll, spacy_docbin
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
    assert summary(report, out)[1].startswith("1 span is not on token boundaries (or overlaps another) and was left out")
    [doc] = DocBin().from_disk(out).get_docs(spacy.blank("en").vocab)
    assert iob(doc, "Defense Minister") == ["", "O"]  # the word the person marked: neither entity nor O
    assert iob(doc, "Naoki Tanaka") == ["B", "I"] and [e.text for e in doc.ents] == ["Naoki Tanaka"]
    # the Doc-by-Doc writer (spacy_docbin.to_doc) follows the same rule
    [record] = records(project.store, USER, [first])
    built = spacy_docbin.to_doc(record, spacy.blank("en").vocab, spacy_docbin.FormatReport())
    assert [t.ent_iob_ for t in built] == [t.ent_iob_ for t in doc]


def place(project, document_id: int, surface: str, label: str, cut: int = 0) -> None:
    """A person's span on the first `surface`, its end `cut` characters short."""
    start = project.document(document_id).text.index(surface)
    project.add_span(document_id, start, start + len(surface) - cut, label)


def decided(project):
    """The first two seeds done, the first one's suggestions deleted: every span a person's."""
    first, second = [d.id for d in project.documents()[:2]]
    for sp in project.spans(first):
        if sp.status == "suggested":
            project.delete_span(sp.id)
    project.open_document(second)
    project.set_status(first, "done")
    project.set_status(second, "done")
    return first, second


def test_conll_leaves_out_a_document_whose_person_span_would_be_o_and_names_it(project, tmp_path):
    """Regression: CoNLL has no "not annotated" tag; a person's "Defens" (ORG) was left out and the
    word written as O, a non-entity nobody decided. The document is left out, named, as for an
    unchecked suggestion; a span nested in a person's entity (its words tagged by that one) is not."""
    first, second = decided(project)
    place(project, first, "Defense Minister", "ORG", cut=10)  # "Defens"
    place(project, second, "Seoul", "GPE")
    out = tmp_path / "o.conll"
    report = export(project.store, "conll", out, layer=USER)
    name = project.documents()[0].name
    assert (report.documents, report.unplaced_documents) == (1, [name])
    assert summary(report, out)[1:] == [
        "1 span is not on token boundaries (or overlaps another) and was left out, e.g.: "
        f"{name} {report.misaligned[0][1]}-{report.misaligned[0][2]} 'Defens'",
        f"1 document was left out: conll has no tag for a word nobody decided, and a person's span it cannot "
        f"place (above) would go out as O, a non-entity. Fix the span or export --format spacy (marks its words "
        f"as not annotated): {name}"]
    [record] = conll.read(out)
    assert [record.text[s.start:s.end] for s in record.spans] == ["Seoul"]


def test_conll_keeps_a_document_whose_left_out_span_lies_inside_a_person_entity(project, tmp_path):
    first, _ = decided(project)
    place(project, first, "Naoki", "PERSON")  # inside the accepted "Naoki Tanaka": its words are tagged
    out = tmp_path / "o.conll"
    report = export(project.store, "conll", out, layer=USER)
    assert (report.documents, report.unplaced_documents, len(report.misaligned)) == (2, [], 1)
    assert [len(r.spans) for r in conll.read(out)] == [1, 0]


def test_conll_with_every_document_left_out_writes_nothing(project, tmp_path):
    first, second = decided(project)
    project.set_status(second, "in_progress")
    place(project, first, "Defense Minister", "ORG", cut=10)
    out = tmp_path / "o.conll"
    out.write_text("earlier export\n")
    with pytest.raises(AnnotatorError) as e:
        export(project.store, "conll", out, layer=USER, force=True)
    assert e.value.code == "E056" and "Defens" in str(e.value)
    assert out.read_text() == "earlier export\n"
