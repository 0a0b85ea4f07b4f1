"""The runs table: fixed column widths from typical contents, and a Run column kept readable.

A run's title is what people look for; in a narrow dock (a 1024-pixel window, Runs beside
Sandbox files) the stretching Run column was squeezed to a few letters behind a horizontal
scroll bar. Now the least needed columns step aside first — Server, Steps, Tokens, Elapsed —
and come back when there is room; the row's tooltip and the details below still say them.
"""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from .model import COLUMNS, STATUS_COL, ChipDelegate, RunsModel

COLUMN_SAMPLES = {
    1: "agent deep-research-pro",
    2: "needs you",
    3: "00:00:00",
    4: "9999",
    5: "~99,999,999",
    6: "Local engine",
}
"""The widest text each column usually shows; its starting width (users may resize)."""

DROP_ORDER = (6, 4, 5, 3)
"""Columns hidden, in this order, when the Run column would get less than ``RUN_MIN``."""

RUN_MIN = 180
"""Pixels the Run column keeps before other columns are hidden."""


class RunsTable(QTableView):
    """The runs, one row each; columns step aside so the Run column stays readable."""

    def __init__(self, model: RunsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsTable")
        self.setAccessibleName("Background runs")
        self.setModel(model)
        self.setItemDelegateForColumn(STATUS_COL, ChipDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.verticalHeader().hide()
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed widths from typical contents, not ResizeToContents: that re-measures every
        # row of the column on each update — with 50 runs streaming, hundreds of times a
        # second, stalling the window for ~0.4 s at a time.
        metrics = self.fontMetrics()
        self.widths: dict[int, int] = {}
        for col, sample in COLUMN_SAMPLES.items():
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            text = max(sample, COLUMNS[col], key=metrics.horizontalAdvance)
            extra = 48 if col == STATUS_COL else 20
            self.widths[col] = metrics.horizontalAdvance(text) + extra
            header.resizeSection(col, self.widths[col])
        header.sectionResized.connect(self._resized)
        # At least three rows, whatever the details below need.
        self.setMinimumHeight(header.sizeHint().height() + 3 * 30 + 4)

    def _resized(self, col: int, _old: int, new: int) -> None:
        if col in self.widths and new > 0:  # a user's width is kept (0: it was hidden)
            self.widths[col] = new

    def fit_columns(self) -> None:
        """Hide the least needed columns while the Run column would be narrower than RUN_MIN."""
        room = self.viewport().width() - sum(self.widths.values())
        hidden: set[int] = set()
        for col in DROP_ORDER:
            if room >= RUN_MIN:
                break
            hidden.add(col)
            room += self.widths[col]
        for col in COLUMN_SAMPLES:
            if self.isColumnHidden(col) != (col in hidden):
                self.setColumnHidden(col, col in hidden)
                if col not in hidden:
                    self.horizontalHeader().resizeSection(col, self.widths[col])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()
