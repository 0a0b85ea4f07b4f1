"""The window as the user left it: geometry, dock layout, splitter sizes, last session.

Qt's own blobs (``saveGeometry``, ``saveState``) go to ``window-state.json`` through core
(:class:`~workbench.core.settings.UiState`, base64). Written a moment after the user stops
moving things (debounced) and when the window closes. A first start (no saved state) keeps
the default layout, except that on a narrow window the right docks and the sessions list take
shares of its width so the transcript keeps half of it; a geometry saved on a bigger screen is
shrunk and moved to fit this one.
"""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QTabBar

from workbench.core.settings import UiState, load_ui_state, save_ui_state

log = logging.getLogger(__name__)

SAVE_MS = 800
"""How long the layout must stay put before it is written."""
STATE_VERSION = 1
"""Passed to ``saveState``/``restoreState``: bump when the docks change incompatibly."""
MARGIN_W, MARGIN_H = 16, 48
"""Room left for the window frame and title bar (as ``MainWindow._fit_to_screen``)."""
DOCK_SHARE, SESSIONS_SHARE = 0.28, 0.18
"""On a narrow first-start window: the right docks' and the sessions list's share of its width
(at 1024 px the transcript then gets about 52 %; the docks' own minimums still apply)."""


def _b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _bytes(text: str) -> QByteArray | None:
    if not text:
        return None
    try:
        return QByteArray(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return None


def fit_rect(rect: QRect, free: QRect) -> QRect:
    """``rect`` shrunk to the free screen area (less the frame) and moved inside it."""
    width = min(rect.width(), free.width() - MARGIN_W)
    height = min(rect.height(), free.height() - MARGIN_H)
    x = min(max(rect.x(), free.x()), free.x() + free.width() - width - MARGIN_W)
    y = min(max(rect.y(), free.y()), free.y() + free.height() - height - MARGIN_H)
    return QRect(max(x, free.x()), max(y, free.y()), width, height)


def side_widths(window: int, dock: int, sessions: int) -> tuple[int, int]:
    """Default widths of the right docks and the sessions list in a ``window``-wide window.

    As built (``dock``, ``sessions``) when the transcript keeps at least half the width; on a
    narrower window each shrinks to its share, never growing.
    """
    if window - dock - sessions >= window / 2:
        return dock, sessions
    return min(dock, round(window * DOCK_SHARE)), min(sessions, round(window * SESSIONS_SHARE))


class WindowStateKeeper(QObject):
    """Restores the window's layout once, then saves it whenever it settles."""

    def __init__(self, window: QMainWindow, path: Path) -> None:
        super().__init__(window)
        self.window, self.path = window, path
        self.state: UiState = load_ui_state(path)
        self.restored = False
        self._first_show = False
        """No saved layout: fit the default one to the window when it is first shown."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_MS)
        self._timer.timeout.connect(self.save)

    @property
    def splitter(self) -> QSplitter | None:
        central = self.window.centralWidget()
        return central if isinstance(central, QSplitter) else None

    @property
    def last_session(self) -> str:
        return self.state.last_session

    def restore(self) -> bool:
        """Put back the saved layout (True if there was one); then start watching."""
        geometry = _bytes(self.state.geometry)
        if geometry is not None and self.window.restoreGeometry(geometry):
            self.restored = True
            self.fit_to_screen()
        dock_state = _bytes(self.state.dock_state)
        if dock_state is not None and self.window.restoreState(dock_state, STATE_VERSION):
            self.restored = True
        splitter, sizes = self.splitter, _bytes(self.state.splitter)
        if splitter is not None and sizes is not None and splitter.restoreState(sizes):
            self.restored = True
        self._first_show = not self.restored
        hide_dock_tab_bars(self.window)
        self._watch()
        return self.restored

    def fit_default_layout(self) -> None:
        """Narrow the right docks and the sessions list so the transcript keeps half the width.

        Only for the default layout (a first start): a saved one is the user's.
        """
        window, splitter = self.window, self.splitter
        right = [
            dock
            for dock in window.findChildren(QDockWidget)
            if window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
            and dock.isVisible()
            and not dock.isFloating()
        ]
        dock_now = max((dock.width() for dock in right), default=0)
        sizes = splitter.sizes() if splitter is not None and splitter.count() == 2 else []
        sessions_now = sizes[0] if sizes else 0
        dock_w, sessions_w = side_widths(window.width(), dock_now, sessions_now)
        if right and dock_w < dock_now:
            window.resizeDocks(right, [dock_w] * len(right), Qt.Orientation.Horizontal)
            layout = window.layout()
            if layout is not None:
                layout.activate()  # now, not at the next event: the splitter gets the room
        if splitter is not None and sizes and sessions_w < sessions_now:
            splitter.setSizes([sessions_w, sum(splitter.sizes()) - sessions_w])

    def fit_to_screen(self) -> None:
        """Shrink and move the window into its screen's free area."""
        screen = self.window.screen()
        if screen is None:
            return
        free = screen.availableGeometry()
        rect = self.window.geometry()
        fitted = fit_rect(rect, free)
        if fitted != rect:
            self.window.setGeometry(fitted)

    def _watch(self) -> None:
        self.window.installEventFilter(self)
        splitter = self.splitter
        if splitter is not None:
            splitter.splitterMoved.connect(lambda _pos, _index: self.save_soon())
        for dock in self.window.findChildren(QDockWidget):
            dock.dockLocationChanged.connect(lambda _area: self.save_soon())
            dock.topLevelChanged.connect(lambda _floating: self.save_soon())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window:
            kind = event.type()
            if kind in (QEvent.Type.Resize, QEvent.Type.Move):
                self.save_soon()
            elif kind == QEvent.Type.Show and self._first_show:
                self._first_show = False
                self.fit_default_layout()
            elif kind == QEvent.Type.Close:
                self.save()  # before anything is hidden by the shutdown
        return False

    def remember_session(self, session_id: str) -> None:
        """The session now open ("" for a new one): opened again at the next start."""
        if session_id != self.state.last_session:
            self.state.last_session = session_id
            self.save_soon()

    def save_soon(self) -> None:
        self._timer.start()

    def capture(self) -> UiState:
        """The window's layout now, as core stores it."""
        splitter = self.splitter
        self.state.geometry = _b64(self.window.saveGeometry())
        self.state.dock_state = _b64(self.window.saveState(STATE_VERSION))
        self.state.splitter = _b64(splitter.saveState()) if splitter is not None else ""
        return self.state

    def save(self) -> None:
        self._timer.stop()
        if not self.window.isVisible():
            return  # a hidden window (a test, a shutdown) has no layout worth keeping
        try:
            save_ui_state(self.capture(), self.path)
        except OSError as exc:
            log.warning("window state not saved to %s: %s", self.path, exc.strerror)


def hide_dock_tab_bars(window: QMainWindow) -> None:
    """Hide the dock tab bars, before the window is first shown.

    Qt (6.11) leaks a tab bar each time a dock is tabified into a split dock area before the
    window has been laid out: the leaked bar stays visible, out of the layout, drawn over the
    docks ("Sandbox files | Models" twice). The first layout pass shows again every bar it
    uses, so hiding them all here leaves only the leaked ones hidden.
    """
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window:
            bar.hide()
