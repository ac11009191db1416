"""A person's first edit of a document goes to their own layer, whatever the edit and the role.

Regression: a reviewer's layer starts with their first edit, and until then the window shows the
model's suggestions. An edit made on one of those (a link, NIL, a note, a new entity... anything but
the few edits the window mapped itself) was written into the MODEL layer: the reviewer got no layer,
and the model's layer held an accepted, linked span. Now the command stack sends an edit of a model
suggestion to the person's copy of it (starting their layer from the model's suggestions, as opening
does for an analyst), and refuses (E620) what would still write into the model's layer. Each edit is
checked as a first edit for a reviewer and an annotator: their layer, the model's layer unchanged,
undo, redo, and undo again after reopening the project.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import factories
import pytest
from sqlalchemy import insert, select

from annotator.core.db.annotators import GOLD, MODEL_LAYER, get_annotator, record_owner
from annotator.core.db.models import Annotator, DocumentState, Entity, Event, Span
from annotator.core.db.provenance_counts import refresh
from annotator.core.editing.spans import AddSpan
from annotator.core.kb.linking import NilSpan
from annotator.core.project import Project
from annotator.core.review.adjudication import start_adjudication
from annotator.core.resources import seeds_dir
from annotator.core.search import Filters
from annotator.errors import AnnotatorError, ConflictError
from annotator.io import kb_transfer
from annotator.io.importing import import_paths

BACKENDS = ("sqlite", "postgresql")
# the model's suggestions in the first article: (text, occurrence, label); the second "Seoul" is left
# out, so a propagation has somewhere to go
SUGGESTED = [("Kim Kwan-jin", 0, "PERSON"), ("Japan", 0, "GPE"), ("Seoul", 0, "GPE"), ("Japan", 1, "GPE")]
FIELDS = ("start", "end", "label", "status", "entity_id", "nil", "referent_note", "origin", "link_source")


def nth(text: str, surface: str, n: int) -> int:
    at = -1
    for _ in range(n + 1):
        at = text.index(surface, at + 1)
    return at


@pytest.fixture
def corpus(tmp_path):
    """The sample articles with the model's suggestions in the first and the starter KB (which gives
    them suggested links); ana made the project (its owner: a reviewer), bob is an annotator."""
    store = factories.new_store(tmp_path / "project.db")
    import_paths(store, sorted(seeds_dir().glob("*.txt")), use_model=False)
    record_owner(store, "ana")
    reader = Project(store, "bob")
    doc = reader.documents()[0].id
    text = reader.document(doc).text
    with store.atomic() as s:
        model = get_annotator(s, MODEL_LAYER, is_model=True).id
        s.execute(insert(Span), [dict(document_id=doc, annotator_id=model, start=nth(text, t, n),
                                      end=nth(text, t, n) + len(t), label=label, origin="model", status="suggested")
                                 for t, n, label in SUGGESTED])
        refresh(s, [doc])
    kb_transfer.load_starter(store)
    return store, doc, text


def _sorted(found) -> list[tuple]:
    return sorted(found, key=lambda r: tuple(str(v) for v in r))


def rows(store, name: str, doc: int | None = None, with_ids: bool = False) -> list[tuple]:
    """A layer's spans (of one document, or all), as tuples of FIELDS (with id and version first)."""
    with store.Session() as s:
        q = select(Span).join(Annotator, Annotator.id == Span.annotator_id).where(Annotator.name == name)
        if doc is not None:
            q = q.where(Span.document_id == doc)
        found = [(*((r.id, r.version) if with_ids else ()), *(getattr(r, f) for f in FIELDS))
                 for r in s.scalars(q)]
    return _sorted(found)


def started(store, name: str, doc: int) -> bool:
    with store.Session() as s:
        who = s.scalar(select(Annotator.id).where(Annotator.name == name))
        return s.get(DocumentState, (doc, who)) is not None


def model_span(store, doc: int, text: str, surface: str, n: int = 0):
    """The model's suggestion on `surface` as a window shows it before the reviewer's layer starts."""
    project = Project(store, "reader")
    model = project.model_layer_id()
    return next(v for v in project.read_spans(doc, model) if (v.start, v.end) == (nth(text, surface, n),
                                                                                  nth(text, surface, n) + len(surface)))


def entity(store, kb_id: str) -> int:
    with store.Session() as s:
        return s.scalar(select(Entity.id).where(Entity.kb_id == kb_id))


def last_event(store, name: str) -> tuple[str, bool]:
    with store.Session() as s:
        row = s.execute(select(Event.command, Event.undone).join(Annotator, Annotator.id == Event.annotator_id)
                        .where(Annotator.name == name, Event.command.not_in(("undo", "redo")))
                        .order_by(Event.id.desc()).limit(1)).one()
    return row.command, bool(row.undone)


def copied(model_rows: list[tuple]) -> list[tuple]:
    """The model's suggestions as a person's layer starts with them (the same fields, all suggested)."""
    return model_rows


class Ctx(NamedTuple):
    project: Project
    doc: int
    text: str
    span: object  # the model's "Seoul", as shown


def _at(ctx: Ctx, surface: str, n: int = 0) -> tuple[int, int]:
    return nth(ctx.text, surface, n), nth(ctx.text, surface, n) + len(surface)


def _where(layer: list[tuple], start: int, end: int) -> list[tuple]:
    return [r for r in layer if (r[0], r[1]) == (start, end)]


# Each first edit: (what the user does on the model's "Seoul" as shown, the command it records,
# a check of the user's layer afterwards, given the layer the model's suggestions start it as)
EDITS: dict[str, tuple[Callable, str, Callable]] = {}


def edit(name: str, command: str):
    def register(check):
        def wrap(do):
            EDITS[name] = (do, command, check)
            return do
        return wrap
    return register


def _changed(ctx: Ctx, layer, start_layer, **changes) -> None:
    """The user's layer is the model's suggestions with only the span on "Seoul" changed as given."""
    [before] = _where(start_layer, *_at(ctx, "Seoul"))
    after = tuple({**dict(zip(FIELDS, before)), **changes}[f] for f in FIELDS)
    assert layer == _sorted([r for r in start_layer if r != before] + [after])


@edit("link", "link_span")(lambda ctx, layer, start: _changed(
    ctx, layer, start, entity_id=entity(ctx.project.store, "local:government-of-south-korea"), status="accepted",
    link_source="person"))
def _link(ctx: Ctx):
    ctx.project.link(ctx.span.id, entity(ctx.project.store, "local:government-of-south-korea"),
                     version=ctx.span.version)


@edit("nil", "nil_span")(lambda ctx, layer, start: _changed(ctx, layer, start, entity_id=None, nil=True,
                                                             status="accepted", link_source="person"))
def _nil(ctx: Ctx):
    ctx.project.mark_nil(ctx.span.id, version=ctx.span.version)


@edit("unlink", "unlink_span")(lambda ctx, layer, start: _changed(ctx, layer, start, entity_id=None,
                                                                   status="accepted", link_source="person"))
def _unlink(ctx: Ctx):
    ctx.project.unlink(ctx.span.id, version=ctx.span.version)


def _new_entity_check(ctx, layer, start):
    made = entity(ctx.project.store, "local:seoul-government")
    assert made is not None
    _changed(ctx, layer, start, entity_id=made, status="accepted", link_source="person")


@edit("new entity", "new_entity_from_span")(_new_entity_check)
def _new_entity(ctx: Ctx):
    ctx.project.new_entity_from_span(ctx.span.id, "Seoul government", kb_id="local:seoul-government",
                                     version=ctx.span.version)


def _propagate_check(ctx, layer, start):
    second = _at(ctx, "Seoul", 1)
    link = _where(start, *_at(ctx, "Seoul"))[0][FIELDS.index("entity_id")]
    assert link is not None
    assert _where(layer, *second) == [(*second, "GPE", "suggested", link, False, "", "propagated", "propagated")]
    assert [r for r in layer if r[7] != "propagated"] == start  # the suggestions as copied, untouched


@edit("propagate", "propagate_link")(_propagate_check)
def _propagate(ctx: Ctx):
    ctx.project.propagate(ctx.span.id)


@edit("referent note", "set_referent_note")(lambda ctx, layer, start: _changed(
    ctx, layer, start, referent_note="the government"))
def _note(ctx: Ctx):
    ctx.project.set_referent_note(ctx.span.id, "the government", version=ctx.span.version)


# a relabel or a resize checks the span, not its suggested link: dropped, not confirmed (test_relabel_link.py)
@edit("relabel", "relabel_span")(lambda ctx, layer, start: _changed(ctx, layer, start, label="ORG",
                                                                     status="accepted", entity_id=None,
                                                                     link_source=None))
def _relabel(ctx: Ctx):
    ctx.project.relabel(ctx.span.id, "ORG", version=ctx.span.version)


@edit("resize", "move_span")(lambda ctx, layer, start: _changed(
    ctx, layer, start, start=_at(ctx, "Seoul")[0], end=_at(ctx, "Seoul")[1] + 1, status="accepted",
    entity_id=None, link_source=None))
def _resize(ctx: Ctx):
    ctx.project.move(ctx.span.id, ctx.span.start, ctx.span.end + 1, version=ctx.span.version)


@edit("accept", "link_span")(lambda ctx, layer, start: _changed(ctx, layer, start, status="accepted"))
def _accept(ctx: Ctx):
    ctx.project.accept(ctx.span.id, version=ctx.span.version)


@edit("delete", "delete_span")(lambda ctx, layer, start: _changed_delete(ctx, layer, start))
def _delete(ctx: Ctx):
    ctx.project.delete_span(ctx.span.id, version=ctx.span.version)


def _changed_delete(ctx, layer, start):
    assert layer == [r for r in start if (r[0], r[1]) != _at(ctx, "Seoul")]


@edit("accept all", "accept_suggestions")(lambda ctx, layer, start: _accepted_all(layer, start))
def _accept_all(ctx: Ctx):
    assert ctx.project.accept_all(ctx.doc) == len(SUGGESTED)


def _accepted_all(layer, start):
    assert layer == _sorted(tuple("accepted" if f == "status" else v for f, v in zip(FIELDS, r)) for r in start)


@edit("new span", "add_span")(lambda ctx, layer, start: _added(ctx, layer, start))
def _add(ctx: Ctx):
    ctx.project.add_span(ctx.doc, *_at(ctx, "Naoki Tanaka"), "PERSON")


def _added(ctx, layer, start):
    naoki = _at(ctx, "Naoki Tanaka")
    assert [r for r in layer if (r[0], r[1]) != naoki] == start
    assert _where(layer, *naoki) == [(*naoki, "PERSON", "accepted", None, False, "", "human", None)]


@edit("label matches", "label_matches")(lambda ctx, layer, start: _labelled(ctx, layer, start))
def _label_matches(ctx: Ctx):
    hits = [h for h in ctx.project.search("Naoki Tanaka", filters=Filters()) if h.document_id == ctx.doc]
    assert len(ctx.project.label_matches(hits, "PERSON")) == 1


def _labelled(ctx, layer, start):
    naoki = _at(ctx, "Naoki Tanaka")
    assert [r for r in layer if (r[0], r[1]) != naoki] == start
    assert _where(layer, *naoki) == [(*naoki, "PERSON", "suggested", None, False, "", "search", None)]


@pytest.mark.parametrize("user", ["ana", "bob"], ids=["reviewer", "annotator"])
@pytest.mark.parametrize("kind", list(EDITS))
def test_first_edit_goes_to_the_users_own_layer(corpus, user, kind):
    store, doc, text = corpus
    model_before = rows(store, MODEL_LAYER, with_ids=True)
    seoul = model_span(store, doc, text, "Seoul")
    assert (seoul.status, seoul.entity_id is not None) == ("suggested", True)  # a suggested link
    start_layer = copied(rows(store, MODEL_LAYER, doc))
    project = Project(store, user)
    assert not started(store, user, doc) and rows(store, user) == []
    do, command, check = EDITS[kind]
    ctx = Ctx(project, doc, text, seoul)

    do(ctx)
    assert started(store, user, doc)
    done = rows(store, user)
    check(ctx, done, start_layer)
    assert rows(store, MODEL_LAYER, with_ids=True) == model_before  # the model's layer: only suggestions
    assert last_event(store, user) == (command, False)

    project.stack.undo()
    after_undo = rows(store, user)
    if kind == "label matches":  # it started the layer, and takes it back
        assert after_undo == [] and not started(store, user, doc)
    else:
        assert after_undo == start_layer and started(store, user, doc)
    assert last_event(store, user) == (command, True)
    project.stack.redo()
    assert rows(store, user) == done
    assert last_event(store, user) == (command, False)
    assert rows(store, MODEL_LAYER, with_ids=True) == model_before

    again = Project(factories.reopen(store), user)  # after a restart: the same step, undone for good
    assert again.stack.undo_text == project.stack.undo_text
    again.stack.undo()
    assert last_event(store, user) == (command, True)
    assert rows(store, user) == after_undo
    assert rows(store, MODEL_LAYER, with_ids=True) == model_before


def test_first_edit_status_change_starts_the_layer_from_the_suggestions(corpus):
    """Marking a document done before any other edit: the layer is the model's suggestions (checked
    later or left out of exports as unchecked), not an empty layer that could never get them."""
    store, doc, _ = corpus
    ana = Project(store, "ana")
    ana.set_status(doc, "done")
    assert rows(store, "ana", doc) == copied(rows(store, MODEL_LAYER, doc))
    assert ana.document_status(doc) == "done"


def test_first_edit_nobody_writes_into_the_model_layer(corpus):
    store, doc, text = corpus
    before = rows(store, MODEL_LAYER, with_ids=True)
    ana = Project(store, "ana")
    model = ana.model_layer_id()
    start, end = _at(Ctx(ana, doc, text, None), "Naoki Tanaka")
    with pytest.raises(AnnotatorError) as e:
        ana.stack.push(AddSpan(doc, model, start, end, "PERSON"))
    assert e.value.code == "E620" and "model's layer" in str(e.value)
    assert rows(store, MODEL_LAYER, with_ids=True) == before and rows(store, "ana") == []
    assert not ana.stack.can_undo


def test_first_edit_a_suggestion_whose_copy_was_deleted_is_refused(corpus):
    """The user's layer started and they deleted their copy of a suggestion; an edit that still names
    the model's span (a stale view) finds nothing of theirs to change: E620, nothing written."""
    store, doc, text = corpus
    seoul = model_span(store, doc, text, "Seoul")
    ana = Project(store, "ana")
    ana.delete_span(seoul.id, version=seoul.version)  # went to the copy
    mine = rows(store, "ana")
    model = rows(store, MODEL_LAYER, with_ids=True)
    with pytest.raises(AnnotatorError) as e:
        ana.mark_nil(seoul.id, version=seoul.version)
    assert e.value.code == "E620" and str(seoul.id) in str(e.value)
    assert rows(store, "ana") == mine and rows(store, MODEL_LAYER, with_ids=True) == model


def test_first_edit_on_a_stale_view_of_a_changed_copy_is_a_conflict(corpus):
    """The user's copy was changed since (on another desktop): an edit made on the model's suggestion
    as shown is refused as a conflict, with the copy as it is now; the copy is not overwritten."""
    store, doc, text = corpus
    seoul = model_span(store, doc, text, "Seoul")
    Project(factories.reopen(store), "ana").mark_nil(seoul.id)
    mine = rows(store, "ana")
    with pytest.raises(ConflictError) as e:
        Project(store, "ana").link(seoul.id, entity(store, "Q8684"), version=seoul.version)
    assert e.value.code == "E037" and "NIL" in str(e.value)
    assert rows(store, "ana") == mine


def test_first_edit_an_edit_of_the_model_layer_from_before_undoes_and_redoes_to_the_copy(corpus):
    """A history from before the fix, with an edit written into the model's layer: undo puts the
    model's suggestion back as it was; redo makes the edit again, in the user's own layer."""
    store, doc, text = corpus
    seoul = model_span(store, doc, text, "Seoul")
    model = rows(store, MODEL_LAYER, with_ids=True)
    ana = Project(store, "ana")
    old = NilSpan.make(seoul.id, seoul.version)
    with store.atomic() as s:  # as the stack wrote it then
        old.do(s)
        s.add(Event(annotator_id=ana.annotator_id, document_id=doc, command=old.name, payload=old.payload(),
                    undone=False))
    ana = Project(store, "ana")
    ana.stack.undo()
    assert rows(store, MODEL_LAYER, with_ids=True)[0][2:] == model[0][2:]
    assert [r[2:] for r in rows(store, MODEL_LAYER, with_ids=True)] == [r[2:] for r in model]
    ana.stack.redo()
    assert [r[2:] for r in rows(store, MODEL_LAYER, with_ids=True)] == [r[2:] for r in model]
    nil = _where(rows(store, "ana", doc), *_at(Ctx(ana, doc, text, None), "Seoul"))
    assert [(r[3], r[5]) for r in nil] == [("accepted", True)]


def test_first_edit_then_adjudication_still_writes_gold_only(corpus):
    """Gold edits go where they say: after first edits that started ana's and bob's layers, the
    reviewer's decisions between them write the gold layer, and neither theirs nor the model's."""
    store, doc, text = corpus
    seoul = model_span(store, doc, text, "Seoul")
    ana, bob = Project(store, "ana"), Project(store, "bob")
    ana.mark_nil(seoul.id, version=seoul.version)
    bob.link(seoul.id, entity(store, "local:government-of-south-korea"), version=seoul.version)
    layers = {name: rows(store, name, with_ids=True) for name in ("ana", "bob", MODEL_LAYER)}
    adjudication = start_adjudication(store, doc, ana.stack, ["ana", "bob"])
    [link] = [d for d in adjudication if d.kind == "link"]
    adjudication.take(link, "bob")
    gold = rows(store, GOLD, doc)
    at = _at(Ctx(ana, doc, text, None), "Seoul")
    assert [(r[2], r[4]) for r in _where(gold, *at)] == [("GPE", entity(store, "local:government-of-south-korea"))]
    assert len(gold) == 1  # the decision: suggestions both left unchecked are not agreed (listed as missing)
    assert {name: rows(store, name, with_ids=True) for name in layers} == layers
    adjudication.undo()
    assert _where(rows(store, GOLD, doc), *at) == []
    assert {name: rows(store, name, with_ids=True) for name in layers} == layers
