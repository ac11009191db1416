"""A window as small as a laptop gives it, with the corpus search open: nothing is squashed below the
size it needs to be read and clicked; the side panels scroll instead."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QTableView

from test_ui_search import search


def squashed(widget) -> list[str]:
    """Visible buttons and tables under `widget` shorter than they need."""
    out = []
    for child in widget.findChildren(QAbstractButton) + widget.findChildren(QTableView):
        if not child.isVisibleTo(widget):
            continue
        need = child.minimumSizeHint().height() if isinstance(child, QAbstractButton) else 60
        if child.height() < need:
            out.append(f"{type(child).__name__} {child.objectName() or child.text() if hasattr(child, 'text') else ''}"
                       f": {child.height()} < {need}")
    return out


def test_ui_layout_a_small_window_with_search_open_squashes_nothing(window, ui, qtbot):
    window.resize(1110, 690)
    panel = search(window, ui, qtbot, "Seoul")
    qtbot.wait(100)
    assert squashed(window.panel) == [] and squashed(window.link_panel) == []
    rows = panel.table.verticalHeader().defaultSectionSize()
    assert panel.table.viewport().height() >= 4 * rows  # four hits at least
