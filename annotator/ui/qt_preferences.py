"""Edit → Preferences…: the article's font family and size, and the theme (light, dark, or the
system's). Stored in QSettings (qt_settings.DEFAULTS) and applied as soon as they change.

Spans keep dark text on their (light) label colours in either theme, so labels stay readable on a
dark page; only the page, panels and bars change colour.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFontComboBox, QFormLayout,
                               QWidget)

from annotator.ui.qt_settings import THEMES, preference, set_preference

Role = QPalette.ColorRole
LIGHT_PALETTE = {Role.Window: "#F6F5F2", Role.Base: "#FFFFFF", Role.AlternateBase: "#FAF9F6", Role.Button: "#FBFAF8",
                 Role.Text: "#1F1F1F", Role.WindowText: "#1F1F1F", Role.ButtonText: "#1F1F1F",
                 Role.Highlight: "#CFE0F7", Role.HighlightedText: "#111111", Role.PlaceholderText: "#8A867E"}
DARK_PALETTE = {Role.Window: "#26272B", Role.Base: "#1D1E21", Role.AlternateBase: "#232428",
                Role.Button: "#2E3035", Role.Text: "#E6E4DF", Role.WindowText: "#E6E4DF",
                Role.ButtonText: "#E6E4DF", Role.Highlight: "#3D5A80", Role.HighlightedText: "#FFFFFF",
                Role.PlaceholderText: "#9A968E", Role.ToolTipBase: "#2E3035", Role.ToolTipText: "#E6E4DF"}
# overrides of annotator.qss for the dark theme (the label chips keep their label colours)
DARK_QSS = """
QWidget#labelBar { background: #2E3035; border-bottom: 1px solid #3A3C42; }
QToolButton#moreLabels { color: #E6E4DF; background: #1D1E21; border-color: #55585F; }
QLabel#panelHeading { color: #B9B5AC; }
QLabel#muted { color: #A8A49B; }
QStatusBar { background: #232428; border-top: 1px solid #3A3C42; color: #E6E4DF; }
QStatusBar[error="true"] { color: #FF8A80; }
QStatusBar QLabel#savedLabel { color: #81C784; }
"""
THEME_NAMES = {"light": "Light", "dark": "Dark", "system": "Follow the system"}


def is_dark(theme: str | None = None) -> bool:
    """Whether the window should be dark: the preference, or for "system" the platform's scheme."""
    theme = theme or preference("appearance/theme")
    if theme == "system":
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    return theme == "dark"


class QtPreferencesDialog(QDialog):
    """Each change is stored and applied at once (`changed`); Close keeps what is shown."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("preferences")
        self.setWindowTitle("Preferences")
        self.family = QFontComboBox()
        self.family.setObjectName("fontFamily")
        self.size = QDoubleSpinBox()
        self.size.setObjectName("fontSize")
        self.size.setRange(6, 48)
        self.size.setSingleStep(0.5)
        self.size.setSuffix(" pt")
        self.theme = QComboBox()
        self.theme.setObjectName("theme")
        for key in THEMES:
            self.theme.addItem(THEME_NAMES[key], key)
        self.load()
        self.family.currentFontChanged.connect(lambda font: self._store("article/font_family", font.family()))
        self.size.valueChanged.connect(lambda value: self._store("article/font_size", float(value)))
        self.theme.currentIndexChanged.connect(lambda _i: self._store("appearance/theme", self.theme.currentData()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        form = QFormLayout(self)
        form.addRow("Article font", self.family)
        form.addRow("Article font size", self.size)
        form.addRow("Theme", self.theme)
        form.addRow(buttons)

    def load(self) -> None:
        """Show what is stored (without storing it again)."""
        for widget in (self.family, self.size, self.theme):
            widget.blockSignals(True)
        family = preference("article/font_family")
        if family:
            self.family.setCurrentFont(QFont(family))
        self.size.setValue(preference("article/font_size"))
        self.theme.setCurrentIndex(max(0, self.theme.findData(preference("appearance/theme"))))
        for widget in (self.family, self.size, self.theme):
            widget.blockSignals(False)

    def _store(self, key: str, value) -> None:
        set_preference(key, value)
        self.changed.emit()
