"""The Schedules and Webhooks docks against the real engine (scripted backend, a private
keyring for signing secrets): a trigger made from the form with its cron preview, run now,
pause/resume, executions opening their transcripts, new scheduled runs handed to Runs; a
webhook registered (secret shown once), pinged, its delivery log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from support.rel_engine import TOKEN, Engine
from support.webhook_receiver import Receiver, receiver
from workbench.client import Client
from workbench.core.connection import Connection
from workbench.core.profiles import default_profiles
from workbench.core.tasks import TaskManager
from workbench.ui.schedules.controller import SchedulesController
from workbench.ui.schedules.dock import SchedulesDock
from workbench.ui.schedules.webhooks_dock import SecretDialog, WebhooksDock

__all__ = ["receiver"]

pytestmark = pytest.mark.timeout(120)


class Follower:
    """Stands in for the Runs controller: records what it is asked to follow and open."""

    def __init__(self) -> None:
        self.followed: list[tuple[str, dict[str, Any], str]] = []
        self.opened: list[str] = []

    def follow(self, interaction_id: str, body: dict[str, Any], title: str) -> str:
        self.followed.append((interaction_id, body, title))
        return f"run-{interaction_id}"

    def show_run(self, run_id: str) -> None:
        pass

    def open_transcript(self, run_id: str) -> None:
        self.opened.append(run_id)


def _cells(table: Any, row: int) -> list[str]:
    return [table.item(row, c).text() if table.item(row, c) else "" for c in
            range(table.columnCount())]  # fmt: skip


def _secret_dialogs() -> list[SecretDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, SecretDialog) and w.isVisible()]  # fmt: skip


async def test_schedules_and_webhooks_docks(
    qtbot: QtBot, keyring_env: Path, tmp_path: Path, until: Any, receiver: Receiver
) -> None:
    eng = Engine(tmp_path / "engine", "--webhook-retry-seconds", "0.05").start()
    client = Client(eng.url, api_key=TOKEN)
    conn = Connection(default_profiles()[0], client)
    schedules, hooks = SchedulesDock(), WebhooksDock()
    for dock in (schedules, hooks):
        qtbot.addWidget(dock)
        dock.resize(760, 720)
        dock.show()
    runs = Follower()
    ctl = SchedulesController(schedules, hooks, TaskManager(), lambda: conn, runs)
    try:
        ctl.connection_changed(True)
        assert schedules.agent.findText("antigravity-preview-05-2026") >= 0

        # The form: a preview in words with the next five times; a bad line cannot be sent.
        schedules.schedule.setCurrentText("61 * * * *")
        schedules.update_preview()
        assert "not a valid cron" in schedules.cron_preview.text()
        assert not schedules.create_button.isEnabled()
        schedules.schedule.setCurrentText("0 9 * * 1-5")
        schedules.zone.setCurrentText("UTC")
        schedules.update_preview()
        text = schedules.cron_preview.text()
        assert "at 09:00, Monday to Friday (UTC)" in text and text.count(" 09:00") == 6
        schedules.name.setText("Weekday report")
        schedules.agent.setCurrentText("antigravity-preview-05-2026")
        schedules.prompt.setPlainText("[[text: the weekday report]]")
        schedules.create_button.click()
        await until(lambda: schedules.triggers.rowCount() == 1, what="the new trigger")
        cells = _cells(schedules.triggers, 0)
        assert cells[:3] == ["Weekday report", "at 09:00, Monday to Friday", "active"]
        assert schedules.prompt.toPlainText() == ""  # the form was cleared

        # Run now: the execution is followed in Runs; double-click opens its transcript.
        schedules.triggers.selectRow(0)
        assert schedules.run_button.isEnabled()
        schedules.run_button.click()
        await until(lambda: runs.followed, what="the run handed to Runs")
        iid, body, title = runs.followed[0]
        assert body["agent"] == "antigravity-preview-05-2026" and "Weekday report" in title
        ctl.select(schedules.current_id())
        await until(
            lambda: (
                schedules.executions.rowCount() == 1
                and _cells(schedules.executions, 0)[1] == "completed"
            ),
            what="the finished execution",
        )
        schedules.executions.cellDoubleClicked.emit(0, 1)
        assert runs.opened == [f"run-{iid}"]

        # Pause and resume.
        schedules.pause_button.click()
        await until(lambda: _cells(schedules.triggers, 0)[2] == "paused", what="paused")
        assert schedules.pause_button.text() == "Resume" and _cells(schedules.triggers, 0)[3] == ""
        schedules.pause_button.click()
        await until(lambda: _cells(schedules.triggers, 0)[2] == "active", what="resumed")

        # A scheduled execution that starts while connected is handed to Runs by the poll.
        ctl.poll()
        await until(lambda: ctl._seen is not None, what="the first poll")
        fast = await client.triggers.create(
            {"model": "scripted", "input": "[[text: tick]]"},
            schedule="* * * * * *", time_zone="UTC", display_name="ticker",
        )  # fmt: skip
        assert fast.id
        # Polling the server (there is nothing to wait on); the test's timeout bounds it.
        while not await client.triggers.executions(fast.id, limit=1):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await client.triggers.pause(fast.id)
        ctl.refresh()  # the ticker must be known before the poll (its name is the title)
        await until(lambda: schedules.triggers.rowCount() == 2, what="two triggers")
        before = len(runs.followed)
        ctl.poll()
        await until(lambda: len(runs.followed) > before, what="the scheduled run followed")
        assert all("ticker" in t for _, _, t in runs.followed[before:])

        # Webhooks: register (the secret is shown once), ping, the delivery log.
        hooks.name.setText("CI")
        hooks.uri.setText(receiver.url)
        hooks.register_button.click()
        await until(lambda: hooks.hooks.rowCount() == 1 and _secret_dialogs(), what="webhook")
        (dialog,) = _secret_dialogs()
        secret = dialog.findChild(QLineEdit).text()
        assert secret.startswith("whsec_")
        assert _cells(hooks.hooks, 0)[4].endswith(secret[-4:]) and secret not in "".join(
            _cells(hooks.hooks, 0)
        )
        qtbot.addWidget(dialog)
        dialog.grab().save(str(tmp_path / "secret.png"))
        dialog.accept()
        hooks.hooks.selectRow(0)
        hooks.ping_button.click()
        await until(lambda: receiver.received, what="the ping delivered")
        assert json.loads(receiver.received[0].body)["type"] == "webhook.ping"
        await until(
            lambda: hooks.deliveries.rowCount() >= 1
            and "delivered" in [_cells(hooks.deliveries, r)[2]
                                for r in range(hooks.deliveries.rowCount())],
            what="the delivery log",
        )  # fmt: skip
        hooks.enable_button.click()
        await until(lambda: _cells(hooks.hooks, 0)[3] == "disabled", what="disabled")
        schedules.grab().save(str(tmp_path / "schedules.png"))
        hooks.grab().save(str(tmp_path / "webhooks.png"))
        for name in ("schedules.png", "webhooks.png", "secret.png"):
            assert (tmp_path / name).stat().st_size > 0
    finally:
        ctl.timer.stop()
        await client.aclose()
        eng.stop()


async def test_each_dock_shows_its_own_problems_and_changes_refresh_it(
    qtbot: QtBot, keyring_env: Path, tmp_path: Path, until: Any, receiver: Receiver
) -> None:
    """Not connected, a refused form and a server error are told in the dock they concern
    (and cleared by the next success); pause, delete and disable read the list again."""
    schedules, hooks = SchedulesDock(), WebhooksDock()
    for dock in (schedules, hooks):
        qtbot.addWidget(dock)
    current: list[Connection] = []
    ctl = SchedulesController(
        schedules, hooks, TaskManager(), lambda: current[0] if current else None, Follower()
    )
    said: list[str] = []
    ctl.status_message.connect(said.append)

    ctl.refresh()
    assert schedules.problem.text().startswith("Not connected")
    assert hooks.problem.text() == ""
    ctl.refresh_webhooks()
    assert hooks.problem.text().startswith("Not connected")

    eng = Engine(tmp_path / "engine").start()
    client = Client(eng.url, api_key=TOKEN)
    current.append(Connection(default_profiles()[0], client))
    try:
        ctl.refresh()
        ctl.refresh_webhooks()
        await until(lambda: not schedules.problem.text() and not hooks.problem.text(), what="ok")

        ctl.create({"agent": "", "prompt": "x", "schedule": "0 9 * * *"})
        await until(lambda: schedules.problem.text() == "Choose the agent to run.", what="form")
        ctl.register("", ["interaction.completed"], "")
        await until(
            lambda: hooks.problem.text() == "Enter the URL that receives the events.",
            what="the webhook form refused",
        )
        assert schedules.problem.text() == "Choose the agent to run."  # not overwritten

        ctl.delete("no-such-trigger")
        await until(
            lambda: schedules.problem.text() not in ("", "Choose the agent to run."),
            what="the server's refusal",
        )
        ctl.delete_webhook("no-such-webhook")
        await until(
            lambda: hooks.problem.text() not in ("", "Enter the URL that receives the events."),
            what="the server's refusal of the webhook",
        )

        made = await client.triggers.create(
            {"model": "scripted", "input": "[[text: hi]]"},
            schedule="0 9 * * *", time_zone="UTC", display_name="daily",
        )  # fmt: skip
        assert made.id
        ctl.set_paused(made.id, True)
        await until(
            lambda: (
                schedules.triggers.rowCount() == 1 and _cells(schedules.triggers, 0)[2] == "paused"
            ),
            what="the paused trigger listed",
        )
        assert "Schedule paused" in said and schedules.problem.text() == ""
        ctl.delete(made.id)
        await until(lambda: schedules.triggers.rowCount() == 0, what="the trigger gone")

        hook = await client.webhooks.create(receiver.url, ["interaction.completed"], name="CI")
        assert hook.id
        ctl.set_enabled(hook.id, False)
        await until(
            lambda: hooks.hooks.rowCount() == 1 and _cells(hooks.hooks, 0)[3] == "disabled",
            what="the disabled webhook listed",
        )
        assert hooks.problem.text() == ""
        ctl.delete_webhook(hook.id)
        await until(lambda: hooks.hooks.rowCount() == 0, what="the webhook gone")
    finally:
        ctl.timer.stop()
        await client.aclose()
        eng.stop()
