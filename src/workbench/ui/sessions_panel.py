"""The sessions list: search (full-text, offline), rename, pin, delete.

Signals:
    session_selected(str): the user opened a session.
    new_session_requested(): "New session".
    search_changed(str): the (debounced) search text.
    rename_requested(str, str): session id, new title.
    pin_requested(str, bool): session id, pinned.
    delete_requested(str): session id (after the user confirmed).
    compare_requested(str, str): two session ids (the same one twice: its branches).
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.history import SessionInfo

from . import icons
from .plain import plain_box, plain_tip

SessionRole = Qt.ItemDataRole.UserRole + 1
CLOCK_MS = 20_000
"""How often the relative times ("just now", "6 min ago") are told again."""
Index = QModelIndex | QPersistentModelIndex


def _when(ts: float) -> str:
    age = time.time() - ts
    if age < 60:
        return "just now"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    if age < 86400:
        return time.strftime("%H:%M", time.localtime(ts))
    return time.strftime("%d %b", time.localtime(ts))


class SessionListModel(QAbstractListModel):
    """Sessions, pinned first; editing a title asks for a rename."""

    rename_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[SessionInfo] = []

    def set_sessions(self, sessions: list[SessionInfo]) -> None:
        self.beginResetModel()
        self._rows = list(sessions)
        self.endResetModel()

    def retell_times(self) -> None:
        """Repaint the "5 min ago" texts: they age while the list stays put."""
        if self._rows:
            self.dataChanged.emit(
                self.index(0), self.index(len(self._rows) - 1), [Qt.ItemDataRole.DisplayRole]
            )

    def session_at(self, row: int) -> SessionInfo | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, session_id: str) -> int:
        for i, s in enumerate(self._rows):
            if s.id == session_id:
                return i
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        s = self._rows[index.row()]
        title = s.title or "Untitled session"
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{title}\n{_when(s.updated)}"
        if role == Qt.ItemDataRole.DecorationRole and s.pinned:
            return icons.icon("pin")
        if role == Qt.ItemDataRole.EditRole:
            return s.title
        if role == Qt.ItemDataRole.ToolTipRole:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.updated))
            return plain_tip(f"{title}\nUpdated {when}")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{title}{', pinned' if s.pinned else ''}"
        if role == SessionRole:
            return s.id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        title = str(value).strip()
        s = self._rows[index.row()]
        if title == s.title:
            return False
        self.rename_requested.emit(s.id, title)
        return True


class SessionsPanel(QWidget):
    """Left pane: search box, session list, new-session button."""

    session_selected = Signal(str)
    new_session_requested = Signal()
    search_changed = Signal(str)
    rename_requested = Signal(str, str)
    pin_requested = Signal(str, bool)
    delete_requested = Signal(str)
    compare_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        top = QHBoxLayout()
        title = QLabel("<b>Sessions</b>")
        top.addWidget(title)
        top.addStretch(1)
        self.new_button = QPushButton("New", self)
        self.new_button.setToolTip("New session (Ctrl+N)")
        self.new_button.clicked.connect(self.new_session_requested)
        top.addWidget(self.new_button)
        layout.addLayout(top)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search all sessions")
        self.search.setAccessibleName("Search sessions")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(lambda: self.search_changed.emit(self.search.text()))
        self.search.textChanged.connect(lambda _t: self._debounce.start())

        self.model = SessionListModel(self)
        self.model.rename_requested.connect(self.rename_requested)
        self.list = QListView(self)
        self.list.setObjectName("sessions")
        self.list.setAccessibleName("Sessions")
        self.list.setModel(self.model)
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        # Ctrl/Shift+click selects a second session to compare; a plain click opens one.
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setSpacing(2)
        self.list.setUniformItemSizes(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.clicked.connect(self._clicked)
        self.list.activated.connect(self._clicked)
        layout.addWidget(self.list, 1)
        self.empty = QLabel("No sessions match.", self)
        self.empty.setStyleSheet("color: palette(mid);")
        self.empty.hide()
        layout.addWidget(self.empty)
        self._confirm: QMessageBox | None = None
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self.model.retell_times)
        self._clock.start()

    def set_sessions(self, sessions: list[SessionInfo], current: str | None = None) -> None:
        self.model.set_sessions(sessions)
        self.empty.setVisible(not sessions and bool(self.search.text().strip()))
        if current is not None:
            self.select(current)

    def select(self, session_id: str) -> None:
        row = self.model.row_of(session_id)
        if row >= 0:
            self.list.setCurrentIndex(self.model.index(row))

    def current_id(self) -> str | None:
        s = self.model.session_at(self.list.currentIndex().row())
        return s.id if s else None

    def selected_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.list.selectionModel().selectedIndexes())
        return [s.id for s in (self.model.session_at(r) for r in rows) if s is not None]

    def _clicked(self, index: QModelIndex) -> None:
        mods = QGuiApplication.keyboardModifiers()
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            return  # extending the selection (to compare), not opening
        s = self.model.session_at(index.row())
        if s is not None:
            self.session_selected.emit(s.id)

    def rename_current(self) -> None:
        index = self.list.currentIndex()
        if index.isValid():
            self.list.edit(index)

    def _menu(self, pos: QPoint) -> None:
        index = self.list.indexAt(pos)
        s = self.model.session_at(index.row())
        if s is None:
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        chosen = self.selected_ids()
        if len(chosen) == 2 and s.id in chosen:
            menu.addAction(
                "Compare side by side", lambda: self.compare_requested.emit(chosen[0], chosen[1])
            )
        else:
            menu.addAction("Compare its branches", lambda: self.compare_requested.emit(s.id, s.id))
        menu.addSeparator()
        menu.addAction("Rename", lambda: self.list.edit(index))
        menu.addAction(
            "Unpin" if s.pinned else "Pin", lambda: self.pin_requested.emit(s.id, not s.pinned)
        )
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.confirm_delete(s.id))
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def confirm_delete(self, session_id: str) -> None:
        """Ask first (non-blocking); ``delete_requested`` follows a Yes."""
        row = self.model.row_of(session_id)
        s = self.model.session_at(row)
        title = (s.title if s else "") or "Untitled session"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete session",
            f"Delete “{title}” from the local history? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        plain_box(box)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def done(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self.delete_requested.emit(session_id)

        box.finished.connect(done)
        self._confirm = box
        box.open()
