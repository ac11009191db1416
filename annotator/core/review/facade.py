"""A reviewer's operations for the window's review windows, next to `Project` rather than in it:
they load numpy and the agreement code, which the window must not import before the Review menu is
used (the review windows import this module; `core/project.py` does not).

`Review(project)` works on the project's store and undo stack; the module-level functions take a
background task's own store (`fn(store, *args)`, see ui/qt_tasks.py).
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from annotator.core.db.models import Document
from annotator.core.db.store import Store
from annotator.core.review import triage
from annotator.core.review.adjudication import Adjudication, start_adjudication
from annotator.core.review.agreement import AgreementReport
from annotator.core.review.inputs import people_layers, project_agreement
from annotator.core.review.provenance import provenance
from annotator.errors import AnnotatorError, Errors


class Review:
    """`project`: a core.project.Project (its store, undo stack and user)."""

    def __init__(self, project):
        self.project = project
        self.store: Store = project.store

    def people_layers(self) -> list[str]:
        """The people's layers holding a document (the model's and gold left out)."""
        with self.store.Session() as s:
            return people_layers(s)

    def documents(self) -> dict[str, tuple[int, str]]:
        """Every document's name -> (id, title or name), in one read: the dashboard names documents by
        title and opens them by id (a name list as parameters would pass SQLite's limit at 10^5)."""
        with self.store.Session() as s:
            return {name: (i, title or name) for i, name, title in
                    s.execute(select(Document.id, Document.name, Document.title))}

    def document_items(self, document_id: int, annotators: Iterable[str]) -> list[triage.Item]:
        """The document's disagreements between the holders among `annotators`, with their decisions."""
        with self.store.Session() as s:
            return triage.document_items(s, document_id, annotators)

    def adjudication_annotators(self, document_id: int) -> list[str]:
        """Whom to compare in the document by default: the people's layers holding it, but the
        reviewer's own when two others remain (E313 when fewer than two hold it)."""
        with self.store.Session() as s:
            names = triage.holders(s, document_id, people_layers(s))
        others = [n for n in names if n != self.project.user]
        annotators = others if len(others) >= 2 else names
        if len(annotators) < 2:
            doc = self.project.document(document_id).name
            raise AnnotatorError(Errors.E313.format(doc=doc, names=", ".join(annotators) or "none"))
        return annotators

    def adjudicate(self, document_id: int, annotators: list[str]) -> Adjudication:
        """Begin or resume adjudicating (agreed spans to gold, one undoable command); E156, E159, …"""
        return start_adjudication(self.store, document_id, self.project.stack, annotators)


# --- a background task's calls, on its own store
def agreement_report(store: Store, annotators: list[str]) -> AgreementReport:
    """The window's report, its rows made here in the worker: the window lists every document, and
    10^5 rows made on the GUI thread would freeze it."""
    report = project_agreement(store, annotators)
    for table in (report.by_document, report.by_label):
        table.measures()  # made once and kept
    return report


def label_items(store: Store, annotators: list[str], documents: list[str], label: str, start: int = 0,
                want: int | None = None) -> tuple[str, int, list[triage.Item], int]:
    """Disagreements involving `label` in the named documents from `start` (a page of `want` or a few
    more; None: all), with the label and start they answer and where the next page starts."""
    with store.Session() as s:
        if want is None:
            return label, start, triage.items(s, annotators, documents[start:], label), len(documents)
        return (label, start, *triage.items_page(s, annotators, documents, label, start, want))


def provenance_report(store: Store) -> dict[str, dict]:
    with store.Session() as s:
        return provenance(s)
