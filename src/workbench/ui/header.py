"""The strip above the transcript: session title, tokens used, which server is connected.

In a narrow centre pane (a 1024-pixel window) the connected server's address gave way to
nothing and the title shrank to "R…"; now the badge drops the address first (it stays in the
tooltip) so the title keeps ``TITLE_ROOM`` pixels.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from .elided_label import ElidedLabel
from .plain import plain_label, plain_tip
from .transcript import TurnEntry

TITLE_ROOM = 220
"""Pixels the session title keeps before the connection badge drops the server's address."""

BADGE_TIP = "Current server — change it in Settings (Ctrl+,)"


class SessionHeader(QWidget):
    """Shows what the composition root tells it; it reads nothing itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        row = self._row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        self.session_title = ElidedLabel("New session")
        self.session_title.setStyleSheet("font-weight: bold;")
        row.addWidget(self.session_title, 1)
        self.tokens = QLabel("")
        self.tokens.setToolTip("Tokens used in this session (input + output)")
        row.addWidget(self.tokens)
        self.connection_label = plain_label(QLabel("Not connected"))
        self.connection_label.setObjectName("connectionBadge")
        self.connection_label.setToolTip(BADGE_TIP)
        self._badge = ("Not connected", "Not connected")
        """The badge's full text and its short form (a connected server without address)."""
        row.addWidget(self.connection_label)
        self.setStyleSheet("#header { border-bottom: 1px solid palette(mid); }")

    def show_connection(self, label: str, ok: bool) -> None:
        mark = "● " if ok else "○ "
        # Only a connected label ends in an address; "starting 48 %" and such always show.
        short = label.split(" · ", 1)[0] if ok else label
        self._badge = (mark + label, mark + short)
        self.connection_label.setToolTip(plain_tip(f"{label}\n{BADGE_TIP}"))
        self.connection_label.setStyleSheet("color: #1a7f37;" if ok else "color: #9a6700;")
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        full, short = self._badge
        row = self._row
        m = row.contentsMargins()
        used = m.left() + m.right() + 2 * row.spacing() + self.tokens.sizeHint().width()
        room = self.width() - used - self.connection_label.fontMetrics().horizontalAdvance(full)
        title = self.session_title
        wanted = min(TITLE_ROOM, title.fontMetrics().horizontalAdvance(title.full_text()) + 4)
        self.connection_label.setText(full if room >= wanted else short)

    def show_title(self, title: str) -> None:
        self.session_title.setText(title)
        self._fit()

    def show_tokens(self, entries: Iterable[TurnEntry]) -> None:
        tin = tout = 0
        for entry in entries:
            usage = entry.data.get("usage") or {}
            tin += int(usage.get("total_input_tokens") or 0)
            tout += int(usage.get("total_output_tokens") or 0)
        self.tokens.setText(f"{tin} in · {tout} out" if tin or tout else "")
        self._fit()
