"""The app's own small icons (``workbench/resources/icons/kinds/*.svg``), loaded once.

Emoji look like icons only where an emoji font is installed; on a plain Debian desktop they
are missing-glyph boxes (issue 19). These SVGs render the same everywhere.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

NAMES = ("image", "audio", "video", "document", "text", "attach", "pin", "remove")


@cache
def svg_bytes(name: str) -> bytes:
    return (files("workbench") / "resources" / "icons" / "kinds" / f"{name}.svg").read_bytes()


def pixmap(name: str, size: int = 16, ratio: float = 1.0) -> QPixmap:
    """``name`` drawn at ``size`` logical pixels (sharp on high-DPI screens)."""
    renderer = QSvgRenderer(QByteArray(svg_bytes(name)))
    px = QPixmap(QSize(round(size * ratio), round(size * ratio)))
    px.fill(Qt.GlobalColor.transparent)
    painter = QPainter(px)
    renderer.render(painter)
    painter.end()
    px.setDevicePixelRatio(ratio)
    return px


@cache
def icon(name: str) -> QIcon:
    """A QIcon of one of :data:`NAMES` (the attachment kinds, attach, pin, remove)."""
    out = QIcon()
    for size in (16, 24, 32):
        out.addPixmap(pixmap(name, size))
    return out
