"""The two lines under a link that offer to propagate it: what was just propagated, and how many
identical mentions are left here and in the other documents, with the keys that propagate there.

The count reads every document the analyst has opened, so it runs in a background task: linking does
not wait for it, and a count for a span the analyst has left meanwhile is dropped. Only the text
changes: the lines keep their height, so the right column never relayouts on an edit.
"""

from __future__ import annotations

from annotator.core.kb.suggestions import Targets, corpus_targets
from annotator.ui.qt_document_model import QtDocumentModel
from annotator.ui.qt_tasks import QtStoreTask
from annotator.ui.qt_text_line import QtTextLine


def mentions_text(n: int) -> str:
    return f"{n} identical mention{'s' if n != 1 else ''}"


def count_targets(store, request: int, span_id: int, annotator_id: int) -> tuple[int, Targets | None]:
    """Where the span's link could still propagate in the corpus (a background task's call), with the
    request it answers; None when the span has lost its link meanwhile."""
    return request, corpus_targets(store, span_id, annotator_id)


def propagated_text(scope: str, per_document: dict[int, int], document_id: int) -> str:
    """What a propagation did, from the spans it touched in each document."""
    total = sum(per_document.values())
    if not total:
        # said so even where identical mentions are all already linked: "no other identical mention"
        # read as "there is none" beside a dozen of them in the article
        return ("No identical mention here is left without a link." if scope == "document" else
                "No identical mention without a link in the documents you have opened.")
    if scope == "document":
        return f"Link suggested on {mentions_text(total)} here."
    here = per_document.get(document_id, 0)
    others = [n for doc, n in per_document.items() if doc != document_id]
    where = [f"{here} here"] if here else []
    if others:
        where.append(f"{sum(others)} in {len(others)} other document{'s' if len(others) != 1 else ''}")
    return f"Link suggested on {mentions_text(total)} ({', '.join(where)})."


def offer_text(done: str, preview: Targets | None, document_id: int) -> str:
    here = preview.per_document.get(document_id, 0) if preview else 0
    elsewhere = preview.elsewhere(document_id) if preview else 0
    parts = []
    if here:
        parts.append(f"{mentions_text(here)} here")
    if elsewhere:
        parts.append(f"{mentions_text(elsewhere) if not here else elsewhere} in other documents")
    offer = ""
    if parts:
        keys = " / ".join(k for n, k in ((here, "Ctrl+Shift+P"), (elsewhere, "Ctrl+Alt+P")) if n)
        offer = ("Still " if done else "") + ", ".join(parts) + f" — {keys}"
    return " ".join(t for t in (done, offer) if t)


class QtPropagationOffer(QtTextLine):
    def __init__(self, model: QtDocumentModel, parent=None):
        super().__init__(colour="#1F4E79", lines=2, parent=parent)
        self.setObjectName("propagationOffer")
        self.model = model
        self.counter = QtStoreTask(self)
        self.counter.finished.connect(self._on_counted)
        self.counter.failed.connect(self._on_count_failed)
        self._offer: tuple[int, int, str] | None = None  # (request, span id, what was done) to count for
        self._requests = 0

    def offer(self, span_id: int, done: str = "") -> None:
        """Show `done` now, and the mentions left once they are counted (if the offer still stands)."""
        self._requests += 1
        self._offer = (self._requests, span_id, done)
        self.setText(done)
        self._count()

    def clear(self) -> None:
        self._offer = None
        self.setText("")

    def _count(self) -> None:
        """Count for the latest offer, unless it has been counted or a count is running."""
        if self._offer is not None and not self.counter.running():
            request, span_id, _done = self._offer
            project = self.model.project
            self.counter.start(project.store.url, count_targets, request, span_id, project.annotator_id,
                               what="Counting identical mentions")

    def _on_counted(self, counted: tuple[int, Targets | None]) -> None:
        request, preview = counted
        if self._offer is None:
            return
        if request != self._offer[0]:  # the offer changed meanwhile: count again
            self._count()
            return
        done = self._offer[2]
        self._offer = None
        self.setText(offer_text(done, preview, self.model.doc_id))

    def _on_count_failed(self, _message: str) -> None:
        self._offer = None  # not a coded error (those count as nothing to offer): offer nothing

    def stop(self) -> None:
        """The window closes: no count outlives it."""
        self._offer = None
        self.counter.wait()
