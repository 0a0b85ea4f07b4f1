"""Opens Compare windows for two sessions, two branches of one session or two runs.

Signals:
    open_requested(str, str): session id, leaf id — a Compare window's "Open".
    status_message(str): why nothing could be compared.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from workbench.core.compare import CompareError, CompareService, CompareSide
from workbench.core.history import HistoryStore

from .window import CompareWindow

NOTHING = (
    "Nothing to compare yet: select two sessions (Ctrl+click) or two runs, "
    "or make a second branch with Edit or Branch from here."
)


class CompareLauncher(QObject):
    """Builds the sides with :class:`CompareService` and shows a :class:`CompareWindow`."""

    open_requested = Signal(str, str)
    status_message = Signal(str)

    def __init__(self, history: HistoryStore, parent: QWidget) -> None:
        super().__init__(parent)
        self.service = CompareService(history)
        self._parent = parent
        self.windows: list[CompareWindow] = []

    def compare_sessions(self, left_id: str, right_id: str) -> CompareWindow | None:
        """Two sessions as they are shown; one session twice: its two newest branches."""
        try:
            left = self.service.side(left_id)
            if left_id != right_id:
                return self._show(left, self.service.side(right_id))
            others = [b for b in left.branches if b.leaf_id != left.leaf_id]
            if not others:
                self.status_message.emit(f"“{left.title}” has only one branch.")
                return None
            return self._show(left, self.service.side(left_id, others[-1].leaf_id))
        except CompareError as exc:
            self.status_message.emit(str(exc))
            return None

    def compare_interactions(self, left_iid: str, right_iid: str) -> CompareWindow | None:
        """The paths ending at two interactions (two runs' last hops)."""
        try:
            return self._show(self.service.side_of(left_iid), self.service.side_of(right_iid))
        except CompareError as exc:
            self.status_message.emit(str(exc))
            return None

    def compare_current(self, session_id: str | None) -> CompareWindow | None:
        """From a menu or the palette: the open session's branches, else the two newest."""
        if session_id and len(self.service.branches(session_id)) > 1:
            return self.compare_sessions(session_id, session_id)
        ids = [s.id for s in self.service.sessions()]
        if session_id in ids:
            ids.remove(session_id)
            ids.insert(0, session_id)
        if len(ids) < 2:
            self.status_message.emit(NOTHING)
            return None
        return self.compare_sessions(ids[0], ids[1])

    def _show(self, left: CompareSide, right: CompareSide) -> CompareWindow:
        window = CompareWindow(self.service, left, right, self._parent)
        window.open_requested.connect(self.open_requested)
        window.destroyed.connect(lambda _o=None, w=window: self._forget(w))
        self.windows.append(window)
        window.show()
        window.raise_()
        return window

    def _forget(self, window: CompareWindow) -> None:
        if window in self.windows:
            self.windows.remove(window)

    def close_all(self) -> None:
        for window in list(self.windows):
            window.close()
