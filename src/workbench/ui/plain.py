"""Text from a model, a server or a file shown as typed, never as markup.

Qt guesses: a QLabel, a tooltip or a message box whose text looks like HTML (a title such
as ``<b>x</b><script>``) is drawn as rich text. Labels that show such text are set to
plain text; tooltips have no such switch, so :func:`plain_tip` escapes the ones Qt would
take for HTML.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # the namespace with mightBeRichText
from PySide6.QtWidgets import QLabel, QMessageBox


def plain_tip(text: str) -> str:
    """``text`` as a tooltip that shows it literally (escaped only if Qt would parse it)."""
    if not GuiQt.mightBeRichText(text):
        return text
    return "<p style='white-space:pre-wrap'>" + html.escape(text) + "</p>"


def plain_label(label: QLabel) -> QLabel:
    """Make ``label`` show its text literally, whatever it looks like."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_box(box: QMessageBox) -> QMessageBox:
    """Make a message box show its text literally (it names a title the user typed)."""
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box
