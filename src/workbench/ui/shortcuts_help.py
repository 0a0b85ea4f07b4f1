"""Help → Keyboard Shortcuts: a sheet generated from the window's actions.

Every menu action with a shortcut is listed with its menu; keys that belong to one widget
(the composer's Enter, the find bar's Esc) are not actions and are listed from
``WIDGET_KEYS`` below them. :func:`shortcut_clashes` finds two actions on one key (a test
fails on any).
"""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .palette import clean, menu_actions

WIDGET_KEYS: list[tuple[str, str, str]] = [
    ("Enter", "Send the message", "Composer"),
    ("Shift+Enter", "New line", "Composer"),
    ("Esc", "Stop the running response, or cancel a queued message", "Composer"),
    ("Enter / Shift+Enter", "Next / previous match", "Find bar"),
    ("Esc", "Close the find bar", "Find bar"),
    ("Up / Down, Enter, Esc", "Choose, run, close", "Command palette"),
    ("Ctrl+C / Ctrl+A", "Copy / select all text", "Transcript, composer"),
    ("Esc", "Close a dialog, the palette or a Compare window", "Dialogs"),
]
"""Keys handled inside one widget (not window actions), for the sheet."""


def _keys(action: QAction) -> list[str]:
    return [
        k.toString(QKeySequence.SequenceFormat.PortableText)
        for k in action.shortcuts()
        if not k.isEmpty()
    ]


def shortcut_clashes(window: QMainWindow) -> dict[str, list[str]]:
    """Keys bound to more than one of the window's actions: ``{key: [action texts]}``."""
    bound: dict[str, list[str]] = defaultdict(list)
    for action in window.findChildren(QAction):
        if action.shortcutContext() == Qt.ShortcutContext.WidgetShortcut:
            continue  # only active while its own widget has the focus
        for key in _keys(action):
            bound[key].append(clean(action.text()))
    return {key: names for key, names in bound.items() if len(names) > 1}


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(keys, what it does, where) for every menu action with a shortcut, then widget keys."""
    rows = []
    for action, where in menu_actions(window):
        keys = [
            k.toString(QKeySequence.SequenceFormat.NativeText)
            for k in action.shortcuts()
            if not k.isEmpty()
        ]
        if keys:
            rows.append((" or ".join(keys), clean(action.text()), where))
    return rows + list(WIDGET_KEYS)


class ShortcutsDialog(QDialog):
    """The shortcut sheet (Ctrl+/); Esc or Close shuts it."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        layout = QVBoxLayout(self)
        intro = QLabel("Every command is also in the command palette (Ctrl+K).")
        layout.addWidget(intro)
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3)
        self.table.setObjectName("shortcutsTable")
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        bold = self.table.font()
        bold.setBold(True)
        for row, (keys, what, where) in enumerate(rows):
            key_item = QTableWidgetItem(keys)
            key_item.setFont(bold)
            self.table.setItem(row, 0, key_item)
            self.table.setItem(row, 1, QTableWidgetItem(what))
            self.table.setItem(row, 2, QTableWidgetItem(where))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.table.setCurrentCell(-1, -1)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        if close is not None:
            close.setFocus()
        screen = window.screen()
        height = min(620, screen.availableGeometry().height() - 80) if screen else 620
        self.resize(620, height)

    def shown_rows(self) -> list[tuple[str, str, str]]:
        return [
            tuple(self.table.item(r, c).text() for c in range(3))  # type: ignore[misc, union-attr]
            for r in range(self.table.rowCount())
        ]
