"""The layer switcher in the status bar: any layer this user may see, shown read-only in the article;
their own is the one edited. Its entries are read again each time it opens (layers come and go: gold
starts with the first adjudication, a colleague's with a merge)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from annotator.errors import AnnotatorError


class QtLayerBox(QComboBox):
    def __init__(self, window):
        super().__init__(window)
        self.main = window  # the QtMainWindow (not `window`: QWidget.window() is a method)
        self.setObjectName("layerSwitcher")
        self.setToolTip("The layer shown: yours (edited), or another you may see, read-only (Ctrl+Shift+L)")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.fill()
        self.activated.connect(lambda _i: self.show_layer(self.currentData()))

    def showPopup(self) -> None:  # noqa: N802 (Qt name)
        self.fill()
        super().showPopup()

    def choose(self) -> None:
        self.setFocus()
        self.showPopup()

    def fill(self) -> None:
        """This user's layer first, then every other layer they may see."""
        w = self.main
        shown = w.model.layer_id
        try:
            layers = [info for info in w.project.visible_layers() if info.id != w.project.annotator_id]
        except AnnotatorError as e:
            w.show_error(str(e))
            return
        self.blockSignals(True)
        self.clear()
        self.addItem(f"Mine ({w.project.user})", None)
        for info in layers:
            self.addItem(f"{info.name} (read-only)", info.id)
        self.setCurrentIndex(max(0, self.findData(shown)) if shown != w.project.annotator_id else 0)
        self.blockSignals(False)

    def show_layer(self, layer_id: int | None) -> None:
        """Show `layer_id` (another layer, read-only) or this user's own (None) in the article."""
        w = self.main
        if (layer_id or w.project.annotator_id) == w.model.layer_id:
            return
        name = None
        if layer_id is not None:
            name = self.itemText(self.findData(layer_id)).removesuffix(" (read-only)")
        try:
            w.model.set_layer(layer_id, name)
        except AnnotatorError as e:
            w.show_error(str(e))
            return
        index = self.findData(layer_id)
        self.setCurrentIndex(index if index >= 0 else 0)
        w.menu_actions.update()
        w.view.setFocus()
        w.show_message(f"Viewing {name}'s layer, read-only: Ctrl+Shift+L and “Mine” to edit again."
                       if name else "Your own layer: edits are saved as before.")
