"""Desktop notifications for runs through the system tray.

"finished", "failed" and "needs you" get different titles and icons; clicking the
message opens that run. Every notification is also kept in ``sent`` (tests, and platforms
without a tray, where it is shown in the status bar instead).

Signals:
    open_requested(str): the user clicked the notification of this run id.
    shown(str, str): title and message of a notification (for the status bar).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon, QWidget

KINDS = {
    "finished": ("Run finished", QSystemTrayIcon.MessageIcon.Information),
    "failed": ("Run failed", QSystemTrayIcon.MessageIcon.Critical),
    "needs_you": ("Run needs you", QSystemTrayIcon.MessageIcon.Warning),
}


class Notifier(QObject):
    """One tray icon; ``notify(run_id, kind, message)``."""

    open_requested = Signal(str)
    shown = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sent: list[tuple[str, str, str]] = []
        self._last_run = ""
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            app = QApplication.instance()
            icon = QIcon()
            if isinstance(app, QApplication):
                icon = app.windowIcon()
                if icon.isNull():
                    icon = app.style().standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("Workbench")
            self.tray.messageClicked.connect(self._clicked)
            self.tray.activated.connect(lambda _reason: self._clicked())
            self.tray.show()

    def notify(self, run_id: str, kind: str, message: str) -> None:
        title, icon = KINDS.get(kind, KINDS["finished"])
        self.sent.append((run_id, kind, message))
        self._last_run = run_id
        if self.tray is not None:
            self.tray.showMessage(title, message, icon, 8000)
        self.shown.emit(title, message)

    def _clicked(self) -> None:
        if self._last_run:
            self.open_requested.emit(self._last_run)

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()
