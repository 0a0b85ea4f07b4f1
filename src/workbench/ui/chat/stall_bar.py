"""The bar above the composer for a turn that stopped making progress.

A response stuck ``in_progress`` (the server sends keep-alives, never an event) looked like a
slow model forever. After the stall limit (``core/stall.py``) this bar says so and offers
"Cancel" (stop the turn; the server is told) and "Keep waiting" (ask again after another
period).

Signals:
    cancel_requested(): stop the stalled turn.
    keep_waiting_requested(): wait another period.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from workbench.core.runs import format_elapsed

STALLED = (
    "No progress from the server for {limit}: the {what} may be stuck. Cancel it, or keep waiting."
)


class StallBar(QWidget):
    """ "No progress from the server for 5m 00s …" [Cancel] [Keep waiting]."""

    cancel_requested = Signal()
    keep_waiting_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stallBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setStyleSheet("color: #bc4c00;")
        layout.addWidget(self.label, 1)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel the stalled response")
        self.wait_button = QPushButton("Keep waiting", self)
        self.wait_button.setAccessibleName("Keep waiting for the stalled response")
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.wait_button)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.wait_button.clicked.connect(self.keep_waiting_requested.emit)
        self.hide()

    def set_stalled(
        self, stalled: bool, limit_seconds: float = 0.0, what: str = "response"
    ) -> None:
        """Show the bar (how long nothing came for ``what``: this turn, a run shown live)."""
        if stalled:
            self.label.setText(STALLED.format(limit=format_elapsed(limit_seconds), what=what))
        self.setVisible(stalled)
