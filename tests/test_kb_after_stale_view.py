"""A KB import's suggested links give their spans a new version: a view from before cannot confirm one
unseen (io/kb_transfer.py, core/kb/suggestions.py)."""

from __future__ import annotations

from sqlalchemy import select
from test_kb_after import STARTER, corpus, layer  # noqa: F401  (fixture)

from annotator.core.db.models import Span
from annotator.core.db.store import Store
from annotator.core.project import Project
from annotator.errors import AnnotatorError
from annotator.io import kb_transfer

BACKENDS = ("sqlite",)


def test_enter_on_a_span_shown_unlinked_does_not_confirm_a_link_imported_meanwhile(corpus):
    """ana sees Seoul as an unlinked suggestion (version v). Meanwhile a KB import elsewhere gives it a
    suggested link without bumping the span's version. Her Enter, with the version she saw, must be a
    conflict (E037), not a confirmed link she never saw."""
    store, d0, _ = corpus
    ana = Project(store, "ana")
    text = ana.document(d0).text
    seoul = next(s for s in ana.spans(d0) if text[s.start:s.end] == "Seoul")
    with store.Session() as s:
        seen = s.scalar(select(Span.version).where(Span.id == seoul.id))
    other = Store(store.path if store.path else store.url)  # another process: the reviewer's import
    try:
        kb_transfer.import_kb(other, STARTER)
    finally:
        other.close()
    try:
        ana.accept(seoul.id, seen)
    except AnnotatorError as e:
        assert e.code == "E037"
    assert layer(store, d0, "ana")["Seoul"] == ("Q8684", "suggested", False, "prior"), "confirmed unseen"
