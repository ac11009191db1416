"""The adjudication view's right side: what kind of disagreement is current, each annotator's version
of it (the spans marked ⟦ ⟧ in the text around them) and what gold has there now. Plain text only.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from annotator.core.records import SpanRecord
from annotator.core.review import triage
from annotator.ui.qt_disagreements import KIND_TITLES, gold_records, letter, marked, version_text
from annotator.ui.qt_text_line import plain_label

KIND_COLOURS = {"boundary": "#8A5A00", "label": "#6A1B9A", "link": "#0B4F9C", "missing": "#B00020"}
DECIDED = {"take": "took {taken}'s version", "reject": "rejected it", "edit": "entered their own"}


def plain(text: str = "", name: str = "", style: str = "") -> QLabel:
    """The adjudication view's labels: plain text the reviewer can select and copy."""
    return plain_label(text, name, style, selectable=True)


class QtVersionCard(QFrame):
    """One version of the current disagreement: a title ("A · ana"), the spans, the text around them."""

    def __init__(self, title: str, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setStyleSheet(f"QFrame#{name} {{ background: #FFFFFF; border: 1px solid #E2E0DA; border-radius: 4px; }}")
        self.title = plain(title, style="font-weight: 600; color: #3D3A35")
        self.spans = plain()
        self.context = plain(style="color: #5F5B53")
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 6)
        column.setSpacing(2)
        for label in (self.title, self.spans, self.context):
            column.addWidget(label)

    def set(self, spans: str, context: str) -> None:
        self.spans.setText(spans)
        self.context.setText(context)
        self.context.setVisible(bool(context))

    def text(self) -> str:
        return "\n".join(w.text() for w in (self.title, self.spans, self.context) if w.text())


class QtVersionCards(QWidget):
    """The kind line, a card per compared annotator, and gold's card."""

    def __init__(self, annotators: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.annotators = annotators
        self.kind = plain("", "adjudicationKind")
        self.versions = [QtVersionCard(f"{letter(i)} · {a}", f"version{letter(i)}") for i, a in enumerate(annotators)]
        self.gold_now = QtVersionCard("Gold", "goldNow")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        for widget in (self.kind, *self.versions, self.gold_now):
            column.addWidget(widget)

    def clear(self, message: str) -> None:
        self.kind.setText(message)
        for card in (*self.versions, self.gold_now):
            card.set("", "")

    def show_item(self, item: triage.Item, text: str, gold: list[SpanRecord]) -> None:
        """`item` with each version from `text`; `gold` is what the gold layer holds there now."""
        d = item.disagreement
        self.kind.setText(KIND_TITLES.get(d.kind, d.kind) + ("" if item.decision is None else " (decided)"))
        self.kind.setStyleSheet(f"font-weight: 600; color: {KIND_COLOURS.get(d.kind, '#1F1F1F')}")
        for card, name in zip(self.versions, self.annotators):
            spans = d.spans.get(name, ())
            card.set(version_text(text, spans), marked(text, d.start, d.end, spans))
        decision = item.decision
        if decision is not None:
            decided = DECIDED.get(decision.kind, decision.kind).format(taken=decision.taken)
            self.gold_now.title.setText(f"Gold · {decision.reviewer} {decided}")
            gold = gold_records(decision.spans) if decision.spans else gold
        else:
            self.gold_now.title.setText("Gold now")
        gold = sorted(gold, key=lambda s: (s.start, s.end))
        self.gold_now.set(version_text(text, gold), marked(text, d.start, d.end, gold) if gold else "")
