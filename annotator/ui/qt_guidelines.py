"""The guidelines pane (File → Guidelines…, Ctrl+Shift+G): the project's annotation guidelines beside the
article, rendered from their Markdown. Only the guidelines are ever rich text (our own document, set by
reviewers); the article never is. "Guidelines for this label" (Shift+F1) scrolls to the section whose
heading names the current span's label (core/guidelines.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QDockWidget, QTextBrowser, QWidget

from annotator.core.guidelines import section_for

EMPTY = "*No guidelines yet.* A reviewer sets them with `annotator guidelines set FILE.md`."


class QtGuidelinesPane(QDockWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Guidelines", parent)
        self.setObjectName("guidelines")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.setWidget(self.browser)
        self.markdown = ""

    def load(self, markdown: str) -> None:
        self.markdown = markdown
        self.browser.document().setMarkdown(markdown or EMPTY)

    def show_label(self, label: str) -> bool:
        """Scroll to `label`'s section (its heading at the top); False when the guidelines have none."""
        heading = section_for(self.markdown, label)
        block = self.browser.document().begin()
        while heading is not None and block.isValid():
            if block.blockFormat().headingLevel() > 0 and block.text().strip() == heading.strip():
                bar = self.browser.verticalScrollBar()
                bar.setValue(bar.maximum())  # then back up: the heading ends at the top, not the bottom
                self.browser.setTextCursor(QTextCursor(block))
                layout = self.browser.document().documentLayout()
                bar.setValue(int(layout.blockBoundingRect(block).top()))
                return True
            block = block.next()
        return False

    def current_heading(self) -> str:
        """The heading of the section the cursor is in ("" before the first)."""
        block = self.browser.textCursor().block()
        while block.isValid():
            if block.blockFormat().headingLevel() > 0:
                return block.text()
            block = block.previous()
        return ""

    def present(self) -> None:
        self.show()
        self.raise_()
        self.browser.setFocus(Qt.FocusReason.ShortcutFocusReason)
