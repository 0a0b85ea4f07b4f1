"""The runs table model and the status-chip delegate.

Signals: none (a plain item model; the dock listens to selection changes).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QPainter, QPainterPath
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from workbench.core.runs import RunRecord, format_elapsed

from ..plain import plain_tip

Index = QModelIndex | QPersistentModelIndex
RunIdRole = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Run", "Target", "Status", "Elapsed", "Steps", "Tokens", "Server")
STATUS_COL = 2

# status -> (label, colour)
CHIPS: dict[str, tuple[str, str]] = {
    "queued": ("queued", "#6e7781"),
    "in_progress": ("running", "#0969da"),
    "requires_action": ("needs you", "#bf8700"),
    "completed": ("finished", "#1a7f37"),
    "failed": ("failed", "#cf222e"),
    "cancelled": ("cancelled", "#6e7781"),
    "incomplete": ("incomplete", "#bc4c00"),
    "budget_exceeded": ("over budget", "#bc4c00"),
    "requires_continuation": ("paused", "#8250df"),
}


def chip(run: RunRecord) -> tuple[str, str]:
    """The label and colour of a run's status chip."""
    if run.stalled and run.running:
        return "stalled", "#bc4c00"  # no event for the stall limit (core/stall.py)
    if run.budget_stopped and run.status == "cancelled":
        return "budget hit", "#bc4c00"
    if run.status == "completed" and run.plan:
        return "plan ready", "#bf8700"  # a Deep Research plan waits for the user's go-ahead
    if run.status == "completed" and run.not_done:
        return "not done", "#cf222e"  # it ended, but its own answer says the task was not done
    if run.status == "requires_action" and run.origin == "chat":
        return "answer in chat", "#bf8700"
    if run.status == "requires_action" and not run.needs_you:
        return "answered", "#6e7781"
    return CHIPS.get(run.status, (run.status or "unknown", "#6e7781"))


class RunsModel(QAbstractTableModel):
    """Runs, newest first; ``update_run`` refreshes one row (or inserts it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RunRecord] = []
        self._rows_of: dict[str, int] = {}

    def set_runs(self, runs: list[RunRecord]) -> None:
        self.beginResetModel()
        self._rows = list(runs)
        self.endResetModel()

    def update_run(self, run: RunRecord) -> None:
        row = self.row_of(run.id)
        if row < 0:
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._rows.insert(0, run)
            self.endInsertRows()
            return
        self._rows[row] = run
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def remove_run(self, run_id: str) -> None:
        row = self.row_of(run_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def tick(self) -> None:
        """Elapsed time of running runs moves on."""
        for row, run in enumerate(self._rows):
            if run.ended is None:
                idx = self.index(row, 3)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DisplayRole])

    def row_of(self, run_id: str) -> int:
        if len(self._rows_of) != len(self._rows):
            self._rows_of = {r.id: i for i, r in enumerate(self._rows)}
        row = self._rows_of.get(run_id, -1)
        if 0 <= row < len(self._rows) and self._rows[row].id == run_id:
            return row
        self._rows_of = {r.id: i for i, r in enumerate(self._rows)}  # rows moved: rebuild
        return self._rows_of.get(run_id, -1)

    def runs(self) -> list[RunRecord]:
        return list(self._rows)

    def run_at(self, row: int) -> RunRecord | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        run = self._rows[index.row()]
        col = index.column()
        if role == RunIdRole:
            return run.id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(run, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [run.title, f"{run.target_kind} {run.target}", f"on {run.server}"]
            if run.progress:
                lines.append(f"progress: {run.progress}")
            if run.model and run.model != run.target:
                lines.append(f"answered by {run.model}")
            if run.not_done:
                lines.append(f"Not done: {run.verdict_reason}")
            lines += [f"interaction {i}" for i in run.interaction_ids]
            if run.error:
                lines.append(run.error)
            return plain_tip("\n".join(x for x in lines if x.strip()))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (3, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole and col == STATUS_COL:
            return chip(run)[1]
        return None

    @staticmethod
    def _text(run: RunRecord, col: int) -> str:
        if col == 0:
            title = run.title or run.agent_name or run.target
            return f"{title} — {run.progress}" if run.progress and run.running else title
        if col == 1:
            prefix = "agent " if run.target_kind == "agent" else ""
            return f"{prefix}{run.agent_name or run.target}"
        if col == 2:
            return chip(run)[0]
        if col == 3:
            return format_elapsed(run.elapsed(time.time()))
        if col == 4:
            return str(run.steps)
        if col == 5:
            text = f"{run.tokens:,}"
            if run.budget:
                text += f" / {run.budget:,}"
            return ("~" if run.tokens_estimated else "") + text
        if col == 6:
            return run.server
        return ""


class ChipDelegate(QStyledItemDelegate):
    """Paints the status column as a coloured rounded chip."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width() + 24, max(hint.height(), 26))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if index.column() != STATUS_COL:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget else None
        if style is not None:
            opt = QStyleOptionViewItem(option)
            self.initStyleOption(opt, index)
            opt.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        text = str(index.data() or "")
        colour = QColor(str(index.data(Qt.ItemDataRole.UserRole) or "#6e7781"))
        rect = option.rect.adjusted(4, 4, -4, -4)
        metrics = option.fontMetrics
        width = min(rect.width(), metrics.horizontalAdvance(text) + 16)
        chip_rect = QRectF(rect.x(), rect.y(), width, rect.height())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath()
        path.addRoundedRect(chip_rect, chip_rect.height() / 2, chip_rect.height() / 2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        fill = QColor("white") if selected else QColor(colour)
        fill.setAlpha(235 if selected else 40)
        painter.fillPath(path, fill)
        painter.setPen(colour)
        painter.drawText(chip_rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
