"""The first start as a new user meets it: the engine is slow to start (held by a file), the
window says what it is doing, and a message sent meanwhile is queued, then sent when ready."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest

from workbench.ui.main_window import MainWindow


def _hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **step: object) -> Path:
    hold = tmp_path / "hold-start"
    hold.write_text(json.dumps(step) + "\n" if step else "")
    monkeypatch.setenv("WORKBENCH_ENGINE_HOLD_START", str(hold))
    return hold


async def test_a_message_sent_while_the_engine_starts_is_queued_then_sent(
    until: Any, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: Any
) -> None:
    step = {"phase": "assemble", "message": "Preparing the local model (first start only)"}
    hold = _hold(tmp_path, monkeypatch, **step, done=240_000_000, total=491_400_064)
    w = make_window()
    w.show()
    starting = asyncio.ensure_future(w.start())
    try:
        bar = w.composer.startup_bar
        await until(lambda: "240 of 491 MB" in bar.label.text(), what="the engine's progress")
        assert bar.isVisible() and bar.bar.maximum() == 1000 and 480 <= bar.bar.value() <= 490
        assert "starting 48 %" in w.connection_label.text()
        # Send during the start: held, shown as queued, not refused.
        w.composer.set_text("[[text: Hello after the start]]")
        assert w.composer.send_button.isEnabled()
        QTest.keyClick(w.composer.edit, Qt.Key.Key_Return)
        assert w.composer.held and w.composer.edit.isReadOnly()
        assert "Will send when the local engine is ready" in w.composer.message.text()
        assert w.composer.send_button.text() == "Cancel"
        assert "Settings" not in w.transcript.toPlainText()
        # Esc cancels: nothing is sent, the text stays and can be edited again.
        QTest.keyClick(w.composer.edit, Qt.Key.Key_Escape)
        assert not w.composer.held and not w.composer.edit.isReadOnly()
        assert w.composer.text() == "[[text: Hello after the start]]"
        QTest.keyClick(w.composer.edit, Qt.Key.Key_Return)
        assert w.composer.held
        hold.unlink()  # the engine finishes starting
        await until(lambda: starting.done(), what="the connection")
        assert starting.result() is None
        await until(lambda: not w.controller.busy and w.transcript.entries(), what="the turn")
        w.transcript.flush()
        assert "Hello after the start" in w.transcript.toPlainText()
        assert not w.composer.held and w.composer.text() == ""
        assert not bar.isVisible()
        assert len(w.history.sessions("")) == 1
    finally:
        if hold.exists():
            hold.unlink()
        await until(lambda: starting.done(), what="the start to end")
        await w.controller.shutdown()


async def test_a_start_that_fails_says_what_failed_and_gives_the_message_back(
    until: Any, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: Any
) -> None:
    hold = _hold(tmp_path, monkeypatch)
    w = make_window(backend="no-such-backend")  # the engine refuses it and exits
    w.show()
    w.composer.set_text("hello")
    starting = asyncio.ensure_future(w.start())
    try:
        await until(lambda: w.controller.link.connecting, what="the start to begin")
        w.composer.submit()
        await until(lambda: starting.done(), what="the failed start")
        w.transcript.flush()
        notice = w.transcript.toPlainText()
        assert "The local engine stopped while starting" in notice
        assert "no-such-backend" in notice  # its last words
        assert "Reconnect" in notice and "Check the profile" not in notice
        assert not w.composer.held and w.composer.text() == "hello"
        assert "Not sent" in w.composer.message.text()
        assert w.history.sessions("") == []
        # Sending again now names the failure, not the profile.
        w.composer.submit()
        assert "Not connected: The local engine stopped while starting" in (
            w.composer.message.text()
        )
        assert not w.composer.send_button.isEnabled()
    finally:
        hold.unlink()
        await until(lambda: starting.done(), what="the start to end")
        await w.controller.shutdown()


async def test_an_engine_that_died_is_named_and_reconnect_starts_it_again(
    until: Any, make_window: Callable[..., MainWindow]
) -> None:
    w = make_window()
    await w.start()
    try:
        conn = w.controller.connection
        assert conn is not None and conn.engine is not None
        os.kill(conn.engine_info.pid, signal.SIGKILL)  # type: ignore[union-attr]
        await until(lambda: conn.engine.exit_code is not None, what="the engine to be gone")
        w.composer.set_text("[[text: still there?]]")
        w.composer.submit()
        await until(lambda: not w.controller.busy, what="the failed turn")
        w.transcript.flush()
        text = w.transcript.toPlainText()
        assert "The local engine has exited (code -9)" in text and "Reconnect" in text
        assert w.composer.text() == "[[text: still there?]]"  # given back
        reconnect = next(a for a in w.findChildren(QAction) if a.shortcut().toString() == "F5")
        reconnect.trigger()
        await until(
            lambda: w.controller.connection is not None and w.controller.connection is not conn,
            what="a new engine",
        )
        await until(lambda: w.composer.ready, what="the composer to be ready")
        w.composer.submit()
        await until(lambda: not w.controller.busy and w.transcript.entries(), what="the answer")
        w.transcript.flush()
        assert "still there?" in w.transcript.toPlainText()
    finally:
        await w.controller.shutdown()
