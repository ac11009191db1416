"""A list of disagreements (core `triage.Item`s) as a table, shared by the agreement dashboard and the
adjudication view, and the plain-text renderings of the annotators' versions both show.

Versions are written as plain text with the spans marked ⟦like this⟧: never rich text.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor

from annotator.core.records import SpanRecord
from annotator.core.review.triage import Item
from annotator.ui.qt_tables import QtRowsModel

Role = Qt.ItemDataRole
KIND_TITLES = {
    "boundary": "Boundary: the annotators' spans cover different text",
    "label": "Label: same text, different labels",
    "link": "Link: same span and label, linked to different entities",
    "missing": "Missing: not every annotator has a span here",
}
OPEN_COLOUR = QColor("#1F1F1F")
DECIDED_COLOUR = QColor("#8A867E")


def letter(i: int) -> str:
    """Annotators are A, B, C, … in the adjudication's order."""
    return chr(ord("A") + i)


def squash(text: str) -> str:
    return " ".join(text.split())


def version_text(text: str, spans) -> str:
    """One annotator's spans in a region: “surface” LABEL → kb_id; "(no span)" when they have none."""
    if not spans:
        return "(no span)"
    parts = []
    for s in spans:
        link = "" if s.kb_id is None else f" → {s.kb_id}"
        parts.append(f"“{squash(text[s.start:s.end])}” {s.label}{link}")
    return " + ".join(parts)


def marked(text: str, start: int, end: int, spans, context: int = 40) -> str:
    """The region with `context` characters around it, each span between ⟦ ⟧ (plain text)."""
    left, right = max(0, start - context), min(len(text), end + context)
    marks: dict[int, str] = {}
    for s in spans:
        if left <= s.start and s.end <= right:
            marks[s.start] = marks.get(s.start, "") + "⟦"
            marks[s.end] = "⟧" + marks.get(s.end, "")
    out = []
    for i in range(left, right + 1):
        out.append(marks.get(i, ""))
        if i < right:
            out.append(text[i])
    body = squash("".join(out))
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")


def decision_text(item: Item) -> str:
    d = item.decision
    if d is None:
        return "open"
    what = {"take": f"took {d.taken}", "reject": "rejected", "edit": "edited"}.get(d.kind, d.kind)
    return f"{what} ({d.reviewer})"


def gold_records(rows) -> list[SpanRecord]:
    return [SpanRecord(r["start"], r["end"], r["label"], r.get("kb_id")) for r in rows]


class QtDisagreementModel(QtRowsModel):
    """Rows of disagreements: [document,] kind, text, decision, each annotator's version."""

    rows: list[Item]

    def __init__(self, texts: dict[int, str] | None = None, show_document: bool = True, parent=None):
        super().__init__(parent)
        self.texts: dict[int, str] = texts if texts is not None else {}  # document id -> text
        self.titles: dict[int, str] = {}  # document id -> title, shown for the document (its name in the tooltip)
        self.show_document = show_document
        self.columns = (["Document"] if show_document else []) + ["#", "Kind", "Text", "Decision", "Versions"]
        self.more = False  # a list read page by page has pages left: `fetcher` reads the next one
        self.fetcher = None

    def canFetchMore(self, parent=QModelIndex()) -> bool:  # noqa: N802 (Qt name)
        return not parent.isValid() and self.more and self.fetcher is not None

    def fetchMore(self, parent=QModelIndex()) -> None:  # noqa: N802 (Qt name)
        """The view scrolled to the last row: the next page (read in the background, then appended)."""
        if self.canFetchMore(parent):
            self.fetcher()

    def append_items(self, items: list[Item], texts: dict[int, str], titles: dict[int, str]) -> None:
        """The next page of the list, after the rows shown (they keep their place and selection)."""
        self.texts.update(texts)
        self.titles.update(titles)
        if items:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(items) - 1)
            self.rows = self.rows + list(items)
            self.endInsertRows()

    @property
    def items(self) -> list[Item]:
        """The listed disagreements, in order (the rows)."""
        return self.rows

    def set_items(self, items: list[Item], texts: dict[int, str] | None = None,
                  titles: dict[int, str] | None = None) -> None:
        """A new list: same regions as before only update their cells (decisions), else a reset."""
        if texts is not None:
            self.texts.update(texts)
        if titles is not None:
            self.titles.update(titles)
        if [self._key(i) for i in items] == [self._key(i) for i in self.rows]:
            changed = [r for r, (a, b) in enumerate(zip(self.rows, items)) if a != b]
            self.rows = items
            for r in changed:
                self.dataChanged.emit(self.index(r, 0), self.index(r, len(self.columns) - 1))
            return
        self.set_rows(items)

    @staticmethod
    def _key(item: Item) -> tuple:
        return item.document_id, item.disagreement.start, item.disagreement.end, item.disagreement.kind

    def item(self, row: int) -> Item | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, document_id: int, start: int, end: int) -> int:
        return next((r for r, i in enumerate(self.rows) if i.document_id == document_id
                     and (i.disagreement.start, i.disagreement.end) == (start, end)), -1)

    def open_count(self) -> int:
        return sum(i.decision is None for i in self.rows)

    def data(self, index: QModelIndex, role=Role.DisplayRole):
        item = self.item(index.row())
        if item is None:
            return None
        name = self.columns[index.column()]
        d = item.disagreement
        text = self.texts.get(item.document_id, "")
        if role == Role.DisplayRole:
            if name == "Document":
                return self.titles.get(item.document_id) or item.document
            if name == "#":
                return str(index.row() + 1)
            if name == "Kind":
                return d.kind
            if name == "Text":
                return squash(text[d.start:d.end])
            if name == "Versions":
                return " | ".join(f"{letter(k)} {a}: {version_text(text, d.spans.get(a, ()))}"
                                  for k, a in enumerate(item.annotators))
            return decision_text(item)
        if role == Role.ToolTipRole:
            lines = [KIND_TITLES.get(d.kind, d.kind), marked(text, d.start, d.end, ())]
            if self.show_document:
                lines.insert(0, f"{self.titles.get(item.document_id) or item.document} (document {item.document})")
            lines += [f"{letter(k)} · {a}: {version_text(text, d.spans.get(a, ()))}"
                      for k, a in enumerate(item.annotators)]
            return "\n".join(lines)
        if role == Role.ForegroundRole:
            return OPEN_COLOUR if item.decision is None else DECIDED_COLOUR
        return None
