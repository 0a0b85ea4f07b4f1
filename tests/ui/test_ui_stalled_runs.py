"""Stalled runs in the app (issue 13, part 5): the Runs dock and the chat's stall bar.

The engine's ``--inject-fault stall`` keeps interactions ``in_progress`` with only
keep-alives; with a short stall limit the Runs dock shows the run "stalled" with
"Keep waiting" and "Cancel run"; "Stop and delete" on a running run (with the
``delete-no-cancel`` fault: a DELETE alone would not stop it) cancels it first and deletes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from support.engine_client import scripted_engine
from workbench.core.approvals import AllowList
from workbench.core.connection import Connection
from workbench.core.history import HistoryStore
from workbench.core.profiles import default_profiles
from workbench.core.tasks import TaskManager
from workbench.ui.chat.stall_bar import StallBar
from workbench.ui.runs.controller import RunsController
from workbench.ui.runs.dock import RunsDock
from workbench.ui.runs.model import STATUS_COL
from workbench.ui.runs.notifier import Notifier


@pytest.fixture
async def stalling(tmp_path: Path) -> AsyncIterator[Connection]:
    flags = ("--inject-fault", "stall", "--inject-fault", "delete-no-cancel")
    async with scripted_engine(tmp_path / "engine", *flags, "--keepalive-seconds", "0.1") as c:
        yield Connection(default_profiles()[0], c)


def _chip(dock: RunsDock) -> str:
    return str(dock.model.index(0, STATUS_COL).data())


async def test_runs_dock_shows_a_stalled_run_and_lets_the_user_wait_or_cancel(
    qtbot: QtBot, stalling: Connection, tmp_path: Path, until: Any
) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    dock = RunsDock()
    qtbot.addWidget(dock)
    dock.show()
    messages: list[str] = []
    ctl = RunsController(
        tmp_path / "runs.json",
        history,
        AllowList(tmp_path / "approvals.json"),
        TaskManager(),
        dock,
        Notifier(),
        lambda: stalling,
        stall_limit=0.3,
    )
    ctl.status_message.connect(messages.append)
    try:
        run_id = ctl.launch({"model": "scripted", "input": "[[text: never]]"}, title="stuck")
        await until(lambda: _chip(dock) == "stalled", what="the stalled chip")
        assert dock.wait_button.isVisible()
        assert "No progress from the server" in dock.detail.text()
        assert dock.cancel_button.isEnabled()
        assert dock.forget_button.text() == "Stop and delete"

        dock.wait_button.click()
        assert _chip(dock) == "running" and not dock.wait_button.isVisible()
        await until(lambda: _chip(dock) == "stalled", what="stalled again after waiting")

        dock.cancel_button.click()
        await until(lambda: _chip(dock) == "cancelled", what="the cancelled run")
        assert not dock.wait_button.isVisible()
        assert dock.forget_button.text() == "Remove from list"

        second = ctl.launch({"model": "scripted", "input": "x"}, title="to delete")
        await until(lambda: _chip(dock) == "stalled", what="the second run stalled")
        dock.select_run(second)
        dock.forget_button.click()  # "Stop and delete": the fault's DELETE alone won't stop it
        await until(lambda: dock.model.row_of(second) < 0, what="the deleted run gone")
        assert any("stopped and deleted" in m for m in messages)
        assert dock.model.row_of(run_id) >= 0  # the cancelled one is still listed
    finally:
        ctl.shutdown()
        history.close()


def test_chat_stall_bar_offers_cancel_and_keep_waiting(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QWidget

    holder = QWidget()  # the composer holds it; hidden until a turn stalls
    qtbot.addWidget(holder)
    bar = StallBar(holder)
    holder.show()
    assert not bar.isVisible()
    bar.set_stalled(True, 300)
    assert bar.isVisible() and "5m 00s" in bar.label.text()
    with qtbot.waitSignal(bar.cancel_requested, timeout=1000):
        bar.cancel_button.click()
    with qtbot.waitSignal(bar.keep_waiting_requested, timeout=1000):
        bar.wait_button.click()
    bar.set_stalled(False)
    assert not bar.isVisible()


async def test_a_stalled_chat_turn_offers_cancel_and_keep_waiting(
    make_window: Any, stalling: Connection, until: Any
) -> None:
    """The chat's own path: the composer's stall bar appears, waits, and cancels the turn."""
    from workbench.core.turns import TurnRunner

    w = make_window()
    await w.start()
    try:
        # The window's turns go to the stalling engine, with a short limit.
        w.controller.sending.runner = TurnRunner(
            stalling.client, w.history, followers=w.followers, stall_limit=0.3
        )
        w.dock.target.setEditText("scripted")
        bar = w.composer.stall_bar
        w.composer.set_text("[[text: never]]")
        w.composer.submit()
        await until(lambda: not bar.isHidden(), what="the stall bar")
        assert "No progress from the server" in bar.label.text()
        bar.wait_button.click()
        assert bar.isHidden()
        await until(lambda: not bar.isHidden(), what="stalled again after waiting")
        iid = w.controller.sending.live.interaction_id if w.controller.sending.live else None
        bar.cancel_button.click()
        await until(lambda: not w.controller.busy, what="the cancelled turn")
        assert bar.isHidden()
        assert iid is not None
        assert (await stalling.client.interactions.get(iid)).status == "cancelled"
    finally:
        await w.controller.shutdown()


async def test_a_transcript_open_on_a_stalled_background_run_shows_the_stall(
    make_window: Any, stalling: Connection, until: Any
) -> None:
    """Runs dock → Open transcript on a stalled run: the chat's stall bar says so, and its
    Keep waiting / Cancel act on that background run (as the Runs dock's buttons do)."""
    w = make_window()
    await w.start()
    runs = w.docks.runs
    runs._connection = lambda: stalling  # the window's background runs go to the stalling engine
    runs.tracker.stall_seconds = 0.3
    bar = w.composer.stall_bar
    try:
        run_id = runs.launch({"model": "scripted", "input": "[[text: never]]"}, title="stuck")
        run = runs.tracker.get(run_id)
        assert run is not None
        await until(lambda: run.stalled, what="the run stalled")
        assert bar.isHidden()  # nothing of it is shown yet
        runs.open_transcript(run_id)
        await until(lambda: w.controller.live.interaction_id == run.interaction_id, what="live")
        await until(lambda: not bar.isHidden(), what="the stall bar on the opened transcript")
        assert "background run may be stuck" in bar.label.text()
        assert "for 0s:" in bar.label.text()  # the runs' own limit (0.3 s here), not 5 min

        bar.wait_button.click()
        assert bar.isHidden() and not run.stalled
        # Stalled again while the transcript is open: no event came, the bar still hears it.
        await until(lambda: not bar.isHidden(), what="stalled again after waiting")
        assert _chip(w.docks.runs_dock) == "stalled"

        bar.cancel_button.click()
        await until(lambda: run.status == "cancelled", what="the cancelled run")
        assert bar.isHidden()
        assert (await stalling.client.interactions.get(run.interaction_id)).status == "cancelled"
        await until(lambda: w.controller.live.interaction_id is None, what="the follow ended")
        assert bar.isHidden()
    finally:
        await w.controller.shutdown()
