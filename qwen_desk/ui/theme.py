"""UI layer: the light and dark themes (a QPalette plus a small style sheet).

``apply_theme(app, "light" | "dark" | "system")`` sets the Fusion style, the palette of the
resolved scheme and ``resources/themes/<scheme>.qss``. With "system" the scheme follows what Qt
reports (``QStyleHints.colorScheme``) and changes with it while the app runs.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from qwen_desk.ui.assets import resource

THEMES = ("system", "light", "dark")

_COLORS = {
    "light": {
        "window": "#f5f6f8",
        "base": "#ffffff",
        "alt": "#f0f2f5",
        "text": "#1f2328",
        "muted": "#6a737d",
        "button": "#ffffff",
        "highlight": "#2f6fed",
        "highlight_text": "#ffffff",
        "link": "#2f6fed",
        "tooltip": "#ffffff",
        "mid": "#d0d7de",
        "warn_bg": "#fff4d6",
        "warn_fg": "#7a5200",
        "info_bg": "#eaf1ff",
        "info_fg": "#1d4fb8",
        "bad": "#b3261e",
        "notice_bg": "#fff8e5",
        "notice_border": "#e0b44c",
    },
    "dark": {
        "window": "#1e1f22",
        "base": "#26282c",
        "alt": "#2b2d31",
        "text": "#e6e7ea",
        "muted": "#9aa0a6",
        "button": "#2f3136",
        "highlight": "#4c8dff",
        "highlight_text": "#ffffff",
        "link": "#79a8ff",
        "tooltip": "#2b2d31",
        "mid": "#3c3f45",
        "warn_bg": "#3d3320",
        "warn_fg": "#f2c66d",
        "info_bg": "#1f2d44",
        "info_fg": "#9cc2ff",
        "bad": "#ff8a80",
        "notice_bg": "#3a2f1c",
        "notice_border": "#a8842f",
    },
}


def resolve_scheme(preference: str) -> str:
    """'light' or 'dark' for a preference of 'light', 'dark' or 'system'."""
    if preference in ("light", "dark"):
        return preference
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def palette_for(scheme: str) -> QPalette:
    c = {k: QColor(v) for k, v in _COLORS[scheme].items()}
    pal = QPalette()
    role = QPalette.ColorRole
    pairs = {
        role.Window: c["window"],
        role.WindowText: c["text"],
        role.Base: c["base"],
        role.AlternateBase: c["alt"],
        role.Text: c["text"],
        role.Button: c["button"],
        role.ButtonText: c["text"],
        role.BrightText: QColor("#ff5555"),
        role.Highlight: c["highlight"],
        role.HighlightedText: c["highlight_text"],
        role.Link: c["link"],
        role.ToolTipBase: c["tooltip"],
        role.ToolTipText: c["text"],
        role.PlaceholderText: c["muted"],
        role.Mid: c["mid"],
        role.Midlight: c["mid"],
        role.Dark: c["mid"].darker(130),
        role.Light: c["base"],
    }
    for r, color in pairs.items():
        pal.setColor(r, color)
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(disabled, r, c["muted"])
    return pal


def style_sheet(scheme: str) -> str:
    """The theme's qss with ``@name`` colour placeholders filled in."""
    path = resource("themes", f"{scheme}.qss")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    # longest names first, so that "@highlight_text" is not cut by "@highlight"
    for name, value in sorted(_COLORS[scheme].items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f"@{name}", value)
    return text


class ThemeManager(QObject):
    """Applies a theme preference and re-applies it when the system scheme changes."""

    def __init__(self, app: QApplication, preference: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self._preference = preference
        self.scheme = ""
        hints = QGuiApplication.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(self._on_system_changed)
        self.apply(preference)

    @property
    def preference(self) -> str:
        return self._preference

    def apply(self, preference: str) -> str:
        """Switch to ``preference``; return the scheme now in use."""
        self._preference = preference if preference in THEMES else "system"
        scheme = resolve_scheme(self._preference)
        if scheme == self.scheme:
            return scheme
        self.scheme = scheme
        self._app.setStyle("Fusion")
        self._app.setPalette(palette_for(scheme))
        self._app.setStyleSheet(style_sheet(scheme))
        self._app.setProperty("qwen_desk_scheme", scheme)
        return scheme

    def _on_system_changed(self, *_: object) -> None:
        if self._preference == "system":
            self.apply("system")


def muted_color(scheme: str) -> QColor:
    return QColor(_COLORS.get(scheme, _COLORS["light"])["muted"])


def current_scheme() -> str:
    """The scheme applied by ``ThemeManager`` ('light' when none was applied)."""
    app = QApplication.instance()
    value = app.property("qwen_desk_scheme") if app is not None else None
    return str(value) if value in ("light", "dark") else "light"
