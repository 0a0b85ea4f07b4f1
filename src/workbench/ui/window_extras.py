"""The window's helpers that are not panels: Compare, the command palette, the shortcut
sheet and the saved layout, wired to the panels they serve.

The main window builds one :class:`WindowExtras` after its panels and docks and points
a few menu actions at it; everything else (which signals reach Compare, when the layout is
saved, which session opens at start) is wired here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from .compare import CompareLauncher, CompareWindow
from .palette import CommandPalette, window_commands
from .shortcuts_help import ShortcutsDialog
from .window_state import WindowStateKeeper

if TYPE_CHECKING:
    from .main_window import MainWindow


class WindowExtras(QObject):
    """Owns the Compare launcher, the palette, the shortcut sheet and the layout keeper."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.palette: CommandPalette | None = None
        self.shortcuts: ShortcutsDialog | None = None
        status = window.statusBar()
        self.compare = CompareLauncher(window.history, window)
        self.compare.status_message.connect(lambda m: status.showMessage(m, 8000))
        self.compare.open_requested.connect(self._open_branch)
        window.sessions.compare_requested.connect(self.compare.compare_sessions)
        window.docks.runs_dock.compare_requested.connect(self.compare_runs)
        self.layout = WindowStateKeeper(window, window.paths.ui_state_file)
        self.layout.restore()
        window.controller.session_opened.connect(self.layout.remember_session)
        last = self.layout.last_session
        if last:
            window.controller.open_session(last)

    # --- Compare -------------------------------------------------------------------------

    def compare_current(self) -> CompareWindow | None:
        return self.compare.compare_current(self.window.controller.session_id)

    def compare_runs(self, left_run: str, right_run: str) -> CompareWindow | None:
        runs = self.window.docks.runs.tracker.runs
        ids = [runs[r].interaction_id if r in runs else "" for r in (left_run, right_run)]
        return self.compare.compare_interactions(ids[0], ids[1])

    def _open_branch(self, session_id: str, leaf_id: str) -> None:
        w = self.window
        w.controller.open_session(session_id, leaf_id)
        w.raise_()
        w.activateWindow()

    # --- palette and shortcut sheet ------------------------------------------------------

    def open_palette(self) -> CommandPalette:
        if self.palette is not None:
            self.palette.close()
        w = self.window
        palette = CommandPalette(window_commands(w), w.history.sessions(), w)
        palette.session_chosen.connect(lambda sid: w.controller.open_session(sid))
        palette.search_chosen.connect(self._search)
        palette.destroyed.connect(lambda _o=None: setattr(self, "palette", None))
        self.palette = palette
        palette.open()
        return palette

    def _search(self, text: str) -> None:
        search = self.window.sessions.search
        search.setText(text)
        search.setFocus()

    def show_shortcuts(self) -> ShortcutsDialog:
        if self.shortcuts is not None:
            self.shortcuts.raise_()
            return self.shortcuts
        dialog = ShortcutsDialog(self.window)
        dialog.destroyed.connect(lambda _o=None: setattr(self, "shortcuts", None))
        self.shortcuts = dialog
        dialog.open()
        return dialog
