"""A lazy tree of sandbox files: a directory's children are fetched when it is expanded.

The model never does I/O. ``canFetchMore``/``fetchMore`` emit ``fetch_requested(path)``;
the controller lists that directory and answers with :meth:`FilesModel.set_children`.

Signals:
    fetch_requested(str): list this directory ("." for the root).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QApplication, QStyle

from workbench.core.attachments import human_size
from workbench.core.sandbox_files import SandboxEntry

from ..plain import plain_tip

Index = QModelIndex | QPersistentModelIndex
EntryRole = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Name", "Size", "Modified")


@dataclass(eq=False)
class _Node:
    entry: SandboxEntry
    parent: _Node | None
    children: list[_Node] = field(default_factory=list)
    loaded: bool = False
    loading: bool = False

    def row(self) -> int:
        return self.parent.children.index(self) if self.parent is not None else 0


class FilesModel(QAbstractItemModel):
    """Directories load on demand; ``reset(env)`` starts over for another sandbox."""

    fetch_requested = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node(SandboxEntry(".", ".", True), None)
        self.environment_id = ""

    def reset(self, environment_id: str) -> None:
        self.beginResetModel()
        self.environment_id = environment_id
        self._root = _Node(SandboxEntry(".", ".", True), None)
        self.endResetModel()

    def _node(self, index: Index) -> _Node:
        if index.isValid():
            node = index.internalPointer()
            assert isinstance(node, _Node)
            return node
        return self._root

    def _find(self, path: str, node: _Node | None = None) -> _Node | None:
        node = node or self._root
        if node.entry.path.strip("/") == path.strip("/") or (
            path in (".", "") and node is self._root
        ):
            return node
        for child in node.children:
            if child.entry.is_dir and (
                path.strip("/") == child.entry.path or path.startswith(child.entry.path + "/")
            ):
                return self._find(path, child)
        return None

    def set_children(self, path: str, entries: list[SandboxEntry]) -> None:
        """The listing of ``path`` arrived (replaces what was there)."""
        node = self._find(path)
        if node is None:
            return
        parent = self._index_of(node)
        if node.children:
            self.beginRemoveRows(parent, 0, len(node.children) - 1)
            node.children = []
            self.endRemoveRows()
        node.loaded, node.loading = True, False
        if entries:
            self.beginInsertRows(parent, 0, len(entries) - 1)
            node.children = [_Node(e, node) for e in entries]
            self.endInsertRows()

    def fetch_failed(self, path: str) -> None:
        node = self._find(path)
        if node is not None:
            node.loading = False

    def entry(self, index: Index) -> SandboxEntry | None:
        return self._node(index).entry if index.isValid() else None

    def _index_of(self, node: _Node) -> QModelIndex:
        if node is self._root or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row(), 0, node)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        node = self._node(parent)
        if not (0 <= row < len(node.children) and 0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        node = self._node(index)
        if node.parent is None or node.parent is self._root:
            return QModelIndex()
        return self.createIndex(node.parent.row(), 0, node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(COLUMNS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        node = self._node(parent)
        if parent.isValid() and parent.column() != 0:
            return False
        if not node.entry.is_dir:
            return False
        return bool(node.children) or not node.loaded

    def canFetchMore(self, parent: Index) -> bool:
        node = self._node(parent)
        if parent.isValid() and parent.column() != 0:
            return False
        return bool(self.environment_id) and node.entry.is_dir and not node.loaded

    def fetchMore(self, parent: Index) -> None:
        node = self._node(parent)
        if node.loading or node.loaded or not self.environment_id:
            return
        node.loading = True
        self.fetch_requested.emit(node.entry.path)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._node(index).entry
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return entry.name
            if col == 1:
                return "" if entry.is_dir or entry.size is None else human_size(entry.size)
            if col == 2:
                return entry.modified.replace("T", " ")[:16]
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                kind = (
                    QStyle.StandardPixmap.SP_DirIcon
                    if entry.is_dir
                    else QStyle.StandardPixmap.SP_FileIcon
                )
                return app.style().standardIcon(kind)
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tip(entry.path + (f"\n{entry.mime_type}" if entry.mime_type else ""))
        if role == EntryRole:
            return entry.path
        return None
