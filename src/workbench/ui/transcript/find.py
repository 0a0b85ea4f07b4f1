"""Find in the transcript (Ctrl+F): a bar over the transcript's top-right corner.

Every match is highlighted (extra selections, so the document and its cached turns are not
touched), the current one more strongly; Enter / F3 go to the next, Shift+Enter / Shift+F3
to the previous, the count says "3 of 12", Esc closes. Opening the bar puts every turn of a
long session in the document first (``show_all``), so matches in unloaded pages are found.
While the bar is open, a changed transcript (a streaming answer) is searched again, at most
a few times a second.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QKeyEvent, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTextEdit,
    QToolButton,
)

from .view import TranscriptView

MAX_MATCHES = 2000
"""Highlights beyond this are not drawn (the count says so)."""
RESEARCH_MS = 200


class _FindEdit(QLineEdit):
    """Enter: next; Shift+Enter: previous; Esc: close (the bar decides what each does)."""

    def __init__(self, bar: FindBar) -> None:
        super().__init__(bar)
        self.bar = bar

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F3):
            self.bar.step(-1 if shift else 1)
        elif key == Qt.Key.Key_Escape:
            self.bar.close_bar()
        else:
            super().keyPressEvent(event)


class FindBar(QFrame):
    """Search the transcript: highlighted matches, next/previous, a match count."""

    def __init__(self, view: TranscriptView) -> None:
        super().__init__(view)
        self.view = view
        self.setObjectName("findBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        row = self._row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 4, 4)
        row.setSpacing(4)
        self.edit = _FindEdit(self)
        self.edit.setPlaceholderText("Find in transcript")
        self.edit.setAccessibleName("Find in transcript")
        self.edit.setMinimumWidth(200)
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self.search)
        row.addWidget(self.edit)
        self.count = QLabel("", self)
        self.count.setMinimumWidth(72)
        self.count.setAccessibleName("Matches")
        row.addWidget(self.count)
        self.prev_button = self._button("▲", "Previous match (Shift+Enter)", lambda: self.step(-1))
        self.next_button = self._button("▼", "Next match (Enter)", lambda: self.step(1))
        self._button("✕", "Close (Esc)", self.close_bar)
        self.matches: list[QTextCursor] = []
        self.current = -1
        self._research = QTimer(self)
        self._research.setSingleShot(True)
        self._research.setInterval(RESEARCH_MS)
        self._research.timeout.connect(lambda: self.search(keep_place=True))
        view.document().contentsChanged.connect(self._changed)
        view.installEventFilter(self)
        self.hide()

    def _button(self, text: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        self._row.addWidget(button)
        return button

    # --- opening and closing -------------------------------------------------------------

    def open_bar(self) -> None:
        """Ctrl+F: show the bar with the selected text (if any), every turn searchable."""
        self.view.show_all()
        picked = self.view.textCursor().selectedText()
        self._place()
        self.show()
        self.raise_()
        if picked and "\u2029" not in picked:
            self.edit.setText(picked)
        self.edit.setFocus()
        self.edit.selectAll()
        self.search()

    def close_bar(self) -> None:
        self.hide()
        self._research.stop()
        self.matches, self.current = [], -1
        self.view.setExtraSelections([])
        self.view.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        self.adjustSize()
        frame = self.view.frameWidth()
        bar = self.view.verticalScrollBar()
        right = self.view.width() - frame - (bar.width() if bar.isVisible() else 0) - 8
        self.move(max(0, right - self.width()), frame + 6)

    # --- searching -----------------------------------------------------------------------

    def _changed(self) -> None:
        if self.isVisible() and self.edit.text():
            self._research.start()

    def search(self, *_args: object, keep_place: bool = False) -> None:
        """Find every match of the text; the current one is the first after the view's top."""
        needle = self.edit.text()
        doc = self.view.document()
        place = self.matches[self.current].selectionStart() if keep_place and self.matches else -1
        self.matches = []
        if needle:
            cursor = QTextCursor(doc)
            while len(self.matches) < MAX_MATCHES:
                cursor = doc.find(needle, cursor, QTextDocument.FindFlag(0))
                if cursor.isNull():
                    break
                self.matches.append(QTextCursor(cursor))
        if not self.matches:
            self.current = -1
        elif place >= 0:
            self.current = next(
                (n for n, c in enumerate(self.matches) if c.selectionStart() >= place), 0
            )
        else:
            top = self.view.cursorForPosition(self.view.viewport().rect().topLeft()).position()
            self.current = next(
                (n for n, c in enumerate(self.matches) if c.selectionStart() >= top), 0
            )
        self._show(scroll=not keep_place)

    def step(self, delta: int) -> None:
        """Go to the next (``1``) or previous (``-1``) match, wrapping around."""
        if not self.matches:
            return
        self.current = (self.current + delta) % len(self.matches)
        self._show(scroll=True)

    def _show(self, *, scroll: bool) -> None:
        needle = self.edit.text()
        found = len(self.matches)
        self.prev_button.setEnabled(found > 0)
        self.next_button.setEnabled(found > 0)
        if not needle:
            self.count.setText("")
        elif not found:
            self.count.setText("No matches")
        else:
            more = "+" if found >= MAX_MATCHES else ""
            self.count.setText(f"{self.current + 1} of {found}{more}")
        self.count.setStyleSheet("color: #cf222e;" if needle and not found else "")
        selections = []
        for n, cursor in enumerate(self.matches):
            sel = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(QColor("#ff9632" if n == self.current else "#fff176"))
            fmt.setForeground(QColor("#000000"))
            sel.format = fmt
            sel.cursor = cursor
            selections.append(sel)
        self.view.setExtraSelections(selections)
        if scroll and 0 <= self.current < found:
            target = QTextCursor(self.matches[self.current])
            target.setPosition(target.selectionStart())
            self.view.setTextCursor(target)
            self.view.ensureCursorVisible()
