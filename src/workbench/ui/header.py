"""The strip above the transcript: session title, tokens used, which server is connected."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from .elided_label import ElidedLabel
from .plain import plain_label
from .transcript import TurnEntry


class SessionHeader(QWidget):
    """Shows what the composition root tells it; it reads nothing itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        self.session_title = ElidedLabel("New session")
        self.session_title.setStyleSheet("font-weight: bold;")
        row.addWidget(self.session_title, 1)
        self.tokens = QLabel("")
        self.tokens.setToolTip("Tokens used in this session (input + output)")
        row.addWidget(self.tokens)
        self.connection_label = plain_label(QLabel("Not connected"))
        self.connection_label.setObjectName("connectionBadge")
        self.connection_label.setToolTip("Current server — change it in Settings (Ctrl+,)")
        row.addWidget(self.connection_label)
        self.setStyleSheet("#header { border-bottom: 1px solid palette(mid); }")

    def show_connection(self, label: str, ok: bool) -> None:
        self.connection_label.setText(("● " if ok else "○ ") + label)
        self.connection_label.setStyleSheet("color: #1a7f37;" if ok else "color: #9a6700;")

    def show_title(self, title: str) -> None:
        self.session_title.setText(title)

    def show_tokens(self, entries: Iterable[TurnEntry]) -> None:
        tin = tout = 0
        for entry in entries:
            usage = entry.data.get("usage") or {}
            tin += int(usage.get("total_input_tokens") or 0)
            tout += int(usage.get("total_output_tokens") or 0)
        self.tokens.setText(f"{tin} in · {tout} out" if tin or tout else "")
