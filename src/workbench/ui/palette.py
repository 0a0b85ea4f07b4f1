"""The command palette (Ctrl+K): every action of the window and the recent sessions.

Type to filter (fuzzy: "nwses" finds "New session"), Up/Down to choose, Enter runs, Esc
closes. Commands are read from the window's menus each time the palette opens, so nothing
is listed twice by hand; disabled actions are shown greyed and cannot be run.

Signals:
    session_chosen(str): a recent session to open.
    search_chosen(str): search all sessions for this text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.fuzzy import rank
from workbench.core.history import SessionInfo

from .plain import plain_tip

RECENT = 8
"""How many recent sessions the palette offers."""
CommandRole = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Command:
    """A palette row: what it is called, where it lives, its shortcut and what it does."""

    name: str
    where: str
    shortcut: str
    run: Callable[[], None]
    enabled: bool = True
    action: QAction | None = None


def clean(text: str) -> str:
    """A menu text without its mnemonic ampersands and trailing dots."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…").strip()


def menu_actions(window: QMainWindow) -> list[tuple[QAction, str]]:
    """Every action in the window's menus (submenus walked), with its menu path."""
    out: list[tuple[QAction, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} › {clean(sub.title())}")
            elif not action.isSeparator() and action.text():
                out.append((action, path))

    for top in window.menuBar().actions():
        sub = top.menu()
        if isinstance(sub, QMenu):
            walk(sub, clean(sub.title()))
    return out


def window_commands(window: QMainWindow) -> list[Command]:
    """The window's actions as palette commands (each action once)."""
    seen: set[int] = set()
    out = []
    for action, where in menu_actions(window):
        if id(action) in seen:
            continue
        seen.add(id(action))
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        out.append(
            Command(clean(action.text()), where, keys, action.trigger, action.isEnabled(), action)
        )
    return out


def _age(ts: float) -> str:
    minutes = (time.time() - ts) / 60
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{int(minutes)} min ago"
    if minutes < 60 * 24:
        return f"{int(minutes // 60)} h ago"
    return time.strftime("%d %b", time.localtime(ts))


class CommandPalette(QDialog):
    """A search field over a list of commands and recent sessions."""

    session_chosen = Signal(str)
    search_chosen = Signal(str)

    def __init__(
        self,
        commands: list[Command],
        recent: list[SessionInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Command palette")
        self.setObjectName("commandPalette")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.commands = list(commands)
        for s in recent[:RECENT]:
            self.commands.append(
                Command(
                    s.title or "Untitled session",
                    f"Recent session · {_age(s.updated)}",
                    "",
                    self._emitter(self.session_chosen.emit, s.id),
                )
            )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.field = QLineEdit()
        self.field.setPlaceholderText("Type a command or a session title…")
        self.field.setAccessibleName("Command")
        self.field.setClearButtonEnabled(True)
        layout.addWidget(self.field)
        self.list = QTreeWidget()
        self.list.setObjectName("paletteList")
        self.list.setAccessibleName("Commands")
        self.list.setColumnCount(3)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAllColumnsShowFocus(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the field
        self.list.setStyleSheet("QTreeWidget::item { padding: 3px 4px; }")
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.list, 1)
        self.field.textChanged.connect(self.filter)
        self.field.installEventFilter(self)
        self.list.itemActivated.connect(lambda _item, _col: self.run_current())
        self.list.itemClicked.connect(lambda _item, _col: self.run_current())
        self._fit(parent)
        self.filter("")
        self.field.setFocus()

    @staticmethod
    def _emitter(emit: Callable[[str], object], value: str) -> Callable[[], None]:
        def run() -> None:
            emit(value)

        return run

    def _fit(self, parent: QWidget | None) -> None:
        width = min(640, parent.width() - 40) if parent is not None else 640
        height = min(460, parent.height() - 80) if parent is not None else 460
        self.resize(max(360, width), max(240, height))
        if parent is not None:
            top = parent.mapToGlobal(parent.rect().topLeft())
            self.move(top.x() + (parent.width() - self.width()) // 2, top.y() + 60)

    # --- filtering and running -----------------------------------------------------------

    def filter(self, text: str) -> None:
        self.list.clear()
        matches = rank(text, self.commands, key=lambda c: f"{c.name}  {c.where}")
        query = text.strip()
        if query:
            matches.append(
                Command(
                    f"Search all sessions for “{query}”",
                    "Sessions",
                    "",
                    self._emitter(self.search_chosen.emit, query),
                )
            )
        muted = self.palette().color(self.palette().ColorRole.PlaceholderText)
        for command in matches:
            item = QTreeWidgetItem([command.name, command.where, command.shortcut])
            item.setData(0, CommandRole, command)
            item.setToolTip(0, plain_tip(command.name))
            item.setForeground(1, muted)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not command.enabled:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.list.addTopLevelItem(item)
        for n in range(self.list.topLevelItemCount()):
            first = self.list.topLevelItem(n)
            if first is not None and first.flags() & Qt.ItemFlag.ItemIsEnabled:
                self.list.setCurrentItem(first)
                break

    def shown_names(self) -> list[str]:
        return [self.list.topLevelItem(n).text(0) for n in range(self.list.topLevelItemCount())]  # type: ignore[union-attr]

    def run_current(self) -> None:
        item = self.list.currentItem()
        command = item.data(0, CommandRole) if item is not None else None
        if not isinstance(command, Command) or not command.enabled:
            return
        self.accept()  # closed first: the command may open a dialog of its own
        command.run()

    def _move(self, step: int) -> None:
        count = self.list.topLevelItemCount()
        if not count:
            return
        current = self.list.currentItem()
        row = self.list.indexOfTopLevelItem(current) if current is not None else -1
        for _ in range(count):
            row = (row + step) % count
            candidate = self.list.topLevelItem(row)
            if candidate is not None and candidate.flags() & Qt.ItemFlag.ItemIsEnabled:
                self.list.setCurrentItem(candidate)
                return

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                self._move(5 if key == Qt.Key.Key_PageDown else -5)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.run_current()
                return True
        return super().eventFilter(watched, event)
