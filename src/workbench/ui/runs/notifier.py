"""Desktop notifications for runs through the system tray.

"finished", "failed" and "needs you" get different titles and icons; clicking the
message opens that run. Every notification is also kept in ``sent`` (tests, and platforms
without a tray, where it is shown in the status bar instead).

The text names runs, which come from users, models and files. Qt shows a tray message as
plain text on Windows, macOS and in its own X11 balloon, but on a Linux desktop with a
StatusNotifier host it becomes a freedesktop ``Notify`` call whose body the server renders as
markup when it has the ``body-markup`` capability (GNOME, KDE, dunst…): a run called
"<b>Q3</b> & <i>more" would come out bold, or be cut at the "&". The notifier asks the
session bus about both once, in the background, and escapes the text only on that path.

Signals:
    open_requested(str): the user clicked the notification of this run id.
    shown(str, str): title and message of a notification (for the status bar).
"""

from __future__ import annotations

import html
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtDBus import QDBusConnection, QDBusMessage, QDBusPendingCallWatcher
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon, QWidget

KINDS = {
    "finished": ("Run finished", QSystemTrayIcon.MessageIcon.Information),
    "failed": ("Run failed", QSystemTrayIcon.MessageIcon.Critical),
    "needs_you": ("Run needs you", QSystemTrayIcon.MessageIcon.Warning),
}


PROBE_MS = 2000
"""How long a D-Bus question may take before it counts as "no" (asked in the background)."""


def markup_escaped(text: str) -> str:
    """``text`` for a notification body the server reads as markup: it shows as written."""
    return html.escape(text, quote=False)


def _first_argument(message: QDBusMessage) -> Any:
    if message.type() != QDBusMessage.MessageType.ReplyMessage or not message.arguments():
        return None
    value = message.arguments()[0]
    return value.variant() if hasattr(value, "variant") else value


class MarkupProbe(QObject):
    """Finds out (asynchronously) whether tray messages reach a markup-rendering server.

    Both must hold: a StatusNotifier host is registered (so Qt sends messages through
    ``org.freedesktop.Notifications``, not its plain balloon) and that server lists
    ``body-markup``. Until both answers are in, ``markup`` is False.
    """

    def __init__(self, bus: QDBusConnection | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.markup = False
        self.answered = False
        self._host: bool | None = None
        self._body_markup: bool | None = None
        self._watchers: list[QDBusPendingCallWatcher] = []
        if bus is None:
            if sys.platform in ("win32", "darwin"):
                self._done(False, False)
                return
            bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            self._done(False, False)
            return
        host = QDBusMessage.createMethodCall(
            "org.kde.StatusNotifierWatcher",
            "/StatusNotifierWatcher",
            "org.freedesktop.DBus.Properties",
            "Get",
        )
        host.setArguments(["org.kde.StatusNotifierWatcher", "IsStatusNotifierHostRegistered"])
        caps = QDBusMessage.createMethodCall(
            "org.freedesktop.Notifications",
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "GetCapabilities",
        )
        self._ask(bus, host, self._host_answer)
        self._ask(bus, caps, self._caps_answer)

    def _ask(self, bus: QDBusConnection, message: QDBusMessage, answer: Any) -> None:
        watcher = QDBusPendingCallWatcher(bus.asyncCall(message, PROBE_MS), self)
        watcher.finished.connect(lambda w: answer(_first_argument(w.reply())))
        self._watchers.append(watcher)

    def _host_answer(self, value: Any) -> None:
        self._done(value is True, self._body_markup)

    def _caps_answer(self, value: Any) -> None:
        caps = [str(c) for c in value] if isinstance(value, list | tuple) else []
        self._done(self._host, "body-markup" in caps)

    def _done(self, host: bool | None, body_markup: bool | None) -> None:
        self._host, self._body_markup = host, body_markup
        self.answered = host is not None and body_markup is not None
        self.markup = bool(host and body_markup)


class Notifier(QObject):
    """One tray icon; ``notify(run_id, kind, message)``.

    ``bus``: where to ask about markup (tests pass a private bus; default the session bus).
    """

    open_requested = Signal(str)
    shown = Signal(str, str)

    def __init__(
        self, parent: QWidget | None = None, *, bus: QDBusConnection | None = None
    ) -> None:
        super().__init__(parent)
        self.sent: list[tuple[str, str, str]] = []
        self._last_run = ""
        self.probe = MarkupProbe(bus, self)
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
            escape = markup_escaped if self.probe.markup else str
            self.tray.showMessage(escape(title), escape(message), icon, 8000)
        self.shown.emit(title, message)  # the status bar shows plain text

    def _clicked(self) -> None:
        if self._last_run:
            self.open_requested.emit(self._last_run)

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()
