"""Notification text shows as written where the notification server renders markup.

A private ``dbus-daemon`` plays the desktop: a fake StatusNotifier watcher (so Qt would send
tray messages through ``org.freedesktop.Notifications``) and a fake notification server that
lists — or does not list — ``body-markup``.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtDBus import QDBusConnection

from workbench.ui.runs.notifier import Notifier, markup_escaped

jeepney = pytest.importorskip("jeepney")
from jeepney import HeaderFields, MessageType, message_bus, new_method_return  # noqa: E402
from jeepney.io.blocking import open_dbus_connection  # noqa: E402

pytestmark = pytest.mark.skipif(not shutil.which("dbus-daemon"), reason="needs dbus-daemon")


class FakeDesktop:
    """Answers the two questions the notifier asks, from a thread."""

    def __init__(self, address: str, caps: list[str]) -> None:
        self.caps = caps
        self.conn = open_dbus_connection(bus=address)
        for name in ("org.freedesktop.Notifications", "org.kde.StatusNotifierWatcher"):
            self.conn.send_and_get_reply(message_bus.RequestName(name))
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping:
            try:
                msg = self.conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            if msg.header.message_type != MessageType.method_call:
                continue
            member = msg.header.fields.get(HeaderFields.member)
            if member == "GetCapabilities":
                self.conn.send(new_method_return(msg, "as", (self.caps,)))
            elif member == "Get":  # IsStatusNotifierHostRegistered
                self.conn.send(new_method_return(msg, "v", (("b", True),)))

    def close(self) -> None:
        self.stopping = True
        self.thread.join(2)
        self.conn.close()


@pytest.fixture
def bus_address() -> Iterator[str]:
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(5)


class RecordingTray:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def showMessage(self, title: str, body: str, *_args: Any) -> None:
        self.messages.append((title, body))


NASTY = "“<b>Q3</b> & <i>sales” report: finished"


def _notifier(qtbot: Any, address: str, name: str) -> tuple[Notifier, RecordingTray]:
    notifier = Notifier(bus=QDBusConnection.connectToBus(address, name))
    qtbot.waitUntil(lambda: notifier.probe.answered, timeout=5000)
    tray = RecordingTray()
    notifier.tray = tray  # type: ignore[assignment]
    return notifier, tray


def test_markup_server_gets_escaped_text(qtbot: Any, bus_address: str) -> None:
    desktop = FakeDesktop(bus_address, ["body", "body-markup", "actions"])
    try:
        notifier, tray = _notifier(qtbot, bus_address, "wb-markup")
        assert notifier.probe.markup
        shown: list[tuple[str, str]] = []
        notifier.shown.connect(lambda t, m: shown.append((t, m)))
        notifier.notify("r1", "finished", NASTY)
        assert tray.messages == [
            ("Run finished", "“&lt;b&gt;Q3&lt;/b&gt; &amp; &lt;i&gt;sales” report: finished")
        ]
        assert shown == [("Run finished", NASTY)]  # the status bar is plain text
    finally:
        desktop.close()


def test_plain_server_gets_the_text_unchanged(qtbot: Any, bus_address: str) -> None:
    desktop = FakeDesktop(bus_address, ["body", "actions"])
    try:
        notifier, tray = _notifier(qtbot, bus_address, "wb-plain")
        assert not notifier.probe.markup
        notifier.notify("r1", "failed", NASTY)
        assert tray.messages == [("Run failed", NASTY)]
    finally:
        desktop.close()


def test_no_bus_means_plain_text(qtbot: Any) -> None:
    notifier = Notifier(bus=QDBusConnection.connectToBus("unix:path=/nonexistent/bus", "wb-none"))
    assert notifier.probe.answered and not notifier.probe.markup
    assert markup_escaped("a<b & c>d") == "a&lt;b &amp; c&gt;d"
