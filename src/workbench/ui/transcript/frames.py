"""Edit one part of a QTextDocument without re-importing the rest.

``QTextBrowser.setHtml`` re-parses and re-lays-out the whole session: at 500 turns one
streamed delta cost half a second. Here every turn (and the live tail) lives in its own
``QTextFrame``; a change replaces the contents of one frame, so Qt re-lays-out only that frame
and the cost of a repaint no longer depends on how many turns sit above it (the figures are in
docs/performance.md, "Transcript"). Frames keep their own positions up to date as the
document changes, so nothing here does position arithmetic that could drift; and a frame's
first block is its own, so a fragment never merges into the paragraph before it.
"""

from __future__ import annotations

from PySide6.QtGui import QTextCursor, QTextDocument, QTextFrame, QTextFrameFormat

_KEEP = QTextCursor.MoveMode.KeepAnchor


class FrameDocument:
    """A document made of top-level frames, each filled from one HTML fragment."""

    def __init__(self, document: QTextDocument) -> None:
        self.document = document

    def clear(self) -> None:
        self.document.clear()

    def append(self, html: str) -> QTextFrame:
        """A new frame after every other one."""
        cursor = QTextCursor(self.document)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return self._fill(cursor, html)

    def insert_before(self, frame: QTextFrame, html: str) -> QTextFrame:
        """A new frame just above ``frame``."""
        cursor = QTextCursor(self.document)
        cursor.setPosition(max(0, frame.firstPosition() - 1))
        return self._fill(cursor, html)

    def replace(self, frame: QTextFrame, html: str) -> None:
        """New contents for ``frame``; the frames around it are not touched."""
        cursor = QTextCursor(self.document)
        cursor.beginEditBlock()
        cursor.setPosition(frame.firstPosition())
        cursor.setPosition(frame.lastPosition(), _KEEP)
        cursor.removeSelectedText()
        cursor.insertHtml(html)
        cursor.endEditBlock()

    def remove(self, frame: QTextFrame) -> None:
        """Delete ``frame`` and its contents."""
        cursor = QTextCursor(self.document)
        cursor.setPosition(frame.firstPosition() - 1)
        cursor.setPosition(frame.lastPosition() + 1, _KEEP)
        cursor.removeSelectedText()

    @staticmethod
    def _fill(cursor: QTextCursor, html: str) -> QTextFrame:
        cursor.beginEditBlock()
        frame = cursor.insertFrame(QTextFrameFormat())
        cursor.insertHtml(html)
        cursor.endEditBlock()
        return frame
