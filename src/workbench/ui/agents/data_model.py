"""The data sources of an agent as a table: kind, path, size, target (editable)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from workbench.core.agents import DataSource
from workbench.core.attachments import human_size

from ..plain import plain_tip

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Kind", "File", "Size", "Sandbox path")


class DataSourcesModel(QAbstractTableModel):
    """Rows of (DataSource, size); editing the target emits ``target_edited``.

    Signals:
        target_edited(str, str): data path, new target.
    """

    target_edited = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[DataSource, int]] = []

    def set_rows(self, rows: list[tuple[DataSource, int]]) -> None:
        self.beginResetModel()
        self._rows = [(d.model_copy(), s) for d, s in rows]
        self.endResetModel()

    def source_at(self, row: int) -> DataSource | None:
        return self._rows[row][0] if 0 <= row < len(self._rows) else None

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
        item, size = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            col = index.column()
            if col == 0:
                return item.kind
            if col == 1:
                return item.path.removeprefix("data/")
            if col == 2:
                return human_size(size)
            if col == 3:
                return item.target
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tip(f"{item.path} → {item.target}")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == 3:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != 3:
            return False
        item, size = self._rows[index.row()]
        target = str(value).strip()
        if target == item.target:
            return False
        self._rows[index.row()] = (item.model_copy(update={"target": target}), size)
        self.dataChanged.emit(index, index)
        self.target_edited.emit(item.path, target)
        return True
