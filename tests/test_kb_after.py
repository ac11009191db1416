"""A knowledge base imported after the articles: the corpus's unchecked suggestions get the suggested
links an import would have given them (a person's checked span, a NIL, an existing link and a finished
layer stay as they are), the summary says how many, the provenance and agreement counts stay right,
and only a reviewer or the owner may import one (a reviewer or the admin on a team server)."""

from __future__ import annotations

import itertools
import os

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from test_provenance_counts import add_model, assert_consistent
from test_review import SEEDS, doc_id, make_store

from annotator.cli import main
from annotator.core.db.annotators import get_annotator
from annotator.core.db.models import Annotator, Document, Entity, Span
from annotator.core.db.store import Store
from annotator.core.kb.suggestions import suggest_links_everywhere
from annotator.core.project import Project
from annotator.core.resources import seeds_dir
from annotator.core.review.inputs import project_agreement
from annotator.errors import AnnotatorError
from annotator.io import kb_transfer
from annotator.io.importing import import_records
from annotator.io.sources import read_paths

BACKENDS = ("sqlite", "postgresql")  # each test runs on both (tests/conftest.py) unless marked
STARTER = seeds_dir() / kb_transfer.STARTER_KB
MENTIONS = (("Kim Kwan-jin", "PERSON"), ("Naoki Tanaka", "PERSON"), ("Japan", "GPE"), ("South Korea", "GPE"),
            ("Seoul", "GPE"), ("May 08, 2012", "DATE"), ("Defense Minister", "PERSON"))
_n = itertools.count(1)


def cli(db: str, *args: str, user: str | None = None):
    return CliRunner().invoke(main, ["--db", db, *(["--user", user] if user else []), *args], catch_exceptions=False)


def text_of(store, doc: int) -> str:
    with store.Session() as s:
        return s.scalar(select(Document.text).where(Document.id == doc))


def model_spans(store, doc: int, surfaces=MENTIONS) -> None:
    """The model's suggestions on the first occurrence of each surface the text has (no spaCy: fast)."""
    from_text = text_of(store, doc)
    found = {doc: [(from_text.index(w), from_text.index(w) + len(w), lab) for w, lab in surfaces if w in from_text]}
    add_model(store, found)


def layer(store, doc: int, name: str) -> dict[str, tuple]:
    """surface -> (kb id or None, status, nil) of a layer's spans on the document."""
    with store.Session() as s:
        text = text_of(store, doc)
        rows = s.execute(select(Span.start, Span.end, Entity.kb_id, Span.status, Span.nil, Span.link_source)
                         .join(Annotator, Annotator.id == Span.annotator_id)
                         .outerjoin(Entity, Entity.id == Span.entity_id)
                         .where(Span.document_id == doc, Annotator.name == name)).all()
    return {text[r.start:r.end]: (r.kb_id, r.status, r.nil, r.link_source) for r in rows}


def entities(store) -> int:
    with store.Session() as s:
        return s.scalar(select(func.count()).select_from(Entity))


@pytest.fixture
def corpus(store):
    """Two sample articles, the model's suggestions, and no knowledge base yet. On article 0 ana is at
    work: she accepted Naoki Tanaka (unlinked), marked Japan NIL and made her own entity of South
    Korea; bob finished it leaving his suggestions. Both finished article 1, accepting everything."""
    import_records(store, read_paths([SEEDS[0], SEEDS[1]]), use_model=False)
    d0, d1 = doc_id(store, 0), doc_id(store, 1)
    model_spans(store, d0)
    model_spans(store, d1)
    ana, bob = Project(store, "ana"), Project(store, "bob")
    by_text = {ana.document(d0).text[s.start:s.end]: s for s in ana.open_document(d0)}
    ana.accept(by_text["Naoki Tanaka"].id)
    ana.mark_nil(by_text["Japan"].id)
    ana.new_entity_from_span(by_text["South Korea"].id, name="ROK (ana's)")
    bob.open_document(d0)
    bob.set_status(d0, "done")
    for p in (ana, bob):
        p.open_document(d1)
        p.accept_all(d1)
        p.set_status(d1, "done")
    return store, d0, d1


def test_kb_after_articles_gives_unchecked_suggestions_their_links(corpus):
    store, d0, _ = corpus
    before_counts = assert_consistent(store)
    agreement = project_agreement(store)
    report = kb_transfer.import_kb(store, STARTER, by="ana")
    model = layer(store, d0, "model")
    assert model["Kim Kwan-jin"] == ("local:kim-kwan-jin", "suggested", False, "prior")
    assert model["Seoul"] == ("Q8684", "suggested", False, "prior")
    assert model["Japan"] == ("Q17", "suggested", False, "prior")
    assert model["Defense Minister"] == (None, "suggested", False, None)  # no alias: nothing to suggest
    assert model["May 08, 2012"] == (None, "suggested", False, None)  # a date names no entity
    assert layer(store, d0, "ana") == {
        "Kim Kwan-jin": ("local:kim-kwan-jin", "suggested", False, "prior"),  # unchecked: linked
        "Naoki Tanaka": (None, "accepted", False, None),  # checked by her: as it was
        "Japan": (None, "accepted", True, "person"),  # NIL: as it was
        "South Korea": ("local:rok-ana-s", "accepted", False, "person"),  # her link: as it was
        "Seoul": ("Q8684", "suggested", False, "prior"),
        "May 08, 2012": (None, "suggested", False, None),
        "Defense Minister": (None, "suggested", False, None)}
    assert {k for k, (kb, *_) in layer(store, d0, "bob").items() if kb} == set()  # finished: as he left it
    linked = sum(kb is not None and src == "prior" for d in (layer(store, d0, "model"), layer(store, d0, "ana"),
                                                             layer(store, doc_id(store, 1), "model"))
                 for kb, *_, src in d.values())
    assert report.suggested_links == linked
    assert kb_transfer.summary(report)[0] == (f"Added 67 entities with 146 aliases; {linked} unchecked mentions "
                                              "got a suggested link.")
    assert assert_consistent(store) == before_counts  # the counts read offsets, labels, statuses: unchanged
    after = project_agreement(store)
    assert (after.overall, after.pairs) == (agreement.overall, agreement.pairs)
    again = kb_transfer.import_kb(store, STARTER, by="ana")  # nothing left to suggest
    assert kb_transfer.summary(again) == ["Added 0 entities with 0 aliases; no unchecked mention's text is a "
                                          "known alias, so none got a suggested link.",
                                          "Skipped 67 already in the knowledge base."]


def test_kb_after_articles_in_small_batches_gives_the_same_links(corpus):
    """Batches bound memory at any corpus size; their size changes nothing."""
    store, d0, d1 = corpus
    kb_transfer.import_kb(store, STARTER)
    first = {d: (layer(store, d, "model"), layer(store, d, "ana")) for d in (d0, d1)}
    with store.atomic() as s:  # the same pass again, one document at a time: nothing left to do
        assert suggest_links_everywhere(s, batch=1) == 0
    assert {d: (layer(store, d, "model"), layer(store, d, "ana")) for d in (d0, d1)} == first


@pytest.mark.single_backend  # on a server the admin's connection may; members: the team test below
def test_kb_after_articles_refused_to_an_annotator_of_a_shared_file(corpus):
    store, d0, _ = corpus
    with store.atomic() as s:
        get_annotator(s, "ana").role = "reviewer"
    with pytest.raises(AnnotatorError, match=r"^\[E629\] 'bob' cannot import a knowledge base"):
        kb_transfer.import_kb(store, STARTER, by="bob")
    assert entities(store) == 1  # ana's own, nothing more
    assert layer(store, d0, "model")["Kim Kwan-jin"][0] is None
    assert kb_transfer.import_kb(store, STARTER, by="ana").suggested_links  # a reviewer may


@pytest.mark.single_backend
def test_kb_after_articles_cli_gives_what_the_other_order_gives(tmp_path):
    """The newcomer's walk: `import seeds/` then `kb import seeds/kb.jsonl` suggests the links the other
    order does, and says how many; `stats` agrees."""
    first, second = str(tmp_path / "kb_first.db"), str(tmp_path / "kb_after.db")
    assert cli(first, "kb", "import", str(STARTER), user="ana").exit_code == 0
    assert cli(first, "import", str(seeds_dir()), user="ana").exit_code == 0
    assert cli(second, "import", str(seeds_dir()), user="ana").exit_code == 0
    result = cli(second, "kb", "import", str(STARTER), user="ana")
    assert result.exit_code == 0
    assert result.output == "Added 67 entities with 146 aliases; 162 unchecked mentions got a suggested link.\n"
    assert cli(second, "stats").output == cli(first, "stats").output
    assert "GPE: 0 linked, 116 links suggested" in cli(second, "stats").output
    links = []
    for db in (first, second):
        store = Store(db)
        with store.Session() as s:
            links.append(sorted(s.execute(select(Span.document_id, Span.start, Span.end, Span.label, Entity.kb_id,
                                                 Span.link_source)
                                          .outerjoin(Entity, Entity.id == Span.entity_id)).all()))
        store.close()
    assert links[0] == links[1]


@pytest.mark.single_backend
def test_kb_after_articles_cli_refuses_an_annotator(tmp_path):
    db = str(tmp_path / "p.db")
    assert cli(db, "import", "--no-model", str(seeds_dir()), user="ana").exit_code == 0  # ana owns the file
    store = Store(db)
    Project(store, "bob").open_document(1)
    store.close()
    result = cli(db, "kb", "import", str(STARTER), user="bob")
    assert result.exit_code == 1
    assert result.output.startswith("Error: [E629] 'bob' cannot import a knowledge base: its entities are "
                                    "everyone's")
    assert "only a reviewer or the project's owner ('ana') may" in result.output
    assert cli(db, "kb", "import", str(STARTER), user="ana").exit_code == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_kb_after_articles_team_server_reviewer_only(tmp_path, pg_cluster):
    """On a team server an annotator's login is refused before anything is written; a reviewer's
    import links the unchecked suggestions of every layer, the annotator's too."""
    store = make_store(tmp_path / "p.db", docs=(0,), kb=False)
    d0 = doc_id(store, 0)
    model_spans(store, d0)
    n = f"{os.getpid()}_k{next(_n)}"  # not test_team_roles's names: logins belong to the whole server
    ann, rev = f"ann{n}", f"rev{n}"
    for name, role in ((ann, "annotator"), (rev, "reviewer")):
        assert cli(store.url, "db", "users", "add", name, "--role", role).exit_code == 0
    url = {name: pg_cluster.url(store.engine.url.database, user=name) for name in (ann, rev)}
    member = Store(url[ann])
    Project(member).open_document(d0)
    member.close()
    refused = cli(url[ann], "kb", "import", str(STARTER))
    assert refused.exit_code == 1
    assert refused.output.startswith(f"Error: [E629] '{ann}' cannot import a knowledge base")
    assert "only a reviewer or the server's admin may" in refused.output
    assert entities(store) == 0
    done = cli(url[rev], "kb", "import", str(STARTER))
    assert done.exit_code == 0, done.output
    assert layer(store, d0, ann)["Kim Kwan-jin"] == ("local:kim-kwan-jin", "suggested", False, "prior")
    assert layer(store, d0, "model")["Kim Kwan-jin"][0] == "local:kim-kwan-jin"
    assert done.output.startswith("Added 67 entities with 146 aliases; ")
