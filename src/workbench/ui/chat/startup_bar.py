"""The bar above the composer that says what the local engine does while it starts.

A first start assembles the default model (~25 s); "connecting…" alone looked like a hang.
The bar shows the phase the engine reports in its own words, with a progress bar that is
determinate when the engine gives byte figures and busy (indeterminate) otherwise.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from workbench.core.engine_process import EngineProgress

from ..plain import plain_label

STARTING = "Starting the local engine…"


class StartupBar(QWidget):
    """ "Preparing the local model (first start only): 240 of 491 MB" [=====     ]."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("startupBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = plain_label(QLabel(STARTING, self))
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # the engine's words, never HTML
        layout.addWidget(self.label)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName("Local engine start progress")
        self.bar.setMaximumWidth(260)
        self.bar.setTextVisible(False)  # the label says how far, in MB
        layout.addWidget(self.bar, 1)
        self.hide()

    def starting(self, text: str = STARTING) -> None:
        """Show a phase without figures: a busy bar."""
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.show()

    def show_progress(self, progress: EngineProgress) -> None:
        """Show what the engine reported (a busy bar when it gave no figures)."""
        fraction = progress.fraction
        self.label.setText(progress.describe())
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * fraction))
        self.show()

    def done(self) -> None:
        self.hide()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
