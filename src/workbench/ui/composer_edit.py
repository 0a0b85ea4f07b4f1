"""The composer's text field: which keys send, stop or break a line, and what a paste holds.

Kept apart from the composer because it is the keyboard contract (Enter sends, Shift+Enter
inserts a line, Alt+Enter is left to the editor, Esc stops or cancels) and the paste rule
(images and local files become attachments, never text), which the composer only listens to.

Signals:
    submitted(): Enter without Shift or Alt.
    escaped(): Esc.
    media_pasted(QMimeData): an image or local files were pasted.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit


class ComposerEdit(QPlainTextEdit):
    """Enter sends, Shift+Enter inserts a line, Esc stops; pasted media becomes chips."""

    submitted = Signal()
    escaped = Signal()
    media_pasted = Signal(QMimeData)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
            if not (mods & Qt.KeyboardModifier.AltModifier):
                self.submitted.emit()
                return
        if key == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return source.hasImage() or source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if source.hasImage() or (source.hasUrls() and any(u.isLocalFile() for u in source.urls())):
            self.media_pasted.emit(source)
            return
        super().insertFromMimeData(source)
