from annotator.core.project import Project

from factories import seeded_store

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py)


def test_project_first_open_copies_model_suggestions_into_my_layer(tmp_path):
    store = seeded_store(tmp_path, model=True)
    ana, bob = Project(store, user="ana"), Project(store, user="bob")
    assert [d.status for d in ana.documents()] == ["new"] * 3
    mine = ana.open_document(1)
    model = Project(store, user="model", register=False).spans(1)  # a look at the model's layer
    assert [(s.start, s.end, s.label) for s in mine] == [(s.start, s.end, s.label) for s in model]
    assert all(s.status == "suggested" and s.origin == "model" for s in mine)
    ana.delete_span(mine[0].id)
    assert len(ana.open_document(1)) == len(model) - 1  # reopening does not copy again
    assert bob.spans(1) == []  # blind: bob's layer is his own
    doc = ana.documents()[0]
    assert (doc.status, doc.spans, doc.suggested) == ("in_progress", len(model) - 1, len(model) - 1)


def test_project_document_text_and_tokens(tmp_path):
    project = Project(seeded_store(tmp_path), user="ana")
    doc = project.document(1)
    assert doc.title == "S.Korea, Japan to Sign Military Agreement"
    start = doc.text.index("Kwan")
    assert doc.text[slice(*doc.tokens.snap(start, start + 2))] == "Kwan"  # spaCy splits "Kwan-jin" at the hyphen
    assert doc.text[slice(*doc.tokens.snap(start - 3, start + 6))] == "Kim Kwan-jin"
